"""Bootstrap confidence intervals for every metric, and the registry of metric names.

Method: the Poisson bootstrap. In each of ``n_boot`` resamples, row ``i`` gets a count drawn from
Poisson(1), a pure function of (seed, resample, row) (see ``mlcore._kernels.metric_bootstrap``),
so a resample never materialises: a compiled pass accumulates the sufficient statistics of the
metric with weights ``count * sample_weight``:

- label metrics: a weighted confusion matrix per resample, from which accuracy, balanced
  accuracy, precision, recall and F1 follow;
- log loss, Brier, MAE, MSE, RMSE, MAPE, pinball: the weighted sum of per-row losses (computed once);
- R^2: sums of squared residuals and of centred y and y^2; ECE: per-bin sums of weight, outcome,
  probability (bins assigned once);
- ROC AUC and average precision: the scores are sorted **once**; each resample is then one
  linear pass over the sorted order with its counts (no re-sort). For the AUC the pass is
  branch-free: the weighted-midrank identity S = AUC * P * N + P^2 / 2 (S the count-weighted sum
  of the positives' midranks) lets tie groups be handled by running totals.

The interval is the percentile interval of the resampled values (resamples where the metric is
undefined, such as an AUC with no negative drawn, are left out). Resampling is parallel over
resamples and reproducible whatever the number of threads.

Examples
--------
>>> import numpy as np
>>> from mlcore.evaluate.bootstrap import bootstrap_metric
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, 2000); s = y * 0.5 + rng.random(2000)
>>> ci = bootstrap_metric("roc_auc", y, s, n_boot=200, seed=1)
>>> ci.low < ci.value < ci.high
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from .._kernels import metric_bootstrap as _mb
from .._kernels import metric_classification as _mc
from .._kernels._jit import parallel_section
from . import metrics as M
from ._inputs import MetricInputError, as_1d, as_scores, as_weights, binary_target, check_lengths, encode, unique_labels

__all__ = ["MetricSpec", "METRICS", "Interval", "metric_spec", "compute_metric", "bootstrap_samples",
           "bootstrap_metric"]


@dataclass(frozen=True)
class MetricSpec:
    """A metric known by name: what it reads from a predictor and which way is better.

    ``needs`` is 'label' (predicted labels), 'score' (a binary score), 'proba' (probabilities,
    1-D for binary or (n, K)) or 'regression' (predicted values).
    """

    name: str
    needs: str
    greater_is_better: bool
    point: Callable = field(repr=False)
    boot: Callable = field(repr=False)
    defaults: dict = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Interval:
    """A metric value with its bootstrap percentile interval."""

    metric: str
    value: float
    low: float
    high: float
    confidence: float
    n_boot: int
    n_valid: int
    method: str = "poisson-bootstrap percentile"

    def to_dict(self) -> dict:
        return asdict(self)


def _run_group_sums(group, vals, w, n_groups, n_boot, seed):
    out = np.zeros((n_boot, n_groups, vals.shape[1] + 1))
    with parallel_section():
        _mb.group_sums(np.ascontiguousarray(group, dtype=np.int64), np.ascontiguousarray(vals, dtype=np.float64),
                       w, int(n_groups), int(n_boot), np.uint64(seed), out)
    return out


def _label_setup(y_true, y_pred, sample_weight, metric):
    t = as_1d(y_true, metric, "y_true")
    p = as_1d(y_pred, metric, "y_pred")
    n = check_lengths(metric, y_true=t, y_pred=p)
    w = as_weights(sample_weight, n, metric)
    classes = unique_labels(t, p)
    return encode(t, classes), encode(p, classes), w, classes


def _boot_cm(y_true, y_pred, w_in, n_boot, seed, metric):
    tc, pc, w, classes = _label_setup(y_true, y_pred, w_in, metric)
    k = classes.size
    out = _run_group_sums(tc * k + pc, np.zeros((tc.size, 0)), w, k * k, n_boot, seed)
    return out[:, :, 0].reshape(n_boot, k, k), classes


def _label_metric(which, average=None):
    name = {0: "precision_score", 1: "recall_score", 2: "f1_score"}[which]

    def point(y, p, w, average=average or "binary", pos_label=1, zero_division=0.0):
        fn = {0: M.precision_score, 1: M.recall_score, 2: M.f1_score}[which]
        return fn(y, p, sample_weight=w, average=average, pos_label=pos_label, zero_division=zero_division)

    def boot(y, p, w, n_boot, seed, average=average or "binary", pos_label=1, zero_division=0.0):
        cm, classes = _boot_cm(y, p, w, n_boot, seed, name)
        return M.prf_from_cm(cm, classes, average=average, pos_label=pos_label,
                             zero_division=float(zero_division), metric=name)[which]

    return point, boot


def _acc_point(y, p, w):
    return M.accuracy_score(y, p, sample_weight=w)


def _acc_boot(y, p, w, n_boot, seed):
    return M.accuracy_from_cm(_boot_cm(y, p, w, n_boot, seed, "accuracy_score")[0])


def _bacc_point(y, p, w):
    return M.balanced_accuracy_score(y, p, sample_weight=w)


def _bacc_boot(y, p, w, n_boot, seed):
    return M.balanced_accuracy_from_cm(_boot_cm(y, p, w, n_boot, seed, "balanced_accuracy_score")[0])


def _rank_setup(y, s, w_in, metric):
    t = as_1d(y, metric, "y_true")
    s = as_scores(s, metric, "y_score")
    n = check_lengths(metric, y_true=t, y_score=s)
    w = as_weights(w_in, n, metric)
    is_pos, _ = binary_target(t, metric)
    return is_pos, s, w


def _rank_boot(is_pos, s, w, n_boot, seed):
    order = np.argsort(s)
    auc = np.empty(n_boot)
    ap = np.empty(n_boot)
    with parallel_section():
        _mb.rank_sorted_boot(s[order], is_pos[order], w[order] if w.size else w, order, int(n_boot),
                             np.uint64(seed), auc, ap)
    return auc, ap


def _auc_point(y, s, w):
    return M.roc_auc_score(y, s, sample_weight=w)


def _auc_only_boot(is_pos, s, w, n_boot, seed):
    order = np.argsort(s)
    ss = s[order]
    start = np.empty(ss.size, dtype=np.uint8)
    _mb.group_starts(ss, start)
    out = np.empty(n_boot)
    with parallel_section():
        _mb.auc_sorted_boot(start, is_pos[order], w[order] if w.size else w, order, int(n_boot), np.uint64(seed), out)
    return out


def _auc_boot(y, s, w, n_boot, seed):
    return _auc_only_boot(*_rank_setup(y, s, w, "roc_auc_score"), n_boot, seed)


def _ap_point(y, s, w):
    return M.average_precision_score(y, s, sample_weight=w)


def _ap_boot(y, s, w, n_boot, seed):
    return _rank_boot(*_rank_setup(y, s, w, "average_precision_score"), n_boot, seed)[1]


def _ovr_point(y, P, w, average="macro"):
    return M.roc_auc_score(y, P, sample_weight=w, multi_class="ovr", average=average)


def _ovr_boot(y, P, w, n_boot, seed, average="macro"):
    codes, s, ww, classes = M._ovr_setup(y, P, w, None, "roc_auc_score")
    aucs = np.empty((classes.size, n_boot))
    sup = np.empty((classes.size, n_boot)) if average == "weighted" else None
    for k in range(classes.size):
        is_pos = np.ascontiguousarray(codes == k).view(np.uint8)
        aucs[k] = _auc_only_boot(is_pos, np.ascontiguousarray(s[:, k]), ww, n_boot, seed)
        if sup is not None:
            sup[k] = _run_group_sums(np.zeros(codes.size, dtype=np.int64), is_pos[:, None].astype(np.float64),
                                     ww, 1, n_boot, seed)[:, 0, 1]
    if sup is not None:
        return (aucs * sup).sum(0) / sup.sum(0)
    return aucs.mean(0)


def _rows_metric(rows_fn, finish=lambda x: x):
    def boot(y, p, w_in, n_boot, seed, **kw):
        rows = rows_fn(y, p, **kw)
        w = as_weights(w_in, rows.size, "bootstrap")
        out = _run_group_sums(np.zeros(rows.size, dtype=np.int64), rows[:, None], w, 1, n_boot, seed)
        with np.errstate(invalid="ignore", divide="ignore"):
            return finish(out[:, 0, 1] / out[:, 0, 0])
    return boot


def _reg_rows(col):
    def rows(y, p, alpha=0.5):
        from .._kernels import metric_regression as _mreg
        t = as_scores(y, "bootstrap", "y_true")
        q = as_scores(p, "bootstrap", "y_pred")
        check_lengths("bootstrap", y_true=t, y_pred=q)
        out = np.empty((t.size, 4))
        _mreg.regression_rows(t, q, float(alpha), float(np.finfo(np.float64).eps), out)
        return np.ascontiguousarray(out[:, col])
    return rows


def _r2_boot(y, p, w_in, n_boot, seed):
    t = as_scores(y, "r2_score", "y_true")
    q = as_scores(p, "r2_score", "y_pred")
    check_lengths("r2_score", y_true=t, y_pred=q)
    w = as_weights(w_in, t.size, "r2_score")
    yc = t - _mc.weighted_mean(t, w)[0]  # centring keeps the per-resample variance free of cancellation
    vals = np.column_stack([(t - q) ** 2, yc, yc * yc])
    s = _run_group_sums(np.zeros(t.size, dtype=np.int64), vals, w, 1, n_boot, seed)[:, 0, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        ss_tot = s[:, 3] - s[:, 2] ** 2 / s[:, 0]
        r2 = 1.0 - s[:, 1] / ss_tot
        return np.where(ss_tot > 0, r2, np.where(s[:, 1] == 0, 1.0, 0.0))


def _ece_point(y, p, w, n_bins=10):
    return M.expected_calibration_error(y, p, sample_weight=w, n_bins=n_bins)


def _ece_boot(y, p, w_in, n_boot, seed, n_bins=10):
    bins, _, _, _ = M.calibration_bins(y, p, n_bins=n_bins)
    t = as_1d(y, "expected_calibration_error", "y_true")
    pp = as_scores(p, "expected_calibration_error", "y_proba", allow_2d=True)
    if pp.ndim == 1:
        outcome = M._binary_lenient(t, "expected_calibration_error", None).astype(np.float64)
        conf = pp
    else:
        codes, _ = M._proba_codes(t, pp, None, "expected_calibration_error")
        outcome = (pp.argmax(1) == codes).astype(np.float64)
        conf = pp.max(1)
    w = as_weights(w_in, t.size, "expected_calibration_error")
    s = _run_group_sums(bins, np.column_stack([outcome, conf]), w, n_bins, n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(s[:, :, 0] > 0, np.abs(s[:, :, 1] - s[:, :, 2]), 0.0)
        return gap.sum(1) / s[:, :, 0].sum(1)


def _fn(f, **fixed):
    def point(y, p, w, **kw):
        return f(y, p, sample_weight=w, **{**fixed, **kw})
    return point


def _build_registry() -> dict[str, MetricSpec]:
    reg = {}

    def add(name, needs, gib, point, boot, description, **defaults):
        reg[name] = MetricSpec(name, needs, gib, point, boot, defaults, description)

    add("accuracy", "label", True, _acc_point, _acc_boot, "share of correct labels")
    add("balanced_accuracy", "label", True, _bacc_point, _bacc_boot, "mean recall over true classes")
    for which, base in enumerate(("precision", "recall", "f1")):
        add(base, "label", True, *_label_metric(which), f"{base} of pos_label (average='binary')")
        for avg in ("macro", "weighted", "micro"):
            add(f"{base}_{avg}", "label", True, *_label_metric(which, avg), f"{base}, {avg} average")
    add("roc_auc", "score", True, _auc_point, _auc_boot, "area under the ROC curve (binary)")
    add("roc_auc_ovr", "proba", True, _ovr_point, _ovr_boot, "one-vs-rest ROC AUC, macro average")
    add("roc_auc_ovr_weighted", "proba", True, lambda y, p, w: _ovr_point(y, p, w, "weighted"),
        lambda y, p, w, n, s: _ovr_boot(y, p, w, n, s, "weighted"), "one-vs-rest ROC AUC, weighted by support")
    add("average_precision", "score", True, _ap_point, _ap_boot, "area under the precision-recall steps")
    add("log_loss", "proba", False, _fn(M.log_loss), _rows_metric(M.log_loss_rows), "cross-entropy")
    add("brier_score", "proba", False, _fn(M.brier_score_loss), _rows_metric(M.brier_rows), "Brier score")
    add("expected_calibration_error", "proba", False, _ece_point, _ece_boot, "ECE on uniform bins")
    add("mae", "regression", False, _fn(M.mean_absolute_error), _rows_metric(_reg_rows(0)), "mean absolute error")
    add("mse", "regression", False, _fn(M.mean_squared_error), _rows_metric(_reg_rows(1)), "mean squared error")
    add("rmse", "regression", False, _fn(M.root_mean_squared_error), _rows_metric(_reg_rows(1), np.sqrt),
        "root mean squared error")
    add("mape", "regression", False, _fn(M.mean_absolute_percentage_error), _rows_metric(_reg_rows(2)),
        "mean absolute percentage error (a fraction)")
    add("r2", "regression", True, _fn(M.r2_score), _r2_boot, "coefficient of determination")
    add("pinball_loss", "regression", False, _fn(M.mean_pinball_loss), _rows_metric(_reg_rows(3)),
        "mean pinball loss (param alpha, default 0.5)")
    return reg


#: Every metric known by name (what a goal may list, besides the gate's own metrics).
METRICS: dict[str, MetricSpec] = _build_registry()
_ALIASES = {"ece": "expected_calibration_error", "brier_score_loss": "brier_score", "auc": "roc_auc",
            "f1_binary": "f1", "mean_absolute_error": "mae", "mean_squared_error": "mse",
            "root_mean_squared_error": "rmse", "r2_score": "r2", "mean_pinball_loss": "pinball_loss",
            "accuracy_score": "accuracy", "roc_auc_score": "roc_auc", "average_precision_score": "average_precision"}


def metric_spec(name: str) -> MetricSpec:
    """The spec of a metric name (aliases such as 'auc' or 'ece' accepted), or a clear error."""
    key = _ALIASES.get(name, name)
    if key not in METRICS:
        import difflib

        close = difflib.get_close_matches(name, list(METRICS) + list(_ALIASES), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise MetricInputError(f"Unknown metric {name!r}{hint} Known metrics: {sorted(METRICS)}")
    return METRICS[key]


def compute_metric(name: str, y_true, y_pred, *, sample_weight=None, **params) -> float:
    """The value of metric ``name`` (see :data:`METRICS`).

    Examples
    --------
    >>> compute_metric("f1_macro", [0, 1, 2, 2], [0, 2, 2, 2])
    0.6
    """
    spec = metric_spec(name)
    return float(spec.point(y_true, y_pred, sample_weight, **params))


def bootstrap_samples(name: str, y_true, y_pred, *, sample_weight=None, n_boot: int = 1000, seed: int = 0,
                      **params) -> np.ndarray:
    """The metric on each of ``n_boot`` Poisson resamples (NaN where it is undefined in a resample).

    Examples
    --------
    >>> bootstrap_samples("mse", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0], n_boot=4, seed=0).shape
    (4,)"""
    if int(n_boot) < 1:
        raise MetricInputError(f"bootstrap: n_boot={n_boot!r}, expected a positive integer")
    spec = metric_spec(name)
    return np.asarray(spec.boot(y_true, y_pred, sample_weight, int(n_boot), int(seed) & (2**63 - 1), **params),
                      dtype=np.float64)


def bootstrap_metric(name: str, y_true, y_pred, *, sample_weight=None, n_boot: int = 1000,
                     confidence: float = 0.95, seed: int = 0, **params) -> Interval:
    """The metric with its percentile bootstrap interval at ``confidence``.

    Examples
    --------
    >>> ci = bootstrap_metric("accuracy", [0, 1, 1, 0] * 50, [0, 1, 0, 0] * 50, n_boot=100)
    >>> round(ci.value, 2), ci.low <= 0.75 <= ci.high
    (0.75, True)
    """
    if not 0.0 < float(confidence) < 1.0:
        raise MetricInputError(f"bootstrap: confidence={confidence!r}, expected a value in (0, 1)")
    spec = metric_spec(name)
    value = float(spec.point(y_true, y_pred, sample_weight, **params))
    samples = bootstrap_samples(name, y_true, y_pred, sample_weight=sample_weight, n_boot=n_boot, seed=seed,
                                **params)
    ok = samples[np.isfinite(samples)]
    if ok.size == 0:
        lo = hi = float("nan")
    else:
        a = (1.0 - float(confidence)) / 2.0
        lo, hi = (float(v) for v in np.quantile(ok, [a, 1.0 - a]))
    return Interval(spec.name, value, lo, hi, float(confidence), int(n_boot), int(ok.size))
