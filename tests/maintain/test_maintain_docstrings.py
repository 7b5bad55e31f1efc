"""The Examples sections of the maintenance modules run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["mlcore.maintain.weights", "mlcore.maintain.model_spec", "mlcore.maintain.challengers",
           "mlcore.maintain.policy", "mlcore.maintain.decisions", "mlcore.maintain.maintainer",
           "mlcore.maintain.observe", "mlcore.maintain.spec"]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert res.attempted > 0, f"{name} has no example"
    assert res.failed == 0


def test_public_surface_is_deliberate():
    import mlcore.maintain as m

    for name in m.__all__:
        assert getattr(m, name) is not None
    assert {"importance_weights", "ModelSpec", "retrain", "compare_models", "Maintainer", "rollback",
            "DecisionLog", "run_pipeline", "load_spec", "observe_window"} <= set(m.__all__)
