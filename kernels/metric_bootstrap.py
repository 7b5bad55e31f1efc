"""Poisson bootstrap kernels.

Each resample gives row ``i`` a count drawn from Poisson(1) (the Poisson bootstrap of Hanley &
MacGibbon 1998 and Chamandy et al. 2012: for large n it matches the multinomial resampling, and
it needs no shared state between rows). The count is a pure function of (seed, resample, row):
a splitmix64 hash of the three, inverted through the Poisson(1) CDF on 32 bits. Resamples are thus
reproducible whatever the thread count, and every metric computed with the same seed sees the
same resamples (a joint bootstrap). Counts are capped at 12 (P(Poisson(1) > 12) < 2**-32).

Buffer contract: 1-D contiguous arrays; ``w`` empty for unit weights; outputs from the caller.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ._jit import kernel


def _poisson1_thresholds(kmax: int = 12) -> np.ndarray:
    cdf, term, out = 0.0, math.exp(-1.0), []
    for k in range(kmax):
        cdf += term
        term /= k + 1
        out.append(min(int(cdf * 2.0**32), 2**32 - 1))
    return np.array(out, dtype=np.uint64)


#: u >= T[k] adds one to the count: count = #{k : u >= T[k]} for u uniform on 32 bits.
POISSON1_THRESHOLDS = _poisson1_thresholds()
_T = POISSON1_THRESHOLDS

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)


@kernel
def poisson_count(seed, b, i):
    """The Poisson(1) count of row i in resample b (a pure function of seed, b, i)."""
    x = np.uint64(seed) + np.uint64(b + 1) * _GOLDEN
    x ^= np.uint64(i) * _M2
    x += _GOLDEN
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    x = x ^ (x >> _S31)
    u = x >> _S32
    # 98% of draws are 0, 1, 2 or 3: four comparisons, the rest only past the fourth threshold
    c = (1 if u >= _T[0] else 0) + (1 if u >= _T[1] else 0) + (1 if u >= _T[2] else 0) + (1 if u >= _T[3] else 0)
    if c == 4:
        for k in range(4, _T.size):
            c += 1 if u >= _T[k] else 0
    return c


@kernel(parallel=True)
def group_sums(group, vals, w, n_groups, n_boot, seed, out):
    """out[b, g, 0] = sum of c_bi * w_i over rows of group g; out[b, g, 1 + j] = the same sum
    of c_bi * w_i * vals[i, j]. ``vals`` is (n, m), possibly (n, 0)."""
    n = group.size
    m = vals.shape[1]
    weighted = w.size != 0
    for b in prange(n_boot):
        for i in range(n):
            c = poisson_count(seed, b, i)
            if c == 0:
                continue
            cw = c * (w[i] if weighted else 1.0)
            g = group[i]
            out[b, g, 0] += cw
            for j in range(m):
                out[b, g, 1 + j] += cw * vals[i, j]


@kernel
def group_starts(s, out):
    """out[k] = 1 where sorted s[k] starts a new tie group (k == 0 or s[k] != s[k-1])."""
    for k in range(s.size):
        out[k] = 1 if (k == 0 or s[k] != s[k - 1]) else 0


@kernel(parallel=True)
def auc_sorted_boot(start, is_pos, w, order, n_boot, seed, out_auc):
    """ROC AUC per resample from rows sorted by score ascending (``start`` from
    :func:`group_starts`; ``order`` maps a sorted position to its original row).

    One branch-free scan per resample: with weighted midranks M (weight of lower groups plus half
    of the own group's), S = sum over positives of cw * M equals AUC * P * N + P^2 / 2, and the
    in-group half-sums are accumulated from running group totals, so no group needs flushing.
    """
    n = start.size
    weighted = w.size != 0
    for b in prange(n_boot):
        cum = 0.0   # weight of all rows before the current group
        base = 0.0
        gw = 0.0    # weight of the current group so far
        gpw = 0.0   # positive weight of the current group so far
        acc = 0.0
        ptot = 0.0
        for k in range(n):
            st = start[k]
            base = cum if st else base
            gw = 0.0 if st else gw
            gpw = 0.0 if st else gpw
            c = poisson_count(seed, b, order[k])
            cw = c * (w[k] if weighted else 1.0)
            pk = 1.0 if is_pos[k] else 0.0
            pcw = pk * cw
            acc += pcw * base + 0.5 * (pcw * cw + pcw * gw + cw * gpw)
            gw += cw
            gpw += pcw
            cum += cw
            ptot += pcw
        ntot = cum - ptot
        if ptot > 0.0 and ntot > 0.0:
            out_auc[b] = (acc - 0.5 * ptot * ptot) / (ptot * ntot)
        else:
            out_auc[b] = np.nan


@kernel(parallel=True)
def rank_sorted_boot(s, is_pos, w, order, n_boot, seed, out_auc, out_ap):
    """AUC and AP per resample from scores sorted ascending (``order`` maps a sorted position to
    its original row, so a row keeps its count across metrics)."""
    n = s.size
    weighted = w.size != 0
    for b in prange(n_boot):
        tp = 0.0
        fp = 0.0
        a = 0.0
        bb = 0.0
        ap = 0.0
        i = n - 1
        while i >= 0:
            v = s[i]
            gp = 0.0
            gn = 0.0
            while i >= 0 and s[i] == v:
                c = poisson_count(seed, b, order[i])
                cw = c * (w[i] if weighted else 1.0)
                if is_pos[i]:
                    gp += cw
                else:
                    gn += cw
                i -= 1
            tp += gp
            fp += gn
            a += gp * fp
            bb += gp * gn
            if gp > 0.0:
                ap += gp * (tp / (tp + fp))
        out_auc[b] = (tp * fp - a + 0.5 * bb) / (tp * fp) if (tp > 0.0 and fp > 0.0) else np.nan
        out_ap[b] = ap / tp if tp > 0.0 else np.nan
