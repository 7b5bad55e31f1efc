"""The Examples sections of mlcore.features run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["scalers", "power", "binning", "encoders", "target", "missing", "temporal", "combine",
           "selection", "text", "sparse", "plan"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    mod = importlib.import_module(f"mlcore.features.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"mlcore.features.{name} has no example"
    assert result.failed == 0
