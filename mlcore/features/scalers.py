"""Scaling: standard, min-max and robust scalers, and a pass-through, as scikit-learn defines them.

Fit ignores null and NaN (as scikit-learn ignores NaN); ±inf at fit is an error naming the column,
because no finite statistic exists for it. At transform, null becomes NaN and NaN/±inf propagate
through the arithmetic: the output never hides a missing value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .._kernels import feat_numeric as kn
from ._base import Transform, numeric_views

__all__ = ["StandardScaler", "MinMaxScaler", "RobustScaler", "Passthrough", "column_stats", "finite_values"]

_EPS = np.finfo(np.float64).eps


def column_stats(table: pa.Table, name: str, owner: str, *, allow_inf: bool = False) -> dict:
    """Counts, sum, min, max over the finite values of a numeric column (kernel pass per chunk).

    Raises ValueError when the column holds ±inf (unless ``allow_inf``) or no finite value.
    """
    part = np.empty(8, dtype=np.float64)
    n_valid = n_nan = n_pinf = n_ninf = n = 0
    s = 0.0
    lo, hi = np.inf, -np.inf
    views = numeric_views(table, name, owner)
    for v in views:
        if v.length == 0:
            continue
        kn.moments(v.length, v.offset, v.validity, v.values, part)
        n_valid += int(part[0])
        n_nan += int(part[1])
        n_pinf += int(part[2])
        n_ninf += int(part[3])
        n += int(part[4])
        s += part[5]
        lo = min(lo, part[6])
        hi = max(hi, part[7])
    if (n_pinf or n_ninf) and not allow_inf:
        raise ValueError(
            f"{owner} cannot be fitted on infinite values: column `{name}` holds {n_pinf} +inf and "
            f"{n_ninf} -inf value(s); replace or clip them first (NaN and null are ignored at fit)"
        )
    if n == 0:
        raise ValueError(
            f"{owner} cannot be fitted: column `{name}` has no finite value "
            f"({table.num_rows} rows, {table.num_rows - n_valid} null, {n_nan} NaN)"
        )
    return {"n": n, "n_missing": table.num_rows - n_valid + n_nan, "sum": s, "min": lo, "max": hi,
            "views": views}


def finite_values(views, n: int) -> np.ndarray:
    """The finite valid values of a column, gathered by a kernel into one array."""
    out = np.empty(n, dtype=np.float64)
    pos = 0
    for v in views:
        if v.length:
            pos = kn.gather_finite(v.length, v.offset, v.validity, v.values, out, pos)
    return out[:pos]


def _mean_var(stats: dict) -> tuple[float, float]:
    n = stats["n"]
    mean = stats["sum"] / n
    ssd = corr = 0.0
    for v in stats["views"]:
        if v.length:
            a, b = kn.sum_sq_dev(v.length, v.offset, v.validity, v.values, mean)
            ssd += a
            corr += b
    return mean, (ssd - corr * corr / n) / n


def _write_affine_columns(transform, table, out, col0, scale, shift):
    for k, name in enumerate(transform.columns):
        pos = 0
        row = out[col0 + k]
        for v in numeric_views(table, name, type(transform).__name__):
            if v.length:
                kn.affine(v.length, v.offset, v.validity, v.values, float(scale[k]), float(shift[k]),
                          row[pos:pos + v.length])
            pos += v.length


def _write_center_scale(transform, table, out, col0, center, scale):
    for k, name in enumerate(transform.columns):
        pos = 0
        row = out[col0 + k]
        for v in numeric_views(table, name, type(transform).__name__):
            if v.length:
                kn.center_scale(v.length, v.offset, v.validity, v.values, float(center[k]),
                                float(scale[k]), row[pos:pos + v.length])
            pos += v.length


class StandardScaler(Transform):
    """Standardise each column: ``(x - mean_) / scale_`` (scikit-learn's StandardScaler).

    Parameters
    ----------
    columns : list of str
        Numeric input columns; one output feature each, with the same name.
    with_mean, with_std : bool, keyword-only
        Centre, and scale to unit variance (population variance, ``ddof=0``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import StandardScaler
    >>> StandardScaler(["x"]).fit_transform(pa.table({"x": [1.0, 2.0, 3.0]}))["x"].to_pylist()
    [-1.224744871391589, 0.0, 1.224744871391589]
    """

    kind = "standard_scaler"
    _params = ("with_mean", "with_std")
    _array_state = ("mean_", "var_", "scale_")

    def __init__(self, columns, *, with_mean: bool = True, with_std: bool = True):
        super().__init__(columns)
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)

    def _fit(self, table, y):
        mean, var, n = [], [], []
        for c in self.columns:
            st = column_stats(table, c, "StandardScaler")
            m, v = _mean_var(st)
            mean.append(m)
            var.append(v)
            n.append(st["n"])
        self.mean_ = np.array(mean)
        self.var_ = np.array(var)
        n = np.array(n, dtype=np.float64)
        scale = np.sqrt(self.var_)
        constant = self.var_ <= n * _EPS * self.var_ + (n * self.mean_ * _EPS) ** 2
        scale[constant] = 1.0
        self.scale_ = scale if self.with_std else np.ones_like(scale)
        self.feature_names_out_ = list(self.columns)

    def write(self, table, out, col0):
        center = self.mean_ if self.with_mean else np.zeros_like(self.mean_)
        _write_center_scale(self, table, out, col0, center, self.scale_)


class MinMaxScaler(Transform):
    """Scale each column to ``feature_range``: ``x * scale_ + min_`` (scikit-learn's MinMaxScaler).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import MinMaxScaler
    >>> MinMaxScaler(["x"]).fit_transform(pa.table({"x": [1.0, 2.0, 5.0]}))["x"].to_pylist()
    [0.0, 0.25, 1.0]
    """

    kind = "min_max_scaler"
    _params = ("feature_range",)
    _array_state = ("data_min_", "data_max_", "scale_", "min_")

    def __init__(self, columns, *, feature_range=(0.0, 1.0)):
        super().__init__(columns)
        lo, hi = (float(x) for x in feature_range)
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: parameter `feature_range` must be (min, max) with min < max, got {feature_range!r}")
        self.feature_range = [lo, hi]

    def _fit(self, table, y):
        lo, hi = [], []
        for c in self.columns:
            st = column_stats(table, c, "MinMaxScaler")
            lo.append(st["min"])
            hi.append(st["max"])
        self.data_min_ = np.array(lo)
        self.data_max_ = np.array(hi)
        rng = self.data_max_ - self.data_min_
        rng = np.where(rng < 10 * _EPS, 1.0, rng)
        fmin, fmax = self.feature_range
        self.scale_ = (fmax - fmin) / rng
        self.min_ = fmin - self.data_min_ * self.scale_
        self.feature_names_out_ = list(self.columns)

    def write(self, table, out, col0):
        _write_affine_columns(self, table, out, col0, self.scale_, self.min_)


class RobustScaler(Transform):
    """Centre on the median and scale by the interquartile range (scikit-learn's RobustScaler).

    Percentiles use linear interpolation (``np.percentile``'s default, as scikit-learn).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import RobustScaler
    >>> RobustScaler(["x"]).fit_transform(pa.table({"x": [1.0, 2.0, 3.0, 10.0]}))["x"].to_pylist()
    [-0.5, -0.16666666666666666, 0.16666666666666666, 2.5]
    """

    kind = "robust_scaler"
    _params = ("quantile_range",)
    _array_state = ("center_", "scale_")

    def __init__(self, columns, *, quantile_range=(25.0, 75.0)):
        super().__init__(columns)
        q0, q1 = (float(x) for x in quantile_range)
        if not 0 <= q0 <= q1 <= 100:
            raise ValueError(f"RobustScaler: parameter `quantile_range` must satisfy 0 <= q_min <= q_max <= 100, got {quantile_range!r}")
        self.quantile_range = [q0, q1]

    def _fit(self, table, y):
        center, scale = [], []
        for c in self.columns:
            st = column_stats(table, c, "RobustScaler")
            vals = finite_values(st["views"], st["n"])
            med, q0, q1 = np.percentile(vals, [50.0, *self.quantile_range])
            center.append(med)
            scale.append(q1 - q0)
        self.center_ = np.array(center)
        scale = np.array(scale)
        self.scale_ = np.where(scale < 10 * _EPS, 1.0, scale)
        self.feature_names_out_ = list(self.columns)

    def write(self, table, out, col0):
        _write_center_scale(self, table, out, col0, self.center_, self.scale_)


class Passthrough(Transform):
    """Numeric columns unchanged, as float64 (null becomes NaN).

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import Passthrough
    >>> Passthrough(["x"]).fit_transform(pa.table({"x": [1, None]}))["x"].to_pylist()
    [1.0, nan]
    """

    kind = "passthrough"

    def _fits_without_rows(self):
        return True

    def _fit(self, table, y):
        for c in self.columns:
            numeric_views(table, c, "Passthrough")
        self.feature_names_out_ = list(self.columns)

    def write(self, table, out, col0):
        for k, name in enumerate(self.columns):
            pos = 0
            row = out[col0 + k]
            for v in numeric_views(table, name, "Passthrough"):
                if v.length:
                    kn.to_float(v.length, v.offset, v.validity, v.values, row[pos:pos + v.length])
                pos += v.length
