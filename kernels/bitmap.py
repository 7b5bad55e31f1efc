"""Arrow validity bitmaps: bit ``offset + i`` of a little-endian byte buffer is row ``i``."""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel(inline="always")
def is_valid(validity, offset, i):
    """True when row ``i`` is valid; an empty ``validity`` means every row is valid."""
    if validity.size == 0:
        return True
    j = offset + i
    return (validity[j >> 3] >> (j & 7)) & 1 == 1


@kernel
def copy_bits(length, offset, src, out):
    """out bit i = src bit (offset + i), for i < length; ``out`` has ceil(length/8) bytes."""
    nbytes = (length + 7) >> 3
    for b in range(nbytes):
        out[b] = 0
    if offset & 7 == 0:
        start = offset >> 3
        for b in range(nbytes):
            out[b] = src[start + b]
        rem = length & 7
        if rem:
            out[nbytes - 1] &= np.uint8((1 << rem) - 1)
        return
    # Unaligned: each output byte takes the high bits of one source byte and the low bits of the next.
    start = offset >> 3
    r = offset & 7
    last = src.size - 1
    for b in range(nbytes):
        lo = np.uint32(src[start + b]) >> r
        k = start + b + 1
        hi = (np.uint32(src[k]) << (8 - r)) if k <= last else np.uint32(0)
        out[b] = np.uint8((lo | hi) & 0xFF)
    rem = length & 7
    if rem:
        out[nbytes - 1] &= np.uint8((1 << rem) - 1)


@kernel
def count_valid(length, offset, validity):
    """Number of set bits among rows [0, length)."""
    if validity.size == 0:
        return length
    n = 0
    for i in range(length):
        j = offset + i
        n += (validity[j >> 3] >> (j & 7)) & 1
    return n
