"""Per-row kernels of the numeric feature transforms, over one Arrow chunk.

Buffer contract (every kernel here): ``values`` is the chunk's whole values buffer (any integer or
floating dtype), ``validity`` its whole validity bitmap (uint8; empty when the chunk has no
null); row ``i`` is ``values[offset + i]`` with validity bit ``offset + i``. ``out`` is a float64
array of ``length`` rows written by the kernel (a null row is written as NaN). Each kernel is the
per-row computation of one transform with its fitted state passed as scalars or arrays, so that a
compiled predictor can call the same function.
"""

from __future__ import annotations

import numpy as np

from ._jit import kernel


@kernel
def _is_valid(validity, j):
    return (validity[j >> 3] >> (j & 7)) & 1


@kernel
def to_float(length, offset, validity, values, out):
    """out[i] = float64(values[offset+i]), NaN where null."""
    v = values[offset:offset + length]
    for i in range(length):
        out[i] = np.float64(v[i])
    if validity.size != 0:
        for i in range(length):
            if not _is_valid(validity, offset + i):
                out[i] = np.nan


@kernel
def moments(length, offset, validity, values, out):
    """out = [n_valid, n_nan, n_posinf, n_neginf, n_finite, sum, min, max] over one chunk
    (finite values only for sum/min/max)."""
    masked = validity.size != 0
    n_valid = 0
    n_nan = 0
    n_pinf = 0
    n_ninf = 0
    n = 0
    s = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(length):
        j = offset + i
        if masked and not _is_valid(validity, j):
            continue
        n_valid += 1
        x = np.float64(values[j])
        if x != x:
            n_nan += 1
        elif x == np.inf:
            n_pinf += 1
        elif x == -np.inf:
            n_ninf += 1
        else:
            n += 1
            s += x
            if x < lo:
                lo = x
            if x > hi:
                hi = x
    out[0] = n_valid
    out[1] = n_nan
    out[2] = n_pinf
    out[3] = n_ninf
    out[4] = n
    out[5] = s
    out[6] = lo
    out[7] = hi


@kernel
def sum_sq_dev(length, offset, validity, values, center):
    """(sum of (x - center)**2, sum of (x - center)) over finite valid values: the second pass of a
    two-pass variance with its rounding correction (scikit-learn's _incremental_mean_and_var)."""
    masked = validity.size != 0
    acc = 0.0
    corr = 0.0
    for i in range(length):
        j = offset + i
        if masked and not _is_valid(validity, j):
            continue
        x = np.float64(values[j])
        if x - x == 0.0:  # finite
            d = x - center
            acc += d * d
            corr += d
    return acc, corr


@kernel
def gather_finite(length, offset, validity, values, out, pos):
    """Append the finite valid values to ``out`` from index ``pos``; return the new end."""
    masked = validity.size != 0
    k = pos
    for i in range(length):
        j = offset + i
        if masked and not _is_valid(validity, j):
            continue
        x = np.float64(values[j])
        if x - x == 0.0:
            out[k] = x
            k += 1
    return k


@kernel
def affine(length, offset, validity, values, scale, shift, out):
    """out[i] = x * scale + shift (NaN for null; NaN and ±inf propagate)."""
    v = values[offset:offset + length]
    for i in range(length):
        out[i] = np.float64(v[i]) * scale + shift
    if validity.size != 0:
        for i in range(length):
            if not _is_valid(validity, offset + i):
                out[i] = np.nan


@kernel
def center_scale(length, offset, validity, values, center, scale, out):
    """out[i] = (x - center) / scale, as scikit-learn's StandardScaler/RobustScaler compute it."""
    v = values[offset:offset + length]
    for i in range(length):
        out[i] = (np.float64(v[i]) - center) / scale
    if validity.size != 0:
        for i in range(length):
            if not _is_valid(validity, offset + i):
                out[i] = np.nan


@kernel
def log_shift(length, offset, validity, values, shift, out):
    """out[i] = log(x + shift); NaN where x + shift < 0 or null, -inf at 0."""
    v = values[offset:offset + length]
    for i in range(length):
        y = np.float64(v[i]) + shift
        out[i] = np.log(y) if y >= 0.0 else np.nan
    if validity.size != 0:
        for i in range(length):
            if not _is_valid(validity, offset + i):
                out[i] = np.nan


@kernel
def yeo_johnson_value(x, lmbda, eps):
    """Yeo-Johnson of one value, the formula scipy.stats.yeojohnson uses."""
    if x != x:
        return np.nan
    if x >= 0.0:
        if abs(lmbda) < eps:
            return np.log1p(x)
        return np.expm1(lmbda * np.log1p(x)) / lmbda
    if abs(lmbda - 2.0) > eps:
        return -np.expm1((2.0 - lmbda) * np.log1p(-x)) / (2.0 - lmbda)
    return -np.log1p(-x)


@kernel
def box_cox_value(x, lmbda):
    """Box-Cox of one value, as scipy.special.boxcox (NaN for x < 0)."""
    if x != x or x < 0.0:
        return np.nan
    if abs(lmbda) < 1e-19:
        return np.log(x)
    return np.expm1(lmbda * np.log(x)) / lmbda


@kernel
def power(length, offset, validity, values, method, lmbda, eps, mean, scale, out):
    """out[i] = (T(x; lmbda) - mean) / scale with T Yeo-Johnson (method 0) or Box-Cox (1)."""
    masked = validity.size != 0
    for i in range(length):
        j = offset + i
        if masked and not _is_valid(validity, j):
            out[i] = np.nan
            continue
        x = np.float64(values[j])
        if method == 0:
            t = yeo_johnson_value(x, lmbda, eps)
        else:
            t = box_cox_value(x, lmbda)
        out[i] = (t - mean) / scale


@kernel
def bin_index(length, offset, validity, values, inner_edges, out):
    """out[i] = number of inner edges <= x (searchsorted side='right'); NaN for null/NaN."""
    masked = validity.size != 0
    m = inner_edges.size
    for i in range(length):
        j = offset + i
        if masked and not _is_valid(validity, j):
            out[i] = np.nan
            continue
        x = np.float64(values[j])
        if x != x:
            out[i] = np.nan
            continue
        lo = 0
        hi = m
        while lo < hi:  # first edge > x
            mid = (lo + hi) >> 1
            if inner_edges[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo


@kernel
def missing_mask(length, offset, validity, values, check_nan, out):
    """out[i] = 1.0 where row i is null (or NaN when check_nan), else 0.0."""
    masked = validity.size != 0
    for i in range(length):
        j = offset + i
        miss = False
        if masked and not _is_valid(validity, j):
            miss = True
        elif check_nan:
            x = np.float64(values[j])
            miss = x != x
        out[i] = 1.0 if miss else 0.0


@kernel
def null_mask(length, offset, validity, out):
    """out[i] = 1.0 where row i is null (string and other non-numeric columns)."""
    masked = validity.size != 0
    for i in range(length):
        out[i] = 1.0 if (masked and not _is_valid(validity, offset + i)) else 0.0


@kernel
def combine(length, a, b, op, zero_policy, out):
    """out = a * b (op 0), a / b (op 1), a + b (op 2), a - b (op 3) over float64 columns.
    Division by zero gives NaN (zero_policy 0) or ±inf / NaN as IEEE does (zero_policy 1)."""
    for i in range(length):
        x = a[i]
        y = b[i]
        if op == 0:
            out[i] = x * y
        elif op == 1:
            if y == 0.0 and zero_policy == 0:
                out[i] = np.nan
            else:
                out[i] = x / y
        elif op == 2:
            out[i] = x + y
        else:
            out[i] = x - y
