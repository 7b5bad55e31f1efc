"""String hashing and category lookup over Arrow string buffers.

Buffer contract: a string chunk is ``offsets`` (int32 or int64, the whole buffer) and ``data``
(the whole UTF-8 byte buffer, uint8); row ``i`` spans ``data[offsets[offset+i]:offsets[offset+i+1]]``.
A fitted category set is ``cat_offsets`` (int64, n+1) and ``cat_data`` (uint8), with an
open-addressing table ``slots`` (int32, a power of two in size, -1 for empty) built by
:func:`build_table`. Codes are category positions; -1 means unseen, ``null_code`` is written for null.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

_M32 = 0xFFFFFFFF


@kernel
def murmurhash3_32(data, start, end, seed):
    """MurmurHash3 x86 32-bit of data[start:end] as a signed int32 (scikit-learn's
    murmurhash3_32(..., positive=False))."""
    c1 = np.uint64(0xCC9E2D51)
    c2 = np.uint64(0x1B873593)
    m = np.uint64(_M32)
    h = np.uint64(seed) & m
    n = end - start
    nblocks = n // 4
    for b in range(nblocks):
        p = start + 4 * b
        k = (np.uint64(data[p]) | (np.uint64(data[p + 1]) << np.uint64(8))
             | (np.uint64(data[p + 2]) << np.uint64(16)) | (np.uint64(data[p + 3]) << np.uint64(24)))
        k = (k * c1) & m
        k = ((k << np.uint64(15)) | (k >> np.uint64(17))) & m
        k = (k * c2) & m
        h ^= k
        h = ((h << np.uint64(13)) | (h >> np.uint64(19))) & m
        h = (h * np.uint64(5) + np.uint64(0xE6546B64)) & m
    tail = start + 4 * nblocks
    rem = n & 3
    k1 = np.uint64(0)
    if rem == 3:
        k1 ^= np.uint64(data[tail + 2]) << np.uint64(16)
    if rem >= 2:
        k1 ^= np.uint64(data[tail + 1]) << np.uint64(8)
    if rem >= 1:
        k1 ^= np.uint64(data[tail])
        k1 = (k1 * c1) & m
        k1 = ((k1 << np.uint64(15)) | (k1 >> np.uint64(17))) & m
        k1 = (k1 * c2) & m
        h ^= k1
    h ^= np.uint64(n) & m
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & m
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & m
    h ^= h >> np.uint64(16)
    r = np.int64(h)
    if r >= 2147483648:
        r -= 4294967296
    return r


@kernel
def _bytes_equal(a, a0, a1, b, b0, b1):
    if a1 - a0 != b1 - b0:
        return False
    for k in range(a1 - a0):
        if a[a0 + k] != b[b0 + k]:
            return False
    return True


@kernel
def build_table(cat_offsets, cat_data, slots):
    """Insert every category into ``slots`` (filled with -1, size a power of two > 2n);
    return -1, or the index of the first category that duplicates an earlier one."""
    mask = slots.size - 1
    for c in range(cat_offsets.size - 1):
        a0 = cat_offsets[c]
        a1 = cat_offsets[c + 1]
        s = murmurhash3_32(cat_data, a0, a1, 0) & mask
        while True:
            t = slots[s]
            if t < 0:
                slots[s] = c
                break
            if _bytes_equal(cat_data, cat_offsets[t], cat_offsets[t + 1], cat_data, a0, a1):
                return c
            s = (s + 1) & mask
    return -1


@kernel
def find(data, start, end, cat_offsets, cat_data, slots):
    """Position of data[start:end] among the categories, or -1."""
    mask = slots.size - 1
    s = murmurhash3_32(data, start, end, 0) & mask
    while True:
        t = slots[s]
        if t < 0:
            return -1
        if _bytes_equal(cat_data, cat_offsets[t], cat_offsets[t + 1], data, start, end):
            return t
        s = (s + 1) & mask


@kernel
def lookup(length, offset, validity, offsets, data, cat_offsets, cat_data, slots, null_code, out):
    """out[i] = category code of string row i (-1 unseen, ``null_code`` for null)."""
    masked = validity.size != 0
    for i in range(length):
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            out[i] = null_code
            continue
        out[i] = find(data, offsets[j], offsets[j + 1], cat_offsets, cat_data, slots)


@kernel
def map_indices(length, offset, validity, indices, dict_codes, null_code, out):
    """Dictionary columns: out[i] = dict_codes[indices[offset+i]] (``null_code`` for null)."""
    masked = validity.size != 0
    for i in range(length):
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            out[i] = null_code
        else:
            out[i] = dict_codes[indices[j]]


@kernel
def first_unseen(codes):
    """Index of the first -1 in ``codes``, or -1."""
    for i in range(codes.size):
        if codes[i] == -1:
            return i
    return -1


@kernel
def remap(codes, mapping, out):
    """out[i] = mapping[codes[i]] for codes >= 0; ``mapping[-1]`` (the last entry) for -1 (unseen)
    and ``mapping[-2]`` for -2 (null) - the caller appends those two entries."""
    n = mapping.size
    for i in range(codes.size):
        c = codes[i]
        if c >= 0:
            out[i] = mapping[c]
        elif c == -1:
            out[i] = mapping[n - 1]
        else:
            out[i] = mapping[n - 2]


@kernel
def one_hot(codes, column_of, out_matrix, col0):
    """Column-major one-hot: for row i with output column k = column_of[code] (k >= 0), set
    out_matrix[col0 + k, i] = 1 (rows of ``out_matrix`` are output features; zeros elsewhere).
    Codes -1 (unseen) and -2 (null) use the last two entries of ``column_of`` as remap does."""
    n = column_of.size
    for i in range(codes.size):
        c = codes[i]
        if c >= 0:
            k = column_of[c]
        elif c == -1:
            k = column_of[n - 1]
        else:
            k = column_of[n - 2]
        if k >= 0:
            out_matrix[col0 + k, i] = 1.0


@kernel
def count_codes(codes, n_codes, out):
    """out[c] += number of rows with code c (codes -2 counted at out[n_codes], -1 at n_codes+1)."""
    for i in range(codes.size):
        c = codes[i]
        if c >= 0:
            out[c] += 1
        elif c == -2:
            out[n_codes] += 1
        else:
            out[n_codes + 1] += 1


@kernel
def one_hot_rows(cols, indptr, indices):
    """CSR of one-hot blocks: ``cols`` (k, n) holds each row's output column per input column
    (-1: none, in increasing column order along k); writes indptr (n+1) and indices; returns nnz."""
    k, n = cols.shape
    nnz = 0
    indptr[0] = 0
    for i in range(n):
        for j in range(k):
            c = cols[j, i]
            if c >= 0:
                indices[nnz] = c
                nnz += 1
        indptr[i + 1] = nnz
    return nnz


@kernel
def output_columns(codes, column_of, base, out):
    """out[i] = base + column_of[code] (or -1 when the code maps to no column); codes -1/-2 use
    the last two entries of ``column_of`` as :func:`remap` does."""
    n = column_of.size
    for i in range(codes.size):
        c = codes[i]
        if c >= 0:
            k = column_of[c]
        elif c == -1:
            k = column_of[n - 1]
        else:
            k = column_of[n - 2]
        out[i] = base + k if k >= 0 else -1
