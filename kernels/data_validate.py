"""Validation passes for mlcore.data: one compiled pass per column chunk.

Buffer contract (as everywhere): ``values`` / ``offsets`` / ``validity`` are the chunk's *whole*
buffers, row ``i`` is ``values[offset + i]`` with validity bit ``offset + i``; an empty
``validity`` means no nulls. ``row_base`` is the chunk's first row in the table, so example row
numbers are table-wide.

Every pass fills ``counts[k]`` (int64, one slot per problem kind, indices below) and
``examples[k, :]`` (the first rows where problem ``k`` occurs; the caller fills it with -1) and
adds, when ``rowhash`` is not empty, a salted hash of each row's value into ``rowhash[row]``.
Addition commutes, so columns may be hashed in any order or on several threads with separate
``rowhash`` arrays that are summed afterwards.

Hash sets are open-addressing tables over caller-allocated NumPy arrays (capacity a power of two,
at least twice the number of keys): ``keys`` (uint64) plus ``used`` (uint8) for numbers, ``slots``
(int64 row or category index, -1 when empty) for strings, whose bytes are compared on a hit.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel

# Problem kinds: the order of the slots in ``counts`` and ``examples``.
NULL = 0
NAN = 1
POSINF = 2
NEGINF = 3
BELOW_MIN = 4
ABOVE_MAX = 5
UNSEEN = 6
DUPLICATE = 7
MISMATCH = 8
N_KINDS = 9

# Type checks of strings (parse_mode) and of floats (integral).
PARSE_NONE = 0
PARSE_INT = 1
PARSE_FLOAT = 2

_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_NAN_KEY = np.uint64(0x7FF8000000000000)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@kernel(inline="always")
def mix64(x):
    """splitmix64's finaliser: a bijection on uint64 that spreads every input bit."""
    z = x
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@kernel(inline="always")
def pack_short(data, start, stop):
    """The bytes data[start:stop] (at most 8) as a little-endian uint64: eight fixed loads and a
    mask where the buffer allows (no loop of unknown length), else byte by byte."""
    n = stop - start
    if start + 8 <= data.size:
        # unsigned indices: Numba adds negative-index wraparound code to every signed one
        u = np.uint64(start)
        w = (np.uint64(data[u]) | (np.uint64(data[u + np.uint64(1)]) << np.uint64(8))
             | (np.uint64(data[u + np.uint64(2)]) << np.uint64(16))
             | (np.uint64(data[u + np.uint64(3)]) << np.uint64(24))
             | (np.uint64(data[u + np.uint64(4)]) << np.uint64(32))
             | (np.uint64(data[u + np.uint64(5)]) << np.uint64(40))
             | (np.uint64(data[u + np.uint64(6)]) << np.uint64(48))
             | (np.uint64(data[u + np.uint64(7)]) << np.uint64(56)))
        if n >= 8:
            return w
        return w & ((np.uint64(1) << np.uint64(8 * n)) - np.uint64(1))
    pk = np.uint64(0)
    for p in range(start, stop):
        pk |= np.uint64(data[p]) << np.uint64(8 * (p - start))
    return pk


@kernel(inline="always")
def _short_hash(pk, n):
    return mix64(pk ^ (np.uint64(n + 1) * _M1))


@kernel(inline="always")
def hash_bytes(data, start, stop):
    """Hash of data[start:stop]: strings of up to 8 bytes packed into one word with their
    length (no byte loop of multiplies), longer ones by FNV-1a; then mixed."""
    n = stop - start
    if n <= 8:
        return _short_hash(pack_short(data, start, stop), n)
    h = _FNV_OFFSET
    for p in range(start, stop):
        h = (h ^ np.uint64(data[p])) * _FNV_PRIME
    return mix64(h)


@kernel(inline="always")
def _note(counts, examples, k, row):
    c = counts[k]
    if c < examples.shape[1]:
        examples[k, c] = row
    counts[k] = c + 1


@kernel(inline="always")
def set_insert(keys, used, key):
    """Insert ``key``; True when it was already there."""
    mask = np.uint64(keys.size - 1)
    s = mix64(key) & mask
    while used[s]:
        if keys[s] == key:
            return True
        s = (s + np.uint64(1)) & mask
    used[s] = 1
    keys[s] = key
    return False


@kernel(inline="always")
def set_contains(keys, used, key):
    mask = np.uint64(keys.size - 1)
    s = mix64(key) & mask
    while used[s]:
        if keys[s] == key:
            return True
        s = (s + np.uint64(1)) & mask
    return False


@kernel
def build_numeric_set(bits, keys, used):
    """Insert every value of ``bits`` (already normalised keys, uint64) into the set."""
    for i in range(bits.size):
        set_insert(keys, used, np.uint64(bits[i]))


@kernel(inline="always")
def _numeric_key(x, b):
    # -0.0 and 0.0 are one value; every NaN payload is one value.
    if x == 0:
        return np.uint64(0)
    if x != x:
        return _NAN_KEY
    return np.uint64(b)


@kernel
def numeric_keys(length, offset, values, bits, out):
    """out[i] = the normalised hash key of row i (as numeric_pass keys values)."""
    v = values[offset:offset + length]
    b = bits[offset:offset + length]
    for i in range(length):
        out[i] = _numeric_key(v[i], b[i])


@kernel(inline="always")
def unpack_bits(validity, bit0, m, ok):
    """ok[i] = validity bit (bit0 + i), for i < m: eight rows per bitmap byte (two bytes
    combined when bit0 is not a multiple of 8)."""
    sh = bit0 & 7
    s = bit0 >> 3
    nb = m >> 3
    for q in range(nb):
        lo = np.uint16(validity[s + q])
        hi = np.uint16(validity[s + q + 1]) if sh else np.uint16(0)
        byte = ((lo | (hi << np.uint16(8))) >> np.uint16(sh)) & np.uint16(0xFF)
        for k in range(8):
            ok[8 * q + k] = (byte >> np.uint16(k)) & np.uint16(1)
    for i in range(nb * 8, m):
        j = bit0 + i
        ok[i] = (validity[j >> 3] >> (j & 7)) & 1


#: Rows per block of the numeric pass: the validity bits of a block are unpacked into a byte
#: mask so that the counting loop has no branches and vectorises.
BLOCK = 2048


_LOW63 = np.int64(0x7FFFFFFFFFFFFFFF)
_TOP = np.int64(-0x8000000000000000)
KEY_SIGNED = 0
KEY_FLOAT = 1
KEY_UNSIGNED = 2


@kernel(inline="always")
def order_key(b, key_kind):
    """An int64 whose signed order is the value order: the value itself (signed integers), the
    sign bit flipped (uint64), or for float bits (sign-extended to int64) the magnitude bits
    flipped when negative. Its own inverse."""
    if key_kind == KEY_FLOAT:
        return b ^ ((b >> 63) & _LOW63)
    if key_kind == KEY_UNSIGNED:
        return b ^ _TOP
    return b


@kernel
def _count_block(vb, bb, ok, m, lo, hi, integral, key_kind, kmn, kmx):
    """The branch-free counting loop of numeric_pass over one block, with min/max over order
    keys (integer min/max vectorises; a float compare-select reduction does not, measured
    2.9 vs 1.1 ms per 1M rows). Its own function: inside the larger one LLVM did not vectorise."""
    n_valid = 0
    n_nan = 0
    n_pinf = 0
    n_ninf = 0
    n_below = 0
    n_above = 0
    n_frac = 0
    big = _LOW63
    small = _TOP
    for i in range(m):
        f = np.float64(vb[i])
        valid = ok[i] != 0
        isnan = f != f
        ispinf = f == np.inf
        isninf = f == -np.inf
        fin = valid & ~(isnan | ispinf | isninf)
        n_valid += valid
        n_nan += valid & isnan
        n_pinf += valid & ispinf
        n_ninf += valid & isninf
        n_below += fin & (f < lo)
        n_above += fin & (f > hi)
        if integral:
            n_frac += fin & (f != np.floor(f))
        k = order_key(np.int64(bb[i]), key_kind)
        kmn = min(kmn, k if fin else big)
        kmx = max(kmx, k if fin else small)
    return n_valid, n_nan, n_pinf, n_ninf, n_below, n_above, n_frac, kmn, kmx


@kernel
def numeric_pass(length, offset, validity, values, bits, key_kind, row_base, lo, hi, integral,
                 cat_keys, cat_used, uniq_keys, uniq_used, rowhash, salt,
                 counts, examples, minmax, scratch):
    """Nulls, NaN, ±inf, finite min/max (as order keys, see ``order_key``, folded into the int64
    ``minmax``, which the caller starts at [int64 max, int64 min]), rows below ``lo`` / above ``hi`` (finite values),
    non-integral finite values (when ``integral``), values outside the category set
    (``cat_keys``, when not empty) and repeats (``uniq_keys``, when not empty).

    ``bits`` is the values buffer viewed as the same-width integer type (the hash key);
    ``scratch`` is a uint8 work array of at least BLOCK bytes. Per block of rows: a branch-free
    counting loop, then, only while some problem still lacks examples, a second loop over the
    block to record them; hashing (categories, repeats, row hashes) runs in its own loop.
    """
    v = values[offset:offset + length]
    b = bits[offset:offset + length]
    masked = validity.size != 0
    check_cats = cat_keys.size != 0
    check_uniq = uniq_keys.size != 0
    do_hash = rowhash.size != 0
    hashing = check_cats or check_uniq or do_hash
    k_max = examples.shape[1]
    mn = minmax[0]
    mx = minmax[1]
    bc = np.zeros(N_KINDS, dtype=np.int64)
    for b0 in range(0, length, BLOCK):
        m = min(BLOCK, length - b0)
        ok = scratch[:m]
        if masked:
            unpack_bits(validity, offset + b0, m, ok)
        else:
            ok[:] = 1
        vb = v[b0:b0 + m]
        n_valid, n_nan, n_pinf, n_ninf, n_below, n_above, n_frac, mn, mx = _count_block(
            vb, b[b0:b0 + m], ok, m, lo, hi, integral, key_kind, mn, mx)
        bc[NULL] = m - n_valid
        bc[NAN] = n_nan
        bc[POSINF] = n_pinf
        bc[NEGINF] = n_ninf
        bc[BELOW_MIN] = n_below
        bc[ABOVE_MAX] = n_above
        bc[MISMATCH] = n_frac
        need = False
        for k in range(N_KINDS):
            if bc[k] != 0 and counts[k] < k_max:
                need = True
        if need:
            for i in range(m):
                r = row_base + b0 + i
                if ok[i] == 0:
                    _note(counts, examples, NULL, r)
                    continue
                f = np.float64(vb[i])
                if f != f:
                    _note(counts, examples, NAN, r)
                elif f == np.inf:
                    _note(counts, examples, POSINF, r)
                elif f == -np.inf:
                    _note(counts, examples, NEGINF, r)
                else:
                    if f < lo:
                        _note(counts, examples, BELOW_MIN, r)
                    elif f > hi:
                        _note(counts, examples, ABOVE_MAX, r)
                    if integral and f != np.floor(f):
                        _note(counts, examples, MISMATCH, r)
        else:
            for k in range(N_KINDS):
                counts[k] += bc[k]
        if hashing:
            bb = b[b0:b0 + m]
            for i in range(m):
                r = row_base + b0 + i
                if ok[i] == 0:
                    if do_hash:
                        rowhash[r] += mix64(_NULL_HASH ^ salt)
                    continue
                key = _numeric_key(vb[i], bb[i])
                if do_hash:
                    rowhash[r] += mix64(key ^ salt)
                if check_uniq:
                    if set_insert(uniq_keys, uniq_used, key):
                        _note(counts, examples, DUPLICATE, r)
                if check_cats:
                    if not set_contains(cat_keys, cat_used, key):
                        _note(counts, examples, UNSEEN, r)
    minmax[0] = mn
    minmax[1] = mx


@kernel(inline="always")
def _is_space(c):
    return c == 32 or (9 <= c <= 13)


@kernel(inline="always")
def _lower(c):
    return c + 32 if 65 <= c <= 90 else c


@kernel(inline="always")
def _word_at(data, p, stop, word):
    """True when data[p:stop] starts with the lower-case ASCII ``word`` (a uint8 array), any case."""
    if stop - p < word.size:
        return False
    for k in range(word.size):
        if _lower(data[p + k]) != word[k]:
            return False
    return True


_INF_WORD = np.frombuffer(b"infinity", dtype=np.uint8).copy()


@kernel(inline="always")
def parses_as(data, start, stop, mode):
    """True when data[start:stop] is a decimal integer (mode 1) or float (mode 2), as Arrow's
    CSV reader and ``cast`` accept them: optional surrounding ASCII space, sign, digits with an
    optional fraction and exponent, or (floats) ``nan``, ``inf``, ``infinity`` in any case.
    Integers of more than 18 digits are refused (they may not fit int64)."""
    p = start
    q = stop
    while p < q and _is_space(data[p]):
        p += 1
    while q > p and _is_space(data[q - 1]):
        q -= 1
    if p == q:
        return False
    if data[p] == 43 or data[p] == 45:  # + -
        p += 1
    if p == q:
        return False
    if mode == 2:
        n = q - p
        if n == 3 and _lower(data[p]) == 110 and _lower(data[p + 1]) == 97 and _lower(data[p + 2]) == 110:
            return True
        if n == 3 and _word_at(data, p, q, _INF_WORD[:3]):
            return True
        if n == 8 and _word_at(data, p, q, _INF_WORD):
            return True
    nd = 0
    while p < q and 48 <= data[p] <= 57:
        p += 1
        nd += 1
    if mode == 1:
        return p == q and 0 < nd <= 18
    if p < q and data[p] == 46:  # .
        p += 1
        while p < q and 48 <= data[p] <= 57:
            p += 1
            nd += 1
    if nd == 0:
        return False
    if p < q and (data[p] == 101 or data[p] == 69):  # e E
        p += 1
        if p < q and (data[p] == 43 or data[p] == 45):
            p += 1
        ne = 0
        while p < q and 48 <= data[p] <= 57:
            p += 1
            ne += 1
        if ne == 0:
            return False
    return p == q


@kernel(inline="always")
def _same_bytes(data_a, a0, a1, data_b, b0, b1):
    if a1 - a0 != b1 - b0:
        return False
    for k in range(a1 - a0):
        if data_a[a0 + k] != data_b[b0 + k]:
            return False
    return True


@kernel
def build_string_set(offsets, data, slots):
    """slots: hash set of the indices of the strings offsets/data (the category list); a repeated
    category keeps its first index."""
    mask = slots.size - 1
    n = offsets.size - 1
    for c in range(n):
        a0 = offsets[c]
        a1 = offsets[c + 1]
        s = np.int64(hash_bytes(data, a0, a1) & np.uint64(mask))
        while slots[s] >= 0:
            o = slots[s]
            if _same_bytes(data, offsets[o], offsets[o + 1], data, a0, a1):
                break
            s = (s + 1) & mask
        if slots[s] < 0:
            slots[s] = c


@kernel(inline="always")
def _string_in_set(slots, cat_offsets, cat_data, cat_packed, data, a0, a1, h, pk):
    mask = np.uint64(slots.size - 1)
    s = h & mask
    n = a1 - a0
    short = n <= 8
    while slots[s] >= 0:
        o = np.uint64(slots[s])
        c0 = cat_offsets[o]
        c1 = cat_offsets[o + np.uint64(1)]
        if c1 - c0 == n:
            if short:
                if cat_packed[o] == pk:
                    return True
            elif _same_bytes(cat_data, c0, c1, data, a0, a1):
                return True
        s = (s + np.uint64(1)) & mask
    return False


@kernel
def pack_strings(offsets, data, out):
    """out[c] = pack_short of string c when it has at most 8 bytes (else 0)."""
    for c in range(offsets.size - 1):
        a0 = offsets[c]
        a1 = offsets[c + 1]
        out[c] = pack_short(data, a0, a1) if a1 - a0 <= 8 else np.uint64(0)


@kernel
def string_pass(length, offset, validity, offsets, data, row_base, parse_mode,
                cat_slots, cat_offsets, cat_data, cat_packed, uniq_slots, rowhash, salt,
                counts, examples, state):
    """Nulls, values outside the category set (``cat_slots``, when not empty), repeats
    (``uniq_slots``, when not empty: the whole column must be this one chunk), strings that do
    not parse as the declared number type (``parse_mode``), and constancy.

    ``state`` (int64): [first row seen?, first row (chunk-local), values differ?].
    """
    masked = validity.size != 0
    check_cats = cat_slots.size != 0
    check_uniq = uniq_slots.size != 0
    do_hash = rowhash.size != 0
    need_hash = check_cats or check_uniq or do_hash
    has_first = state[0] != 0
    first = state[1]
    differs = state[2] != 0
    first_len = np.int64(-1)
    first_pk = np.uint64(0)
    if has_first:
        f0 = offset + first
        first_len = np.int64(offsets[f0 + 1]) - np.int64(offsets[f0])
        if first_len <= 8:
            first_pk = pack_short(data, np.int64(offsets[f0]), np.int64(offsets[f0 + 1]))
    umask = uniq_slots.size - 1
    for i in range(length):
        r = row_base + i
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            _note(counts, examples, NULL, r)
            if do_hash:
                rowhash[r] += mix64(_NULL_HASH ^ salt)
            continue
        uj = np.uint64(j)
        a0 = np.int64(offsets[uj])
        a1 = np.int64(offsets[uj + np.uint64(1)])
        h = np.uint64(0)
        pk = np.uint64(0)
        if need_hash:
            if a1 - a0 <= 8:
                pk = pack_short(data, a0, a1)
                h = _short_hash(pk, a1 - a0)
            else:
                h = hash_bytes(data, a0, a1)
        if do_hash:
            rowhash[r] += mix64(h ^ salt)
        if not differs:
            if not has_first:
                has_first = True
                first = i
                first_len = a1 - a0
                first_pk = pack_short(data, a0, a1) if first_len <= 8 else np.uint64(0)
            elif a1 - a0 != first_len:
                differs = True
            elif first_len <= 8:
                differs = (pk if need_hash else pack_short(data, a0, a1)) != first_pk
            else:
                f = offset + first
                differs = not _same_bytes(data, offsets[f], offsets[f + 1], data, a0, a1)
        if check_cats and not _string_in_set(cat_slots, cat_offsets, cat_data, cat_packed, data, a0, a1, h, pk):
            _note(counts, examples, UNSEEN, r)
        if check_uniq:
            s = np.int64(h & np.uint64(umask))
            dup = False
            while uniq_slots[s] >= 0:
                o = offset + uniq_slots[s]
                if _same_bytes(data, offsets[o], offsets[o + 1], data, a0, a1):
                    dup = True
                    break
                s = (s + 1) & umask
            if dup:
                _note(counts, examples, DUPLICATE, r)
            else:
                uniq_slots[s] = i
        if parse_mode != PARSE_NONE and not parses_as(data, a0, a1, parse_mode):
            _note(counts, examples, MISMATCH, r)
    state[0] = 1 if has_first else 0
    state[1] = first
    state[2] = 1 if differs else 0


@kernel
def string_hashes(length, offset, offsets, data, out):
    """out[i] = hash of string row i (the hash string_pass uses)."""
    for i in range(length):
        j = offset + i
        out[i] = hash_bytes(data, offsets[j], offsets[j + 1])


@kernel
def parse_flags(length, offset, validity, offsets, data, mode, out):
    """out[i] = 1 when row i is valid and does not parse as ``mode`` (see ``parses_as``), else 0."""
    masked = validity.size != 0
    for i in range(length):
        j = offset + i
        out[i] = 0
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            continue
        if not parses_as(data, offsets[j], offsets[j + 1], mode):
            out[i] = 1


@kernel
def index_pass(length, offset, validity, indices, row_base, canon, unseen, mismatch, entry_hash,
               seen, check_uniq, rowhash, salt, counts, examples, state):
    """Dictionary columns: per-entry facts (``canon``: the entry's first equal entry, ``unseen``,
    ``mismatch`` flags, ``entry_hash``) turned into per-row counts. ``seen[c]`` marks canonical
    entries met so far (for repeats). ``state`` (int64): [first seen?, first canonical, differ?]."""
    idx = indices[offset:offset + length]
    masked = validity.size != 0
    do_hash = rowhash.size != 0
    has_first = state[0] != 0
    first = state[1]
    differs = state[2] != 0
    for i in range(length):
        r = row_base + i
        if masked:
            j = offset + i
            if not ((validity[j >> 3] >> (j & 7)) & 1):
                _note(counts, examples, NULL, r)
                if do_hash:
                    rowhash[r] += mix64(_NULL_HASH ^ salt)
                continue
        c = canon[idx[i]]
        if do_hash:
            rowhash[r] += mix64(entry_hash[c] ^ salt)
        if not differs:
            if not has_first:
                has_first = True
                first = c
            elif c != first:
                differs = True
        if unseen[c]:
            _note(counts, examples, UNSEEN, r)
        if mismatch[c]:
            _note(counts, examples, MISMATCH, r)
        if check_uniq:
            if seen[c]:
                _note(counts, examples, DUPLICATE, r)
            else:
                seen[c] = 1
    state[0] = 1 if has_first else 0
    state[1] = first
    state[2] = 1 if differs else 0


@kernel
def bool_pass(length, offset, validity, bits, row_base, rowhash, salt, counts, examples, state):
    """Bool columns: nulls and constancy. ``state`` (int64): [first seen?, first value, differ?]."""
    masked = validity.size != 0
    do_hash = rowhash.size != 0
    has_first = state[0] != 0
    first = state[1]
    differs = state[2] != 0
    for i in range(length):
        r = row_base + i
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            _note(counts, examples, NULL, r)
            if do_hash:
                rowhash[r] += mix64(_NULL_HASH ^ salt)
            continue
        x = np.int64((bits[j >> 3] >> (j & 7)) & 1)
        if do_hash:
            rowhash[r] += mix64(np.uint64(x + 1) ^ salt)
        if not has_first:
            has_first = True
            first = x
        elif x != first:
            differs = True
    state[0] = 1 if has_first else 0
    state[1] = first
    state[2] = 1 if differs else 0


@kernel
def hash_repeats(hashes, slots, first_of):
    """For each row r, first_of[r] = the earlier row with the same hash, or -1; returns the number
    of rows that repeat an earlier hash. ``slots`` (int64, -1 when empty) is the hash set."""
    mask = slots.size - 1
    n = 0
    for r in range(hashes.size):
        h = hashes[r]
        s = np.int64(mix64(h) & np.uint64(mask))
        first_of[r] = -1
        while slots[s] >= 0:
            o = slots[s]
            if hashes[o] == h:
                first_of[r] = o
                n += 1
                break
            s = (s + 1) & mask
        if first_of[r] < 0:
            slots[s] = r
    return n


@kernel
def numeric_flags(length, offset, validity, values, lo, hi, integral, out):
    """Per-row problem bits for repair: 1 null, 2 NaN, 4 +inf, 8 -inf, 16 below ``lo``,
    32 above ``hi``, 64 non-integral (when ``integral``)."""
    v = values[offset:offset + length]
    masked = validity.size != 0
    for i in range(length):
        if masked:
            j = offset + i
            if not ((validity[j >> 3] >> (j & 7)) & 1):
                out[i] = 1
                continue
        x = v[i]
        f = np.uint8(0)
        if x != x:
            f = 2
        elif x == np.inf:
            f = 4
        elif x == -np.inf:
            f = 8
        else:
            d = np.float64(x)
            if d < lo:
                f = 16
            elif d > hi:
                f = 32
            if integral and d != np.floor(d):
                f |= 64
        out[i] = f
