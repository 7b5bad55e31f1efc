"""The Examples sections of the goals and evaluation modules run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["mlcore.goals", "mlcore.goals.goal", "mlcore.evaluate", "mlcore.evaluate.metrics",
           "mlcore.evaluate.bootstrap", "mlcore.evaluate.gate", "mlcore.evaluate.slices",
           "mlcore.evaluate.fairness", "mlcore.evaluate.domain", "mlcore.evaluate.speed",
           "mlcore.evaluate.report"]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0, f"{name} has no example"
    assert res.failed == 0
