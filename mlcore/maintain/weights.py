"""The retraining dataset: an importance weight for every historical row, for the current concept.

Not "the last N months": every labelled row that is available is kept, and each is weighted by
how much it looks like the data since the drift. The weight is a density ratio estimated with a
domain classifier (history = 0, recent = 1):

    w(x) = p(recent | x) / p(history | x) * n_history / n_recent

The classifier is **cross-fitted**: the rows are split in ``n_splits`` folds and each row is scored
by the model trained on the other folds, so no row's weight comes from a model that saw it (an
in-sample probability is overconfident and inflates the weights of exactly the rows it memorised).
Rows left out of the training sample (``max_rows``) are scored by the average of the fold models,
none of which saw them. Weights are then clipped at ``clip`` times their mean (one extreme ratio
must not decide the fit) and normalised to mean 1 over the history rows, so that the Kish
effective sample size ``(sum w)^2 / sum w^2`` reads directly against ``n_history``.

The same out-of-fold probabilities give the domain AUC (0.5: the two samples cannot be told
apart), with a DeLong confidence interval (:func:`mlcore.monitor.multivariate.delong_auc`).
The design matrix is the one the evaluation stage's domain check uses
(:mod:`mlcore.evaluate.domain`): numeric columns as they are, categorical columns as integer
codes handled natively by the gradient-boosted classifier.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> from mlcore.maintain import importance_weights
>>> rng = np.random.default_rng(0)
>>> old = pa.table({"x": rng.normal(0, 1, 3000)}); new = pa.table({"x": rng.normal(1, 1, 1000)})
>>> iw = importance_weights(old, new, ["x"], n_boot=0)
>>> bool(iw.weights[np.asarray(old["x"]) > 1].mean() > iw.weights[np.asarray(old["x"]) < 0].mean())
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import as_table
from ..errors import SchemaError, ShapeError

__all__ = ["ImportanceWeights", "importance_weights", "effective_sample_size"]

_MODELS = ("hgb", "logistic")


def effective_sample_size(weights: Any) -> float:
    """Kish's effective sample size of a weighted sample: ``(sum w)^2 / sum w^2``.

    Equal weights give the number of rows; one row holding all the weight gives 1. Negative or
    non-finite weights are an error (a weight is a density ratio).

    Examples
    --------
    >>> effective_sample_size([1.0, 1.0, 1.0, 1.0])
    4.0
    >>> round(effective_sample_size([1.0, 0.0, 0.0, 0.0]), 6)
    1.0
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0:
        return 0.0
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0 to have an effective sample size")
    s2 = float(np.dot(w, w))
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


@dataclass
class ImportanceWeights:
    """The result of :func:`importance_weights`.

    Attributes
    ----------
    weights : ndarray
        One weight per history row, mean 1 (clipped, normalised).
    recent_weights : ndarray
        One weight per recent row (``recent_weight`` for each, default 1).
    effective_sample_size : float
        Kish ESS of the history weights (``n_history`` when every weight is 1).
    domain_auc, domain_auc_interval
        Out-of-fold AUC of the domain classifier and its DeLong interval at ``confidence``.
    n_clipped : int
        History rows whose weight was clipped.
    """

    weights: np.ndarray = field(repr=False)
    recent_weights: np.ndarray = field(repr=False)
    effective_sample_size: float
    domain_auc: float
    domain_auc_interval: tuple
    n_history: int
    n_recent: int
    columns: list
    clip: float
    n_clipped: int
    n_splits: int
    model: str
    confidence: float = 0.95
    probabilities: np.ndarray = field(default=None, repr=False)  # out-of-fold p(recent | x), history rows

    @property
    def ess_ratio(self) -> float:
        """Effective sample size as a share of the history rows (1: the weights change nothing)."""
        return self.effective_sample_size / self.n_history if self.n_history else float("nan")

    def all_weights(self) -> np.ndarray:
        """History weights followed by recent weights (the order of ``concat_tables([history, recent])``)."""
        return np.concatenate([self.weights, self.recent_weights])

    def to_dict(self) -> dict:
        """JSON-safe summary (the weights themselves as quantiles, not one number per row)."""
        w = self.weights
        q = np.quantile(w, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]).tolist() if w.size else []
        return {
            "method": "density ratio from a cross-fitted domain classifier (history vs recent)",
            "model": self.model, "n_splits": self.n_splits, "columns": list(self.columns),
            "n_history": self.n_history, "n_recent": self.n_recent,
            "effective_sample_size": _f(self.effective_sample_size), "ess_ratio": _f(self.ess_ratio),
            "domain_auc": _f(self.domain_auc), "domain_auc_interval": [_f(v) for v in self.domain_auc_interval],
            "confidence": self.confidence, "clip": self.clip, "n_clipped": self.n_clipped,
            "weight_quantiles": dict(zip(["min", "p05", "p25", "p50", "p75", "p95", "max"], [_f(v) for v in q])),
            "recent_weight": _f(float(self.recent_weights[0])) if self.recent_weights.size else None,
        }


def _f(v: float) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _design(history: pa.Table, recent: pa.Table, columns: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both tables as float matrices over ``columns``, categorical columns as shared integer codes
    (the evaluation stage's encoding; a category seen only in recent data gets its own code)."""
    from ..evaluate.domain import _design as design, _is_numeric

    temporal = [c for c in columns if _is_temporal(history.column(c).type)]
    if temporal:  # time as a number (seconds); note that a time column separates eras trivially
        history = _temporal_as_float(history, temporal)
        recent = _temporal_as_float(recent, temporal)
    cats = {}
    for c in columns:
        h, r = history.column(c), recent.column(c)
        if _is_numeric(h.type) and _is_numeric(r.type):
            continue
        if pa.types.is_boolean(h.type) and pa.types.is_boolean(r.type):
            continue
        values = pc.unique(pa.chunked_array(
            [pc.cast(h, pa.string()).combine_chunks(), pc.cast(r, pa.string()).combine_chunks()])).to_pylist()
        cats[c] = {v: i for i, v in enumerate(v for v in values if v is not None)}
    bool_cols = [c for c in columns if pa.types.is_boolean(history.column(c).type)]
    if bool_cols:  # design() reads numbers or categories; a bool is a 0/1 number
        history = _bools_as_float(history, bool_cols)
        recent = _bools_as_float(recent, bool_cols)
    xh = design(history, columns, cats)
    xr = design(recent, columns, cats)
    # the classifier takes at most 255 categories natively; more become plain integer codes
    cat_mask = np.array([c in cats and len(cats[c]) <= 250 for c in columns], dtype=bool)
    # the classifier's categorical support wants codes in [0, n); nulls (None -> -1) become NaN
    for j in np.flatnonzero(cat_mask):
        for x in (xh, xr):
            col = x[:, j]
            col[col < 0] = np.nan
    return xh, xr, cat_mask


def _is_temporal(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_duration(t)


def _temporal_as_float(t: pa.Table, cols: list[str]) -> pa.Table:
    for c in cols:
        col = t.column(c)
        if pa.types.is_date(col.type):
            col = pc.cast(col, pa.timestamp("s"))
        if pa.types.is_timestamp(col.type):
            col = pc.cast(pc.cast(col, pa.timestamp(col.type.unit, tz=col.type.tz)), pa.int64())
        else:
            col = pc.cast(col, pa.int64())
        t = t.set_column(t.schema.get_field_index(c), c, pc.cast(col, pa.float64()))
    return t


def _bools_as_float(t: pa.Table, cols: list[str]) -> pa.Table:
    for c in cols:
        i = t.schema.get_field_index(c)
        t = t.set_column(i, c, pc.cast(t.column(c), pa.float64()))
    return t


def _classifier(model: str, cat_mask: np.ndarray, seed: int):
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    from sklearn.ensemble import HistGradientBoostingClassifier

    # early stopping on an inner validation split: on two samples from one distribution the
    # classifier stops after a few trees, so its probabilities stay near the base rate and the
    # weights near 1, instead of memorising noise
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40,
                                          early_stopping=True, validation_fraction=0.15, n_iter_no_change=10,
                                          categorical_features=cat_mask if cat_mask.any() else None,
                                          random_state=seed)


def importance_weights(history: Any, recent: Any, columns: Sequence[str] | None = None, *, n_splits: int = 5,
                       clip: float = 20.0, recent_weight: float = 1.0, max_rows: int = 100_000,
                       model: str = "hgb", seed: int = 0, n_boot: int | None = None,
                       confidence: float = 0.95, n_threads: int = 1) -> ImportanceWeights:
    """Importance weights of the history rows for the recent concept (see the module docstring).

    Parameters
    ----------
    history, recent : table-like
        The rows to weight (all labelled data available) and a sample of the current concept
        (the data since the drift; labels not needed).
    columns : list of str, optional
        Feature columns the classifier reads (default: every column the two tables share).
        Numeric, bool, string and dictionary columns; a null or NaN is a missing value.
    n_splits : int
        Folds of the cross-fitting (at least 2).
    clip : float
        Weights are capped at ``clip`` times their mean before normalising (``inf``: no cap).
    recent_weight : float
        The weight given to each recent row, when the recent rows are trained on too.
    max_rows : int
        At most this many rows per side train the classifiers (a random sample); every row is
        still weighted.
    model : {"hgb", "logistic"}
        Gradient-boosted trees (default: non-linear shifts, categories, missing values) or a
        standardised logistic regression (a log-linear density ratio, numeric columns).
    n_boot : int, optional
        Unused by the DeLong interval; ``0`` skips the interval (NaN) for speed. Kept so that
        callers may ask for no interval explicitly.
    n_threads : int
        OpenMP threads for the classifier (default 1: on a shared machine OpenMP's spinning
        threads slowed small fits by orders of magnitude, see ``mlcore.evaluate.domain``).

    Returns
    -------
    ImportanceWeights

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> rng = np.random.default_rng(1)
    >>> a = pa.table({"x": rng.normal(size=2000)}); b = pa.table({"x": rng.normal(size=1000)})
    >>> iw = importance_weights(a, b, n_boot=0)
    >>> iw.ess_ratio > 0.9
    True
    """
    from threadpoolctl import threadpool_limits

    if model not in _MODELS:
        raise ValueError(f"importance_weights: model={model!r}, expected one of {list(_MODELS)}")
    if int(n_splits) < 2:
        raise ValueError(f"importance_weights: n_splits={n_splits!r}, expected at least 2")
    if not (clip > 1.0):
        raise ValueError(f"importance_weights: clip={clip!r}, expected a number > 1 (or inf for no cap)")
    if not (recent_weight >= 0 and math.isfinite(recent_weight)):
        raise ValueError(f"importance_weights: recent_weight={recent_weight!r}, expected a finite number >= 0")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"importance_weights: confidence={confidence!r}, expected a value in (0, 1)")
    h = as_table(history)
    r = as_table(recent)
    if columns is None:
        cols = [c for c in h.column_names if c in set(r.column_names)]
    else:
        if isinstance(columns, str):
            raise TypeError(f"importance_weights: `columns` must be a list of names, got the string {columns!r}")
        cols = list(columns)
        missing = [c for c in cols if c not in h.column_names or c not in r.column_names]
        if missing:
            raise SchemaError(f"importance_weights: column(s) {missing} missing from the history or the recent data "
                              f"(history has {h.column_names[:20]}, recent has {r.column_names[:20]})")
    if not cols:
        raise SchemaError("importance_weights: the history and recent data share no column")
    need = 2 * int(n_splits)
    if h.num_rows < need or r.num_rows < need:
        raise ShapeError(f"importance_weights: need at least {need} rows on each side for {n_splits}-fold "
                         f"cross-fitting, got {h.num_rows} history and {r.num_rows} recent rows")
    h_sel, r_sel = h.select(cols), r.select(cols)
    xh, xr, cat_mask = _design(h_sel, r_sel, cols)
    if model == "logistic":
        if cat_mask.any():
            raise SchemaError(f"importance_weights: model='logistic' reads numeric columns only; "
                              f"{[c for c, m in zip(cols, cat_mask) if m]} are categorical (use model='hgb')")
        xh, xr = _impute_mean(xh, xr)
    with threadpool_limits(limits=int(n_threads)):
        p_hist, oof_pos, oof_neg = _cross_fit(xh, xr, cat_mask, n_splits=int(n_splits), max_rows=int(max_rows),
                                              model=model, seed=int(seed))
    auc, lo, hi = _auc_interval(oof_pos, oof_neg, confidence, skip=(n_boot == 0))
    p = np.clip(p_hist, 1e-6, 1 - 1e-6)
    w = p / (1.0 - p) * (xh.shape[0] / xr.shape[0])
    cap = clip * float(w.mean())
    n_clipped = int(np.sum(w > cap))
    w = np.minimum(w, cap)
    w = w / w.mean()
    rw = np.full(xr.shape[0], float(recent_weight))
    return ImportanceWeights(w, rw, effective_sample_size(w), auc, (lo, hi), h.num_rows, r.num_rows, cols,
                             float(clip), n_clipped, int(n_splits), model, float(confidence), p_hist)


def _impute_mean(xh: np.ndarray, xr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    both = np.vstack([xh, xr])
    means = np.nanmean(np.where(np.isfinite(both), both, np.nan), axis=0) if both.size else np.zeros(0)
    means = np.where(np.isfinite(means), means, 0.0)
    for x in (xh, xr):
        bad = ~np.isfinite(x)
        x[bad] = np.take(means, np.nonzero(bad)[1])
    return xh, xr


def _cross_fit(xh, xr, cat_mask, *, n_splits, max_rows, model, seed):
    """p(recent | x) for every history row, out of fold; and the out-of-fold scores of the
    training sample split by side (for the AUC)."""
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    hi = np.sort(rng.choice(xh.shape[0], min(xh.shape[0], max_rows), replace=False))
    ri = np.sort(rng.choice(xr.shape[0], min(xr.shape[0], max_rows), replace=False))
    X = np.vstack([xh[hi], xr[ri]])
    d = np.r_[np.zeros(hi.size, dtype=np.int64), np.ones(ri.size, dtype=np.int64)]
    oof = np.empty(d.size)
    models = []
    for tr, te in StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(X, d):
        clf = _classifier(model, cat_mask, seed)
        clf.fit(X[tr], d[tr])
        oof[te] = clf.predict_proba(X[te])[:, 1]
        models.append(clf)
    p_hist = np.empty(xh.shape[0])
    p_hist[hi] = oof[: hi.size]
    rest = np.ones(xh.shape[0], dtype=bool)
    rest[hi] = False
    if rest.any():  # rows outside the training sample: no fold model saw them
        p_hist[rest] = np.mean([m.predict_proba(xh[rest])[:, 1] for m in models], axis=0)
    # the classifier was trained at the sample ratio; the weight formula uses the full counts, so
    # rescale the odds when the two sides were sampled at different rates
    s_h, s_r = hi.size / xh.shape[0], ri.size / xr.shape[0]
    if s_h != s_r:
        odds = p_hist / np.clip(1 - p_hist, 1e-12, None) * (s_h / s_r)
        p_hist = odds / (1 + odds)
    return p_hist, oof[d == 1], oof[d == 0]


def _auc_interval(pos: np.ndarray, neg: np.ndarray, confidence: float, skip: bool) -> tuple[float, float, float]:
    from scipy import stats

    from ..monitor.multivariate import delong_auc

    auc, se = delong_auc(pos, neg)
    if skip or not math.isfinite(se):
        return auc, float("nan"), float("nan")
    q = float(stats.norm.isf((1 - confidence) / 2))
    return auc, max(0.0, auc - q * se), min(1.0, auc + q * se)
