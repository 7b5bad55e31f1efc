"""Metrics per segment: any categorical column, or numeric columns cut into quantile bins.

Each segment gets the metric's value (with a bootstrap interval when asked), its row count and
weight; segments come back worst first (lowest value for a higher-is-better metric, highest for a
loss). Defined results: a segment where the metric is undefined (a single class for ROC AUC, no
positive for average precision) has value NaN and a ``note`` saying why, and sorts last; a
requested segment value with no row (an empty slice) is listed with n = 0, value NaN and the note
"empty slice"; segments smaller than ``min_rows`` are listed but not ranked (note "too small").
Nulls in a segment column form their own segment "(null)".

Examples
--------
>>> import numpy as np
>>> rows = slice_metrics("accuracy", [0, 1, 1, 0], [0, 1, 0, 0], {"g": ["a", "a", "b", "b"]}, min_rows=1)
>>> [(r["column"], r["segment"], r["value"]) for r in rows]
[('g', 'b', 0.5), ('g', 'a', 1.0)]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._inputs import MetricInputError, as_1d
from .bootstrap import bootstrap_metric, compute_metric, metric_spec

__all__ = ["segment_codes", "slice_metrics"]


def _column_values(col: Any, name: str):
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if isinstance(col, pa.Array):
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        return col
    if hasattr(col, "to_numpy") and not isinstance(col, np.ndarray):
        col = col.to_numpy()
    a = np.asarray(col)
    if a.ndim != 1:
        raise MetricInputError(f"slice_metrics: segment column `{name}` must be 1-D, got shape {a.shape}")
    if a.dtype == object:
        return pa.array(a.tolist())
    return pa.array(a)


def segment_codes(col: Any, name: str = "segment", *, bins: int = 4, max_categories: int = 50):
    """(codes, labels) of a segment column: categories as they are (numeric columns with at most
    ``max_categories`` distinct values too), other numeric columns cut at quantiles into ``bins``
    intervals labelled like '[1.5, 3)'. Nulls and NaN get the label '(null)'.

    Examples
    --------
    >>> codes, labels = segment_codes(["x", None, "x"])
    >>> codes.tolist(), labels
    ([0, 1, 0], ['x', '(null)'])"""
    arr = _column_values(col, name)
    n = len(arr)
    numeric = pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)
    if numeric:
        x = pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
        finite = x[~np.isnan(x)]
        distinct = np.unique(finite)
        if distinct.size > max_categories:
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
            idx = np.searchsorted(edges, x, side="right")
            bounds = np.r_[finite.min(), edges, finite.max()]
            labels = [f"[{bounds[i]:.4g}, {bounds[i + 1]:.4g}{']' if i == edges.size else ')'}"
                      for i in range(edges.size + 1)]
            codes = np.where(np.isnan(x), edges.size + 1, idx)
            return codes.astype(np.int64), labels + ["(null)"]
        codes = np.searchsorted(distinct, x)
        codes = np.where(np.isnan(x), distinct.size, codes)
        labels = [f"{v:g}" for v in distinct] + ["(null)"]
        return codes.astype(np.int64), labels
    s = arr.cast(pa.string()) if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)) else arr
    enc = pc.fill_null(s, "(null)").dictionary_encode()
    labels = enc.dictionary.to_pylist()
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if codes.size != n:
        raise MetricInputError(f"slice_metrics: segment column `{name}` could not be encoded")
    return codes, labels


def _take(x, idx):
    if x is None:
        return None
    if isinstance(x, (pa.Array, pa.ChunkedArray)):
        return x.take(pa.array(idx))
    return np.asarray(x)[idx]


def slice_metrics(metric: str, y_true, y_pred, segments: dict, *, sample_weight=None, bins: int = 4,
                  min_rows: int = 30, n_boot: int = 0, seed: int = 0, values: dict | None = None,
                  **params) -> list[dict]:
    """``metric`` on every segment of every column in ``segments`` ({name: column}), worst first.

    ``values`` optionally names segment values to report even when they have no row
    ({column: [value, ...]}). ``n_boot`` > 0 adds a bootstrap interval per segment.

    Examples
    --------
    >>> rows = slice_metrics("mae", [1.0, 2.0, 3.0, 4.0], [1.0, 2.5, 3.0, 3.0], {"g": ["a", "a", "b", "b"]},
    ...                      min_rows=1, values={"g": ["c"]})
    >>> [(r["segment"], r["value"], r["note"]) for r in rows]
    [('b', 0.5, ''), ('a', 0.25, ''), ('c', nan, 'empty slice')]
    """
    spec = metric_spec(metric)
    yt = as_1d(y_true, metric, "y_true")
    n = yt.size
    pred = np.asarray(y_pred) if not isinstance(y_pred, (pa.Array, pa.ChunkedArray)) else y_pred
    if len(pred) != n:
        raise MetricInputError(f"slice_metrics: y_pred has {len(pred)} rows, y_true has {n}")
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    rows = []
    for name, col in segments.items():
        if len(col) != n:
            raise MetricInputError(f"slice_metrics: segment column `{name}` has {len(col)} rows, y_true has {n}")
        codes, labels = segment_codes(col, name, bins=bins)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
        for j, label in enumerate(labels):
            idx = order[bounds[j]:bounds[j + 1]]
            if idx.size == 0:
                continue
            row = {"column": name, "segment": label, "n": int(idx.size),
                   "weight": float(w[idx].sum()) if w is not None else float(idx.size),
                   "value": float("nan"), "low": float("nan"), "high": float("nan"), "note": ""}
            if idx.size < min_rows:
                row["note"] = "too small"
            try:
                args = (yt[idx], _take(pred, idx))
                if n_boot:
                    ci = bootstrap_metric(metric, *args, sample_weight=_take(w, idx), n_boot=n_boot, seed=seed, **params)
                    row.update(value=ci.value, low=ci.low, high=ci.high)
                else:
                    row["value"] = compute_metric(metric, *args, sample_weight=_take(w, idx), **params)
            except MetricInputError as exc:  # undefined here, e.g. a single class in the segment
                row["note"] = str(exc).split(": ", 1)[-1]
            rows.append(row)
        for v in (values or {}).get(name, []):
            if not any(r["column"] == name and r["segment"] == str(v) for r in rows):
                rows.append({"column": name, "segment": str(v), "n": 0, "weight": 0.0, "value": float("nan"),
                             "low": float("nan"), "high": float("nan"), "note": "empty slice"})
    sign = -1.0 if spec.greater_is_better else 1.0

    def key(r):
        ranked = np.isfinite(r["value"]) and r["note"] != "too small"
        return (0 if ranked else 1, -sign * r["value"] if ranked else 0.0, -r["n"])

    rows.sort(key=key)
    return rows

