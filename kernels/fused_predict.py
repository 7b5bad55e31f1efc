"""Fused prediction: a feature plan's per-row computations and a model, in one pass over row blocks.

The feature computations are a *program* passed as data (nothing compiles per plan or per model):
a list of ops, each computing one feature (or one category code) of a block of rows from the raw
input columns, into a small feature-major block buffer ``feat[slot * W + r]`` (``W`` rows per
block). The model then reads that buffer: a tree ensemble walks it block by block (the walk of
``tree_predict``), a linear model accumulates it. Only the features the model uses are in the
program, so unused plan outputs are never computed, and no full feature matrix exists.

Input table ``in_i`` (int64, one row per input column, 8 words):

==  ==========================================================================================
0   kind: 0 numeric, 1 string, 2 dictionary indices, 3 temporal storage, 5 all null
1   address of row 0's value (values buffer + offset x itemsize; string: of its offsets entry)
2   dtype code (``linear_ptr.DTYPE_CODES``) of the values / indices / string offsets
3   validity bitmap address, 0 when the column has no null
4   bit offset of row 0 in the validity bitmap
5   string: data buffer address
6   string: data buffer length in bytes
7   temporal: ticks per second (0: the storage counts days)
==  ==========================================================================================

Program ``prog_i`` (int64, 8 words per op) and ``prog_f`` (float64, 4 per op)::

    0 op  1 input  2 second input / code slot  3 output slot (code slot for OP_CODE)
    4 aux start  5 aux length  6 extra  7 extra2          p0 p1 p2 p3

==  ===========  =================================================================================
op  name         output
==  ===========  =================================================================================
0   FLOAT        x (NaN where null)
1   AFFINE       x * p0 + p1 (MinMaxScaler)
2   CENTER       (x - p0) / p1 (StandardScaler, RobustScaler)
3   LOG          log(x + p0), NaN below 0
4   POWER        (T(x; p0) - p2) / p3, T Yeo-Johnson (extra 0) or Box-Cox (1), eps p1
5   BIN          number of inner edges ``aux_f[start:start+len]`` <= x; NaN for NaN
6   MISSING      1.0 where null (or NaN, numeric inputs), else 0.0
7   CODE         category code into ``codes[slot]``: position in category set ``aux start``,
                 -1 unseen, -2 null; rows counted in ``bad[slot]`` when unseen (extra bit 0) or
                 null (bit 1) is an error
8   MAP          ``aux_f`` mapping of the code in code slot (input 2), last two entries for
                 null (-2) and unseen (-1), as ``feat_strings.remap``
9   ONEHOT       1.0 when ``aux_i`` column map of the code equals ``extra``, as ``feat_strings.one_hot``
10  TIME         calendar part ``extra`` (``feat_time`` codes); extra2: 0 value, 1 sin, 2 cos; p0 period
11  COMBINE      x (op) y with y from input 2; extra: 0 *, 1 /, 2 +, 3 -; extra2: zero policy
==  ===========  =================================================================================

Every formula is the one of the plan's own kernel (``feat_numeric``, ``feat_strings``,
``feat_time``), so fused features equal the plan's output bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import kernel
from .feat_numeric import box_cox_value, yeo_johnson_value
from .feat_strings import find
from .feat_time import civil_from_days, part_value
from .linear_predict import finish_row
from .linear_ptr import typed_ptr
from .tree_predict import B, _remap, _walk_block

OP_FLOAT, OP_AFFINE, OP_CENTER, OP_LOG, OP_POWER, OP_BIN, OP_MISSING, OP_CODE, OP_MAP, OP_ONEHOT, \
    OP_TIME, OP_COMBINE = range(12)
K_NUMERIC, K_STRING, K_DICT, K_TEMPORAL, K_NULL = 0, 1, 2, 3, 5
IN_WORDS = 8
PROG_WORDS = 8

#: Rows per task of the parallel loop (a multiple of the tree block ``B``).
SUPER = 32 * B
#: Rows per block of the linear and matrix paths.
LB = 512


@kernel(inline="always")
def _load(ptr, dt, row):
    if dt == 0:
        return typed_ptr(ptr, np.float64)[row]
    if dt == 1:
        return np.float64(typed_ptr(ptr, np.float32)[row])
    if dt == 2:
        return np.float64(typed_ptr(ptr, np.int64)[row])
    if dt == 3:
        return np.float64(typed_ptr(ptr, np.int32)[row])
    if dt == 4:
        return np.float64(typed_ptr(ptr, np.int16)[row])
    if dt == 5:
        return np.float64(typed_ptr(ptr, np.int8)[row])
    if dt == 6:
        return np.float64(typed_ptr(ptr, np.uint64)[row])
    if dt == 7:
        return np.float64(typed_ptr(ptr, np.uint32)[row])
    if dt == 8:
        return np.float64(typed_ptr(ptr, np.uint16)[row])
    return np.float64(typed_ptr(ptr, np.uint8)[row])


@kernel(inline="always")
def _load_int(ptr, dt, row):
    if dt == 2:
        return typed_ptr(ptr, np.int64)[row]
    return np.int64(typed_ptr(ptr, np.int32)[row])


@kernel(inline="always")
def _valid(va, vo, row):
    if va == 0:
        return True
    j = vo + row
    return ((typed_ptr(va, np.uint8)[j >> 3] >> (j & 7)) & 1) != 0


@kernel(inline="always")
def _gather(in_i, i, start, nb, tmp):
    """tmp[r] = float64 value of numeric input ``i`` at row start + r (NaN where null)."""
    kind = in_i[i, 0]
    if kind == K_NULL:
        for r in range(nb):
            tmp[r] = np.nan
        return
    ptr = in_i[i, 1]
    dt = in_i[i, 2]
    va = in_i[i, 3]
    vo = in_i[i, 4]
    for r in range(nb):
        tmp[r] = _load(ptr, dt, start + r)
    if va != 0:
        for r in range(nb):
            if not _valid(va, vo, start + r):
                tmp[r] = np.nan


@kernel(inline="always")
def _time_value(days, sod, code, sub, per):
    y, m, d = civil_from_days(days)
    x, phase = part_value(days, sod, y, m, d, code)
    if sub == 0:
        return x
    two_pi = 2.0 * np.pi
    if sub == 1:
        return np.sin(two_pi * phase / per) if per > 0.0 else 0.0
    return np.cos(two_pi * phase / per) if per > 0.0 else 1.0


@kernel(inline="always")
def _codes(in_i, i, o, start, nb, dict_codes, dstart, co, cd, sl, dst):
    kind = in_i[i, 0]
    va = in_i[i, 3]
    vo = in_i[i, 4]
    if kind == K_STRING:
        optr = in_i[i, 1]
        odt = in_i[i, 2]
        data = numba.carray(typed_ptr(in_i[i, 5], np.uint8), in_i[i, 6])
        for r in range(nb):
            row = start + r
            if not _valid(va, vo, row):
                dst[r] = -2
            else:
                s = _load_int(optr, odt, row)
                e = _load_int(optr, odt, row + 1)
                dst[r] = find(data, s, e, co, cd, sl)
    elif kind == K_DICT:
        ptr = in_i[i, 1]
        dt = in_i[i, 2]
        d0 = dstart[o]
        for r in range(nb):
            row = start + r
            if not _valid(va, vo, row):
                dst[r] = -2
            else:
                dst[r] = dict_codes[d0 + np.int64(_load(ptr, dt, row))]
    else:
        for r in range(nb):
            dst[r] = -2


@kernel
def run_program(start, nb, W, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i, cat_off,
                cat_data, cat_slots, skip_codes, feat, codes, tmp, tmp2, bad):
    """Compute every op of the program for rows start..start+nb into ``feat``/``codes`` (width W).

    Not inlined: the batch, linear, matrix and row kernels share one compiled copy (compile time),
    and one call per block of rows costs nothing next to the block's work."""
    for o in range(prog_i.shape[0]):
        op = prog_i[o, 0]
        i = prog_i[o, 1]
        i2 = prog_i[o, 2]
        base = prog_i[o, 3] * W
        a0 = prog_i[o, 4]
        an = prog_i[o, 5]
        e1 = prog_i[o, 6]
        e2 = prog_i[o, 7]
        p0 = prog_f[o, 0]
        p1 = prog_f[o, 1]
        if op == OP_CODE:
            if skip_codes:
                continue
            c = a0
            c0 = cats_i[c, 0]
            nc = cats_i[c, 1]
            d0 = cats_i[c, 2]
            dn = cats_i[c, 3]
            s0 = cats_i[c, 4]
            sn = cats_i[c, 5]
            dst = codes[base:base + nb]
            _codes(in_i, i, o, start, nb, dict_codes, dstart, cat_off[c0:c0 + nc + 1],
                   cat_data[d0:d0 + dn], cat_slots[s0:s0 + sn], dst)
            if e1 != 0:
                cnt = 0
                for r in range(nb):
                    cc = dst[r]
                    if (cc == -1 and (e1 & 1) != 0) or (cc == -2 and (e1 & 2) != 0):
                        cnt += 1
                bad[prog_i[o, 3]] += cnt
        elif op == OP_MAP:
            m = aux_f[a0:a0 + an]
            cb = i2 * W
            for r in range(nb):
                cc = codes[cb + r]
                if cc >= 0:
                    feat[base + r] = m[cc]
                elif cc == -1:
                    feat[base + r] = m[an - 1]
                else:
                    feat[base + r] = m[an - 2]
        elif op == OP_ONEHOT:
            cm = aux_i[a0:a0 + an]
            cb = i2 * W
            for r in range(nb):
                cc = codes[cb + r]
                if cc >= 0:
                    k = cm[cc]
                elif cc == -1:
                    k = cm[an - 1]
                else:
                    k = cm[an - 2]
                feat[base + r] = 1.0 if k == e1 else 0.0
        elif op == OP_MISSING:
            kind = in_i[i, 0]
            if kind == K_NULL:
                for r in range(nb):
                    feat[base + r] = 1.0
            elif kind == K_NUMERIC:
                _gather(in_i, i, start, nb, tmp)
                for r in range(nb):
                    feat[base + r] = 1.0 if tmp[r] != tmp[r] else 0.0
            else:
                va = in_i[i, 3]
                vo = in_i[i, 4]
                for r in range(nb):
                    feat[base + r] = 0.0 if _valid(va, vo, start + r) else 1.0
        elif op == OP_TIME:
            kind = in_i[i, 0]
            if kind == K_NULL:
                for r in range(nb):
                    feat[base + r] = np.nan
                continue
            ptr = in_i[i, 1]
            dt = in_i[i, 2]
            va = in_i[i, 3]
            vo = in_i[i, 4]
            ticks = in_i[i, 7]
            for r in range(nb):
                row = start + r
                if not _valid(va, vo, row):
                    feat[base + r] = np.nan
                    continue
                v = _load_int(ptr, dt, row)
                if ticks == 0:
                    days = v
                    sod = np.int64(0)
                else:
                    sec = v // ticks
                    days = sec // 86400
                    sod = sec - days * 86400
                feat[base + r] = _time_value(days, sod, e1, e2, p0)
        elif op == OP_COMBINE:
            _gather(in_i, i, start, nb, tmp)
            _gather(in_i, i2, start, nb, tmp2)
            for r in range(nb):
                x = tmp[r]
                y = tmp2[r]
                if e1 == 0:
                    z = x * y
                elif e1 == 1:
                    if y == 0.0 and e2 == 0:
                        z = np.nan
                    else:
                        z = x / y
                elif e1 == 2:
                    z = x + y
                else:
                    z = x - y
                feat[base + r] = z
        else:
            _gather(in_i, i, start, nb, tmp)
            if op == OP_FLOAT:
                for r in range(nb):
                    feat[base + r] = tmp[r]
            elif op == OP_AFFINE:
                for r in range(nb):
                    feat[base + r] = tmp[r] * p0 + p1
            elif op == OP_CENTER:
                for r in range(nb):
                    feat[base + r] = (tmp[r] - p0) / p1
            elif op == OP_LOG:
                for r in range(nb):
                    y = tmp[r] + p0
                    feat[base + r] = np.log(y) if y >= 0.0 else np.nan
            elif op == OP_POWER:
                p2 = prog_f[o, 2]
                p3 = prog_f[o, 3]
                for r in range(nb):
                    x = tmp[r]
                    if x != x:
                        feat[base + r] = np.nan
                        continue
                    if e1 == 0:
                        t = yeo_johnson_value(x, p0, p1)
                    else:
                        t = box_cox_value(x, p0)
                    feat[base + r] = (t - p2) / p3
            else:  # OP_BIN
                edges = aux_f[a0:a0 + an]
                for r in range(nb):
                    x = tmp[r]
                    if x != x:
                        feat[base + r] = np.nan
                        continue
                    lo = 0
                    hi = an
                    while lo < hi:
                        mid = (lo + hi) >> 1
                        if edges[mid] <= x:
                            lo = mid + 1
                        else:
                            hi = mid
                    feat[base + r] = lo


@kernel(inline="always")
def _check_block(feat, n_slots, W, nb, check, badrow, at):
    """Count NaN (check bit 0) and ±inf (bit 1) among the computed features of a block."""
    for s in range(n_slots):
        for r in range(nb):
            x = feat[s * W + r]
            if x != x:
                if check & 1:
                    badrow[at] += 1
            elif x - x != 0.0:
                if check & 2:
                    badrow[at + 1] += 1


def _make_trees(parallel):
    prange = numba.prange if parallel else range

    def fused_trees(n_rows, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i, cat_off,
                    cat_data, cat_slots, n_slots, n_cslots, check, vsrc, vmode, child_base, featoff,
                    thr, val, n_val, root, steps, tail, tree_out, base, out, bad):
        """Raw tree-ensemble scores of fused features: ``out`` row-major (n_rows, n_out); ``vsrc``
        holds feature *slots*; ``bad[task]`` gets per code slot error counts, then NaN, inf counts."""
        n_out = base.size
        n_tasks = (n_rows + SUPER - 1) // SUPER
        for task in prange(n_tasks):
            feat = np.zeros(max(n_slots, 1) * B, dtype=np.float64)
            codes = np.zeros(max(n_cslots, 1) * B, dtype=np.int32)
            tmp = np.empty(B, dtype=np.float64)
            tmp2 = np.empty(B, dtype=np.float64)
            scratch = np.empty(vsrc.size * B + 1, dtype=np.float64)
            nodes = np.empty(B, dtype=np.uint32)
            rows = np.empty(B, dtype=np.uint32)
            acc = np.empty(B * n_out, dtype=np.float64)
            badrow = bad[task]
            t0 = task * SUPER
            t1 = min(n_rows, t0 + SUPER)
            for start in range(t0, t1, B):
                nb = min(B, t1 - start)
                run_program(start, nb, B, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i,
                            cat_off, cat_data, cat_slots, False, feat, codes, tmp, tmp2, badrow)
                if check != 0:
                    _check_block(feat, n_slots, B, nb, check, badrow, n_cslots)
                for v in range(vsrc.size):
                    s = vsrc[v]
                    mode = vmode[v]
                    vb = v * B
                    fb = s * B
                    for r in range(nb):
                        scratch[vb + r] = _remap(feat[fb + r], mode)
                    for r in range(nb, B):
                        scratch[vb + r] = 0.0
                for r in range(B):
                    for k in range(n_out):
                        acc[r * n_out + k] = base[k]
                _walk_block(nb, scratch, child_base, featoff, thr, val, n_val, root, steps, tail,
                            tree_out, n_out, nodes, rows, acc)
                for r in range(nb):
                    for k in range(n_out):
                        out[(start + r) * n_out + k] = acc[r * n_out + k]

    return fused_trees


fused_trees_serial = kernel(_make_trees(False))
fused_trees_parallel = kernel(_make_trees(True), parallel=True)


def _make_linear(parallel):
    prange = numba.prange if parallel else range

    def fused_linear(n_rows, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i, cat_off,
                     cat_data, cat_slots, n_slots, n_cslots, coef, intercept, op, out, bad):
        """Linear model on fused features: ``coef`` (K, n_slots) over the feature slots; ``out``
        (n_rows, width(op)); ``bad[task, n_cslots]`` counts rows whose score is not finite."""
        K = coef.shape[0]
        n_tasks = (n_rows + SUPER - 1) // SUPER
        for task in prange(n_tasks):
            feat = np.zeros(max(n_slots, 1) * LB, dtype=np.float64)
            codes = np.zeros(max(n_cslots, 1) * LB, dtype=np.int32)
            tmp = np.empty(LB, dtype=np.float64)
            tmp2 = np.empty(LB, dtype=np.float64)
            acc = np.empty(K * LB, dtype=np.float64)
            s = np.empty(K, dtype=np.float64)
            badrow = bad[task]
            t0 = task * SUPER
            t1 = min(n_rows, t0 + SUPER)
            for start in range(t0, t1, LB):
                nb = min(LB, t1 - start)
                run_program(start, nb, LB, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i,
                            cat_off, cat_data, cat_slots, False, feat, codes, tmp, tmp2, badrow)
                for k in range(K):
                    for r in range(nb):
                        acc[k * LB + r] = 0.0
                for j in range(n_slots):
                    fb = j * LB
                    for k in range(K):
                        w = coef[k, j]
                        ab = k * LB
                        for r in range(nb):
                            acc[ab + r] += w * feat[fb + r]
                for r in range(nb):
                    for k in range(K):
                        s[k] = acc[k * LB + r] + intercept[k]
                    badrow[n_cslots] += 1 - finish_row(s, op, out[start + r])

    return fused_linear


fused_linear_serial = kernel(_make_linear(False))
fused_linear_parallel = kernel(_make_linear(True), parallel=True)


def _make_matrix(parallel):
    prange = numba.prange if parallel else range

    def fused_matrix(n_rows, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i, cat_off,
                     cat_data, cat_slots, n_slots, n_cslots, slot_row, mat, bad):
        """Write fused feature slot ``s`` into row ``slot_row[s]`` of ``mat`` (n_features, n_rows)."""
        n_tasks = (n_rows + SUPER - 1) // SUPER
        for task in prange(n_tasks):
            feat = np.zeros(max(n_slots, 1) * LB, dtype=np.float64)
            codes = np.zeros(max(n_cslots, 1) * LB, dtype=np.int32)
            tmp = np.empty(LB, dtype=np.float64)
            tmp2 = np.empty(LB, dtype=np.float64)
            badrow = bad[task]
            t0 = task * SUPER
            t1 = min(n_rows, t0 + SUPER)
            for start in range(t0, t1, LB):
                nb = min(LB, t1 - start)
                run_program(start, nb, LB, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i,
                            cat_off, cat_data, cat_slots, False, feat, codes, tmp, tmp2, badrow)
                for s in range(n_slots):
                    dst = mat[slot_row[s]]
                    fb = s * LB
                    for r in range(nb):
                        dst[start + r] = feat[fb + r]

    return fused_matrix


fused_matrix_serial = kernel(_make_matrix(False))
fused_matrix_parallel = kernel(_make_matrix(True), parallel=True)


@kernel
def fused_row(in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i, cat_off, cat_data, cat_slots,
              feat, codes, tmp, bad, slot_index, x_out):
    """One row: the program over row 0 of ``in_i`` (codes already in ``codes``), feature slot ``s``
    written to ``x_out[slot_index[s]]``."""
    run_program(0, 1, 1, in_i, dict_codes, dstart, prog_i, prog_f, aux_f, aux_i, cats_i, cat_off, cat_data,
                cat_slots, True, feat, codes, tmp, tmp[1:], bad)
    for s in range(slot_index.size):
        x_out[slot_index[s]] = feat[s]
