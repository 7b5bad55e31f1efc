"""Concept drift P(Y|X), inputs with predictions P(X, Ŷ), predictions P(Ŷ) and the model's error.

The input distribution P(X) is the business of :class:`~mlcore.monitor.DriftMonitor` and the
multivariate tests. Once labels arrive, the question is whether the *concept* changed: whether
P(Y | X) moved, which P(X) alone cannot show and which a change of P(X) alone must not fake.

:func:`concept_drift` answers it with two tests on the same rows:

- **Joint vs inputs-only domain classifier** (the verdict). Two gradient-boosted classifiers tell
  current rows from reference rows, one on X, one on (X, Y); their out-of-fold scores are
  compared with DeLong's paired test of two correlated AUCs (DeLong, DeLong & Clarke-Pearson 1988).
  If P(Y|X) is unchanged, the best discriminator depends on X alone, so adding Y cannot raise the
  AUC: H0 is AUC(X, Y) = AUC(X), one-sided. A change of P(X) alone raises both AUCs together and
  is not called concept drift. The effect size is AUC(X, Y) − AUC(X); the verdict needs p ≤ alpha
  and an effect ≥ ``auc_floor``.
- **Error shift under importance weights** (the explanation, also per segment). A model fitted on
  half the reference predicts Y on the other half and on the current rows. Under H0 the current
  mean error equals the held-out reference error reweighted by the density ratio
  w(x) = P_cur(x)/P_ref(x), read from the inputs-only domain classifier (w = p/(1−p)·n_ref/n_cur,
  capped at ``max_weight``), so a change of P(X) towards regions where the model errs more is
  not mistaken for concept drift. Reported: the difference with a normal (1 − alpha) interval
  and its p-value (two-sided); per segment with Bonferroni across segments. The error is the
  0/1 loss for a classification target and the squared error for a regression target. This
  test is approximate: the weights are estimated, and under a strong shift of P(X) (few
  effective reference rows, capped weights) its p-value can fall below the level without a
  concept change (seen in 2 of 24 seeded runs with a 1 σ input shift). It explains and locates a
  drift; the verdict is the joint test's.

:func:`prediction_drift` covers P(Ŷ) (univariate tests of the prediction column) and P(X, Ŷ)
(the domain classifier on the inputs with the prediction). :func:`error_drift` compares logged
errors (a prediction and its label) of two windows: univariate tests of the per-row loss and the
difference of mean error with a confidence interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
from scipy import stats

from .. import _arrow
from ..errors import SchemaError, ShapeError
from .multiple import adjust_pvalues
from .multivariate import _matrix, delong_auc, domain_classifier_test
from .result import TestResult

__all__ = ["ConceptDriftReport", "concept_drift", "prediction_drift", "error_drift", "delong_paired"]


@dataclass(frozen=True)
class ConceptDriftReport:
    """What :func:`concept_drift` found: the verdict test, the error shift, per-segment shifts."""

    joint: TestResult
    error: TestResult
    segments: dict = field(default_factory=dict)
    alpha: float = 0.05
    auc_floor: float = 0.01

    @property
    def drifted(self) -> bool:
        """Concept drift: the (X, Y) classifier beats the X classifier significantly and by at
        least ``auc_floor``. NaN (too few rows) never counts as drift."""
        p, e = self.joint.p_value, self.joint.effect_size
        return bool(p is not None and math.isfinite(p) and p <= self.alpha and math.isfinite(e) and e >= self.auc_floor)

    @property
    def drifted_segments(self) -> list:
        """Segments whose error shift is significant after Bonferroni across segments."""
        return [s for s, r in self.segments.items() if r.details.get("significant")]

    def events(self, where: str = "") -> list:
        """Recorded events (:class:`~mlcore.monitor.Event`, kind ``"concept"``): one for the
        verdict when it is drift, one per segment whose error shift is significant. They go to
        :class:`~mlcore.monitor.AlertManager` rules and :meth:`MonitorStore.add_events` like any
        other event."""
        from .events import Event

        out = []
        target = self.joint.column
        if self.drifted:
            d = self.joint.details
            out.append(Event("concept", target or "", where, {
                "test": self.joint.test, "auc_gain": self.joint.effect_size, "p_value": self.joint.p_value,
                "auc_x": d.get("auc_x"), "auc_xy": d.get("auc_xy"), "auc_floor": self.auc_floor,
                "error_shift": self.error.statistic, "error_ci": self.error.details.get("ci")}))
        for seg in self.drifted_segments:
            r = self.segments[seg]
            out.append(Event("concept", target or "", f"{where}/{seg}" if where else str(seg), {
                "test": r.test, "segment": seg, "error_shift": r.statistic, "ci": r.details.get("ci"),
                "adjusted_p_value": r.details.get("adjusted_p_value")}))
        return out

    def to_dict(self) -> dict:
        return {"drifted": self.drifted, "alpha": self.alpha, "auc_floor": self.auc_floor,
                "joint": self.joint.to_dict(), "error": self.error.to_dict(),
                "segments": {str(k): v.to_dict() for k, v in self.segments.items()}}


def _structural(v10a, v01a, v10b, v01b):
    m, n = v10a.size, v01a.size
    s10 = np.cov(np.vstack([v10a, v10b]), ddof=1)
    s01 = np.cov(np.vstack([v01a, v01b]), ddof=1)
    return s10 / m + s01 / n


def _components(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, n = pos.size, neg.size
    allr = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (allr[:m] - stats.rankdata(pos)) / n
    v01 = 1.0 - (allr[m:] - stats.rankdata(neg)) / m
    return v10, v01


def delong_paired(pos_a: np.ndarray, neg_a: np.ndarray, pos_b: np.ndarray, neg_b: np.ndarray) -> tuple[float, float, float]:
    """AUC(b) − AUC(a) of two scores of the same rows, its DeLong standard error, and the
    correlation-aware z (DeLong, DeLong & Clarke-Pearson 1988, paired form).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.monitor.concept import delong_paired
    >>> d, se, z = delong_paired(np.array([.6, .4, .7]), np.array([.5, .3]), np.array([.9, .8, .7]), np.array([.1, .2]))
    >>> round(d, 4)
    0.1667
    """
    v10a, v01a = _components(pos_a, neg_a)
    v10b, v01b = _components(pos_b, neg_b)
    diff = float(v10b.mean() - v10a.mean())
    if pos_a.size < 2 or neg_a.size < 2:
        return diff, math.nan, math.nan
    s = _structural(v10a, v01a, v10b, v01b)
    var = float(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    se = math.sqrt(var) if var > 0 else 0.0
    z = diff / se if se > 0 else (math.inf if diff > 0 else (-math.inf if diff < 0 else 0.0))
    return diff, se, z


def _target_vector(table: pa.Table, target: str, categories: list | None) -> tuple[np.ndarray, list | None]:
    """Numeric targets as float64 (nulls NaN); others as category codes of ``categories``
    (extended with the new values, in order of appearance; nulls NaN)."""
    import pyarrow.compute as pc

    col = _arrow.get_column(table, target)
    kind = _arrow.type_kind(col.type)
    if kind == "numeric" and categories is None:
        return col.to_numpy(zero_copy_only=False).astype(np.float64), None
    if kind not in ("numeric", "string", "dictionary", "bool"):
        raise SchemaError(f"Expected a numeric, string, dictionary or bool target, got `{col.type}` - at column `{target}`")
    if kind == "dictionary":
        col = col.cast(col.type.value_type)
    cats = list(categories or [])
    known = set(cats)
    cats += [v for v in pc.unique(col).to_pylist() if v is not None and v not in known]
    codes = pc.index_in(col, value_set=pa.array(cats, col.type) if cats else pa.array([], col.type))
    return codes.to_numpy(zero_copy_only=False).astype(np.float64), cats  # nulls -> NaN


def _task_of(table: pa.Table, target: str, task: str | None) -> str:
    if task is not None:
        if task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
        return task
    t = _arrow.get_column(table, target).type
    return "regression" if pa.types.is_floating(t) else "classification"


def _sample(mask_ok: np.ndarray, max_rows: int, rng) -> np.ndarray:
    idx = np.nonzero(mask_ok)[0]
    if idx.size > max_rows:
        idx = np.sort(rng.choice(idx, max_rows, replace=False))
    return idx


def concept_drift(reference: Any, current: Any, features: Sequence[str], target: str, *, task: str | None = None,
                  segment_by: str | None = None, alpha: float = 0.05, auc_floor: float = 0.01, n_folds: int = 5,
                  max_rows: int = 50_000, max_weight: float = 20.0, seed: int = 0) -> ConceptDriftReport:
    """Test whether P(Y | X) changed between ``reference`` and ``current`` (see the module doc).

    Parameters
    ----------
    reference, current : table-like
        Rows with the numeric ``features`` and the ``target`` (labels that have arrived).
    features : list of str
        The inputs X (numeric columns).
    target : str
        The label Y: numeric (regression when floating) or categorical (classification).
    task : {"classification", "regression"}, optional
        Overrides the guess from the target's type.
    segment_by : str, optional
        A column whose values define segments: the error shift is reported per segment.
    alpha, auc_floor : float
        Level of the one-sided paired DeLong test, and the smallest AUC gain called drift.
    n_folds, max_rows, seed
        Out-of-fold folds, rows kept per side (a seeded random subsample), seed.
    max_weight : float
        Cap of the density-ratio weights of the error shift.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import concept_drift
    >>> rng = np.random.default_rng(0)
    >>> x1, x2 = rng.normal(size=1500), rng.normal(size=1500)
    >>> ref = pa.table({"x": x1, "y": (x1 + 0.3 * rng.normal(size=1500) > 0).astype(np.int64)})
    >>> cur = pa.table({"x": x2, "y": (-x2 + 0.3 * rng.normal(size=1500) > 0).astype(np.int64)})
    >>> rep = concept_drift(ref, cur, ["x"], "y", n_folds=3)
    >>> rep.drifted, rep.joint.effect_size > 0.3
    (True, True)
    """
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    features = list(features)
    if target in features:
        raise ValueError(f"the target `{target}` is also listed among the features")
    rt, ct = _arrow.as_table(reference), _arrow.as_table(current)
    task = _task_of(rt, target, task)
    xr, _ = _matrix(rt, features)
    xc, _ = _matrix(ct, features)
    cats = None
    if task == "classification":
        yr, cats = _target_vector(rt, target, [])
        yc, cats = _target_vector(ct, target, cats)
    else:
        yr, _ = _target_vector(rt, target, None)
        yc, _ = _target_vector(ct, target, None)
    rng = np.random.default_rng(seed)
    ir = _sample(np.all(np.isfinite(xr), axis=1) & np.isfinite(yr), max_rows, rng)
    ic = _sample(np.all(np.isfinite(xc), axis=1) & np.isfinite(yc), max_rows, rng)
    n1, n2 = ir.size, ic.size
    if min(n1, n2) < max(2 * n_folds, 20):
        why = f"too few complete rows ({n1}, {n2})"
        nan = TestResult(target, "concept_domain_classifier", math.nan, None, math.nan, "AUC(X,Y) - AUC(X)", None,
                         why, n1, n2, "none")
        err = TestResult(target, "concept_error_shift", math.nan, None, math.nan, "error difference", None,
                         why, n1, n2, "none")
        return ConceptDriftReport(nan, err, {}, alpha, auc_floor)
    x = np.vstack([xr[ir], xc[ic]])
    y = np.r_[yr[ir], yc[ic]]
    origin = np.r_[np.zeros(n1), np.ones(n2)]
    oof_x, oof_xy = np.empty(origin.size), np.empty(origin.size)
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    xy = np.column_stack([x, y])
    cat_idx = [x.shape[1]] if task == "classification" and len(cats) <= 255 else None
    with threadpool_limits(limits=1, user_api="openmp"):  # see domain_classifier_test
        from sklearn.ensemble import HistGradientBoostingClassifier as HGB

        for train, test in folds.split(x, origin):
            oof_x[test] = HGB(max_iter=100, random_state=seed).fit(x[train], origin[train]).predict_proba(x[test])[:, 1]
            m = HGB(max_iter=100, random_state=seed, categorical_features=cat_idx)
            oof_xy[test] = m.fit(xy[train], origin[train]).predict_proba(xy[test])[:, 1]
        pos, neg = origin == 1, origin == 0
        diff, se, z = delong_paired(oof_x[pos], oof_x[neg], oof_xy[pos], oof_xy[neg])
        auc_x = delong_auc(oof_x[pos], oof_x[neg])[0]
        p = math.nan if math.isnan(z) else float(stats.norm.sf(z))
        q = stats.norm.isf(alpha)
        joint = TestResult(target, "concept_domain_classifier", diff, p, diff, "AUC(X,Y) - AUC(X)", alpha, "alpha",
                           n1, n2, f"{n_folds}-fold out-of-fold AUCs, paired DeLong z (one-sided)",
                           details={"auc_x": auc_x, "auc_xy": auc_x + diff, "se": se, "z": z,
                                    "lower_bound": diff - q * se if math.isfinite(se) else math.nan,
                                    "auc_floor": auc_floor, "task": task, "features": features})
        error, segments = _error_shift(x, y, origin, oof_x, task, cats, rt, ct, ir, ic, segment_by, alpha,
                                       max_weight, seed, target)
    return ConceptDriftReport(joint, error, segments, alpha, auc_floor)


def _weighted_diff(loss_cur: np.ndarray, loss_ref: np.ndarray, w: np.ndarray, alpha: float, name: str,
                   column: str | None, extra: dict) -> TestResult:
    n_cur, n_ref = loss_cur.size, loss_ref.size
    if n_cur < 2 or n_ref < 2 or w.sum() <= 0:
        return TestResult(column, name, math.nan, None, math.nan, "error difference", None,
                          f"too few rows ({n_ref}, {n_cur})", n_ref, n_cur, "none", details=dict(extra))
    wn = w / w.sum()
    ref_mean = float(np.sum(wn * loss_ref))
    cur_mean = float(loss_cur.mean())
    var = float(loss_cur.var(ddof=1)) / n_cur + float(np.sum(wn ** 2 * (loss_ref - ref_mean) ** 2))
    d = cur_mean - ref_mean
    se = math.sqrt(var) if var > 0 else 0.0
    p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else (1.0 if d == 0 else 0.0)
    q = stats.norm.isf(alpha / 2)
    ess = float(1.0 / np.sum(wn ** 2))
    return TestResult(column, name, d, p, d, "current error - weighted reference error", alpha, "alpha", n_ref, n_cur,
                      "importance-weighted difference of means, normal interval",
                      details={"current_error": cur_mean, "reference_error_weighted": ref_mean, "se": se,
                               "ci": [d - q * se, d + q * se], "effective_reference_rows": ess} | extra)


def _error_shift(x, y, origin, oof_x, task, cats, rt, ct, ir, ic, segment_by, alpha, max_weight, seed, target):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    rng = np.random.default_rng(seed + 1)
    ref_rows = np.nonzero(origin == 0)[0]
    cur_rows = np.nonzero(origin == 1)[0]
    perm = rng.permutation(ref_rows)
    fit_rows, hold_rows = np.sort(perm[: perm.size // 2]), np.sort(perm[perm.size // 2:])
    if task == "classification":
        model = HistGradientBoostingClassifier(max_iter=100, random_state=seed).fit(x[fit_rows], y[fit_rows])
        loss = (model.predict(x) != y).astype(np.float64)
        kind = "0/1 error"
    else:
        model = HistGradientBoostingRegressor(max_iter=100, random_state=seed).fit(x[fit_rows], y[fit_rows])
        loss = (model.predict(x) - y) ** 2
        kind = "squared error"
    pc = np.clip(oof_x, 1e-6, 1 - 1e-6)
    w = np.minimum(pc / (1 - pc) * (ref_rows.size / cur_rows.size), max_weight)
    extra = {"loss": kind, "max_weight": max_weight, "weights_capped": int(np.sum(w[hold_rows] >= max_weight))}
    overall = _weighted_diff(loss[cur_rows], loss[hold_rows], w[hold_rows], alpha, "concept_error_shift", target, extra)
    segments = {}
    if segment_by is not None:
        # only the sampled rows' segment values are read (at most 2 * max_rows)
        sr = _arrow.get_column(rt, segment_by).take(pa.array(ir)).to_pylist()
        sc = _arrow.get_column(ct, segment_by).take(pa.array(ic)).to_pylist()
        values = sorted(set(sr) | set(sc), key=lambda v: (v is None, str(v)))
        code = {v: k for k, v in enumerate(values)}
        seg = np.array([code[v] for v in sr + sc], dtype=np.int64)
        res = {}
        for k, v in enumerate(values):
            mh = seg[hold_rows] == k
            mc = seg[cur_rows] == k
            res[v] = _weighted_diff(loss[cur_rows][mc], loss[hold_rows][mh], w[hold_rows][mh], alpha,
                                    "concept_error_shift", target, dict(extra, segment=v))
        adj = adjust_pvalues([r.p_value for r in res.values()], "bonferroni")
        for (v, r), a in zip(res.items(), adj):
            r.details["adjusted_p_value"] = None if math.isnan(a) else float(a)
            r.details["significant"] = bool(not math.isnan(a) and a <= alpha)
            segments[v] = r
    return overall, segments


def prediction_drift(reference: Any, current: Any, prediction: str, features: Sequence[str] | None = None, *,
                     alpha: float = 0.05, n_folds: int = 5, max_rows: int = 50_000, seed: int = 0, **monitor_kwargs) -> dict:
    """Drift of the predictions P(Ŷ) and of the inputs with the predictions P(X, Ŷ).

    Returns ``{"predictions": DriftReport, "inputs_with_predictions": TestResult}``: the first is
    :class:`~mlcore.monitor.DriftMonitor`'s check of the prediction column alone (numeric or
    categorical), the second the domain classifier on the numeric ``features`` plus the
    prediction (categorical predictions enter as category codes). A drift of P(X, Ŷ) with a
    stable P(X) means the model itself changed (a new version, a broken feature pipeline).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import prediction_drift
    >>> rng = np.random.default_rng(0)
    >>> ref = pa.table({"x": rng.normal(size=800), "p": rng.uniform(size=800)})
    >>> cur = pa.table({"x": rng.normal(size=800), "p": rng.uniform(size=800) ** 2})
    >>> prediction_drift(ref, cur, "p", ["x"], n_folds=3)["predictions"].drifted
    True
    """
    from .drift import DriftMonitor

    rt, ct = _arrow.as_table(reference), _arrow.as_table(current)
    pred_report = DriftMonitor(columns=[prediction], alpha=alpha, **monitor_kwargs).fit(rt).check(ct)
    features = list(features) if features is not None else [
        n for n, f in zip(rt.column_names, rt.schema) if _arrow.type_kind(f.type) == "numeric" and n != prediction]
    kind = _arrow.type_kind(_arrow.get_column(rt, prediction).type)
    if kind != "numeric":
        pr, cats = _target_vector(rt, prediction, [])
        pcur, _ = _target_vector(ct, prediction, cats)
        rt = rt.append_column("__prediction_code", pa.array(pr))
        ct = ct.append_column("__prediction_code", pa.array(pcur))
        cols = features + ["__prediction_code"]
    else:
        cols = features + [prediction]
    joint = domain_classifier_test(rt, ct, cols, alpha=alpha, n_folds=n_folds, max_rows=max_rows, seed=seed)
    return {"predictions": pred_report, "inputs_with_predictions": joint}


def _loss(table: pa.Table, target: str, prediction: str, task: str) -> np.ndarray:
    yt = _arrow.get_column(table, target)
    pt = _arrow.get_column(table, prediction)
    if task == "regression":
        y = yt.to_numpy(zero_copy_only=False).astype(np.float64)
        p = pt.to_numpy(zero_copy_only=False).astype(np.float64)
        out = (p - y) ** 2
        return out[np.isfinite(out)]
    import pyarrow.compute as pc

    if yt.type != pt.type:
        try:
            pt = pt.cast(yt.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SchemaError(f"Prediction `{prediction}` ({pt.type}) cannot be compared with target "
                              f"`{target}` ({yt.type})") from exc
    wrong = pc.drop_null(pc.not_equal(yt, pt))
    return wrong.to_numpy(zero_copy_only=False).astype(np.float64)


def error_drift(reference: Any, current: Any, target: str, prediction: str, *, task: str | None = None,
                alpha: float = 0.05) -> dict:
    """Did the model's error change? Logged predictions with their labels, two windows.

    The per-row loss (squared error for a floating target, 0/1 error otherwise; rows with a null
    or NaN left out) of each window; returns ``{"loss_report": DriftReport}`` (Cramér-von Mises
    on the loss distributions) and ``"mean_error": TestResult`` (Welch's difference of mean error,
    current − reference, with a (1 − alpha) normal interval and its two-sided p-value).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import error_drift
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 4000)
    >>> ref = pa.table({"y": y[:2000], "p": np.where(rng.random(2000) < 0.9, y[:2000], 1 - y[:2000])})
    >>> cur = pa.table({"y": y[2000:], "p": np.where(rng.random(2000) < 0.7, y[2000:], 1 - y[2000:])})
    >>> r = error_drift(ref, cur, "y", "p")["mean_error"]
    >>> r.p_value < 1e-6, round(r.statistic, 1)
    (True, 0.2)
    """
    from .drift import DriftMonitor

    rt, ct = _arrow.as_table(reference), _arrow.as_table(current)
    task = _task_of(rt, target, task)
    lr, lc = _loss(rt, target, prediction, task), _loss(ct, target, prediction, task)
    if lr.size < 2 or lc.size < 2:
        raise ShapeError(f"error_drift needs at least 2 labelled rows per window, found {lr.size} and {lc.size}")
    rep = DriftMonitor(alpha=alpha).fit(pa.table({"loss": lr})).check(pa.table({"loss": lc}))
    d = float(lc.mean() - lr.mean())
    se = math.sqrt(lc.var(ddof=1) / lc.size + lr.var(ddof=1) / lr.size)
    p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else (1.0 if d == 0 else 0.0)
    q = stats.norm.isf(alpha / 2)
    kind = "squared error" if task == "regression" else "0/1 error"
    mean = TestResult(prediction, "error_shift", d, p, d, "current mean error - reference mean error", alpha, "alpha",
                      int(lr.size), int(lc.size), "Welch difference of means, normal interval",
                      details={"loss": kind, "reference_error": float(lr.mean()), "current_error": float(lc.mean()),
                               "ci": [d - q * se, d + q * se], "se": se})
    return {"loss_report": rep, "mean_error": mean}
