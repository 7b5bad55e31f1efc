"""One pass over a numeric Arrow chunk for a mergeable profile.

Buffer contract: ``values``/``validity``/``offset``/``length`` as in ``kernels/reduce.py``. Every
output is accumulated into (never overwritten), so a column's chunks, or batches, add up:

- ``counts`` int64[N_COUNTS]: valid, NaN, +inf, -inf, zero, finite;
- ``minmax`` float64[2]: min and max of the finite values (-0.0 below +0.0, so the result does
  not depend on order);
- ``limbs1``/``limbs2`` int64: exact sums of x and of x*x over the finite values, as fixed-point
  integers in 32-bit limbs (``sum = sum_k limbs[k] * 2**(32 k) * 2**-BASE``), so that merging
  is integer addition: exact, associative and order-independent;
- ``hist`` int64[edges.size + 1]: counts in bins (-inf, e0), [e0, e1), …, [e_last, inf) of the
  finite values (infinities are counted apart);
- ``sk_pos``/``sk_neg`` int64: logarithmic quantile-sketch buckets of |x| (bucket k holds
  gamma**(k-1) < |x| <= gamma**k, k offset by SK_OFFSET), relative accuracy (gamma-1)/(gamma+1).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import kernel

N_COUNTS = 6
C_VALID = 0
C_NAN = 1
C_PINF = 2
C_NINF = 3
C_ZERO = 4
C_FINITE = 5

BASE1 = 1127                 # x = m 2**e, e >= -1127 after frexp: bit position e + BASE1 >= 0
N_LIMBS1 = 70                # 2151 bits and a carry margin
BASE2 = 2254                 # x*x = m*m 2**(2e)
N_LIMBS2 = 138               # 4302 bits and a carry margin
_NORMALISE_EVERY = 1 << 28   # limb additions are < 2**32 each: carry before int64 can overflow

SK_OFFSET = 40000            # bucket index offset: |k| <= ~37,300 for alpha = 0.01 over doubles
SK_SIZE = 2 * SK_OFFSET + 1


@kernel
def _add_at(limbs, v, s, sign):
    # add sign * v * 2**s into the limbs; v < 2**64, split into 32-bit pieces
    k = s >> 5
    r = s & 31
    mask = np.uint64(0xFFFFFFFF)
    vv = np.uint64(v)
    rr = np.uint64(r)
    lo = (vv << rr) & mask
    mid = (vv >> np.uint64(32 - r)) & mask if r > 0 else (vv >> np.uint64(32)) & mask
    hi = vv >> np.uint64(64 - r) if r > 0 else np.uint64(0)
    limbs[k] += sign * np.int64(lo)
    limbs[k + 1] += sign * np.int64(mid)
    limbs[k + 2] += sign * np.int64(hi)


@kernel
def normalise(limbs):
    """Carry each limb into the next so that every limb but the last lies in [0, 2**32)."""
    for k in range(limbs.size - 1):
        c = limbs[k] >> 32  # arithmetic shift: floor division, negative carries work
        limbs[k] -= c << 32
        limbs[k + 1] += c


@kernel
def _accumulate(x, limbs1, limbs2):
    f, ee = math.frexp(x)
    m = np.int64(f * 9007199254740992.0)  # f * 2**53, exact
    e = ee - 53
    sign = np.int64(1)
    if m < 0:
        m = -m
        sign = np.int64(-1)
    _add_at(limbs1, np.uint64(m), e + BASE1, sign)
    mh = m >> 26
    ml = m & ((1 << 26) - 1)
    s2 = 2 * e + BASE2
    _add_at(limbs2, np.uint64(mh * mh), s2 + 52, np.int64(1))
    _add_at(limbs2, np.uint64(2 * mh * ml), s2 + 26, np.int64(1))
    _add_at(limbs2, np.uint64(ml * ml), s2, np.int64(1))


@kernel
def _bin_of(x, edges):
    # number of edges <= x (bins [e_k, e_k+1)), by binary search
    lo = 0
    hi = edges.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if edges[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel
def profile_numeric(length, offset, validity, values, edges, inv_log_gamma,
                    counts, minmax, limbs1, limbs2, hist, sk_pos, sk_neg):
    """Accumulate counts, min/max, exact sums of x and x^2, histogram and sketch (module doc)."""
    masked = validity.size != 0
    since = 0
    for i in range(length):
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            continue
        counts[C_VALID] += 1
        x = np.float64(values[j])
        if x != x:
            counts[C_NAN] += 1
            continue
        if x == np.inf:
            counts[C_PINF] += 1
            continue
        if x == -np.inf:
            counts[C_NINF] += 1
            continue
        counts[C_FINITE] += 1
        if x < minmax[0] or (x == minmax[0] and x == 0.0 and math.copysign(1.0, x) < 0):
            minmax[0] = x
        if x > minmax[1] or (x == minmax[1] and x == 0.0 and math.copysign(1.0, x) > 0):
            minmax[1] = x
        hist[_bin_of(x, edges)] += 1
        if x == 0.0:
            counts[C_ZERO] += 1
            continue
        ax = abs(x)
        k = np.int64(math.ceil(math.log(ax) * inv_log_gamma)) + SK_OFFSET
        if k < 0:
            k = 0
        elif k >= SK_SIZE:
            k = SK_SIZE - 1
        if x > 0:
            sk_pos[k] += 1
        else:
            sk_neg[k] += 1
        _accumulate(x, limbs1, limbs2)
        since += 1
        if since >= _NORMALISE_EVERY:
            normalise(limbs1)
            normalise(limbs2)
            since = 0
    normalise(limbs1)
    normalise(limbs2)
