"""Multi-layer perceptron forward pass over Arrow columns (scikit-learn's MLP formulas).

Model as data: ``sizes`` (int64, L+1) = [n_features, h1, ..., n_outputs]; ``weights`` the layer
matrices (n_l, n_{l+1}) row-major, concatenated; ``biases`` concatenated. Activations by code:
0 identity, 1 logistic, 2 tanh, 3 relu, 4 softmax, 5 exp (scikit-learn's ``ACTIVATIONS``).

Input: a column pointer table (``addrs``, ``codes`` as in ``linear_predict``) or a C-ordered
float64 matrix. Rows go in blocks of ``BLOCK``; each layer is ``H @ W + b`` summed over the inputs
in order, then the activation, so results do not depend on blocks, threads or layout.

``op``: 0 the output layer's activations (regression values, or class probabilities of a
multiclass classifier), 1 the class index (output > 0.5 for one output, else the first argmax),
2 binary probabilities [1 - o, o]. The kernels return the number of rows with a non-finite
first-layer pre-activation: non-finite inputs always make one.
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

BLOCK = 64

IDENTITY, LOGISTIC, TANH, RELU, SOFTMAX, EXP = range(6)
OUT_VALUES, OUT_LABEL, OUT_BINARY_PROBA = range(3)


@kernel(inline="always")
def _outer_col(H, col, W, j, nb, n_out):
    base = j * n_out
    for r in range(nb):
        xv = col[r]
        for k in range(n_out):
            H[r, k] += xv * W[base + k]


@kernel(inline="always")
def _outer_any(H, addr, code, start, nb, W, j, n_out):
    if code == 0:
        _outer_col(H, f64_col(addr, start, nb), W, j, nb, n_out)
    elif code == 1:
        _outer_col(H, f32_col(addr, start, nb), W, j, nb, n_out)
    elif code == 2:
        _outer_col(H, i64_col(addr, start, nb), W, j, nb, n_out)
    elif code == 3:
        _outer_col(H, i32_col(addr, start, nb), W, j, nb, n_out)
    elif code == 4:
        _outer_col(H, i16_col(addr, start, nb), W, j, nb, n_out)
    elif code == 5:
        _outer_col(H, i8_col(addr, start, nb), W, j, nb, n_out)
    elif code == 6:
        _outer_col(H, u64_col(addr, start, nb), W, j, nb, n_out)
    elif code == 7:
        _outer_col(H, u32_col(addr, start, nb), W, j, nb, n_out)
    elif code == 8:
        _outer_col(H, u16_col(addr, start, nb), W, j, nb, n_out)
    else:
        _outer_col(H, u8_col(addr, start, nb), W, j, nb, n_out)


@kernel(inline="always")
def _dense(Hin, nb, n_in, W, woff, n_out, Hout):
    for r in range(nb):
        for k in range(n_out):
            Hout[r, k] = 0.0
        for j in range(n_in):
            hv = Hin[r, j]
            base = woff + j * n_out
            for k in range(n_out):
                Hout[r, k] += hv * W[base + k]


@kernel(inline="always")
def _bias_act(H, nb, n_out, b, boff, act):
    for r in range(nb):
        for k in range(n_out):
            H[r, k] += b[boff + k]
        if act == IDENTITY:
            pass
        elif act == LOGISTIC:
            for k in range(n_out):
                H[r, k] = 1.0 / (1.0 + np.exp(-H[r, k]))
        elif act == TANH:
            for k in range(n_out):
                H[r, k] = np.tanh(H[r, k])
        elif act == RELU:
            for k in range(n_out):
                v = H[r, k]
                H[r, k] = v if v > 0.0 else 0.0
        elif act == EXP:
            for k in range(n_out):
                H[r, k] = np.exp(H[r, k])
        else:  # SOFTMAX, as scikit-learn: exp(x - max) / sum
            m = H[r, 0]
            for k in range(1, n_out):
                if H[r, k] > m:
                    m = H[r, k]
            for k in range(n_out):
                H[r, k] = np.exp(H[r, k] - m)
            tot = 0.0
            for k in range(n_out):
                tot += H[r, k]
            for k in range(n_out):
                H[r, k] = H[r, k] / tot


@kernel(inline="always")
def _count_bad(H, nb, n_out):
    bad = 0
    for r in range(nb):
        z = 0.0
        for k in range(n_out):
            z += H[r, k] * 0.0  # NaN when any value is NaN or ±inf
        bad += z != z
    return bad


@kernel(inline="always")
def _rest(H1, nb, sizes, weights, biases, hidden, out_act, op, out, start, H2):
    """Layers 1.. after the first layer's pre-activation sits in H1; writes out rows."""
    L = sizes.shape[0] - 1
    woff = sizes[0] * sizes[1]
    boff = 0
    a = H1
    b = H2
    for layer in range(L):
        n_out = sizes[layer + 1]
        if layer > 0:
            _dense(a, nb, sizes[layer], weights, woff, n_out, b)
            woff += sizes[layer] * n_out
            a, b = b, a
        act = out_act if layer == L - 1 else hidden
        _bias_act(a, nb, n_out, biases, boff, act)
        boff += n_out
    n_last = sizes[L]
    for r in range(nb):
        if op == OUT_VALUES:
            for k in range(n_last):
                out[start + r, k] = a[r, k]
        elif op == OUT_BINARY_PROBA:
            out[start + r, 0] = 1.0 - a[r, 0]
            out[start + r, 1] = a[r, 0]
        else:
            if n_last == 1:
                out[start + r, 0] = 1.0 if a[r, 0] > 0.5 else 0.0
            else:
                best = 0
                m = a[r, 0]
                for k in range(1, n_last):
                    if a[r, k] > m:
                        m = a[r, k]
                        best = k
                out[start + r, 0] = best


@kernel(inline="always")
def _block_cols(start, nb, addrs, codes, sizes, weights, biases, hidden, out_act, op, out, H1, H2):
    h1 = sizes[1]
    for r in range(nb):
        for k in range(h1):
            H1[r, k] = 0.0
    for j in range(sizes[0]):
        _outer_any(H1, addrs[j], codes[j], start, nb, weights, j, h1)
    bad = _count_bad(H1, nb, h1)
    _rest(H1, nb, sizes, weights, biases, hidden, out_act, op, out, start, H2)
    return bad


@kernel
def mlp_columns(n, addrs, codes, sizes, weights, biases, hidden, out_act, op, out):
    """Forward pass over column addresses (see the module docstring); returns #non-finite rows."""
    w = 1
    for i in range(1, sizes.shape[0]):
        w = max(w, sizes[i])
    H1 = np.empty((BLOCK, w))
    H2 = np.empty((BLOCK, w))
    bad = 0
    for start in range(0, n, BLOCK):
        nb = min(BLOCK, n - start)
        bad += _block_cols(start, nb, addrs, codes, sizes, weights, biases, hidden, out_act, op, out, H1, H2)
    return bad


@kernel(parallel=True)
def mlp_columns_parallel(n, addrs, codes, sizes, weights, biases, hidden, out_act, op, out):
    """``mlp_columns`` with row blocks spread over Numba's threads (same result bit for bit)."""
    w = 1
    for i in range(1, sizes.shape[0]):
        w = max(w, sizes[i])
    n_blocks = (n + BLOCK - 1) // BLOCK
    bad = 0
    for blk in numba.prange(n_blocks):
        start = blk * BLOCK
        nb = min(BLOCK, n - start)
        H1 = np.empty((BLOCK, w))
        H2 = np.empty((BLOCK, w))
        bad += _block_cols(start, nb, addrs, codes, sizes, weights, biases, hidden, out_act, op, out, H1, H2)
    return bad


@kernel(inline="always")
def _rows_block(X, start, nb, sizes, weights, biases, hidden, out_act, op, out, H1, H2):
    _dense(X[start:start + nb], nb, sizes[0], weights, 0, sizes[1], H1)
    bad = _count_bad(H1, nb, sizes[1])
    _rest(H1, nb, sizes, weights, biases, hidden, out_act, op, out, start, H2)
    return bad


@kernel
def mlp_rows(X, sizes, weights, biases, hidden, out_act, op, out):
    """The same over a C-ordered float64 (n, p) matrix (one row is a (1, p) matrix)."""
    n = X.shape[0]
    w = 1
    for i in range(1, sizes.shape[0]):
        w = max(w, sizes[i])
    nbk = min(BLOCK, n)
    H1 = np.empty((nbk, w))
    H2 = np.empty((nbk, w))
    bad = 0
    for start in range(0, n, BLOCK):
        bad += _rows_block(X, start, min(BLOCK, n - start), sizes, weights, biases, hidden, out_act, op, out, H1, H2)
    return bad


@kernel(parallel=True)
def mlp_rows_parallel(X, sizes, weights, biases, hidden, out_act, op, out):
    """``mlp_rows`` with row blocks spread over Numba's threads (same result bit for bit)."""
    n = X.shape[0]
    w = 1
    for i in range(1, sizes.shape[0]):
        w = max(w, sizes[i])
    n_blocks = (n + BLOCK - 1) // BLOCK
    bad = 0
    for blk in numba.prange(n_blocks):
        start = blk * BLOCK
        H1 = np.empty((BLOCK, w))
        H2 = np.empty((BLOCK, w))
        bad += _rows_block(X, start, min(BLOCK, n - start), sizes, weights, biases, hidden, out_act, op, out, H1, H2)
    return bad
