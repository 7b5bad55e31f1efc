"""Linear-model prediction: scores ``s = X @ coef.T + intercept`` and their links, over Arrow columns.

Buffer contract. ``addrs[j]`` is the address of feature column ``j``'s first row (Arrow values
buffer + array offset × itemsize) and ``codes[j]`` its dtype code (``linear_ptr.DTYPE_CODES``);
rows ``0..n-1`` of every column must be valid memory with no nulls. ``coef`` is ``(K, p)``
float64 C-ordered, ``intercept`` ``(K,)``. The output ``out`` is ``(n, width(op))`` float64.

Row blocks of ``BLOCK`` rows: for each feature ``j`` in order, ``acc[k, :] += coef[k, j] * x_j``
(one streaming read of each column, the accumulators stay in L1). Every row sums its features in
the order ``j = 0..p-1`` whatever the block, the thread or the input layout, so results do not
depend on the number of threads or on chunk boundaries.

``op`` selects the epilogue, applied per block while the scores are hot (formulas as scikit-learn):

====  ===================  ======  ===========================================================
op    name                 width   out
====  ===================  ======  ===========================================================
0     RAW                  K       s (decision_function, regression)
1     LOGISTIC_BINARY      2       [1 - e, e], e = 1 / (1 + exp(-s)); K == 1
2     SOFTMAX              K       exp(s - max s) / sum
3     OVR_LOGISTIC         K       e_k / sum e (uniform when the sum is 0)
4     HUBER_BINARY         2       [1 - h, h], h = (clip(s, -1, 1) + 1) / 2; K == 1
5     HUBER_OVR            K       h_k / sum h (uniform when the sum is 0)
6     LABEL                1       index of the class: s > 0 for K == 1, else first argmax
====  ===================  ======  ===========================================================

Kernels return the number of rows whose raw score is not finite (NaN or ±inf): non-finite inputs
always produce one (NaN and inf propagate, ``0 * inf`` is NaN), so the caller can reject them
after the fact at no cost on the hot path.
"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import kernel
from .linear_ptr import (
    f32_col,
    f64_col,
    i8_col,
    i16_col,
    i32_col,
    i64_col,
    u8_col,
    u16_col,
    u32_col,
    u64_col,
)

BLOCK = 8192

RAW, LOGISTIC_BINARY, SOFTMAX, OVR_LOGISTIC, HUBER_BINARY, HUBER_OVR, LABEL = range(7)


@kernel
def out_width(op, k):
    """Columns of ``out`` for ``op`` on a model with ``k`` score columns."""
    if op == LOGISTIC_BINARY or op == HUBER_BINARY:
        return 2
    if op == LABEL:
        return 1
    return k


@kernel(inline="always")
def _acc_col(acc, col, coef, j, nb):
    for k in range(acc.shape[0]):
        w = coef[k, j]
        a = acc[k]
        for r in range(nb):
            a[r] += w * col[r]


@kernel(inline="always")
def _acc_any(acc, addr, code, start, nb, coef, j):
    if code == 0:
        _acc_col(acc, f64_col(addr, start, nb), coef, j, nb)
    elif code == 1:
        _acc_col(acc, f32_col(addr, start, nb), coef, j, nb)
    elif code == 2:
        _acc_col(acc, i64_col(addr, start, nb), coef, j, nb)
    elif code == 3:
        _acc_col(acc, i32_col(addr, start, nb), coef, j, nb)
    elif code == 4:
        _acc_col(acc, i16_col(addr, start, nb), coef, j, nb)
    elif code == 5:
        _acc_col(acc, i8_col(addr, start, nb), coef, j, nb)
    elif code == 6:
        _acc_col(acc, u64_col(addr, start, nb), coef, j, nb)
    elif code == 7:
        _acc_col(acc, u32_col(addr, start, nb), coef, j, nb)
    elif code == 8:
        _acc_col(acc, u16_col(addr, start, nb), coef, j, nb)
    else:
        _acc_col(acc, u8_col(addr, start, nb), coef, j, nb)


@kernel(inline="always")
def _expit(s):
    return 1.0 / (1.0 + np.exp(-s))


@kernel
def finish_row(s, op, dst):
    """Epilogue on one row of raw scores ``s`` (K,), written to ``dst`` (width(op),); 1 if ``s`` is finite."""
    K = s.shape[0]
    ok = 1
    for k in range(K):
        if not np.isfinite(s[k]):
            ok = 0
    if op == RAW:
        for k in range(K):
            dst[k] = s[k]
    elif op == LOGISTIC_BINARY:
        e = _expit(s[0])
        dst[0] = 1.0 - e
        dst[1] = e
    elif op == HUBER_BINARY:
        h = (min(max(s[0], -1.0), 1.0) + 1.0) / 2.0
        dst[0] = 1.0 - h
        dst[1] = h
    elif op == SOFTMAX:
        m = s[0]
        for k in range(1, K):
            if s[k] > m:
                m = s[k]
        tot = 0.0
        for k in range(K):
            e = np.exp(s[k] - m)
            dst[k] = e
            tot += e
        for k in range(K):
            dst[k] = dst[k] / tot
    elif op == OVR_LOGISTIC or op == HUBER_OVR:
        tot = 0.0
        for k in range(K):
            if op == OVR_LOGISTIC:
                e = _expit(s[k])
            else:
                e = (min(max(s[k], -1.0), 1.0) + 1.0) / 2.0
            dst[k] = e
            tot += e
        if tot == 0.0:
            for k in range(K):
                dst[k] = 1.0 / K
        else:
            for k in range(K):
                dst[k] = dst[k] / tot
    else:  # LABEL
        if K == 1:
            dst[0] = 1.0 if s[0] > 0.0 else 0.0
        else:
            best = 0
            m = s[0]
            for k in range(1, K):
                if s[k] > m:
                    m = s[k]
                    best = k
            dst[0] = best
    return ok


@kernel(inline="always")
def _block(start, nb, addrs, codes, coef, intercept, op, out, acc, srow):
    K = coef.shape[0]
    p = coef.shape[1]
    for k in range(K):
        a = acc[k]
        for r in range(nb):
            a[r] = 0.0
    for j in range(p):
        _acc_any(acc, addrs[j], codes[j], start, nb, coef, j)
    bad = 0
    if K == 1 and op == RAW:
        # The hot case (regression, binary decision_function): a loop LLVM vectorises.
        # v - v is NaN exactly when v is NaN or ±inf.
        b0 = intercept[0]
        a0 = acc[0]
        for r in range(nb):
            v = a0[r] + b0
            out[start + r, 0] = v
            bad += (v - v) != 0.0
        return bad
    if K == 1 and op == LOGISTIC_BINARY:
        b0 = intercept[0]
        a0 = acc[0]
        for r in range(nb):
            v = a0[r] + b0
            e = _expit(v)
            out[start + r, 0] = 1.0 - e
            out[start + r, 1] = e
            bad += (v - v) != 0.0
        return bad
    for r in range(nb):
        for k in range(K):
            srow[k] = acc[k, r] + intercept[k]
        bad += 1 - finish_row(srow, op, out[start + r])
    return bad


@kernel
def linear_columns(n, addrs, codes, coef, intercept, op, out):
    """out[i] = op(sum_j coef[:, j] * x_j[i] + intercept) over column addresses; returns #non-finite rows."""
    K = coef.shape[0]
    acc = np.empty((K, BLOCK))
    srow = np.empty(K)
    bad = 0
    for start in range(0, n, BLOCK):
        nb = min(BLOCK, n - start)
        bad += _block(start, nb, addrs, codes, coef, intercept, op, out, acc, srow)
    return bad


@kernel(parallel=True)
def linear_columns_parallel(n, addrs, codes, coef, intercept, op, out):
    """``linear_columns`` with row blocks spread over Numba's threads (same result bit for bit)."""
    K = coef.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    bad = 0
    for b in numba.prange(n_blocks):
        start = b * BLOCK
        nb = min(BLOCK, n - start)
        acc = np.empty((K, BLOCK))
        srow = np.empty(K)
        bad += _block(start, nb, addrs, codes, coef, intercept, op, out, acc, srow)
    return bad


@kernel(inline="always")
def _rows_range(X, coef, intercept, op, out, i, end, s):
    """Rows [i, end) of a C-ordered matrix, four at a time; each row sums its features in order
    ``j = 0..p-1`` like the column kernel, so that both layouts give the same bits."""
    K = coef.shape[0]
    p = coef.shape[1]
    bad = 0
    while i < end:
        m = min(4, end - i)
        for k in range(K):
            c = coef[k]
            if m == 4:
                x0 = X[i]
                x1 = X[i + 1]
                x2 = X[i + 2]
                x3 = X[i + 3]
                a0 = 0.0
                a1 = 0.0
                a2 = 0.0
                a3 = 0.0
                for j in range(p):
                    w = c[j]
                    a0 += w * x0[j]
                    a1 += w * x1[j]
                    a2 += w * x2[j]
                    a3 += w * x3[j]
                s[0, k] = a0 + intercept[k]
                s[1, k] = a1 + intercept[k]
                s[2, k] = a2 + intercept[k]
                s[3, k] = a3 + intercept[k]
            else:
                for t in range(m):
                    x = X[i + t]
                    a = 0.0
                    for j in range(p):
                        a += c[j] * x[j]
                    s[t, k] = a + intercept[k]
        for t in range(m):
            bad += 1 - finish_row(s[t], op, out[i + t])
        i += m
    return bad


@kernel
def linear_rows(X, coef, intercept, op, out):
    """The same as ``linear_columns`` over a C-ordered ``(n, p)`` float64 matrix (no copy to columns)."""
    s = np.empty((4, coef.shape[0]))
    return _rows_range(X, coef, intercept, op, out, 0, X.shape[0], s)


@kernel(parallel=True)
def linear_rows_parallel(X, coef, intercept, op, out):
    """``linear_rows`` with blocks of rows spread over Numba's threads (same result bit for bit)."""
    n = X.shape[0]
    n_blocks = (n + BLOCK - 1) // BLOCK
    bad = 0
    for b in numba.prange(n_blocks):
        s = np.empty((4, coef.shape[0]))
        bad += _rows_range(X, coef, intercept, op, out, b * BLOCK, min(n, (b + 1) * BLOCK), s)
    return bad


@kernel
def linear_row_into(packed, x, op, out, s):
    """One row: ``packed`` = [coef (K×p, row-major), intercept (K)], ``x`` (p,) float64, scratch
    ``s`` (K,) (unused when K == 1). Writes ``out`` (width(op),) and returns out[0], or NaN when a
    raw score is not finite. Allocates nothing (callable from a ``@cfunc``)."""
    p = x.shape[0]
    K = packed.shape[0] // (p + 1)
    if K == 1:  # the latency path of binary classifiers and regressors
        a = 0.0
        for j in range(p):
            a += packed[j] * x[j]
        a += packed[p]
        if not np.isfinite(a):
            return np.nan
        if op == RAW:
            out[0] = a
        elif op == LOGISTIC_BINARY:
            e = _expit(a)
            out[0] = 1.0 - e
            out[1] = e
        elif op == HUBER_BINARY:
            h = (min(max(a, -1.0), 1.0) + 1.0) / 2.0
            out[0] = 1.0 - h
            out[1] = h
        else:  # LABEL
            out[0] = 1.0 if a > 0.0 else 0.0
        return out[0]
    for k in range(K):
        a = 0.0
        base = k * p
        for j in range(p):
            a += packed[base + j] * x[j]
        s[k] = a + packed[K * p + k]
    if finish_row(s, op, out) == 0:
        return np.nan
    return out[0]


@kernel
def linear_row(packed, x, op, out):
    """``linear_row_into`` with its own scratch."""
    p = x.shape[0]
    K = packed.shape[0] // (p + 1)
    if K == 1:
        return linear_row_into(packed, x, op, out, out)
    return linear_row_into(packed, x, op, out, np.empty(K))
