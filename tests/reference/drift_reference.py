"""Obvious NumPy versions of the drift statistics (slow, for parity tests only)."""

from __future__ import annotations

import numpy as np


def ks_d(x, y):
    x, y = np.sort(x), np.sort(y)
    z = np.concatenate([x, y])
    cd = np.searchsorted(x, z, side="right") / x.size - np.searchsorted(y, z, side="right") / y.size
    return max(float(np.max(cd)), float(np.clip(-np.min(cd), 0, 1)))


def midranks(z):
    order = np.argsort(z, kind="mergesort")
    zs = z[order]
    ranks = np.empty(z.size)
    i = 0
    while i < zs.size:
        j = i
        while j + 1 < zs.size and zs[j + 1] == zs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def cvm_t(x, y):
    """T by the definition, in exact rationals (no cancellation)."""
    from fractions import Fraction

    x, y = np.sort(x), np.sort(y)
    nx, ny = x.size, y.size
    r = midranks(np.concatenate([x, y]))
    u = Fraction(0)
    for ranks, n in ((r[:nx], nx), (r[nx:], ny)):
        s = sum((Fraction(float(ri)) - (i + 1)) ** 2 for i, ri in enumerate(ranks))
        u += n * s
    k, big_n = nx * ny, nx + ny
    return float(u / (k * big_n) - Fraction(4 * k - 1, 6 * big_n))


def ad_midrank_a2kn(x, y):
    """A2akN of Scholz & Stephens (1987) eq. 7, looping over the distinct pooled values."""
    samples = [np.sort(x), np.sort(y)]
    z = np.sort(np.concatenate(samples))
    big_n = z.size
    total = 0.0
    for s in samples:
        acc = 0.0
        for v in np.unique(z):
            lj = np.sum(z == v)
            bj = np.sum(z < v) + lj / 2.0
            mij = np.sum(s < v) + np.sum(s == v) / 2.0
            den = bj * (big_n - bj) - big_n * lj / 4.0
            if den != 0:
                acc += lj / big_n * (big_n * mij - bj * s.size) ** 2 / den
        total += acc / s.size
    return total * (big_n - 1.0) / big_n


def wasserstein(x, y):
    x, y = np.sort(x), np.sort(y)
    z = np.sort(np.concatenate([x, y]))
    fx = np.searchsorted(x, z[:-1], side="right") / x.size
    fy = np.searchsorted(y, z[:-1], side="right") / y.size
    return float(np.sum(np.abs(fx - fy) * np.diff(z)))


def psi(p_counts, q_counts, eps=1e-4):
    p = np.maximum(p_counts / p_counts.sum(), eps)
    q = np.maximum(q_counts / q_counts.sum(), eps)
    return float(np.sum((q - p) * np.log(q / p)))


def mmd2_unbiased(x, y, gamma):
    """Unbiased MMD^2 with a Gaussian kernel, by the definition (Gretton et al. 2012, eq. 3)."""
    def k(a, b):
        return np.exp(-gamma * np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1))

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.mean())
