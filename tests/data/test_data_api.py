"""The public surface of mlcore.data is deliberate, and its docstring examples run."""

from __future__ import annotations

import doctest
import importlib

import pytest

import mlcore.data

EXPECTED = {
    "FORMATS", "read", "read_batches",
    "join", "join_asof",
    "ROLES", "ColumnSpec", "Schema", "infer_schema",
    "PROBLEMS", "ValidationReport", "validate",
    "IMPUTE_STRATEGIES", "RepairReport", "RepairResult", "repair",
    "SPLIT_METHODS", "split", "split_indices",
}


def test_all_is_deliberate():
    assert set(mlcore.data.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(mlcore.data, name) is not None


@pytest.mark.parametrize("module", ["io", "join", "schema", "validate", "repair", "split"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"mlcore.data.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_public_functions_have_examples():
    for name in EXPECTED:
        obj = getattr(mlcore.data, name)
        if callable(obj) and not isinstance(obj, type):
            assert "Examples" in (obj.__doc__ or ""), name
