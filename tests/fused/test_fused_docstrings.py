"""The Examples sections of the fused predictor run as written."""

from __future__ import annotations

import doctest

import mlcore.train.fused


def test_fused_examples_run():
    result = doctest.testmod(mlcore.train.fused, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
