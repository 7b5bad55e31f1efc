"""The Examples sections of mlcore.train run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["mlcore.train.compile", "mlcore.train.fit", "mlcore.train.linear", "mlcore.train.mlp",
           "mlcore.train.progress", "mlcore.train.select"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0
