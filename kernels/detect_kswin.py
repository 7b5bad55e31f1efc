"""KSWIN (Raab et al. 2020): a Kolmogorov-Smirnov test inside a sliding window, over a batch.

State: ``window`` float64[window_size] (a ring buffer), ``scal`` float64[N_SCAL] (count in the
window, ring head, steps tested since the last reset, pending reset, last p-value, last D). At
each value once the window is full, ``stat_size`` values drawn without replacement from the
oldest ``window_size - stat_size`` are compared with the newest ``stat_size`` by a two-sample KS
test (exact p-value, as scipy's ks_2samp 'auto' at these sizes); drift when p <= alpha and
D > 0.1. The draws come from ``idx`` (one row per tested step) when it has rows, else from a
partial Fisher-Yates shuffle driven by a splitmix64 generator whose state is ``rng[0]`` (per
detector, saved with it, re-seeded at every reset). The kernel returns at the first drift so that
the caller can reset, as River re-seeds its own generator.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from .drift_walk import ks_exact_square

COUNT = 0
HEAD = 1
STEPS = 2
PENDING = 3
P_VALUE = 4
STAT = 5
N_SCAL = 6


@kernel(inline="always")
def _sort_small(a):
    for i in range(1, a.size):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@kernel(inline="always")
def _ks_equal(a, b):
    # D of two sorted samples of equal size n, as h (D = h / n)
    n = a.size
    i = 0
    j = 0
    best = 0
    while i < n or j < n:
        if j >= n or (i < n and a[i] <= b[j]):
            v = a[i]
        else:
            v = b[j]
        while i < n and a[i] == v:
            i += 1
        while j < n and b[j] == v:
            j += 1
        d = i - j
        if d < 0:
            d = -d
        if d > best:
            best = d
    return best


@kernel(inline="always")
def _next_below(rng, bound):
    # splitmix64 step, then a bounded draw by multiply-shift (Lemire) on the top 32 bits
    rng[0] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.int64(((z >> np.uint64(32)) * np.uint64(bound)) >> np.uint64(32))


@kernel
def kswin_update(x, start, window, scal, rng, alpha, stat_size, idx, idx_row0, out):
    """Feed x[start:] until the first drift; returns (position of the drift or -1, next start)."""
    w = window.size
    k = w - stat_size
    perm = np.empty(k, dtype=np.int64)
    a = np.empty(stat_size)
    b = np.empty(stat_size)
    use_idx = idx.shape[0] > 0
    for i in range(start, x.size):
        if scal[PENDING] != 0.0:
            return -1, i  # the caller resets (and re-seeds) before this value
        # append to the ring buffer (deque with maxlen)
        pos = (int(scal[HEAD]) + int(scal[COUNT])) % w
        if scal[COUNT] < w:
            window[pos] = x[i]
            scal[COUNT] += 1.0
        else:
            window[int(scal[HEAD])] = x[i]
            scal[HEAD] = (int(scal[HEAD]) + 1) % w
        if scal[COUNT] < w:
            continue
        head = int(scal[HEAD])
        if use_idx:
            row = int(scal[STEPS]) - idx_row0
            for t in range(stat_size):
                a[t] = window[(head + idx[row, t]) % w]
        else:
            for t in range(k):
                perm[t] = t
            for t in range(stat_size):
                r = t + _next_below(rng, k - t)
                tmp = perm[t]
                perm[t] = perm[r]
                perm[r] = tmp
                a[t] = window[(head + perm[t]) % w]
        scal[STEPS] += 1.0
        for t in range(stat_size):
            b[t] = window[(head + k + t) % w]
        _sort_small(a)
        _sort_small(b)
        h = _ks_equal(a, b)
        p = 1.0 if h == 0 else ks_exact_square(stat_size, h)
        d = h * 1.0 / stat_size
        scal[P_VALUE] = p
        scal[STAT] = d
        if p <= alpha and d > 0.1:
            out[0] = i
            scal[PENDING] = 1.0
            return i, i + 1
    return -1, x.size
