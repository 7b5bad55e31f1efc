"""Classification metric kernels: label ranges, weighted confusion matrices, per-row losses.

Buffer contract: every array is 1-D and contiguous (the caller slices Arrow views with their
offset and rejects nulls before the call); ``w`` is the sample-weight array or an empty array for
unit weights; outputs are allocated by the caller.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel(reassoc=True)
def int_min_max(y):
    """(min, max) of a non-empty integer array, as int64."""
    lo = np.int64(y[0])
    hi = np.int64(y[0])
    for i in range(y.size):
        v = np.int64(y[i])
        lo = min(lo, v)
        hi = max(hi, v)
    return lo, hi


@kernel
def confusion_offset(t, p, w, lo, r, present_t, present_p, cm):
    """cm[(t-lo)*r + (p-lo)] += w (or 1); present_t/present_p[v-lo] = 1 for every value seen.

    Rows are true labels, columns predicted labels, over the dense range [lo, lo + r).
    """
    weighted = w.size != 0
    for i in range(t.size):
        a = np.int64(t[i]) - lo
        b = np.int64(p[i]) - lo
        present_t[a] = 1
        present_p[b] = 1
        cm[a * r + b] += w[i] if weighted else 1.0


@kernel
def confusion_codes(t, p, w, k, cm):
    """cm[t*k + p] += w (or 1) for label codes t, p in [0, k)."""
    weighted = w.size != 0
    for i in range(t.size):
        cm[t[i] * k + p[i]] += w[i] if weighted else 1.0


@kernel(reassoc=True)
def weighted_mean(x, w):
    """(sum w*x / sum w, sum w); unit weights when w is empty."""
    s = 0.0
    if w.size == 0:
        for i in range(x.size):
            s += x[i]
        return s / x.size, np.float64(x.size)
    sw = 0.0
    for i in range(x.size):
        s += w[i] * x[i]
        sw += w[i]
    return s / sw, sw


@kernel
def binary_log_loss_rows(is_pos, p, eps, out):
    """out[i] = -log(clip(p, eps, 1-eps)) for a positive row, -log(clip(1-p, eps, 1-eps)) otherwise."""
    hi = 1.0 - eps
    for i in range(p.size):
        q = p[i] if is_pos[i] else 1.0 - p[i]
        q = min(max(q, eps), hi)
        out[i] = -np.log(q)


@kernel(reassoc=True)
def binary_log_loss_sum(is_pos, p, w, eps):
    """(sum of w * per-row binary log loss, sum w), as :func:`binary_log_loss_rows` without the row array."""
    hi = 1.0 - eps
    s = 0.0
    sw = 0.0
    weighted = w.size != 0
    for i in range(p.size):
        q = p[i] if is_pos[i] else 1.0 - p[i]
        q = min(max(q, eps), hi)
        wi = w[i] if weighted else 1.0
        s -= wi * np.log(q)
        sw += wi
    return s, sw


@kernel
def multi_log_loss_rows(codes, proba, eps, out):
    """out[i] = -log(clip(proba[i, codes[i]], eps, 1-eps)) (codes < 0: the class has no column: -log(eps))."""
    hi = 1.0 - eps
    for i in range(codes.size):
        c = codes[i]
        q = proba[i, c] if c >= 0 else 0.0
        q = min(max(q, eps), hi)
        out[i] = -np.log(q)


@kernel
def binary_brier_rows(is_pos, p, out):
    """out[i] = (y - p)^2 with y = 1 for a positive row."""
    for i in range(p.size):
        d = (1.0 if is_pos[i] else 0.0) - p[i]
        out[i] = d * d


@kernel
def multi_brier_rows(codes, proba, out):
    """out[i] = sum_k (onehot(codes[i])_k - proba[i, k])^2."""
    k = proba.shape[1]
    for i in range(codes.size):
        s = 0.0
        for j in range(k):
            d = (1.0 if codes[i] == j else 0.0) - proba[i, j]
            s += d * d
        out[i] = s


@kernel
def calibration_bins(is_pos, p, w, edges, bins, out_w, out_y, out_p):
    """Assign each row to bin searchsorted(edges[1:-1], p, 'left') (sklearn's calibration_curve
    rule: bins are (lo, hi], the first [0, hi]) and sum w, w*y and w*p per bin."""
    inner = edges[1:-1]
    weighted = w.size != 0
    for i in range(p.size):
        b = np.searchsorted(inner, p[i])
        bins[i] = b
        wi = w[i] if weighted else 1.0
        out_w[b] += wi
        out_y[b] += wi * (1.0 if is_pos[i] else 0.0)
        out_p[b] += wi * p[i]


@kernel
def any_nonfinite(x):
    """Index of the first NaN or ±inf in x, or -1."""
    for i in range(x.size):
        v = x[i]
        if v != v or v == np.inf or v == -np.inf:
            return i
    return -1


@kernel
def out_of_unit_interval(x):
    """Index of the first value outside [0, 1], or -1."""
    for i in range(x.size):
        if x[i] < 0.0 or x[i] > 1.0:
            return i
    return -1
