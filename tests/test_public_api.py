"""The public surface is deliberate: every name in __all__ exists, nothing else is advertised."""

from __future__ import annotations

import importlib
import inspect

import pytest

import mlcore
from mlcore import errors

EXPECTED = {
    "mlcore": {"__version__", "show_config", "MlcoreError", "SchemaError", "ShapeError", "NotFittedError",
               "ArtifactError", "CopyWarning", "compute", "errors", "goals", "data", "features", "train",
               "evaluate", "deploy", "serve", "monitor", "maintain"},
    "mlcore.compute": {"sum", "mean", "min_max", "affine", "describe"},
    "mlcore.deploy": {"Bundle", "data_hash", "Registry", "ModelVersion", "AliasConflict", "PromotionRefused",
                      "goal_gate", "LiveModel", "build_wheel"},
    "mlcore.serve": {"Predictor", "InferenceApp", "ServedModel", "served_model", "run", "ServerThread", "score",
                     "ScoreResult"},
    "mlcore.errors": {"MlcoreError", "SchemaError", "ColumnNotFoundError", "ShapeError", "NotFittedError",
                      "ArtifactError", "MissingDependencyError", "MlcoreWarning", "CopyWarning"},
}


@pytest.mark.parametrize("modname", sorted(EXPECTED))
def test_all_is_deliberate(modname):
    mod = importlib.import_module(modname)
    assert set(mod.__all__) == EXPECTED[modname]
    for name in mod.__all__:
        assert getattr(mod, name) is not None


def test_error_hierarchy_matches_docstring():
    doc = errors.__doc__
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert name in doc
        bases = [b.__name__ for b in cls.__bases__]
        for b in bases:
            if b not in ("Exception", "UserWarning"):
                assert f"{name}({', '.join(bases)})" in doc, f"docstring does not show {name}({', '.join(bases)})"
    assert issubclass(errors.SchemaError, ValueError)
    assert issubclass(errors.NotFittedError, AttributeError)
    assert issubclass(errors.CopyWarning, UserWarning)


def test_stages_import_lazily():
    for stage in ("goals", "data", "features", "train", "evaluate", "deploy", "serve", "monitor", "maintain"):
        mod = getattr(mlcore, stage)
        assert inspect.ismodule(mod) and mod.__name__ == f"mlcore.{stage}"
