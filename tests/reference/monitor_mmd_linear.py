"""Obvious linear-time MMD pieces: h of one block by its definition, and every relabelling of a block."""

from __future__ import annotations

import itertools
import math


def k(a, b, gamma):
    return math.exp(-gamma * sum((u - v) ** 2 for u, v in zip(a, b)))


def h(xa, xb, ya, yb, gamma):
    """Gretton et al. (2012), eq. 5: h((x, y), (x', y')) = k(x, x') + k(y, y') - k(x, y') - k(x', y)."""
    return k(xa, xb, gamma) + k(ya, yb, gamma) - k(xa, yb, gamma) - k(xb, ya, gamma)


def linear_mmd2(x, y, gamma):
    m = min(len(x), len(y)) // 2
    return sum(h(x[2 * i], x[2 * i + 1], y[2 * i], y[2 * i + 1], gamma) for i in range(m)) / m


def relabelled_h(points, gamma):
    """h of the block for each of the 24 orders of its four points (p0, p1 = x; p2, p3 = y)."""
    return [h(*(points[j] for j in order), gamma) for order in itertools.permutations(range(4))]
