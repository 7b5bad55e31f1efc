"""Tokenise Arrow string buffers and count tokens into CSR rows, in one pass over the UTF-8 bytes.

Buffer contract: ``offsets`` (int32/int64, whole buffer), ``data`` (uint8, whole buffer), ``offset``
the array offset; document ``i`` spans ``data[offsets[offset+i]:offsets[offset+i+1]]``; a null
document has no token.

Tokens are scikit-learn's default ``(?u)\\b\\w\\w+\\b`` after ``str.lower()``: maximal runs of word
code points, kept when at least two long. ``word`` (uint8) and ``lower`` (int32) are tables indexed
by code point below ``word.size``, built from Python's ``str.isalnum()`` and ``str.lower()``; a code
point past the table is a word character and keeps its case. Invalid UTF-8 (a byte that does not
start or continue a well-formed sequence, as Python's strict decoder defines it) is handled by
``policy``: 0 ``replace`` (a separator, as decoding with errors="replace" gives), 1 ``ignore``
(dropped, the neighbours join, as errors="ignore" gives), 2 ``error`` (the kernel stops and returns
the document index).
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel
from .feat_strings import find, murmurhash3_32


@kernel
def _decode(data, p, end):
    """(code point, byte length) of the UTF-8 sequence at p; (-1, 1) when the lead byte at p does
    not begin a well-formed sequence."""
    b0 = np.int64(data[p])
    if b0 < 0x80:
        return b0, 1
    if b0 < 0xC2 or b0 > 0xF4:
        return -1, 1
    if b0 < 0xE0:
        if p + 1 >= end:
            return -1, 1
        b1 = np.int64(data[p + 1])
        if (b1 & 0xC0) != 0x80:
            return -1, 1
        return ((b0 & 0x1F) << 6) | (b1 & 0x3F), 2
    if b0 < 0xF0:
        if p + 2 >= end:
            return -1, 1
        b1 = np.int64(data[p + 1])
        b2 = np.int64(data[p + 2])
        lo = 0xA0 if b0 == 0xE0 else 0x80
        hi = 0x9F if b0 == 0xED else 0xBF
        if b1 < lo or b1 > hi or (b2 & 0xC0) != 0x80:
            return -1, 1
        return ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F), 3
    if p + 3 >= end:
        return -1, 1
    b1 = np.int64(data[p + 1])
    b2 = np.int64(data[p + 2])
    b3 = np.int64(data[p + 3])
    lo = 0x90 if b0 == 0xF0 else 0x80
    hi = 0x8F if b0 == 0xF4 else 0xBF
    if b1 < lo or b1 > hi or (b2 & 0xC0) != 0x80 or (b3 & 0xC0) != 0x80:
        return -1, 1
    return ((b0 & 0x07) << 18) | ((b1 & 0x3F) << 12) | ((b2 & 0x3F) << 6) | (b3 & 0x3F), 4


@kernel
def _encode(cp, buf, k):
    """Write code point cp as UTF-8 at buf[k]; return the new end."""
    if cp < 0x80:
        buf[k] = cp
        return k + 1
    if cp < 0x800:
        buf[k] = 0xC0 | (cp >> 6)
        buf[k + 1] = 0x80 | (cp & 0x3F)
        return k + 2
    if cp < 0x10000:
        buf[k] = 0xE0 | (cp >> 12)
        buf[k + 1] = 0x80 | ((cp >> 6) & 0x3F)
        buf[k + 2] = 0x80 | (cp & 0x3F)
        return k + 3
    buf[k] = 0xF0 | (cp >> 18)
    buf[k + 1] = 0x80 | ((cp >> 12) & 0x3F)
    buf[k + 2] = 0x80 | ((cp >> 6) & 0x3F)
    buf[k + 3] = 0x80 | (cp & 0x3F)
    return k + 4


@kernel
def _is_word(cp, word):
    if cp < word.size:
        return word[cp] != 0
    return True


ASCII_LOWER = np.array([(b + 32 if 65 <= b <= 90 else b) if (chr(b).isalnum() or b == 95) else 0
                        for b in range(128)], dtype=np.uint8)
ASCII_KEEP = np.array([b if (chr(b).isalnum() or b == 95) else 0 for b in range(128)], dtype=np.uint8)


@kernel
def next_token(data, p, end, word, lower, lowercase, policy, tok):
    """Scan from byte p for the next token of >= 2 code points; write its (lower-cased) UTF-8
    bytes to ``tok``. Return (new p, token length in bytes); length 0 means none left, -1 means
    invalid UTF-8 under policy 2 (error)."""
    k = 0
    ncp = 0
    amap = ASCII_LOWER if lowercase else ASCII_KEEP
    while p < end:
        b = data[p]
        if b < 0x80:  # ASCII fast path: one table load gives "separator" (0) or the output byte
            m = amap[b]
            if m != 0:
                tok[k] = m
                k += 1
                ncp += 1
                p += 1
                continue
            p += 1
            if ncp >= 2:
                return p, k
            k = 0
            ncp = 0
            continue
        cp, n = _decode(data, p, end)
        p += n
        if cp < 0:
            if policy == 2:
                return p, -1
            if policy == 1:
                continue
            if ncp >= 2:
                return p, k
            k = 0
            ncp = 0
            continue
        if lowercase and cp < lower.size:
            low = lower[cp]
            if low == -2:  # U+0130 lowers to "i" + U+0307 (a combining mark: a separator)
                tok[k] = 105
                k += 1
                ncp += 1
                if ncp >= 2:
                    return p, k
                k = 0
                ncp = 0
                continue
            if low >= 0:
                cp = low
        if _is_word(cp, word):
            k = _encode(cp, tok, k)
            ncp += 1
        else:
            if ncp >= 2:
                return p, k
            k = 0
            ncp = 0
    if ncp >= 2:
        return p, k
    return p, 0


@kernel
def _sort_pairs(cols, vals, n):
    """Sort (cols, vals) by cols over [0, n): insertion sort for short rows, argsort otherwise."""
    if n <= 32:
        for i in range(1, n):
            c = cols[i]
            v = vals[i]
            j = i - 1
            while j >= 0 and cols[j] > c:
                cols[j + 1] = cols[j]
                vals[j + 1] = vals[j]
                j -= 1
            cols[j + 1] = c
            vals[j + 1] = v
        return
    order = np.argsort(cols[:n], kind="mergesort")
    c2 = cols[:n][order]
    v2 = vals[:n][order]
    cols[:n] = c2
    vals[:n] = v2


@kernel
def vectorize(length, offset, validity, offsets, data, word, lower, lowercase, policy,
              mode, n_features, alternate_sign, cat_offsets, cat_data, slots,
              binary, sublinear, weights, norm, cols, vals, tok,
              indptr, indices, values, row_start, nnz_start):
    """Count tokens of each document into CSR rows (sorted column indices, duplicates summed).

    ``mode`` 0: hashing trick, column ``abs(h) % n_features`` of the signed MurmurHash3 ``h`` of the
    token bytes, sign of ``h`` when ``alternate_sign`` (scikit-learn's FeatureHasher); mode 1:
    fitted vocabulary (``cat_*``/``slots``), unknown tokens skipped. Then per row: ``binary`` sets
    counts to 1, ``sublinear`` maps tf to 1 + log(tf), ``weights`` (size 0: none) multiplies column
    j by weights[j] (IDF), ``norm`` 1 scales to unit L2, 2 to unit L1.

    ``cols`` (int64) and ``vals`` (float64) hold one document's tokens (size >= the most tokens a
    document can have); ``tok`` holds one token (>= longest document). Rows from ``row_start``
    are appended after ``nnz_start`` stored values. Returns (nnz, next_row, bad): ``next_row`` <
    ``length`` when ``indices``/``values`` are full (the caller grows them and calls again from
    there - growing inside would make Numba reference-count the arrays on every row); ``bad`` is
    the first document with invalid UTF-8 under policy 2, else -1.
    """
    masked = validity.size != 0
    pow2 = (n_features & (n_features - 1)) == 0
    fmask = n_features - 1
    nnz = nnz_start
    if row_start == 0:
        indptr[0] = 0
    cap = indices.size
    for i in range(row_start, length):
        j = offset + i
        nt = 0
        if not (masked and not ((validity[j >> 3] >> (j & 7)) & 1)):
            p = offsets[j]
            end = offsets[j + 1]
            while True:
                p, k = next_token(data, p, end, word, lower, lowercase, policy, tok)
                if k == 0:
                    break
                if k < 0:
                    return nnz, length, i
                if mode == 0:
                    h = murmurhash3_32(tok, 0, k, 0)
                    if h == -2147483648:
                        col = (2147483647 - (n_features - 1)) % n_features
                    elif pow2:
                        col = abs(h) & fmask
                    else:
                        col = abs(h) % n_features
                    v = 1.0
                    if alternate_sign and h < 0:
                        v = -1.0
                else:
                    col = find(tok, 0, k, cat_offsets, cat_data, slots)
                    if col < 0:
                        continue
                    v = 1.0
                cols[nt] = col
                vals[nt] = v
                nt += 1
        _sort_pairs(cols, vals, nt)
        m = 0  # merge equal columns, summing their values
        for t in range(nt):
            if m > 0 and cols[m - 1] == cols[t]:
                vals[m - 1] += vals[t]
            else:
                cols[m] = cols[t]
                vals[m] = vals[t]
                m += 1
        if nnz + m > cap:
            return nnz, i, -1
        acc = 0.0
        for t in range(m):
            col = cols[t]
            x = vals[t]
            if binary and x != 0.0:
                x = 1.0
            if sublinear and x > 0.0:
                x = 1.0 + np.log(x)
            if weights.size != 0:
                x *= weights[col]
            indices[nnz + t] = col
            values[nnz + t] = x
            if norm == 1:
                acc += x * x
            elif norm == 2:
                acc += abs(x)
        if norm != 0 and acc > 0.0:
            s = np.sqrt(acc) if norm == 1 else acc
            for t in range(m):
                values[nnz + t] /= s
        nnz += m
        indptr[i + 1] = nnz
    return nnz, length, -1


@kernel
def vocab_count(length, offset, validity, offsets, data, word, lower, lowercase, policy, tok,
                arena, key_offsets, slots, df, tf, last_doc, n_keys, doc_base):
    """Fit a vocabulary: add every token to a growing open-addressing table of byte strings,
    counting document frequency ``df`` and total frequency ``tf``. Arrays grow by doubling (the
    table at half load). Returns (arena, key_offsets, slots, df, tf, last_doc, n_keys, bad)."""
    masked = validity.size != 0
    for i in range(length):
        j = offset + i
        if masked and not ((validity[j >> 3] >> (j & 7)) & 1):
            continue
        doc = doc_base + i
        p = offsets[j]
        end = offsets[j + 1]
        while True:
            p, k = next_token(data, p, end, word, lower, lowercase, policy, tok)
            if k == 0:
                break
            if k < 0:
                return arena, key_offsets, slots, df, tf, last_doc, n_keys, i
            mask = slots.size - 1
            s = murmurhash3_32(tok, 0, k, 0) & mask
            found = -1
            while True:
                t = slots[s]
                if t < 0:
                    break
                a0 = key_offsets[t]
                if key_offsets[t + 1] - a0 == k:
                    same = True
                    for q in range(k):
                        if arena[a0 + q] != tok[q]:
                            same = False
                            break
                    if same:
                        found = t
                        break
                s = (s + 1) & mask
            if found < 0:
                found = n_keys
                if n_keys + 2 > key_offsets.size:
                    cap = 2 * key_offsets.size
                    nk = np.empty(cap, dtype=np.int64)
                    nk[:n_keys + 1] = key_offsets[:n_keys + 1]
                    key_offsets = nk
                    ndf = np.zeros(cap, dtype=np.int64)
                    ndf[:n_keys] = df[:n_keys]
                    df = ndf
                    ntf = np.zeros(cap, dtype=np.int64)
                    ntf[:n_keys] = tf[:n_keys]
                    tf = ntf
                    nl = np.full(cap, -1, dtype=np.int64)
                    nl[:n_keys] = last_doc[:n_keys]
                    last_doc = nl
                a0 = key_offsets[n_keys]
                if a0 + k > arena.size:
                    na = np.empty(max(2 * arena.size, a0 + k + 16), dtype=np.uint8)
                    na[:a0] = arena[:a0]
                    arena = na
                for q in range(k):
                    arena[a0 + q] = tok[q]
                key_offsets[n_keys + 1] = a0 + k
                slots[s] = n_keys
                n_keys += 1
                if 2 * n_keys > slots.size:
                    ns = np.full(2 * slots.size, -1, dtype=np.int64)
                    m2 = ns.size - 1
                    for t in range(n_keys):
                        s2 = murmurhash3_32(arena, key_offsets[t], key_offsets[t + 1], 0) & m2
                        while ns[s2] >= 0:
                            s2 = (s2 + 1) & m2
                        ns[s2] = t
                    slots = ns
            tf[found] += 1
            if last_doc[found] != doc:
                last_doc[found] = doc
                df[found] += 1
    return arena, key_offsets, slots, df, tf, last_doc, n_keys, -1


@kernel
def dense_row_counts(n_rows, dense_t, counts):
    """counts[i] += number of non-zero values of row i over the dense features (rows of dense_t)."""
    for f in range(dense_t.shape[0]):
        row = dense_t[f]
        for i in range(n_rows):
            if row[i] != 0.0:
                counts[i] += 1


@kernel
def place_dense(n_rows, dense_t, cursor, indices, values):
    """Write the non-zero dense values of each row at ``cursor[i]`` (advanced), column f."""
    for i in range(n_rows):
        c = cursor[i]
        for f in range(dense_t.shape[0]):
            x = dense_t[f, i]
            if x != 0.0:
                indices[c] = f
                values[c] = x
                c += 1
        cursor[i] = c


@kernel
def place_block(n_rows, b_indptr, b_indices, b_values, col0, cursor, indices, values):
    """Append the rows of one CSR block, its columns shifted by ``col0``, at ``cursor[i]``."""
    for i in range(n_rows):
        c = cursor[i]
        for t in range(b_indptr[i], b_indptr[i + 1]):
            indices[c] = col0 + b_indices[t]
            values[c] = b_values[t]
            c += 1
        cursor[i] = c
