"""Maximum mean discrepancy with a Gaussian kernel, and its permutations.

Buffer contract: ``z`` float64[n, d] C-contiguous, the pooled sample (the first ``n1`` rows are the
reference); ``labels`` int8[n] (0 reference, 1 current) for one permutation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ._jit import kernel


@kernel(parallel=True)
def gram(z, gamma, out):
    """out[i, j] = exp(-gamma * ||z_i - z_j||^2) for the pooled rows (symmetric, diagonal 1)."""
    n, d = z.shape
    for i in prange(n):
        out[i, i] = 1.0
        for j in range(i + 1, n):
            s = 0.0
            for k in range(d):
                t = z[i, k] - z[j, k]
                s += t * t
            v = math.exp(-gamma * s)
            out[i, j] = v
            out[j, i] = v


@kernel
def mmd2_unbiased(kmat, labels):
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) of the split given by labels (0/1)."""
    n = labels.size
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    nx = 0
    for i in range(n):
        if labels[i] == 0:
            nx += 1
    ny = n - nx
    for i in range(n):
        li = labels[i]
        for j in range(i + 1, n):
            v = kmat[i, j]
            if li == labels[j]:
                if li == 0:
                    sxx += v
                else:
                    syy += v
            else:
                sxy += v
    return 2.0 * sxx / (nx * (nx - 1)) + 2.0 * syy / (ny * (ny - 1)) - 2.0 * sxy / (nx * ny)


@kernel(parallel=True)
def mmd2_permutations(kmat, perms, out):
    """out[b] = unbiased MMD^2 for the split perms[b] (rows of 0/1 labels)."""
    for b in prange(perms.shape[0]):
        out[b] = mmd2_unbiased(kmat, perms[b])


@kernel
def mmd2_linear(x, y, gamma):
    """Linear-time MMD^2 (Gretton et al. 2012, eq. 5): the mean of h over disjoint pairs, and the
    sample variance of h; x and y hold the same number m of rows (m even uses all of them)."""
    m = min(x.shape[0], y.shape[0]) // 2
    d = x.shape[1]
    total = 0.0
    total2 = 0.0
    for i in range(m):
        a = 2 * i
        b = 2 * i + 1
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        syx = 0.0
        for k in range(d):
            t = x[a, k] - x[b, k]
            sxx += t * t
            t = y[a, k] - y[b, k]
            syy += t * t
            t = x[a, k] - y[b, k]
            sxy += t * t
            t = x[b, k] - y[a, k]
            syx += t * t
        h = math.exp(-gamma * sxx) + math.exp(-gamma * syy) - math.exp(-gamma * sxy) - math.exp(-gamma * syx)
        total += h
        total2 += h * h
    if m < 2:
        return np.nan, np.nan
    mean = total / m
    var = (total2 - m * mean * mean) / (m - 1)
    return mean, var


@kernel(parallel=True)
def linear_blocks(x, y, gamma, sums):
    """For block i (points p0 = x[2i], p1 = x[2i+1], p2 = y[2i], p3 = y[2i+1]) the kernel sums of
    the three perfect matchings of its four points: sums[i] = (k01 + k23, k02 + k13, k03 + k12).
    The linear-time statistic's h_i is sums[i, 0] - sums[i, 2]."""
    m = sums.shape[0]
    d = x.shape[1]
    for i in prange(m):
        a = 2 * i
        b = 2 * i + 1
        d01 = 0.0
        d23 = 0.0
        d02 = 0.0
        d13 = 0.0
        d03 = 0.0
        d12 = 0.0
        for k in range(d):
            t = x[a, k] - x[b, k]
            d01 += t * t
            t = y[a, k] - y[b, k]
            d23 += t * t
            t = x[a, k] - y[a, k]
            d02 += t * t
            t = x[b, k] - y[b, k]
            d13 += t * t
            t = x[a, k] - y[b, k]
            d03 += t * t
            t = x[b, k] - y[a, k]
            d12 += t * t
        sums[i, 0] = math.exp(-gamma * d01) + math.exp(-gamma * d23)
        sums[i, 1] = math.exp(-gamma * d02) + math.exp(-gamma * d13)
        sums[i, 2] = math.exp(-gamma * d03) + math.exp(-gamma * d12)


@kernel
def _splitmix64(z):
    z = (z + np.uint64(0x9E3779B97F4A7C15))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@kernel(parallel=True)
def linear_permutations(sums, seed, out):
    """out[b] = the linear-time statistic after relabelling the four points of every block at
    random (uniform over the 24 orders of the block's points, drawn independently per block).

    Under any relabelling h_i = S_A - S_B for an ordered pair (A, B) of distinct perfect matchings
    of the block, uniform over the 6 such pairs; the draws come from a counter-based generator
    (splitmix64 of seed, b, i), so the result does not depend on the thread count."""
    m = sums.shape[0]
    first = np.array([0, 0, 1, 1, 2, 2], dtype=np.int64)
    second = np.array([1, 2, 0, 2, 0, 1], dtype=np.int64)
    for b in prange(out.shape[0]):
        state = _splitmix64(np.uint64(seed) ^ (np.uint64(b + 1) * np.uint64(0xD1B54A32D192ED03)))
        total = 0.0
        for i in range(m):
            r = _splitmix64(state + np.uint64(i))
            j = np.int64(r % np.uint64(6))
            total += sums[i, first[j]] - sums[i, second[j]]
        out[b] = total / m
