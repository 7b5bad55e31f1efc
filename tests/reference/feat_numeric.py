"""Obvious NumPy/Python versions of the numeric feature transforms (slow, for parity tests)."""

from __future__ import annotations

import math

import numpy as np


def standard(x):
    f = x[np.isfinite(x)]
    mean = f.mean()
    std = f.std()
    return (x - mean) / (std if std > 0 else 1.0)


def min_max(x, lo=0.0, hi=1.0):
    f = x[np.isfinite(x)]
    rng = f.max() - f.min()
    rng = rng if rng > 0 else 1.0
    return (x - f.min()) / rng * (hi - lo) + lo


def robust(x):
    f = np.sort(x[np.isfinite(x)])
    med, q1, q3 = np.percentile(f, [50, 25, 75])
    s = q3 - q1
    return (x - med) / (s if s > 0 else 1.0)


def yeo_johnson(x, lmbda):
    out = []
    for v in x:
        if math.isnan(v):
            out.append(math.nan)
        elif v >= 0:
            out.append(math.log1p(v) if lmbda == 0 else ((v + 1) ** lmbda - 1) / lmbda)
        else:
            out.append(-math.log1p(-v) if lmbda == 2 else -((1 - v) ** (2 - lmbda) - 1) / (2 - lmbda))
    return np.array(out)


def bin_index(x, edges):
    out = []
    for v in x:
        if math.isnan(v):
            out.append(math.nan)
            continue
        k = 0
        for e in edges[1:-1]:
            if v >= e:
                k += 1
        out.append(float(k))
    return np.array(out)


def missing(values):
    return np.array([1.0 if (v is None or (isinstance(v, float) and math.isnan(v))) else 0.0 for v in values])
