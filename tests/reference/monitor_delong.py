"""Obvious O(m·n) DeLong structural components, for the paired test of two correlated AUCs."""

from __future__ import annotations

import math

import numpy as np


def psi(a: float, b: float) -> float:
    return 1.0 if a > b else (0.5 if a == b else 0.0)


def paired_delong(pos_a, neg_a, pos_b, neg_b):
    """(AUC_b - AUC_a, its standard error) straight from DeLong et al. (1988), eqs. for V10, V01, S."""
    m, n = len(pos_a), len(neg_a)
    comps = []
    for pos, neg in ((pos_a, neg_a), (pos_b, neg_b)):
        v10 = np.array([sum(psi(x, y) for y in neg) / n for x in pos])
        v01 = np.array([sum(psi(x, y) for x in pos) / m for y in neg])
        comps.append((v10, v01))
    auc = [c[0].mean() for c in comps]

    def cov(u, v):
        return float(np.sum((u - u.mean()) * (v - v.mean())) / (u.size - 1))

    s10 = [[cov(comps[i][0], comps[j][0]) for j in range(2)] for i in range(2)]
    s01 = [[cov(comps[i][1], comps[j][1]) for j in range(2)] for i in range(2)]
    var = (s10[0][0] + s10[1][1] - 2 * s10[0][1]) / m + (s01[0][0] + s01[1][1] - 2 * s01[0][1]) / n
    return auc[1] - auc[0], math.sqrt(var)
