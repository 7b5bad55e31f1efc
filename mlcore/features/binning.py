"""Uniform and quantile binning (scikit-learn's KBinsDiscretizer with ``encode='ordinal'``)."""

from __future__ import annotations

import numpy as np

from .._kernels import feat_numeric as kn
from ._base import Transform, numeric_views
from .scalers import column_stats, finite_values

__all__ = ["KBinsDiscretizer"]


class KBinsDiscretizer(Transform):
    """Bin each column into ``n_bins`` intervals; the output is the bin index as float64.

    ``strategy='uniform'``: equal widths between the finite min and max; ``'quantile'``: edges at
    ``np.percentile(x, linspace(0, 100, n_bins + 1), method=quantile_method)`` over all finite
    values (no subsampling), bins narrower than 1e-8 removed, as scikit-learn does. A constant
    column has one bin. Null and NaN give NaN; ±inf fall in the first / last bin.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.features import KBinsDiscretizer
    >>> kb = KBinsDiscretizer(["x"], n_bins=2, strategy="uniform")
    >>> kb.fit_transform(pa.table({"x": [0.0, 1.0, 3.0, 4.0]}))["x"].to_pylist()
    [0.0, 0.0, 1.0, 1.0]
    """

    kind = "kbins"
    _params = ("n_bins", "strategy", "quantile_method")
    _array_state = ("bin_edges_",)

    def __init__(self, columns, *, n_bins: int = 5, strategy: str = "quantile",
                 quantile_method: str = "averaged_inverted_cdf"):
        super().__init__(columns)
        if int(n_bins) != n_bins or n_bins < 2:
            raise ValueError(f"KBinsDiscretizer: parameter `n_bins` must be an integer >= 2, got {n_bins!r}")
        if strategy not in ("uniform", "quantile"):
            raise ValueError(f"KBinsDiscretizer: parameter `strategy` must be 'uniform' or 'quantile', got {strategy!r}")
        self.n_bins = int(n_bins)
        self.strategy = strategy
        self.quantile_method = quantile_method

    def _fit(self, table, y):
        edges = []
        for c in self.columns:
            st = column_stats(table, c, "KBinsDiscretizer", allow_inf=False)
            lo, hi = st["min"], st["max"]
            if lo == hi:
                edges.append(np.array([-np.inf, np.inf]))
                continue
            if self.strategy == "uniform":
                e = np.linspace(lo, hi, self.n_bins + 1)
            else:
                x = finite_values(st["views"], st["n"])
                e = np.asarray(np.percentile(x, np.linspace(0, 100, self.n_bins + 1),
                                             method=self.quantile_method), dtype=np.float64)
                e = e[np.ediff1d(e, to_begin=np.inf) > 1e-8]
            edges.append(e)
        self.bin_edges_ = edges
        self.feature_names_out_ = list(self.columns)

    @property
    def n_bins_(self) -> np.ndarray:
        return np.array([len(e) - 1 for e in self.bin_edges_])

    def write(self, table, out, col0):
        for k, name in enumerate(self.columns):
            inner = np.ascontiguousarray(self.bin_edges_[k][1:-1], dtype=np.float64)
            pos = 0
            row = out[col0 + k]
            for v in numeric_views(table, name, "KBinsDiscretizer"):
                if v.length:
                    kn.bin_index(v.length, v.offset, v.validity, v.values, inner, row[pos:pos + v.length])
                pos += v.length

    def _describe_state(self):
        return "; bins=" + ", ".join(f"{c}:{len(e) - 1}" for c, e in zip(self.columns, self.bin_edges_))
