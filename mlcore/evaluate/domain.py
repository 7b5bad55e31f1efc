"""Training vs production: per-feature drift, a domain classifier, importance-weighted performance.

- :func:`feature_drift` gives one drift statistic per feature: the population stability index
  (PSI) on the reference's decile bins (numeric features, NaN as one more bin) or categories
  (string/dictionary/bool features), with proportions floored at 1e-4 so that an empty bin stays
  finite; binning and formula are the monitoring stage's. :func:`set_drift_function` swaps the
  statistic for every caller (gate, report, CLI) without touching them.
- :func:`compare_domains` trains a classifier to tell reference rows from production rows
  (cross-validated out-of-fold probabilities): its ROC AUC is 0.5 when the two samples are
  indistinguishable and near 1 when they are separable. The same probabilities give importance
  weights ``w(x) = p(prod | x) / p(ref | x) * n_ref / n_prod`` for the reference rows, which
  :func:`importance_weighted_metric` uses to estimate a metric on production-like data from the
  labelled reference test set.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> rng = np.random.default_rng(0)
>>> ref = pa.table({"x": rng.normal(size=2000)}); prod = pa.table({"x": rng.normal(0.5, 1, 2000)})
>>> feature_drift(ref, prod)["x"] > 0.1
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import as_table
from ..errors import SchemaError, ShapeError
from .bootstrap import compute_metric

__all__ = ["feature_drift", "psi", "set_drift_function", "DomainComparison", "compare_domains",
           "importance_weighted_metric", "to_table"]

def to_table(X: Any, names: list[str] | None = None) -> pa.Table:
    """Tabular input as an Arrow table; a 2-D NumPy matrix gets columns ``names`` or x0, x1, …
    (copied column by column: drift and domain checks need no zero-copy path)."""
    if isinstance(X, np.ndarray) and X.ndim == 2:
        cols = names or [f"x{j}" for j in range(X.shape[1])]
        if len(cols) != X.shape[1]:
            raise ShapeError(f"{len(cols)} feature names for a matrix of {X.shape[1]} columns")
        return pa.table({c: np.ascontiguousarray(X[:, j]) for j, c in enumerate(cols)})
    return as_table(X)


def _numeric(col: pa.ChunkedArray) -> np.ndarray:
    a = col.to_numpy(zero_copy_only=False) if col.null_count == 0 else \
        pc.fill_null(pc.cast(col, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    return np.asarray(a, dtype=np.float64)


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def psi(reference: np.ndarray, current: np.ndarray, *, bins: int = 10) -> float:
    """PSI of a numeric feature on the reference's quantile bins, NaN counted as one more bin (so
    that a change in the missing rate is drift too). The binning and the formula are the
    monitoring stage's (:func:`mlcore.monitor.psi`, which leaves NaN to its data-quality checks).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).normal(size=5000)
    >>> psi(x, x) == 0.0
    True
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    from ..monitor.univariate import bin_counts, quantile_edges  # lazy: loads the monitor's kernels

    rs, cs = np.sort(ref), np.sort(cur)  # NaN sorts last
    nr, nc = int(np.isnan(rs).sum()), int(np.isnan(cs).sum())
    rs, cs = rs[: rs.size - nr], cs[: cs.size - nc]
    edges = quantile_edges(rs, bins)
    return _psi_from_counts(np.r_[bin_counts(rs, edges), nr], np.r_[bin_counts(cs, edges), nc], "reference quantiles")


def _psi_from_counts(p: np.ndarray, q: np.ndarray, binning: str) -> float:
    from ..monitor.univariate import hist_distances

    return hist_distances(p, q, alpha=0.05, column=None, binning=binning, which=("psi",))[0].statistic


def _categorical_psi(ref: pa.ChunkedArray, cur: pa.ChunkedArray) -> float:
    def counts(col):
        vc = pc.value_counts(pc.cast(col, pa.string()) if not pa.types.is_string(col.type) else col)
        return {v.as_py(): c for v, c in zip(vc.field("values"), vc.field("counts").to_pylist())}

    a, b = counts(ref), counts(cur)
    keys = list(dict.fromkeys(list(a) + list(b)))
    return _psi_from_counts(np.array([a.get(k, 0) for k in keys], dtype=np.int64),
                            np.array([b.get(k, 0) for k in keys], dtype=np.int64), "categories")


def _default_drift(reference: pa.Table, current: pa.Table, features: list[str]) -> dict[str, float]:
    out = {}
    for f in features:
        r, c = reference.column(f), current.column(f)
        if _is_numeric(r.type) and _is_numeric(c.type):
            out[f] = psi(_numeric(r), _numeric(c))
        else:
            out[f] = _categorical_psi(r, c)
    return out


_DRIFT: list[Callable] = [_default_drift]


def set_drift_function(fn: Callable | None) -> None:
    """Replace the per-feature drift statistic used by evaluation: ``fn(reference_table,
    current_table, features) -> {feature: value}``; ``None`` restores the built-in PSI."""
    _DRIFT[0] = fn or _default_drift


def feature_drift(reference: Any, current: Any, *, features: list[str] | None = None) -> dict[str, float]:
    """One drift value per feature (default: the built-in PSI; see :func:`set_drift_function`).

    ``features`` defaults to the reference's columns; every one must exist in ``current``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> feature_drift(pa.table({"c": ["a", "b"] * 50}), pa.table({"c": ["a"] * 100}))["c"] > 0.2
    True
    """
    ref = to_table(reference)
    cur = to_table(current, ref.column_names if isinstance(current, np.ndarray) else None)
    feats = list(features) if features is not None else ref.column_names
    missing = [f for f in feats if f not in ref.column_names or f not in cur.column_names]
    if missing:
        raise SchemaError(f"feature_drift: feature(s) {missing} missing from the reference or the current data "
                          f"(reference has {ref.column_names[:20]}, current has {cur.column_names[:20]})")
    return {k: float(v) for k, v in _DRIFT[0](ref, cur, feats).items()}


@dataclass
class DomainComparison:
    """Result of :func:`compare_domains`."""

    drift: dict
    domain_auc: float
    domain_auc_interval: tuple
    weights: np.ndarray = field(repr=False)  # importance weight of each reference row
    n_reference: int = 0
    n_production: int = 0
    top_features: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"drift": self.drift, "domain_auc": self.domain_auc,
                "domain_auc_interval": list(self.domain_auc_interval), "n_reference": self.n_reference,
                "n_production": self.n_production, "top_features": self.top_features,
                "effective_sample_size": float(self.weights.sum() ** 2 / np.sum(self.weights ** 2))
                if self.weights.size else float("nan")}


def _design(t: pa.Table, feats: list[str], cats: dict) -> np.ndarray:
    cols = []
    for f in feats:
        col = t.column(f)
        if _is_numeric(col.type):
            cols.append(_numeric(col))
        else:  # categorical: integer code in the shared category list (unseen: -1)
            vals = pc.cast(col, pa.string()).to_pylist()
            lut = cats[f]
            cols.append(np.array([lut.get(v, -1) for v in vals], dtype=np.float64))
    return np.column_stack(cols) if cols else np.zeros((t.num_rows, 0))


def compare_domains(reference: Any, production: Any, *, features: list[str] | None = None, n_splits: int = 3,
                    max_rows: int = 200_000, seed: int = 0, n_boot: int = 200, clip: float = 20.0,
                    n_threads: int = 1) -> DomainComparison:
    """Compare a reference (training/test) sample with a production-like sample.

    Returns per-feature drift, the ROC AUC (with bootstrap interval) of a gradient-boosted
    classifier telling the samples apart (out-of-fold, ``n_splits`` folds), and an importance
    weight per reference row (clipped at ``clip`` times the mean, then renormalised to mean 1).
    The classifier runs on ``n_threads`` OpenMP threads (default 1: on a loaded or shared machine,
    OpenMP's spinning threads made a 5,000-row fit 100x slower here).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"x": rng.normal(size=1000)}); prod = pa.table({"x": rng.normal(size=1000)})
    >>> 0.4 < compare_domains(ref, prod, n_boot=20).domain_auc < 0.6
    True
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n_threads)):
        return _compare_domains(reference, production, features, n_splits, max_rows, seed, n_boot, clip)


def _compare_domains(reference, production, features, n_splits, max_rows, seed, n_boot, clip):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    ref = to_table(reference)
    prod = to_table(production, ref.column_names if isinstance(production, np.ndarray) else None)
    feats = list(features) if features is not None else [c for c in ref.column_names if c in prod.column_names]
    if not feats:
        raise SchemaError("compare_domains: the reference and production data share no feature column")
    if ref.num_rows < 10 or prod.num_rows < 10:
        raise ShapeError(f"compare_domains: need at least 10 rows on each side, got {ref.num_rows} reference "
                         f"and {prod.num_rows} production rows")
    drift = feature_drift(ref, prod, features=feats)
    rng = np.random.default_rng(seed)
    # a sample of each side trains the classifier; every reference row is then scored for its weight
    ri = np.sort(rng.choice(ref.num_rows, min(ref.num_rows, max_rows), replace=False))
    pi = np.sort(rng.choice(prod.num_rows, min(prod.num_rows, max_rows), replace=False))
    cats = {}
    for f in feats:
        if not _is_numeric(ref.column(f).type):
            values = pc.unique(pc.cast(ref.column(f), pa.string())).to_pylist()
            cats[f] = {v: i for i, v in enumerate(values)}
    Xr = _design(ref, feats, cats)
    Xp = _design(prod, feats, cats)
    X = np.vstack([Xr[ri], Xp[pi]])
    d = np.r_[np.zeros(ri.size, dtype=np.int64), np.ones(pi.size, dtype=np.int64)]
    cat_mask = np.array([f in cats for f in feats])
    oof = np.empty(d.size)
    models = []
    skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for tr, te in skf.split(X, d):
        clf = HistGradientBoostingClassifier(max_iter=100, categorical_features=cat_mask if cat_mask.any() else None,
                                             random_state=seed)
        clf.fit(X[tr], d[tr])
        oof[te] = clf.predict_proba(X[te])[:, 1]
        models.append(clf)
    from .bootstrap import bootstrap_metric

    ci = bootstrap_metric("roc_auc", d, oof, n_boot=n_boot, seed=seed)
    # weights of every reference row: out-of-fold where it was in the training sample, else the mean
    # of the fold models
    p_ref = np.mean([m.predict_proba(Xr)[:, 1] for m in models], axis=0)
    p_ref[ri] = oof[: ri.size]
    p_ref = np.clip(p_ref, 1e-6, 1 - 1e-6)
    w = p_ref / (1 - p_ref) * (ri.size / pi.size)
    w = np.minimum(w, clip * w.mean())
    w = w / w.mean()
    top = sorted(drift, key=lambda k: -drift[k] if np.isfinite(drift[k]) else 0)[:10]
    return DomainComparison(drift, ci.value, (ci.low, ci.high), w, ref.num_rows, prod.num_rows, top)


def importance_weighted_metric(metric: str, y_true, y_pred, weights: np.ndarray, *, sample_weight=None,
                               **params) -> float:
    """Estimate ``metric`` on production-like data from the labelled reference rows, each weighted
    by its importance weight (times its sample weight).

    Examples
    --------
    >>> importance_weighted_metric("accuracy", [0, 1, 1], [0, 1, 0], np.array([1.0, 1.0, 2.0]))
    0.5
    """
    w = np.asarray(weights, dtype=np.float64)
    if sample_weight is not None:
        w = w * np.asarray(sample_weight, dtype=np.float64)
    return compute_metric(metric, y_true, y_pred, sample_weight=w, **params)
