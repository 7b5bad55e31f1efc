"""Log and power transforms: ``log(x + shift)`` and Yeo-Johnson / Box-Cox as scikit-learn's
PowerTransformer fits them (lambda by scipy's maximum likelihood, then optional standardisation).
"""

from __future__ import annotations

import numpy as np

from .._kernels import feat_numeric as kn
from ._base import Transform, numeric_views
from .scalers import column_stats, finite_values

__all__ = ["LogTransformer", "PowerTransformer"]

_EPS = np.finfo(np.float64).eps


class LogTransformer(Transform):
    """``log(x + shift)``; a value with ``x + shift < 0`` gives NaN and 0 gives -inf, as NumPy.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import LogTransformer
    >>> LogTransformer(["x"], shift=1.0).fit_transform(pa.table({"x": [0.0, 1.0]}))["x"].to_pylist()
    [0.0, 0.6931471805599453]
    """

    kind = "log"
    _params = ("shift",)

    def _fits_without_rows(self):
        return True

    def __init__(self, columns, *, shift: float = 0.0):
        super().__init__(columns)
        self.shift = float(shift)
        if not np.isfinite(self.shift):
            raise ValueError(f"LogTransformer: parameter `shift` must be finite, got {shift!r}")

    def _fit(self, table, y):
        for c in self.columns:
            numeric_views(table, c, "LogTransformer")
        self.feature_names_out_ = list(self.columns)

    def write(self, table, out, col0):
        for k, name in enumerate(self.columns):
            pos = 0
            row = out[col0 + k]
            for v in numeric_views(table, name, "LogTransformer"):
                if v.length:
                    kn.log_shift(v.length, v.offset, v.validity, v.values, self.shift, row[pos:pos + v.length])
                pos += v.length


class PowerTransformer(Transform):
    """Yeo-Johnson or Box-Cox power transform, then standardisation (scikit-learn's PowerTransformer).

    Lambdas are fitted by ``scipy.stats.yeojohnson`` / ``scipy.stats.boxcox`` on the finite values,
    exactly as scikit-learn does, so fitted lambdas are identical; a constant column gets lambda 1
    under Yeo-Johnson. Box-Cox needs strictly positive data at fit (an error names the column);
    at transform a negative value gives NaN.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import PowerTransformer
    >>> pt = PowerTransformer(["x"]).fit(pa.table({"x": [1.0, 2.0, 4.0, 8.0]}))
    >>> round(float(pt.lambdas_[0]), 4)
    -0.2455
    """

    kind = "power"
    _params = ("method", "standardize")
    _array_state = ("lambdas_", "mean_", "scale_")

    def __init__(self, columns, *, method: str = "yeo-johnson", standardize: bool = True):
        super().__init__(columns)
        if method not in ("yeo-johnson", "box-cox"):
            raise ValueError(f"PowerTransformer: parameter `method` must be 'yeo-johnson' or 'box-cox', got {method!r}")
        self.method = method
        self.standardize = bool(standardize)

    def _fit(self, table, y):
        from scipy import stats

        lambdas, means, scales = [], [], []
        for c in self.columns:
            st = column_stats(table, c, "PowerTransformer")
            x = finite_values(st["views"], st["n"])
            if self.method == "box-cox":
                if x.min() <= 0:
                    raise ValueError(
                        f"PowerTransformer(method='box-cox') needs strictly positive data: column `{c}` "
                        f"has minimum {x.min()!r}; use method='yeo-johnson'"
                    )
                with np.errstate(over="ignore", invalid="ignore"):  # as scikit-learn's fit
                    _, lmbda = stats.boxcox(x, lmbda=None)
            else:
                n = x.size
                mean, var = np.mean(x), np.var(x)
                # scikit-learn computes the constant check on the column with NaN, which is NaN
                # (not constant) as soon as one value is missing
                constant = st["n_missing"] == 0 and var <= n * _EPS * var + (n * mean * _EPS) ** 2
                if constant:
                    lmbda = 1.0
                else:
                    with np.errstate(over="ignore", invalid="ignore"):  # as scikit-learn's fit
                        lmbda = stats.yeojohnson(x, lmbda=None)[1]
            lmbda = float(lmbda)
            lambdas.append(lmbda)
            if self.standardize:
                t = np.empty(x.size)
                kn.power(x.size, 0, np.zeros(0, np.uint8), x, 0 if self.method == "yeo-johnson" else 1,
                         lmbda, _EPS, 0.0, 1.0, t)
                m = float(np.mean(t))
                v = float(np.var(t))
                s = np.sqrt(v)
                if v <= t.size * _EPS * v + (t.size * m * _EPS) ** 2:
                    s = 1.0
                means.append(m)
                scales.append(s)
            else:
                means.append(0.0)
                scales.append(1.0)
        self.lambdas_ = np.array(lambdas)
        self.mean_ = np.array(means)
        self.scale_ = np.array(scales)
        self.feature_names_out_ = list(self.columns)

    def write(self, table, out, col0):
        method = 0 if self.method == "yeo-johnson" else 1
        for k, name in enumerate(self.columns):
            pos = 0
            row = out[col0 + k]
            for v in numeric_views(table, name, "PowerTransformer"):
                if v.length:
                    kn.power(v.length, v.offset, v.validity, v.values, method, float(self.lambdas_[k]),
                             _EPS, float(self.mean_[k]), float(self.scale_[k]), row[pos:pos + v.length])
                pos += v.length
