"""The gate: evaluate a predictor against a goal on a test set, and decide whether it may ship.

Every metric of the model's :class:`~mlcore.goals.Objective` is computed with its bootstrap
interval and checked against its acceptance range; the verdict is "may go to production" only
when every range holds, and the result says which metric failed and by how much.

Metric names a goal may use (besides every name in :data:`mlcore.evaluate.bootstrap.METRICS`):

- ``latency_p50_us``, ``latency_p90_us``, ``latency_p99_us``, ``latency_p999_us``,
  ``latency_mean_us``, ``throughput_rows_per_s``: measured on the predictor (needs a predictor);
- ``psi``: the largest per-feature drift between ``reference`` (training data) and
  ``production`` (or the test set when no production sample is given); params ``features``;
- ``domain_auc``: the AUC of a classifier telling reference from production rows;
- ``demographic_parity_difference``, ``equalized_odds_difference``: over the ``sensitive``
  attribute (params ``pos_label``);
- ``production_<metric>`` (e.g. ``production_roc_auc``): the metric estimated on production-like
  data by importance weighting the test rows (needs ``production``).

Defined results: a metric that cannot be computed here (a single class in y_true, a label the
model never saw, a latency metric without a predictor, PSI without reference data) **fails**
with value NaN and a note saying why; an unknown metric name is an error before anything runs.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from mlcore.goals import Goal
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(1000, 3)); y = (X[:, 0] + rng.normal(size=1000) > 0).astype(int)
>>> model = LogisticRegression().fit(X[:500], y[:500])
>>> result = gate(model, Goal.single("demo", ["roc_auc >= 0.99"]), X[500:], y[500:], n_boot=50)
>>> result.passed, result.failures[0].metric
(False, 'roc_auc')
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ..goals import Goal, GoalError, MetricRange, Objective
from . import metrics as M
from ._inputs import MetricInputError
from .bootstrap import METRICS, bootstrap_metric, metric_spec
from .speed import SPEED_METRICS, LatencyResult, measure_latency

__all__ = ["Predictions", "MetricResult", "GateResult", "GoalResult", "gate", "gate_goal", "KNOWN_GATE_METRICS",
           "check_metric_names"]

VERDICT_PASS = "may go to production"
VERDICT_FAIL = "may not go to production"

#: Metric names the gate computes itself (besides the registry and ``production_<metric>``).
KNOWN_GATE_METRICS = tuple(SPEED_METRICS) + ("psi", "domain_auc", "demographic_parity_difference",
                                             "equalized_odds_difference")


@dataclass
class Predictions:
    """Precomputed predictions, for evaluating without a predictor object: ``labels`` (predicted
    classes or regression values), ``scores`` (binary score of the positive class), ``proba``
    ((n, K) probabilities in ``classes`` order)."""

    labels: Any = None
    scores: Any = None
    proba: Any = None
    classes: Any = None


@dataclass
class MetricResult:
    """One metric of the gate: value, interval, range, pass/fail and by how much it missed."""

    name: str
    metric: str
    value: float
    low: float
    high: float
    range: str
    passed: bool
    shortfall: float
    bound: str
    note: str = ""
    details: dict = field(default_factory=dict)

    def describe(self) -> str:
        v = "NaN" if math.isnan(self.value) else f"{self.value:.6g}"
        ci = "" if math.isnan(self.low) else f" [{self.low:.4g}, {self.high:.4g}]"
        if self.passed:
            return f"PASS {self.name} = {v}{ci} (goal {self.range})"
        miss = f"misses {self.range} by {self.shortfall:.4g}" if not math.isnan(self.shortfall) else \
            f"cannot be checked against {self.range}"
        return f"FAIL {self.name} = {v}{ci}: {miss}" + (f" ({self.note})" if self.note else "")


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


@dataclass
class GateResult:
    """The gate's result for one model: its metrics, the verdict, and what the report plots."""

    goal: str
    model: str
    task: str
    n_rows: int
    metrics: list
    passed: bool
    plots: dict = field(default_factory=dict)
    slices: list = field(default_factory=list)
    fairness: dict = field(default_factory=dict)
    domain: dict = field(default_factory=dict)
    speed: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return VERDICT_PASS if self.passed else VERDICT_FAIL

    @property
    def failures(self) -> list:
        return [m for m in self.metrics if not m.passed]

    def summary(self) -> str:
        lines = [f"{self.goal} / {self.model}: {self.verdict}"]
        lines += ["  " + m.describe() for m in self.metrics]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict
        d["failures"] = [{"name": m.name, "value": m.value, "range": m.range, "shortfall": m.shortfall,
                          "bound": m.bound, "note": m.note} for m in self.failures]
        return _jsonable(d)

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), indent=kw.pop("indent", 2), allow_nan=False, **kw)


@dataclass
class GoalResult:
    """The gate over every model of a goal: it may ship only when every model passes."""

    goal: str
    models: dict

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.models.values())

    @property
    def verdict(self) -> str:
        return VERDICT_PASS if self.passed else VERDICT_FAIL

    @property
    def failures(self) -> list:
        return [(name, m) for name, r in self.models.items() for m in r.failures]

    def summary(self) -> str:
        return "\n".join([f"{self.goal}: {self.verdict}"] + [r.summary() for r in self.models.values()])

    def to_dict(self) -> dict:
        return {"goal": self.goal, "passed": self.passed, "verdict": self.verdict,
                "models": {k: r.to_dict() for k, r in self.models.items()}}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), indent=kw.pop("indent", 2), allow_nan=False, **kw)


# ------------------------------------------------------------------------------- helpers

def check_metric_names(objective: Objective) -> None:
    """Raise a clear error for a metric name the gate does not know (before any work is done)."""
    for m in objective.metrics:
        name = m.metric
        if name in KNOWN_GATE_METRICS:
            continue
        base = name[len("production_"):] if name.startswith("production_") else name
        try:
            metric_spec(base)
        except MetricInputError as exc:
            raise GoalError(f"model {objective.model!r}: {exc}; the gate also knows {list(KNOWN_GATE_METRICS)} "
                            "and production_<metric>") from None


def _column(X: Any, ref: Any, what: str):
    """An array given directly, or the column ``ref`` of a table/DataFrame X."""
    if isinstance(ref, str):
        if isinstance(X, (pa.Table, pa.RecordBatch)):
            from .._arrow import get_column

            return get_column(pa.Table.from_batches([X]) if isinstance(X, pa.RecordBatch) else X, ref)
        if hasattr(X, "columns") and ref in list(X.columns):
            return X[ref].to_numpy()
        raise MetricInputError(f"gate: {what} names column {ref!r}, but X has no such column")
    return ref


class _Preds:
    """Lazily computed predictions of a predictor (each method called at most once)."""

    def __init__(self, predictor, X, y_true):
        self.predictor = predictor
        self.X = X
        self.y = y_true
        self._cache = {}

    def _call(self, name):
        if name not in self._cache:
            p = self.predictor
            if isinstance(p, Predictions):
                self._cache[name] = {"predict": p.labels, "predict_proba": p.proba,
                                     "decision_function": p.scores}.get(name)
            else:
                fn = getattr(p, name, None)
                self._cache[name] = np.asarray(fn(self.X)) if callable(fn) else None
        return self._cache[name]

    def classes(self):
        p = self.predictor
        c = p.classes if isinstance(p, Predictions) else getattr(p, "classes_", None)
        return None if c is None else np.asarray(c)

    def labels(self):
        lab = self._call("predict")
        if lab is None:
            proba = self._call("predict_proba")
            classes = self.classes()
            if proba is not None and classes is not None and np.ndim(proba) == 2:
                return classes[np.argmax(proba, axis=1)]
            raise MetricInputError("gate: the predictor gives no labels (no predict, no predict_proba with classes)")
        return lab

    def proba(self):
        P = self._call("predict_proba")
        if P is None:
            if isinstance(self.predictor, Predictions) and self.predictor.scores is not None:
                return np.asarray(self.predictor.scores, dtype=np.float64)
            raise MetricInputError("gate: the predictor gives no probabilities (no predict_proba)")
        P = np.asarray(P, dtype=np.float64)
        if P.ndim == 2 and P.shape[1] == 2:
            return np.ascontiguousarray(P[:, 1])
        return P

    def score(self):
        P = self._call("predict_proba")
        if P is not None:
            P = np.asarray(P, dtype=np.float64)
            if P.ndim == 2:
                if P.shape[1] != 2:
                    raise MetricInputError(f"gate: a binary score is needed but the predictor gives {P.shape[1]} "
                                           "probability columns; use roc_auc_ovr for multiclass")
                return np.ascontiguousarray(P[:, 1])
            return P
        if isinstance(self.predictor, Predictions):
            if self.predictor.scores is None:
                raise MetricInputError("gate: Predictions has no scores for a ranking metric")
            return np.asarray(self.predictor.scores, dtype=np.float64)
        d = self._call("decision_function")
        if d is None:
            raise MetricInputError("gate: the predictor gives no score (no predict_proba, no decision_function)")
        return np.asarray(d, dtype=np.float64)


def _result(m: MetricRange, value, low=float("nan"), high=float("nan"), note="", details=None) -> MetricResult:
    value = float(value) if value is not None else float("nan")
    chk = m.check(value)
    return MetricResult(m.name, m.metric, value, float(low), float(high), m.describe(), chk.passed,
                        chk.shortfall, chk.bound, note, details or {})


def _downsample(*arrays, k=300):
    n = len(arrays[0])
    if n <= k:
        return [np.asarray(a).tolist() for a in arrays]
    idx = np.unique(np.r_[np.linspace(0, n - 1, k).astype(int), n - 1])
    return [np.asarray(a)[idx].tolist() for a in arrays]


# ------------------------------------------------------------------------------- the gate

def gate(predictor: Any, goal: Goal | Objective, X: Any, y_true: Any, *, model: str | None = None,
         sample_weight: Any = None, sensitive: Any = None, segments: Any = None, reference: Any = None,
         production: Any = None, features: list | None = None, n_boot: int = 200, confidence: float = 0.95,
         seed: int = 0, latency: dict | None = None, slice_bins: int = 4, domain: bool | None = None) -> GateResult:
    """Evaluate ``predictor`` on the test set (``X``, ``y_true``) against the model's objective.

    Parameters
    ----------
    predictor
        An object with ``predict`` / ``predict_proba`` / ``decision_function`` taking ``X``
        (a fitted scikit-learn estimator works), or a :class:`Predictions`.
    goal, model
        The goal (``model`` picks its objective when the goal spans several models) or an Objective.
    X, y_true
        The test set, in the form the predictor takes, and its labels/targets.
    sensitive, segments
        The sensitive attribute (an array, or a column name of X) for fairness metrics; segment
        columns ({name: array} or a list of column names of X) for slices. A numeric X column
        used as a segment is cut into ``slice_bins`` quantile bins.
    reference, production
        Training data, and a production-like sample, as tables (or 2-D arrays with ``features``
        as column names) for drift, the domain classifier and importance-weighted estimates.
    n_boot, confidence, seed
        The bootstrap behind every interval.
    latency
        Options of :func:`~mlcore.evaluate.speed.measure_latency` (n_calls, warmup, threads, …).
    domain
        Run the domain classifier (default: when ``production`` is given).

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.goals import Goal
    >>> y = np.array([0, 1] * 50); scores = np.linspace(0, 1, 100)
    >>> r = gate(Predictions(scores=scores, labels=(scores > 0.5).astype(int)),
    ...          Goal.single("g", ["roc_auc >= 0.4"]), None, y, n_boot=20)
    >>> r.verdict
    'may go to production'
    """
    objective = goal.objective(model) if isinstance(goal, Goal) else goal
    if not isinstance(objective, Objective):
        raise GoalError(f"gate: expected a Goal or an Objective, got {type(goal).__name__}")
    goal_name = goal.name if isinstance(goal, Goal) else objective.model
    check_metric_names(objective)
    y = y_true.to_numpy() if hasattr(y_true, "to_numpy") and not isinstance(y_true, (pa.Array, pa.ChunkedArray)) \
        else y_true
    y = np.asarray(y) if not isinstance(y, (pa.Array, pa.ChunkedArray)) else y
    n = len(y)
    preds = _Preds(predictor, X, y)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sens = _column(X, sensitive, "sensitive") if sensitive is not None else None
    if isinstance(segments, (list, tuple)):
        segments = {s: _column(X, s, "segments") for s in segments}
    results: list[MetricResult] = []
    speed: LatencyResult | None = None
    comparison = None
    drift_cache: dict = {}
    out = GateResult(goal_name, objective.model, objective.task, n, results, False,
                     settings={"n_boot": n_boot, "confidence": confidence, "seed": seed,
                               "bootstrap": "poisson-bootstrap percentile"})

    def get_comparison():
        nonlocal comparison
        if comparison is None:
            if production is None:
                raise MetricInputError("needs a production-like sample (production=...)")
            from .domain import compare_domains, to_table

            base = reference if reference is not None else X
            comparison = compare_domains(to_table(base, features), to_table(production, features),
                                         n_boot=min(n_boot, 200), seed=seed)
        return comparison

    def test_weights():
        from .domain import compare_domains, to_table

        key = "test_vs_prod"
        if key not in drift_cache:
            if production is None:
                raise MetricInputError("needs a production-like sample (production=...)")
            drift_cache[key] = compare_domains(to_table(X, features), to_table(production, features),
                                               n_boot=20, seed=seed)
        return drift_cache[key]

    for m in objective.metrics:
        name = m.metric
        try:
            if name in SPEED_METRICS:
                if isinstance(predictor, Predictions):
                    raise MetricInputError("a speed metric needs a predictor object, not precomputed predictions")
                if speed is None:
                    speed = measure_latency(predictor, X, **(latency or {}))
                    out.speed = speed.to_dict()
                    out.plots["latency_us"] = np.sort(speed.samples_us).tolist()[:: max(1, speed.n_calls // 400)]
                attr = SPEED_METRICS[name]
                value = getattr(speed, attr)
                lo = hi = float("nan")
                if attr.startswith("p"):
                    q = {"p50_us": 50, "p90_us": 90, "p99_us": 99, "p999_us": 99.9}[attr]
                    lo, hi = speed.percentile_interval(q, n_boot=min(n_boot, 200), confidence=confidence, seed=seed)
                results.append(_result(m, value, lo, hi))
            elif name == "psi":
                if reference is None:
                    raise MetricInputError("psi needs the training data (reference=...)")
                from .domain import feature_drift, to_table

                cur = production if production is not None else X
                drift = feature_drift(to_table(reference, features), to_table(cur, features),
                                      features=m.params.get("features"))
                worst = max(drift, key=lambda k: drift[k] if np.isfinite(drift[k]) else -1.0)
                out.domain.setdefault("drift", drift)
                results.append(_result(m, drift[worst], details={"per_feature": drift, "worst_feature": worst}))
            elif name == "domain_auc":
                c = get_comparison()
                out.domain.update(c.to_dict())
                results.append(_result(m, c.domain_auc, *c.domain_auc_interval))
            elif name in ("demographic_parity_difference", "equalized_odds_difference"):
                if sens is None:
                    raise MetricInputError(f"{name} needs the sensitive attribute (sensitive=...)")
                results.append(_fairness_result(m, y, preds.labels(), sens, w, n_boot, confidence, seed, out))
            else:
                base = name[len("production_"):] if name.startswith("production_") else name
                spec = metric_spec(base)
                pred = {"label": preds.labels, "score": preds.score, "proba": preds.proba,
                        "regression": preds.labels}[spec.needs]()
                if spec.needs in ("score", "proba"):
                    _check_seen(y, preds.classes(), base)
                ww = w
                note = ""
                if base != name:
                    c = test_weights()
                    ww = c.weights if w is None else c.weights * w
                    note = f"importance-weighted (test vs production domain AUC {c.domain_auc:.3f})"
                ci = bootstrap_metric(base, y, pred, sample_weight=ww, n_boot=n_boot, confidence=confidence,
                                      seed=seed, **m.params)
                results.append(_result(m, ci.value, ci.low, ci.high, note=note))
        except (MetricInputError, ValueError) as exc:
            results.append(_result(m, float("nan"), note=str(exc)))
    if production is not None and (domain or (domain is None)) and "domain_auc" not in out.domain:
        try:
            out.domain.update(get_comparison().to_dict())
        except (MetricInputError, ValueError) as exc:
            out.domain["error"] = str(exc)
    elif reference is not None and "drift" not in out.domain:
        from .domain import feature_drift, to_table

        try:
            out.domain["drift"] = feature_drift(to_table(reference, features), to_table(X, features))
        except (MetricInputError, ValueError) as exc:
            out.domain["error"] = str(exc)
    _plots_and_slices(out, objective, preds, y, w, segments, slice_bins, seed)
    out.passed = all(r.passed for r in results)
    return out


def _check_seen(y, classes, metric):
    """A y_true label outside the model's classes cannot be scored: say which one."""
    if classes is None:
        return
    from ._inputs import encode, show

    t = M.as_1d(y, metric, "y_true")
    codes = encode(t, np.sort(classes))
    if (codes < 0).any():
        bad = t[np.flatnonzero(codes < 0)[0]]
        raise MetricInputError(f"{metric}: y_true has label {show(bad)}, which the model never saw "
                               f"(its classes are {show(classes)})")


def _fairness_result(m, y, labels, sens, w, n_boot, confidence, seed, out):
    from .fairness import bootstrap_differences, fairness_metrics

    pos = m.params.get("pos_label", 1)
    fm = fairness_metrics(y, labels, sens, pos_label=pos, sample_weight=w)
    out.fairness = fm
    dpd, eo = bootstrap_differences(y, labels, sens, pos_label=pos, sample_weight=w, n_boot=n_boot, seed=seed)
    vals = dpd if m.metric == "demographic_parity_difference" else eo
    vals = vals[np.isfinite(vals)]
    a = (1 - confidence) / 2
    lo, hi = (np.quantile(vals, [a, 1 - a]) if vals.size else (float("nan"), float("nan")))
    return _result(m, fm[m.metric], lo, hi)


def _plots_and_slices(out: GateResult, objective: Objective, preds: _Preds, y, w, segments, bins, seed):
    """Curves and calibration for the report (binary tasks), and slices of the main metric."""
    task = objective.task
    labels = M.as_1d(y, "report", "y_true")
    binary = task == "binary" or (task == "any" and labels.dtype.kind in "biuUO" and np.unique(labels).size == 2)
    if binary:
        try:
            s = preds.score()
            fpr, tpr, _ = M.roc_curve(y, s, sample_weight=w)
            prec, rec, _ = M.precision_recall_curve(y, s, sample_weight=w)
            fpr, tpr = _downsample(fpr, tpr)
            rec, prec = _downsample(rec, prec)
            out.plots["roc"] = {"fpr": fpr, "tpr": tpr, "auc": M.roc_auc_score(y, s, sample_weight=w)}
            out.plots["pr"] = {"recall": rec, "precision": prec,
                               "ap": M.average_precision_score(y, s, sample_weight=w, pos_label=np.unique(labels)[-1])}
            try:
                p = preds.proba()
                if np.ndim(p) == 1:
                    _, sw, rate, mean_p = M.calibration_bins(y, p, n_bins=10, sample_weight=w)
                    out.plots["calibration"] = {"weight": sw.tolist(), "observed": rate.tolist(),
                                                "predicted": mean_p.tolist()}
            except MetricInputError:
                pass
        except (MetricInputError, ValueError) as exc:
            out.plots["error"] = str(exc)
    if segments:
        from .slices import slice_metrics

        # the slices show the objective's first model metric, else the task's usual one
        main, params = None, {}
        for m in objective.metrics:
            base = m.metric[len("production_"):] if m.metric.startswith("production_") else m.metric
            if base in METRICS:
                main, params = base, m.params
                break
        if main is None:
            main = "roc_auc" if binary else ("mae" if task == "regression" else "accuracy")
        if main is not None:
            spec = METRICS[main]
            try:
                pred = {"label": preds.labels, "score": preds.score, "proba": preds.proba,
                        "regression": preds.labels}[spec.needs]()
                out.slices = slice_metrics(main, y, pred, segments, sample_weight=w, bins=bins, seed=seed, **params)
                out.plots["slices_metric"] = main
            except (MetricInputError, ValueError) as exc:
                out.plots["slices_error"] = str(exc)


def gate_goal(goal: Goal, inputs: dict, **kw) -> GoalResult:
    """Gate every model of ``goal``: ``inputs`` maps each model name to a dict of :func:`gate`'s
    arguments (``predictor``, ``X``, ``y_true`` and any keyword); ``kw`` applies to all.

    Every model of the goal must be given: the goal may ship only as a whole.

    Examples
    --------
    >>> import numpy as np
    >>> from mlcore.goals import Goal, Objective
    >>> g = Goal("lending", [Objective("click", ["accuracy >= 0.9"]), Objective("default", ["accuracy >= 0.9"])])
    >>> y = np.array([0, 1] * 20)
    >>> res = gate_goal(g, {"click": dict(predictor=Predictions(labels=y), X=None, y_true=y),
    ...                     "default": dict(predictor=Predictions(labels=1 - y), X=None, y_true=y)}, n_boot=10)
    >>> res.verdict, [(m, f.metric) for m, f in res.failures]
    ('may not go to production', [('default', 'accuracy')])
    """
    missing = [m for m in goal.models if m not in inputs]
    if missing:
        raise GoalError(f"gate_goal: goal {goal.name!r} spans {goal.models}; no input for {missing}")
    extra = [m for m in inputs if m not in goal.models]
    if extra:
        raise GoalError(f"gate_goal: goal {goal.name!r} has no model {extra}; it has {goal.models}")
    res = {}
    for name in goal.models:
        args = dict(inputs[name])
        predictor, X, y = args.pop("predictor"), args.pop("X"), args.pop("y_true")
        res[name] = gate(predictor, goal, X, y, model=name, **{**kw, **args})
    return GoalResult(goal.name, res)
