"""Reductions over one Arrow chunk of a numeric column.

Buffer contract (every kernel here): ``values`` is the chunk's whole values buffer viewed as its
NumPy dtype and ``validity`` its whole validity bitmap (uint8; empty when the chunk has no nulls);
row ``i`` is ``values[offset + i]`` with validity bit ``offset + i``.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel(reassoc=True)
def _sum_dense(length, offset, values, zero):
    # Slice first: an index of the form offset + i keeps Numba's negative-index wraparound in
    # the loop, which stops LLVM from vectorising it (measured 5.7x slower).
    v = values[offset:offset + length]
    acc = zero
    for i in range(length):
        acc += v[i]
    return acc


@kernel(reassoc=True)
def _sum_masked(length, offset, validity, values, zero):
    acc = zero
    n = 0
    # Whole bytes of the bitmap at a time where the bit offset allows it: one load per 8 rows.
    i = 0
    while i < length and ((offset + i) & 7) != 0:
        j = offset + i
        if (validity[j >> 3] >> (j & 7)) & 1:
            acc += values[j]
            n += 1
        i += 1
    while i + 8 <= length:
        j = offset + i
        byte = validity[j >> 3]
        if byte == 0xFF:
            for k in range(8):
                acc += values[j + k]
            n += 8
        elif byte != 0:
            for k in range(8):
                bit = (byte >> k) & 1
                # multiply instead of branch; nulls may hold NaN, so select explicitly
                acc += values[j + k] if bit else zero
                n += bit
        i += 8
    while i < length:
        j = offset + i
        if (validity[j >> 3] >> (j & 7)) & 1:
            acc += values[j]
            n += 1
        i += 1
    return acc, n


@kernel
def sum_valid(length, offset, validity, values, zero):
    """(sum of valid values, number of valid values); the sum has the type of ``zero``
    (int64 for integer columns, as Arrow sums them; float64 for floating-point ones)."""
    if validity.size == 0:
        return _sum_dense(length, offset, values, zero), length
    return _sum_masked(length, offset, validity, values, zero)


@kernel
def min_max_valid(length, offset, validity, values):
    """(min, max, number of valid non-NaN values); NaN is skipped, as pyarrow.compute.min_max does."""
    lo = np.inf
    hi = -np.inf
    n = 0
    masked = validity.size != 0
    if not masked:
        v = values[offset:offset + length]
        for i in range(length):
            x = np.float64(v[i])
            if x == x:
                n += 1
                lo = min(lo, x)
                hi = max(hi, x)
        return lo, hi, n
    for i in range(length):
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            continue
        x = np.float64(values[j])
        if x != x:
            continue
        n += 1
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    return lo, hi, n


@kernel
def summary(length, offset, validity, values, out):
    """One pass: out = [n_valid, n_null, n_nan, n_posinf, n_neginf, mean, m2, min, max] over
    finite valid values (Welford's update for mean and the sum of squared deviations m2)."""
    n_valid = 0
    n_nan = 0
    n_pinf = 0
    n_ninf = 0
    count = 0
    mean = 0.0
    m2 = 0.0
    lo = np.inf
    hi = -np.inf
    masked = validity.size != 0
    for i in range(length):
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            continue
        n_valid += 1
        x = np.float64(values[j])
        if x != x:
            n_nan += 1
            continue
        if x == np.inf:
            n_pinf += 1
            continue
        if x == -np.inf:
            n_ninf += 1
            continue
        count += 1
        d = x - mean
        mean += d / count
        m2 += d * (x - mean)
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    out[0] = n_valid
    out[1] = length - n_valid
    out[2] = n_nan
    out[3] = n_pinf
    out[4] = n_ninf
    out[5] = mean if count else np.nan
    out[6] = m2
    out[7] = lo if count else np.nan
    out[8] = hi if count else np.nan
