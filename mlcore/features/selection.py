"""Feature selection that drops uninformative numeric columns: low variance, high correlation with
a kept column, low mutual information with the target. Kept columns pass through as float64."""

from __future__ import annotations

import numpy as np

from .._kernels import feat_numeric as kn
from ._base import Transform, numeric_views, read_float
from .scalers import _mean_var, column_stats

__all__ = ["VarianceThreshold", "CorrelationFilter", "MutualInfoSelector", "mutual_information"]


class _Selector(Transform):
    _json_state = ("selected_",)

    def write(self, table, out, col0):
        for k, name in enumerate(self.selected_):
            pos = 0
            row = out[col0 + k]
            for v in numeric_views(table, name, type(self).__name__):
                if v.length:
                    kn.to_float(v.length, v.offset, v.validity, v.values, row[pos:pos + v.length])
                pos += v.length

    def _finish(self, keep_mask):
        self.selected_ = [c for c, k in zip(self.columns, keep_mask) if k]
        self.feature_names_out_ = list(self.selected_)

    def _describe_state(self):
        dropped = [c for c in self.columns if c not in self.selected_]
        return f"; dropped {dropped}"


class VarianceThreshold(_Selector):
    """Keep the columns whose variance (over finite values) exceeds ``threshold`` (scikit-learn's
    VarianceThreshold; with threshold 0 the peak-to-peak range decides, as there). A column with no
    finite value has variance NaN and is dropped.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import VarianceThreshold
    >>> VarianceThreshold(["a", "b"]).fit(pa.table({"a": [1, 1, 1], "b": [1, 2, 3]})).selected_
    ['b']
    """

    kind = "variance_threshold"
    _params = ("threshold",)
    _array_state = ("variances_",)

    def __init__(self, columns, *, threshold: float = 0.0):
        super().__init__(columns)
        if not threshold >= 0:
            raise ValueError(f"VarianceThreshold: parameter `threshold` must be >= 0, got {threshold!r}")
        self.threshold = float(threshold)

    def _fit(self, table, y):
        var = []
        for c in self.columns:
            try:
                st = column_stats(table, c, "VarianceThreshold")
            except ValueError as exc:
                if "no finite value" not in str(exc):
                    raise
                var.append(np.nan)
                continue
            _, v = _mean_var(st)
            if self.threshold == 0:
                v = min(v, st["max"] - st["min"])
            var.append(v)
        self.variances_ = np.array(var)
        with np.errstate(invalid="ignore"):
            self._finish(self.variances_ > self.threshold)


class CorrelationFilter(_Selector):
    """Drop a column when its absolute Pearson correlation with an earlier kept column exceeds
    ``threshold`` (columns are visited in the given order; rows with a missing value in any
    column are left out of the correlations). Constant columns are kept (their correlation is
    undefined); drop them with :class:`VarianceThreshold`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import CorrelationFilter
    >>> t = pa.table({"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 4.1, 6.0, 8.0], "c": [1.0, -1.0, 1.0, -1.0]})
    >>> CorrelationFilter(["a", "b", "c"], threshold=0.95).fit(t).selected_
    ['a', 'c']
    """

    kind = "correlation_filter"
    _params = ("threshold",)
    _array_state = ("correlation_",)

    def __init__(self, columns, *, threshold: float = 0.95):
        super().__init__(columns)
        if not 0 < threshold <= 1:
            raise ValueError(f"CorrelationFilter: parameter `threshold` must be in (0, 1], got {threshold!r}")
        self.threshold = float(threshold)

    def _fit(self, table, y):
        X = np.vstack([read_float(table, c, "CorrelationFilter") for c in self.columns])
        ok = np.isfinite(X).all(axis=0)
        X = X[:, ok]
        with np.errstate(invalid="ignore", divide="ignore"):
            C = np.corrcoef(X) if X.shape[1] > 1 else np.full((len(self.columns),) * 2, np.nan)
        C = np.atleast_2d(C)
        self.correlation_ = C
        keep = []
        for j in range(len(self.columns)):
            drop = any(abs(C[i, j]) > self.threshold for i in keep if np.isfinite(C[i, j]))
            if not drop:
                keep.append(j)
        self._finish([j in keep for j in range(len(self.columns))])


def _quantile_bins(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Quantile-bin codes of x (NaN in bin n_bins), edges as KBinsDiscretizer(strategy='quantile')."""
    fin = np.isfinite(x)
    codes = np.full(x.size, n_bins, dtype=np.int64)
    if fin.any():
        v = x[fin]
        e = np.percentile(v, np.linspace(0, 100, n_bins + 1), method="averaged_inverted_cdf")
        e = e[np.ediff1d(e, to_begin=np.inf) > 1e-8]
        codes[fin] = np.searchsorted(e[1:-1], v, side="right")
    return codes


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) of two discrete code arrays, as sklearn's mutual_info_score."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    na, nb = ai.max() + 1, bi.max() + 1
    if na == 1 or nb == 1:
        return 0.0
    joint = np.bincount(ai * nb + bi, minlength=na * nb).reshape(na, nb).astype(np.float64)
    n = joint.sum()
    pa_ = joint.sum(axis=1)
    pb = joint.sum(axis=0)
    nz = joint > 0
    outer = np.outer(pa_, pb)[nz]
    pij = joint[nz]
    p = pij / n
    mi = p * (np.log(pij) - np.log(n)) + p * (np.log(n) + np.log(n) - np.log(outer))
    mi = np.where(np.abs(mi) < np.finfo(np.float64).eps, 0.0, mi)
    return float(max(mi.sum(), 0.0))


class MutualInfoSelector(_Selector):
    """Keep the ``k`` columns (or those above ``threshold``) with the highest mutual information
    with the target, estimated on quantile bins (``n_bins``; missing values form a bin of their
    own). A ``'continuous'`` target is binned the same way; a ``'discrete'`` one is used as is.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.features import MutualInfoSelector
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 500)
    >>> t = pa.table({"signal": y + rng.normal(0, 0.1, 500), "noise": rng.normal(size=500)})
    >>> MutualInfoSelector(["signal", "noise"], k=1, target_type="discrete").fit(t, y).selected_
    ['signal']
    """

    kind = "mutual_info_selector"
    needs_target = True
    _params = ("k", "threshold", "n_bins", "target_type")
    _array_state = ("scores_",)

    def __init__(self, columns, *, k: int | None = None, threshold: float = 0.0, n_bins: int = 10,
                 target_type: str = "discrete"):
        super().__init__(columns)
        if k is not None and (int(k) != k or k < 1):
            raise ValueError(f"MutualInfoSelector: parameter `k` must be None or an integer >= 1, got {k!r}")
        if target_type not in ("discrete", "continuous"):
            raise ValueError(f"MutualInfoSelector: parameter `target_type` must be 'discrete' or 'continuous', got {target_type!r}")
        if int(n_bins) != n_bins or n_bins < 2:
            raise ValueError(f"MutualInfoSelector: parameter `n_bins` must be an integer >= 2, got {n_bins!r}")
        self.k = None if k is None else int(k)
        self.threshold = float(threshold)
        self.n_bins = int(n_bins)
        self.target_type = target_type

    def _fit(self, table, y):
        yc = _quantile_bins(y, self.n_bins) if self.target_type == "continuous" else y
        scores = []
        for c in self.columns:
            x = read_float(table, c, "MutualInfoSelector")
            scores.append(mutual_information(_quantile_bins(x, self.n_bins), yc))
        self.scores_ = np.array(scores)
        keep = self.scores_ > self.threshold
        if self.k is not None:
            order = np.argsort(-self.scores_, kind="stable")[: self.k]
            top = np.zeros(len(self.columns), dtype=bool)
            top[order] = True
            keep &= top
        self._finish(keep)
