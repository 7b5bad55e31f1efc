"""Obvious references for the maintenance stage's importance weights."""

from __future__ import annotations

import numpy as np


def kish_ess(weights) -> float:
    """Kish (1965): n_eff = (sum w)^2 / sum(w^2), written out term by term."""
    total = 0.0
    squares = 0.0
    for x in weights:
        total += float(x)
        squares += float(x) * float(x)
    return total * total / squares


def gaussian_shift_ratio(x: np.ndarray, shift: float) -> np.ndarray:
    """The density ratio N(shift, 1) / N(0, 1) at x: exp(shift * x - shift^2 / 2)."""
    return np.exp(shift * x - shift * shift / 2.0)
