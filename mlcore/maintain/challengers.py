"""Challengers and the champion on the same recent window: train, compare, choose, report.

:func:`retrain` takes every labelled row available now, holds out the most recent window
(``eval_window``) and trains challengers on what came before, with the champion's model spec:

- ``weighted``: every earlier row, each weighted by its importance for the current concept
  (:func:`~mlcore.maintain.importance_weights`, history vs the latest ``recent_window`` rows);
- ``sliding``: only the latest ``sliding_window`` rows before the evaluation window;
- ``expanding``: every earlier row, unweighted.

:func:`compare_models` then scores the champion and every challenger **on the same rows** of the
evaluation window against the goal (each metric with its bootstrap interval: the challenger's
forecast interval for production), and gives for each challenger the paired bootstrap interval of
its difference with the champion: both are resampled with the same Poisson counts (the counts are
a pure function of seed, resample and row in :mod:`mlcore.evaluate.bootstrap`), so the interval
is that of the difference, not two overlapping intervals. With ``costs`` the same is done for the
expected cost per row. The chosen challenger is the best on the comparison metric among those
that meet the goal; it is recommended for promotion only when it also beats the champion.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> from mlcore.goals import Goal
>>> from mlcore.maintain import ModelSpec, retrain
>>> rng = np.random.default_rng(0); n = 3000; x = rng.normal(size=n); t = np.arange(n)
>>> y = np.where(t < 2000, x > 0, x < 0).astype(np.int64)   # the concept flips at row 2000
>>> data = pa.table({"t": t, "x": x, "y": y})
>>> spec = ModelSpec("y", "LogisticRegression", features=["x"])
>>> champion = spec.fit(data.slice(0, 1500))
>>> report = retrain(spec, data, goal=Goal.single("g", ["roc_auc >= 0.7"]), champion=champion,
...                  time_column="t", eval_window=400, sliding_window=500, n_boot=50)
>>> report.chosen, report.promote
('sliding', True)
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import as_table, get_column
from ..errors import SchemaError, ShapeError
from ..goals import Goal, Objective
from .decisions import _plain
from .model_spec import ModelSpec

__all__ = ["WINDOWS", "Candidate", "ModelComparison", "RetrainReport", "compare_models", "retrain",
           "split_window", "train_challengers", "report_html"]

#: The training sets a retraining can build.
WINDOWS = ("weighted", "sliding", "expanding")


# ----------------------------------------------------------------------------- windows

# no "m": minutes or months? A month is not a fixed span; say "30d" (or "min" for minutes)
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|h|d|w)\s*$")
_UNIT_S = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _span(size: Any) -> Any:
    if isinstance(size, str):
        m = _SPAN.match(size)
        if not m:
            raise ValueError(f"window {size!r}: expected a row count, a fraction in (0, 1), or a span like "
                             "'30d', '12h', '4w', '90min' (units s, min, h, d, w)")
        return _dt.timedelta(seconds=float(m.group(1)) * _UNIT_S[m.group(2)])
    return size


def _sorted(table: pa.Table, time_column: str | None) -> pa.Table:
    if time_column is None:
        return table
    col = get_column(table, time_column)
    if col.null_count:
        raise SchemaError(f"time column `{time_column}` has {col.null_count} null value(s)")
    return table.take(pc.sort_indices(table, [(time_column, "ascending")]))


def split_window(table: pa.Table, size: Any, *, time_column: str | None = None) -> tuple[pa.Table, pa.Table]:
    """Split a table (in time order) into (before, the last ``size``).

    ``size``: a row count (int), a fraction of the rows (float in (0, 1)), or a time span
    (``datetime.timedelta`` or ``'30d'``, ``'12h'``, ``'4w'``; needs a timestamp/number
    ``time_column``: rows later than ``max(time) - span``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> a, b = split_window(pa.table({"t": [3, 1, 2, 4]}), 2, time_column="t")
    >>> a["t"].to_pylist(), b["t"].to_pylist()
    ([1, 2], [3, 4])
    """
    t = _sorted(as_table(table), time_column)
    n = t.num_rows
    size = _span(size)
    if isinstance(size, _dt.timedelta):
        if time_column is None:
            raise ValueError(f"a time span window ({size}) needs a time_column")
        col = get_column(t, time_column)
        if n == 0:
            return t, t
        last = pc.max(col)
        start = pc.subtract(last, pa.scalar(size, pa.duration("us")).cast(pa.duration(col.type.unit))) \
            if pa.types.is_timestamp(col.type) else None
        if start is None:
            raise SchemaError(f"a time span window needs a timestamp time column; `{time_column}` is {col.type}")
        k = int(pc.sum(pc.greater(col, start)).as_py() or 0)
    elif isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        raise ValueError(f"window {size!r}: expected a row count, a fraction in (0, 1) or a time span")
    elif isinstance(size, (float, np.floating)) and 0 < size < 1:
        k = int(math.ceil(n * float(size)))
    elif float(size) >= 1 and float(size) == int(size):
        k = min(int(size), n)
    else:
        raise ValueError(f"window {size!r}: expected a row count >= 1, a fraction in (0, 1) or a time span")
    return t.slice(0, n - k), t.slice(n - k)


# ----------------------------------------------------------------------------- predictions

class _Scored:
    """One model's predictions on the evaluation rows (each computed once)."""

    def __init__(self, model, table: pa.Table):
        self.classes_ = getattr(getattr(model, "model", model), "classes_", None)
        self.labels = np.asarray(model.predict(table))
        self.proba = None
        if hasattr(model, "predict_proba") and getattr(model, "has_proba", True):
            try:
                self.proba = np.asarray(model.predict_proba(table), dtype=np.float64)
            except (AttributeError, NotImplementedError):
                self.proba = None

    def predict(self, X):
        return self.labels

    def predict_proba(self, X):
        if self.proba is None:
            raise AttributeError("no predict_proba")
        return self.proba

    def for_metric(self, needs: str):
        if needs in ("label", "regression"):
            return self.labels
        if self.proba is None:
            raise SchemaError(f"a {needs} metric needs probabilities; the model has no predict_proba")
        P = self.proba
        if P.ndim == 2 and P.shape[1] == 2:
            return np.ascontiguousarray(P[:, 1])
        if needs == "score" and P.ndim == 2:
            raise SchemaError("a binary score is needed; the model gives several probability columns")
        return P


def _quality_objective(objective: Objective) -> tuple[Objective, list[str]]:
    """The goal's metrics that predictions on a window can measure (speed, drift and fairness
    metrics are checked when a model is deployed, not when models are compared on labels)."""
    from ..evaluate.bootstrap import metric_spec

    keep, skipped = [], []
    for m in objective.metrics:
        try:
            metric_spec(m.metric)
            keep.append(m)
        except ValueError:
            skipped.append(m.name)
    if not keep:
        raise SchemaError(f"the goal for model {objective.model!r} has no metric computable from predictions "
                          f"(it has {[m.name for m in objective.metrics]}); maintenance compares models on such "
                          "a metric (roc_auc, log_loss, f1, mae, ...)")
    return Objective(objective.model, tuple(keep), task=objective.task), skipped


# ----------------------------------------------------------------------------- comparison

@dataclass
class Candidate:
    """One challenger (or the champion): how it was trained and how it did on the evaluation window."""

    name: str
    window: dict
    gate: dict
    meets_goal: bool
    metric_value: float
    metric_interval: tuple
    difference: dict = field(default_factory=dict)   # vs champion, paired bootstrap, positive = better
    beats_champion: bool = False
    cost: dict = field(default_factory=dict)
    bundle: Any = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return _plain({"name": self.name, "window": self.window, "meets_goal": self.meets_goal,
                       "metric_value": self.metric_value, "metric_interval": list(self.metric_interval),
                       "difference": self.difference, "beats_champion": self.beats_champion, "cost": self.cost,
                       "gate": self.gate})


@dataclass
class ModelComparison:
    """The result of :func:`compare_models`."""

    goal: str
    model: str
    metric: str
    greater_is_better: bool
    n_rows: int
    champion: Candidate | None
    challengers: list
    chosen: str | None
    reason: str
    promote: bool
    skipped_metrics: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def candidate(self, name: str) -> Candidate:
        for c in self.challengers:
            if c.name == name:
                return c
        raise KeyError(f"no challenger {name!r}; there are {[c.name for c in self.challengers]}")

    def to_dict(self) -> dict:
        return _plain({"goal": self.goal, "model": self.model, "metric": self.metric,
                       "greater_is_better": self.greater_is_better, "n_rows": self.n_rows,
                       "champion": self.champion.to_dict() if self.champion else None,
                       "challengers": [c.to_dict() for c in self.challengers], "chosen": self.chosen,
                       "reason": self.reason, "promote": self.promote, "skipped_metrics": self.skipped_metrics,
                       "settings": self.settings})


def _costs(costs: dict | None) -> dict | None:
    if costs is None:
        return None
    allowed = {"fp", "fn", "tp", "tn", "threshold"}
    extra = sorted(set(costs) - allowed)
    if extra:
        raise SchemaError(f"costs has unknown key(s) {extra}; allowed: {sorted(allowed)}")
    c = {k: float(costs.get(k, 0.0)) for k in ("fp", "fn", "tp", "tn")}
    c["threshold"] = float(costs.get("threshold", 0.5))
    if not 0.0 <= c["threshold"] <= 1.0:
        raise SchemaError(f"costs.threshold={c['threshold']}, expected a probability in [0, 1]")
    return c


def _row_costs(scored: _Scored, y: np.ndarray, costs: dict, pos) -> np.ndarray:
    if scored.proba is None:
        raise SchemaError("the cost view needs probabilities of the positive class (predict_proba)")
    P = scored.proba
    p = P[:, 1] if P.ndim == 2 else P
    pred = p >= costs["threshold"]
    actual = y == pos
    return np.where(pred, np.where(actual, costs["tp"], costs["fp"]), np.where(actual, costs["fn"], costs["tn"]))


def _positive(y: np.ndarray, classes) -> Any:
    if classes is not None and len(classes) == 2:
        return np.asarray(classes)[1]
    vals = np.unique(y)
    return vals[-1] if vals.size else 1


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    ok = samples[np.isfinite(samples)]
    if ok.size == 0:
        return float("nan"), float("nan")
    a = (1 - confidence) / 2
    lo, hi = np.quantile(ok, [a, 1 - a])
    return float(lo), float(hi)


def compare_models(champion: Any, challengers: dict, data: Any, goal: Goal | Objective, *, target: str,
                   model: str | None = None, metric: str | None = None, min_improvement: float = 0.0,
                   require_significant: bool = False, costs: dict | None = None, n_boot: int = 200,
                   confidence: float = 0.95, seed: int = 0, windows: dict | None = None) -> ModelComparison:
    """Score the champion and every challenger on the same rows against the goal (see the module docstring).

    Parameters
    ----------
    champion
        A Bundle or any object with ``predict(table)`` (and ``predict_proba``); None when there is
        no champion yet (then the best challenger that meets the goal is promoted).
    challengers : dict
        name -> Bundle (or predictor).
    data : table-like
        The evaluation window, with the ``target`` column.
    metric : str, optional
        The comparison metric (default: the goal's first metric computable from predictions).
    min_improvement : float
        How much better (in the metric's own direction) the challenger must be.
    require_significant : bool
        Also require the lower end of the paired interval of the improvement to exceed
        ``min_improvement`` (otherwise the point estimate decides).
    costs : dict, optional
        ``{"fp", "fn", "tp", "tn", "threshold"}`` costs per row of a binary decision: adds the
        expected cost per row of each model, and the paired interval of the saving.

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.goals import Goal
    >>> from mlcore.maintain import ModelSpec, compare_models
    >>> rng = np.random.default_rng(0); x = rng.normal(size=1000); y = (x + rng.normal(size=1000) > 0)
    >>> t = pa.table({"x": x, "noise": rng.normal(size=1000), "y": y.astype(np.int64)})
    >>> good = ModelSpec("y", "LogisticRegression", features=["x"]).fit(t.slice(0, 500))
    >>> blind = ModelSpec("y", "LogisticRegression", features=["noise"]).fit(t.slice(0, 500))
    >>> c = compare_models(blind, {"good": good}, t.slice(500), Goal.single("g", ["roc_auc >= 0.7"]),
    ...                    target="y", n_boot=50)
    >>> c.chosen, c.promote, c.candidate("good").difference["interval"][0] > 0
    ('good', True, True)
    """
    from ..evaluate.bootstrap import bootstrap_samples, metric_spec
    from ..evaluate.gate import gate

    objective = goal.objective(model) if isinstance(goal, Goal) else goal
    goal_name = goal.name if isinstance(goal, Goal) else objective.model
    quality, skipped = _quality_objective(objective)
    table = as_table(data)
    if table.num_rows == 0:
        raise ShapeError("compare_models: the evaluation window has no rows")
    from ..train.fit import target_vector

    y = target_vector(table, target)
    if metric is None:
        metric_range = quality.metrics[0]
    else:
        metric_range = next((m for m in quality.metrics if m.name == metric or m.metric == metric), None)
        if metric_range is None:
            from ..goals import MetricRange

            metric_spec(metric)
            metric_range = MetricRange(metric, min=-math.inf) if metric_spec(metric).greater_is_better \
                else MetricRange(metric, max=math.inf)
    spec = metric_spec(metric_range.metric)
    gib = spec.greater_is_better
    c = _costs(costs)
    windows = windows or {}
    seed = int(seed)

    scored: dict[str, _Scored] = {}
    if champion is not None:
        scored["champion"] = _Scored(champion, table)
    for name, m in challengers.items():
        if name == "champion":
            raise ValueError("a challenger may not be named 'champion'")
        scored[name] = _Scored(m, table)
    pos = _positive(y, next(iter(scored.values())).classes_) if scored else 1

    def evaluate(name: str) -> tuple[Candidate, np.ndarray, np.ndarray | None]:
        s = scored[name]
        g = gate(s, quality, table, y, n_boot=n_boot, confidence=confidence, seed=seed, domain=False)
        pred = s.for_metric(spec.needs)
        samples = bootstrap_samples(spec.name, y, pred, n_boot=n_boot, seed=seed, **metric_range.params)
        mr = next(r for r in g.metrics if r.name == metric_range.name) if any(
            r.name == metric_range.name for r in g.metrics) else None
        if mr is not None:
            value, interval = mr.value, (mr.low, mr.high)
        else:
            from ..evaluate.bootstrap import compute_metric

            value = compute_metric(spec.name, y, pred, **metric_range.params)
            interval = _interval(samples, confidence)
        cost_samples = None
        cost = {}
        if c is not None:
            rc = _row_costs(s, y, c, pos)
            zeros = np.zeros(rc.size)
            cost_samples = bootstrap_samples("mae", zeros, rc, n_boot=n_boot, seed=seed)  # mean cost, same counts
            lo, hi = _interval(cost_samples, confidence)
            cost = {"per_row": float(rc.mean()), "interval": [lo, hi], "total": float(rc.sum())}
        gd = g.to_dict()
        gd.pop("plots", None)
        cand = Candidate(name, windows.get(name, {}), gd, bool(g.passed), float(value), tuple(interval),
                         cost=cost, bundle=challengers.get(name, champion if name == "champion" else None))
        return cand, samples, cost_samples

    results = {name: evaluate(name) for name in scored}
    champ = results.get("champion")
    out: list[Candidate] = []
    for name in challengers:
        cand, samples, cost_samples = results[name]
        if champ is not None:
            base, base_samples, base_cost = champ
            sign = 1.0 if gib else -1.0
            diff = sign * (samples - base_samples)
            lo, hi = _interval(diff, confidence)
            point = sign * (cand.metric_value - base.metric_value)
            cand.difference = {"metric": metric_range.name, "improvement": point, "interval": [lo, hi],
                               "method": "paired Poisson bootstrap (same counts for both models)",
                               "champion_value": base.metric_value}
            better = point > min_improvement and (not require_significant or lo > min_improvement)
            cand.beats_champion = bool(better)
            if cost_samples is not None:
                saving = base_cost - cost_samples
                slo, shi = _interval(saving, confidence)
                cand.cost["saving_per_row"] = base.cost["per_row"] - cand.cost["per_row"]
                cand.cost["saving_interval"] = [slo, shi]
        else:
            cand.beats_champion = True  # nothing to beat
        out.append(cand)
    eligible = [cd for cd in out if cd.meets_goal]
    key = (lambda cd: cd.metric_value) if gib else (lambda cd: -cd.metric_value)
    direction = "higher" if gib else "lower"
    if eligible:
        best = max(eligible, key=key)
        why = (f"`{best.name}` has the best {metric_range.name} ({best.metric_value:.4g}, {direction} is better) "
               f"among the {len(eligible)} challenger(s) that meet the goal")
    elif out:
        best = max(out, key=key)
        fails = "; ".join(f"{r['name']} = {r['value']:.4g}, needs {r['range']}" for r in best.gate.get("failures", []))
        why = f"no challenger meets the goal; the best on {metric_range.name} is `{best.name}` (fails: {fails})"
    else:
        best, why = None, "no challenger was trained"
    promote = bool(best is not None and best.meets_goal and best.beats_champion)
    if best is not None and champ is not None:
        d = best.difference
        why += (f"; vs the champion ({champ[0].metric_value:.4g}): improvement {d['improvement']:+.4g}, "
                f"{int(confidence * 100)}% paired interval [{d['interval'][0]:+.4g}, {d['interval'][1]:+.4g}]")
        if best.meets_goal and not best.beats_champion:
            why += (" — not enough to replace it" + (" (the interval must exclude "
                                                     f"{min_improvement:g})" if require_significant else ""))
    return ModelComparison(goal_name, objective.model, metric_range.name, gib, table.num_rows,
                           champ[0] if champ else None, out, best.name if best else None, why, promote, skipped,
                           {"n_boot": n_boot, "confidence": confidence, "seed": seed,
                            "min_improvement": min_improvement, "require_significant": require_significant,
                            "costs": c})


# ----------------------------------------------------------------------------- training

def _describe(table: pa.Table, time_column: str | None) -> dict:
    d: dict = {"rows": table.num_rows}
    if time_column is not None and table.num_rows:
        col = get_column(table, time_column)
        d["start"] = _iso(pc.min(col).as_py())
        d["end"] = _iso(pc.max(col).as_py())
    return d


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def train_challengers(spec: ModelSpec, pool: Any, *, time_column: str | None = None, sliding_window: Any = 0.25,
                      recent_window: Any = None, windows: Sequence[str] = WINDOWS, weight_options: dict | None = None,
                      goal=None, seed: int = 0, n_threads: int | None = 1) -> tuple[dict, dict, Any]:
    """Train one challenger per window on ``pool`` (every labelled row before the evaluation window).

    Returns ``(bundles, descriptions, importance_weights or None)``: name -> Bundle, name -> a
    dict saying which rows it saw (count, time range, weighted, effective sample size).
    ``n_threads`` caps the threads of each fit (see :meth:`ModelSpec.fit`).
    """
    from .weights import importance_weights

    bad = [w for w in windows if w not in WINDOWS]
    if bad or not windows:
        raise ValueError(f"windows={list(windows)!r}: expected some of {list(WINDOWS)}")
    pool = _sorted(as_table(pool), time_column)
    old, recent = split_window(pool, recent_window if recent_window is not None else sliding_window,
                               time_column=time_column)
    _, sliding = split_window(pool, sliding_window, time_column=time_column)
    bundles, desc, iw = {}, {}, None
    for w in windows:
        if w == "expanding":
            desc[w] = {"kind": "expanding", "weighted": False, **_describe(pool, time_column)}
            bundles[w] = spec.fit(pool, goal=goal, lineage={"window": "expanding", "training_window": desc[w]},
                                  n_threads=n_threads)
        elif w == "sliding":
            if sliding.num_rows == 0:
                raise ShapeError("the sliding window holds no row; widen sliding_window")
            desc[w] = {"kind": "sliding", "weighted": False, **_describe(sliding, time_column)}
            bundles[w] = spec.fit(sliding, goal=goal, lineage={"window": "sliding", "training_window": desc[w]},
                                  n_threads=n_threads)
        else:
            if old.num_rows == 0:
                raise ShapeError("no row older than the recent window to weight; widen the pool or narrow recent_window")
            opts = {"seed": seed, **(weight_options or {})}
            # the time itself (and any timestamp) would tell the eras apart trivially: left out
            cols = opts.pop("columns", None) or [
                c for c in spec.input_columns if c != time_column and not _temporal(pool.column(c).type)]
            iw = importance_weights(old, recent, cols, **opts)
            train = pa.concat_tables([old, recent])
            sw = iw.all_weights()
            desc[w] = {"kind": "weighted", "weighted": True, **_describe(train, time_column),
                       "recent": _describe(recent, time_column),
                       "effective_sample_size": _ess_total(sw),
                       "history_effective_sample_size": iw.effective_sample_size, "domain_auc": iw.domain_auc,
                       "domain_auc_interval": list(iw.domain_auc_interval)}
            bundles[w] = spec.fit(train, sample_weight=sw, goal=goal,
                                  lineage={"window": "weighted", "training_window": desc[w]}, n_threads=n_threads)
    return bundles, desc, iw


def _temporal(t: pa.DataType) -> bool:
    return pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_duration(t) or pa.types.is_time(t)


def _ess_total(w: np.ndarray) -> float:
    from .weights import effective_sample_size

    return effective_sample_size(w)


# ----------------------------------------------------------------------------- the report

@dataclass
class RetrainReport:
    """What a retraining found, before anything is promoted.

    ``before``: the champion's metrics before the drift (from its bundle, or measured on the
    ``before`` window); ``now``: the champion on the evaluation window; ``comparison``: every
    challenger on the same window with its forecast interval and paired difference; ``weights``:
    the importance weights' summary; ``chosen`` and ``reason``: the dataset kept, and why;
    ``promote``: whether the chosen challenger meets the goal and beats the champion.
    """

    goal: str
    model: str
    metric: str
    before: dict
    now: dict
    comparison: ModelComparison
    weights: dict
    evaluation_window: dict
    created: str = ""

    @property
    def chosen(self) -> str | None:
        return self.comparison.chosen

    @property
    def promote(self) -> bool:
        return self.comparison.promote

    @property
    def reason(self) -> str:
        return self.comparison.reason

    @property
    def chosen_bundle(self):
        return None if self.chosen is None else self.comparison.candidate(self.chosen).bundle

    @property
    def forecast(self) -> dict:
        """The chosen challenger's metric on the evaluation window, with its interval."""
        if self.chosen is None:
            return {}
        c = self.comparison.candidate(self.chosen)
        return {"metric": self.metric, "value": c.metric_value, "interval": list(c.metric_interval)}

    def to_dict(self) -> dict:
        return _plain({"goal": self.goal, "model": self.model, "metric": self.metric, "created": self.created,
                       "before": self.before, "now": self.now, "forecast": self.forecast,
                       "evaluation_window": self.evaluation_window, "weights": self.weights,
                       "chosen": self.chosen, "reason": self.reason, "promote": self.promote,
                       "comparison": self.comparison.to_dict()})

    def summary(self) -> str:
        lines = [f"retraining for {self.goal}/{self.model} on {self.evaluation_window.get('rows')} recent rows:"]
        b = self.before.get(self.metric)
        if b is not None:
            lines.append(f"  before the drift: {self.metric} = {b:.4g}")
        if self.now:
            lines.append(f"  champion now:     {self.metric} = {self.now['value']:.4g} "
                         f"[{self.now['interval'][0]:.4g}, {self.now['interval'][1]:.4g}]")
        for c in self.comparison.challengers:
            d = c.difference
            imp = f", {d['improvement']:+.4g} [{d['interval'][0]:+.4g}, {d['interval'][1]:+.4g}]" if d else ""
            lines.append(f"  {c.name:<10} {self.metric} = {c.metric_value:.4g} [{c.metric_interval[0]:.4g}, "
                         f"{c.metric_interval[1]:.4g}]{imp}{'' if c.meets_goal else ' (misses the goal)'}")
        lines.append(f"  chosen: {self.chosen} — {self.reason}")
        lines.append(f"  decision: {'promote' if self.promote else 'keep the champion'}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """A self-contained HTML fragment (a ``<section>``) for a dashboard."""
        return report_html(self.to_dict())


def report_html(d: dict) -> str:
    """The HTML fragment of a :meth:`RetrainReport.to_dict` (also for reports read back from a log)."""
    e = html.escape
    m = d.get("metric", "")

    def num(v, fmt="{:.4g}"):
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)

    rows = []
    comp = d.get("comparison") or {}
    champ = comp.get("champion")
    if champ:
        rows.append(f"<tr><td>champion</td><td>–</td><td>{num(champ['metric_value'])}</td>"
                    f"<td>[{num(champ['metric_interval'][0])}, {num(champ['metric_interval'][1])}]</td><td>–</td>"
                    f"<td>{'yes' if champ['meets_goal'] else 'no'}</td><td>{_cost_cell(champ, num)}</td></tr>")
    for c in comp.get("challengers", []):
        w = c.get("window", {})
        rows_seen = f"{w.get('rows', '')} rows" + (", weighted (ESS "
                                                     f"{num(w.get('effective_sample_size'), '{:.0f}')})"
                                                     if w.get("weighted") else "")
        diff = c.get("difference") or {}
        dtxt = (f"{num(diff.get('improvement'), '{:+.4g}')} [{num(diff['interval'][0], '{:+.4g}')}, "
                f"{num(diff['interval'][1], '{:+.4g}')}]") if diff else "–"
        mark = " <strong>(chosen)</strong>" if c["name"] == d.get("chosen") else ""
        rows.append(f"<tr><td>{e(c['name'])}{mark}</td><td>{e(rows_seen)}</td><td>{num(c['metric_value'])}</td>"
                    f"<td>[{num(c['metric_interval'][0])}, {num(c['metric_interval'][1])}]</td><td>{dtxt}</td>"
                    f"<td>{'yes' if c['meets_goal'] else 'no'}</td><td>{_cost_cell(c, num)}</td></tr>")
    before = d.get("before") or {}
    now = d.get("now") or {}
    wts = d.get("weights") or {}
    wline = ""
    if wts:
        wline = (f"<p>Importance weights: domain AUC {num(wts.get('domain_auc'), '{:.3f}')} "
                 f"[{num((wts.get('domain_auc_interval') or [None, None])[0], '{:.3f}')}, "
                 f"{num((wts.get('domain_auc_interval') or [None, None])[1], '{:.3f}')}], effective sample size "
                 f"{num(wts.get('effective_sample_size'), '{:.0f}')} of {wts.get('n_history')} rows.</p>")
    return (
        f'<section class="mlcore-retrain"><h3>Retraining: {e(str(d.get("goal")))} / {e(str(d.get("model")))}</h3>'
        f"<p>{e(m)} before the drift: {num(before.get(m))}; champion now: {num(now.get('value'))} "
        f"[{num((now.get('interval') or [None, None])[0])}, {num((now.get('interval') or [None, None])[1])}] "
        f"on {e(str((d.get('evaluation_window') or {}).get('rows')))} recent rows.</p>{wline}"
        f"<table><thead><tr><th>model</th><th>trained on</th><th>{e(m)}</th><th>interval</th>"
        f"<th>vs champion (paired)</th><th>meets goal</th><th>cost / row</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p><strong>{'Promote' if d.get('promote') else 'Keep the champion'}</strong>: {e(str(d.get('reason')))}</p>"
        f"</section>")


def _cost_cell(c: dict, num) -> str:
    cost = c.get("cost") or {}
    if not cost:
        return "–"
    s = num(cost.get("per_row"))
    if "saving_per_row" in cost:
        s += f" (saves {num(cost['saving_per_row'], '{:+.4g}')})"
    return s


def retrain(spec: ModelSpec | None, data: Any, *, goal: Goal | Objective, champion: Any = None,
            time_column: str | None = None, eval_window: Any = 0.2, sliding_window: Any = 0.25,
            recent_window: Any = None, windows: Sequence[str] = WINDOWS, weight_options: dict | None = None,
            before: Any = None, model: str | None = None, metric: str | None = None, min_improvement: float = 0.0,
            require_significant: bool = False, costs: dict | None = None, n_boot: int = 200,
            confidence: float = 0.95, seed: int = 0, n_threads: int | None = 1) -> RetrainReport:
    """Retrain on a fresh window and compare with the champion (see the module docstring).

    Parameters
    ----------
    spec : ModelSpec, optional
        What to train; default: the champion's own spec (``ModelSpec.from_bundle(champion)``).
    data : table-like
        Every labelled row available now (history and recent), with the target and ``time_column``.
    eval_window, sliding_window, recent_window
        Sizes (rows, fraction, or a span like ``'30d'``): the held-out evaluation window (the
        latest rows), the sliding window before it, and the recent sample the weights aim at
        (default: the sliding window).
    before : table-like, optional
        A window before the drift to measure the champion on; default: the metrics recorded in
        the champion's bundle.
    metric, min_improvement, require_significant, costs, n_boot, confidence, seed
        See :func:`compare_models`.
    n_threads : int, optional
        Threads of each challenger's fit (default 1; None: the estimator's own default).

    Returns
    -------
    RetrainReport
        Its ``chosen_bundle`` is the challenger to publish when ``promote`` is True.
    """
    if spec is None:
        if champion is None:
            raise ValueError("retrain: give a ModelSpec, or a champion trained by ModelSpec.fit")
        spec = ModelSpec.from_bundle(champion)
    table = _sorted(as_table(data), time_column)
    pool, evaluation = split_window(table, eval_window, time_column=time_column)
    if evaluation.num_rows == 0 or pool.num_rows == 0:
        raise ShapeError(f"retrain: {table.num_rows} rows give {pool.num_rows} training and {evaluation.num_rows} "
                         "evaluation rows; both must be non-empty (check eval_window)")
    objective = goal.objective(model) if isinstance(goal, Goal) else goal
    g = goal if isinstance(goal, Goal) else Goal(objective.model, (objective,))
    bundles, desc, iw = train_challengers(spec, pool, time_column=time_column, sliding_window=sliding_window,
                                          recent_window=recent_window, windows=windows,
                                          weight_options=weight_options, goal=g, seed=seed, n_threads=n_threads)
    for name, b in bundles.items():
        b.lineage["evaluation_window"] = _describe(evaluation, time_column)
    comp = compare_models(champion, bundles, evaluation, objective, target=spec.target, metric=metric,
                          min_improvement=min_improvement, require_significant=require_significant, costs=costs,
                          n_boot=n_boot, confidence=confidence, seed=seed, windows=desc)
    for c in comp.challengers:
        c.bundle.metrics.update({r["name"]: r["value"] for r in c.gate.get("metrics", [])})
        c.bundle.metrics["evaluation_window"] = _describe(evaluation, time_column)
    before_d = _before(champion, before, objective, spec, n_boot, seed)
    now = {}
    if comp.champion is not None:
        now = {"metric": comp.metric, "value": comp.champion.metric_value,
               "interval": list(comp.champion.metric_interval)}
    return RetrainReport(comp.goal, comp.model, comp.metric, before_d, now, comp, iw.to_dict() if iw else {},
                         _describe(evaluation, time_column),
                         _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def _before(champion, before, objective, spec, n_boot, seed) -> dict:
    if champion is None:
        return {}
    if before is not None:
        comp = compare_models(champion, {}, before, objective, target=spec.target, n_boot=n_boot, seed=seed)
        return {r["name"]: r["value"] for r in comp.champion.gate.get("metrics", [])}
    recorded = getattr(champion, "metrics", None) or {}
    return {k: v for k, v in recorded.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
