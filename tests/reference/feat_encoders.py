"""Obvious Python versions of the categorical encoders (slow, for parity tests)."""

from __future__ import annotations

from collections import Counter

import numpy as np


def frequency(fit_values, values, unknown=0.0):
    n = len(fit_values)
    c = Counter(fit_values)
    return np.array([c[v] / n if v in c else unknown for v in values])


def one_hot(fit_values, values):
    cats = sorted({v for v in fit_values if v is not None})
    if any(v is None for v in fit_values):
        cats.append(None)
    return np.array([[1.0 if v == c else 0.0 for c in cats] for v in values]).reshape(len(values), len(cats))


def target_means(cats, y, smooth):
    """Per category: (sum(y) + smooth * mean(y)) / (count + smooth)."""
    m = float(np.mean(y))
    out = {}
    for c in set(cats):
        ys = [yy for cc, yy in zip(cats, y) if cc == c]
        out[c] = (sum(ys) + smooth * m) / (len(ys) + smooth)
    return out, m
