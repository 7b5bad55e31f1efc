"""The life-cycle demo (``mlcore demo``): one model on nycflights13, from goal to maintenance.

The story, each stage through mlcore's own API:

1. **Data**: flights joined with the hourly weather at the origin airport
   (:func:`mlcore.data.join`); target ``late`` = arriving more than 15 minutes late. Cancelled and
   diverted flights (no ``arr_delay``) have no label: they are dropped from training and from every
   evaluation (in production they are still scored, and their label never arrives). A schema is
   inferred on the training months; every month is validated against it and repaired (weather
   gaps filled with the training medians).
2. **Goal**: ranges on ROC AUC, log-loss and calibration error (:class:`mlcore.goals.Goal`).
3. **Features and model**: a :class:`~mlcore.features.FeaturePlan`, then
   :func:`~mlcore.train.select_model` over a few candidate classes (time-ordered validation),
   compiled with :func:`~mlcore.train.compile_model`.
4. **Evaluation**: :func:`mlcore.evaluate.gate` on the month after the training window.
5. **Deployment**: a :class:`~mlcore.deploy.Bundle` published to a local
   :class:`~mlcore.deploy.Registry`, promoted to ``production`` through :func:`~mlcore.deploy.goal_gate`.
6. **Production, month after month**: the month is scored in batch into DuckDB
   (:func:`mlcore.serve.batch.score`); inputs and predictions are checked for drift against the
   reference (:class:`~mlcore.monitor.DriftMonitor`, profiles); performance is estimated before
   any label (:func:`~mlcore.monitor.estimate_binary_performance`); labels arrive as flights land
   and are joined (:func:`~mlcore.monitor.join_late_labels`); the month's metrics are checked
   against the goal; alert rules (:class:`~mlcore.monitor.AlertManager`) decide whether to call
   maintenance.
7. **Maintenance**: :mod:`mlcore.maintain` retrains a challenger, compares it with the champion
   on the same recent window and promotes it through the registry (with an audit entry) only
   when it meets the goal and beats the champion.

Everything lands in one folder: the DuckDB files, the registry, ``story.json`` (every number the
dashboard shows) and ``dashboard.html`` (:mod:`mlcore.maintain.dashboard`).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .decisions import _plain

__all__ = ["DemoConfig", "run_demo", "load_flights", "make_goal", "make_plan", "candidates", "Preparation",
           "MONTH_NAMES", "FEATURES_NUMERIC", "FEATURES_CATEGORICAL"]

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Model inputs: known before departure (schedule, route, weather at the origin at departure time).
FEATURES_NUMERIC = ["distance", "temp", "dewp", "humid", "wind_speed", "precip", "visib", "pressure"]
FEATURES_CATEGORICAL = ["origin", "carrier", "dest"]
TIME_COLUMN = "time_hour"
INPUTS = FEATURES_NUMERIC + FEATURES_CATEGORICAL + [TIME_COLUMN]
TARGET = "late"
LATE_MINUTES = 15
MODEL_NAME = "late_arrival"
#: Maintenance compares models on the latest labelled 30 days, by log-loss (a proper scoring rule:
#: it rewards ranking and calibration both).
EVAL_WINDOW = "30d"
COMPARE_METRIC = "log_loss"
#: Challengers: every labelled row weighted towards the recent concept, and every labelled row
#: as it is (the sliding window lost to both in every month of a trial run, and each challenger
#: costs a fit); the domain classifier behind the weights reads at most 40,000 rows, 3 folds.
CHALLENGER_WINDOWS = ("weighted", "expanding")
WEIGHT_OPTIONS = {"max_rows": 40_000, "n_splits": 3}
SELECTION_ROWS = 50_000
WEATHER = ["temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]


@dataclass
class DemoConfig:
    """Options of the demo.

    Parameters
    ----------
    out : str
        The folder that receives everything (created; an existing demo there is replaced).
    train_months : int
        Months 1..train_months train the first model; the next month is its test set (the gate).
    months : int
        Production months scored after the test month (at most 12 - train_months - 1).
    sample : float
        Fraction of the flights kept (seeded): 1.0 for the full demo, less for a quick run.
    seed : int
        Seed of the sampling, the models and the bootstrap.
    n_boot : int
        Bootstrap resamples behind every interval.
    """

    out: str
    train_months: int = 7
    months: int = 4
    sample: float = 1.0
    seed: int = 0
    n_boot: int = 200
    echo: Callable[[str], None] | None = print

    def __post_init__(self):
        if not 1 <= self.train_months <= 10:
            raise ValueError(f"train_months must be in [1, 10], got {self.train_months}")
        most = 12 - self.train_months - 1
        if not 1 <= self.months <= most:
            raise ValueError(f"months must be in [1, {most}] with train_months={self.train_months}, got {self.months}")
        if not 0.0 < self.sample <= 1.0:
            raise ValueError(f"sample must be in (0, 1], got {self.sample}")


# ------------------------------------------------------------------------------------- progress
class _Stages:
    """One line per stage with its wall time, so a user sees where the minutes go."""

    def __init__(self, echo, total: int):
        self.echo = echo or (lambda s: None)
        self.total = total
        self.k = 0
        self.t0 = time.perf_counter()
        self.times: dict[str, float] = {}
        self._name = None
        self._start = 0.0

    def start(self, name: str) -> None:
        self.k += 1
        self._name = name
        self._start = time.perf_counter()
        self.echo(f"[{self.k}/{self.total}] {name} ...")

    def done(self, detail: str = "") -> None:
        dt = time.perf_counter() - self._start
        self.times[self._name] = round(dt, 2)
        self.echo(f"      {detail + ' ' if detail else ''}({dt:.1f} s)")

    def note(self, text: str) -> None:
        self.echo(f"      {text}")


# ------------------------------------------------------------------------------------- data
def load_flights(*, sample: float = 1.0, seed: int = 0) -> tuple[pa.Table, dict]:
    """nycflights13's flights joined with the weather at the origin airport in the departure hour.

    Returns the joined table (with ``flight_id``, the row number in ``flights``, and ``late``:
    null for the flights without ``arr_delay``) and facts about it (row counts, cancelled
    flights, the late-arrival rate per month).

    Examples
    --------
    >>> table, facts = load_flights()
    >>> facts["n_cancelled"], round(facts["late_rate_by_month"]["Sep"], 3), round(facts["late_rate_by_month"]["Dec"], 3)
    (9430, 0.132, 0.326)
    """
    from ..data import join
    from ..datasets import nycflights13

    flights = nycflights13("flights")
    weather = nycflights13("weather")
    flights = flights.append_column("flight_id", pa.array(np.arange(flights.num_rows, dtype=np.int64)))
    if sample < 1.0:
        keep = np.random.default_rng(seed).random(flights.num_rows) < sample
        flights = flights.filter(pa.array(keep))
    # one weather row per airport and hour (m:1 is checked): the join cannot multiply flights
    table = join(flights, weather.select(["origin", TIME_COLUMN] + WEATHER), on=["origin", TIME_COLUMN],
                 validate="m:1")
    late = pc.greater(table.column("arr_delay"), LATE_MINUTES)  # null where arr_delay is null
    table = table.append_column(TARGET, pc.cast(late, pa.int64()))
    month = table.column("month").to_numpy()
    labelled = table.column(TARGET).is_valid().to_numpy(zero_copy_only=False)
    y = table.column(TARGET).fill_null(0).to_numpy()
    facts = {
        "n_flights": int(table.num_rows),
        "n_cancelled": int((~labelled).sum()),
        "n_labelled": int(labelled.sum()),
        "n_weather_missing": int(table.column("temp").null_count),
        "sample": sample,
        "late_rate_by_month": {
            MONTH_NAMES[m - 1]: float(y[(month == m) & labelled].mean()) for m in range(1, 13)
            if ((month == m) & labelled).any()},
        "flights_by_month": {MONTH_NAMES[m - 1]: int((month == m).sum()) for m in range(1, 13)},
    }
    return table, facts


def _iso(t) -> str | None:
    return t.isoformat() if hasattr(t, "isoformat") else t


def _month_end(m: int) -> _dt.datetime:
    """The end of month ``m`` of 2013 (when its last labels are in), as an aware datetime."""
    nxt = _dt.datetime(2014, 1, 1) if m == 12 else _dt.datetime(2013, m + 1, 1)
    return (nxt - _dt.timedelta(seconds=1)).replace(tzinfo=_dt.timezone.utc)


def _labelled_history(table: pa.Table, prep: "Preparation") -> pa.Table:
    """Every labelled flight of the year, prepared, in time order: maintenance takes the rows
    whose labels have arrived so far."""
    rows, _ = prep.prepare(_labelled(table))
    rows = rows.select(INPUTS + [TARGET, "month"])
    return rows.take(pc.sort_indices(rows, sort_keys=[(TIME_COLUMN, "ascending")]))


def _month_rows(table: pa.Table, months) -> pa.Table:
    return table.filter(pc.is_in(table.column("month"), pa.array(list(months), pa.int64())))


def _labelled(table: pa.Table) -> pa.Table:
    return table.filter(table.column(TARGET).is_valid())


class Preparation:
    """Schema inferred on the training rows; validation and repair of any later batch."""

    def __init__(self, train: pa.Table):
        from ..data import infer_schema

        self.schema = infer_schema(train.select(INPUTS))
        self.fill = {}
        for c in FEATURES_NUMERIC:
            v = train.column(c).drop_null().to_numpy()
            self.fill[c] = float(np.median(v)) if v.size else 0.0

    def prepare(self, batch: pa.Table) -> tuple[pa.Table, dict]:
        """Validate ``batch`` against the schema, then fill the weather gaps with the training
        medians (other problems are reported, values kept: a colder month is data, not an error)."""
        from ..data import repair, validate

        report = validate(batch.select(INPUTS), self.schema, duplicate_rows=False)
        problems = {}
        for r in report.problems.to_pylist():
            key = f"{r['column']}: {r['problem']}"
            problems[key] = problems.get(key, 0) + int(r["count"])
        fixed = repair(batch, self.schema, impute={c: ("constant", v) for c, v in self.fill.items()},
                       out_of_range="keep", unseen="keep", duplicates="keep", nonfinite="null")
        return fixed.table, {"problems": problems, "filled": int(sum(
            fixed.report.count(c, "imputed") for c in FEATURES_NUMERIC)), "quarantined": fixed.report.n_quarantined}


# ------------------------------------------------------------------------------------- goal, features, model
def make_goal():
    """The goal: rank late flights well, with honest probabilities.

    Examples
    --------
    >>> [m.describe() for m in make_goal().objective("late_arrival").metrics]
    ['roc_auc >= 0.65', 'log_loss <= 0.52', 'expected_calibration_error <= 0.06']
    """
    from ..goals import Goal, MetricRange, Objective

    return Goal("on-time arrivals", (Objective(MODEL_NAME, (
        MetricRange("roc_auc", min=0.65),
        MetricRange("log_loss", max=0.52),
        MetricRange("expected_calibration_error", max=0.06),
    ), task="binary", description="P(arrival more than 15 minutes late), known before departure"),),
        description="Flag the flights that will arrive more than 15 minutes late")


def make_plan():
    from ..features import DateTimeParts, FeaturePlan, FrequencyEncoder, OneHotEncoder, StandardScaler

    return FeaturePlan([
        StandardScaler(FEATURES_NUMERIC),
        DateTimeParts([TIME_COLUMN], parts=("hour", "dayofweek"), cyclical=True),
        OneHotEncoder(["origin", "carrier"], handle_unknown="ignore"),
        FrequencyEncoder(["dest"]),
    ])


def candidates(seed: int) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "LogisticRegression": (LogisticRegression(max_iter=1000), {"C": [1.0]}),
        "HistGradientBoostingClassifier": (
            HistGradientBoostingClassifier(random_state=seed, early_stopping=False, learning_rate=0.1),
            {"max_iter": [100], "max_leaf_nodes": [15, 31]}),
    }


def _fits_on_one_thread_from_start() -> None:
    """Ask OpenMP for one thread before scikit-learn loads it. Limiting it later at run time
    (threadpoolctl) still left the first gradient-boosting fit of the process 10-25x slower than
    with ``OMP_NUM_THREADS=1`` set at start (measured on a loaded 2-core machine); an explicit
    user setting is kept."""
    import sys

    if "sklearn" not in sys.modules:
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def _one_fit_thread():
    """scikit-learn's fits on one OpenMP and one BLAS thread. On a 2-core machine shared with other
    work, two threads made a gradient-boosting fit up to 9x slower and a logistic regression 20x
    slower than one thread (measured); on a quiet machine one thread costs little for fits this size."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


# ------------------------------------------------------------------------------------- monitoring helpers
def _month_label(m: int) -> str:
    return f"2013-{m:02d} ({MONTH_NAMES[m - 1]})"



def _duck(path: str):
    import duckdb

    return duckdb.connect(path)


def _fetch(con, sql: str, params=None) -> pa.Table:
    rel = con.sql(sql, params=params) if params is not None else con.sql(sql)
    # a relation's Arrow output avoids the copy of a DB-API result; DuckDB 2 renamed arrow()
    fetch = getattr(rel, "to_arrow_table", None) or getattr(rel, "arrow")
    return fetch()


def _metrics_row(gate_result) -> dict:
    return {m.name: {"value": m.value, "low": m.low, "high": m.high, "passed": m.passed, "range": m.range}
            for m in gate_result.metrics}


# ------------------------------------------------------------------------------------- the run
def run_demo(config: DemoConfig) -> dict:
    """Run the whole demo; returns the story (also written to ``story.json``) with the path of
    the dashboard under ``story["paths"]["dashboard"]``.

    Examples
    --------
    >>> from mlcore.maintain.demo import DemoConfig
    >>> DemoConfig(out="demo-out", months=2, sample=0.2).months
    2
    """
    from ..evaluate.gate import Predictions, gate
    from ..monitor import DriftMonitor, profile
    from ..train import select_model

    cfg = config
    _fits_on_one_thread_from_start()
    out = os.path.abspath(cfg.out)
    for sub in ("registry", "bundles", "batches", "profiles"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    for f in ("warehouse.duckdb", "monitor.duckdb", "story.json", "dashboard.html"):
        if os.path.exists(os.path.join(out, f)):
            os.remove(os.path.join(out, f))
    os.makedirs(out, exist_ok=True)
    paths = {"out": out, "registry": os.path.join(out, "registry"), "warehouse": os.path.join(out, "warehouse.duckdb"),
             "monitor": os.path.join(out, "monitor.duckdb"), "story": os.path.join(out, "story.json"),
             "dashboard": os.path.join(out, "dashboard.html")}
    for sub in ("bundles", "batches", "profiles"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    test_month = cfg.train_months + 1
    prod_months = list(range(test_month + 1, test_month + 1 + cfg.months))
    st = _Stages(cfg.echo, total=5 + len(prod_months))
    story: dict[str, Any] = {"config": {"train_months": cfg.train_months, "months": cfg.months, "sample": cfg.sample,
                                        "seed": cfg.seed, "n_boot": cfg.n_boot},
                             "paths": paths, "months": []}

    # 1. data -------------------------------------------------------------------------------
    st.start("data: nycflights13 flights joined with hourly weather, schema, validation, repair")
    table, facts = load_flights(sample=cfg.sample, seed=cfg.seed)
    story["data"] = facts
    train_raw = _labelled(_month_rows(table, range(1, cfg.train_months + 1)))
    prep = Preparation(train_raw)
    train, train_prep = prep.prepare(train_raw)
    test, test_prep = prep.prepare(_labelled(_month_rows(table, [test_month])))
    story["data"].update({"n_train": train.num_rows, "n_test": test.num_rows, "train_validation": train_prep,
                          "schema_columns": len(prep.schema), "fill_values": prep.fill,
                          "train_window": f"{MONTH_NAMES[0]}-{MONTH_NAMES[cfg.train_months - 1]} 2013",
                          "test_window": f"{MONTH_NAMES[test_month - 1]} 2013"})
    st.done(f"{facts['n_flights']:,} flights, {facts['n_cancelled']:,} without arr_delay (cancelled/diverted: no label); "
            f"train {train.num_rows:,} rows ({story['data']['train_window']}), test {test.num_rows:,} "
            f"({story['data']['test_window']}); {train_prep['filled']:,} weather gaps filled")

    # 2. goal -------------------------------------------------------------------------------
    st.start("goal")
    goal = make_goal()
    objective = goal.objective(MODEL_NAME)
    story["goal"] = {"name": goal.name, "description": goal.description,
                     "metrics": [{"name": m.name, "metric": m.metric, "min": m.min, "max": m.max, "range": m.describe()}
                                 for m in objective.metrics]}
    st.done("; ".join(m.describe() for m in objective.metrics))

    # 3. features + model selection --------------------------------------------------------------
    st.start("features and model selection (time-ordered validation)")
    plan = make_plan()
    feats = plan.fit_transform(train.select(INPUTS))
    full = feats.append_column(TARGET, train.column(TARGET))
    # candidates are compared on a seeded subsample (validated on its latest fifth, in time order);
    # the winner is then fitted on the whole training window
    n_sel = min(train.num_rows, SELECTION_ROWS)
    pick = pa.array(np.sort(np.random.default_rng(cfg.seed).choice(train.num_rows, n_sel, replace=False)))
    sel_table = full.take(pick).append_column("_t", pc.cast(train.column(TIME_COLUMN), pa.int64()).take(pick))
    with _one_fit_thread():
        sel = select_model(candidates(cfg.seed), sel_table, target=TARGET, time_column="_t", metric="neg_log_loss",
                           validation_fraction=0.2, progress=False, refit=False)
    from sklearn.base import clone

    from .maintainer import Maintainer
    from .model_spec import ModelSpec
    from .policy import AlertPolicy

    best = clone(dict((k, v[0]) for k, v in candidates(cfg.seed).items())[sel.best.name]).set_params(**sel.best.params)
    # the winner as a ModelSpec (plan steps + estimator as data): the bundle carries it, so that
    # maintenance retrains exactly this pipeline on fresher windows
    spec = ModelSpec(TARGET, best, steps=make_plan().steps)
    t_fit = time.perf_counter()
    train_window = {"rows": train.num_rows, "start": _iso(pc.min(train.column(TIME_COLUMN)).as_py()),
                    "end": _iso(pc.max(train.column(TIME_COLUMN)).as_py())}
    bundle = spec.fit(train.select(INPUTS + [TARGET]), goal=goal, name=MODEL_NAME,
                      lineage={"window": "initial", "training_window": train_window, "candidate": sel.best.name})
    fit_seconds = time.perf_counter() - t_fit
    story["selection"] = {"metric": sel.metric, "validation": sel.validation,
                          "n_features": len(plan.feature_names_out_), "n_rows": n_sel,
                          "final_fit": {"rows": train.num_rows, "seconds": fit_seconds},
                          "candidates": [{"name": c.name, "params": c.params, "score": c.mean_score,
                                          "fit_seconds": c.fit_seconds, "rank": c.rank} for c in sel.candidates]}
    for c in sel.candidates:
        st.note(f"candidate {c.name} {c.params}: {sel.metric} {c.mean_score:.4f} (fit {c.fit_seconds:.1f} s)")
    st.note(f"final fit on {train.num_rows:,} rows: {fit_seconds:.1f} s")
    st.done(f"{len(plan.feature_names_out_)} features; best {sel.best.name} {sel.best.params} "
            f"({sel.metric} {sel.best.mean_score:.4f} on {sel.validation})")

    # 4. evaluation + deployment ---------------------------------------------------------------
    st.start(f"evaluate against the goal on {MONTH_NAMES[test_month - 1]}, bundle, registry, promote")
    reference_profile = profile(train.select(INPUTS[:-1]))
    bundle.schema, bundle.reference = prep.schema, reference_profile
    p_test = bundle.predict_proba(test.select(INPUTS))[:, 1]
    y_test = test.column(TARGET).to_numpy()
    gres = gate(Predictions(scores=p_test, labels=(p_test >= 0.5).astype(np.int64)), goal, None, y_test,
                model=MODEL_NAME, n_boot=cfg.n_boot, seed=cfg.seed)
    bundle.metrics = {m.name: m.value for m in gres.metrics}
    story["evaluation"] = {"window": story["data"]["test_window"], "n": int(y_test.size),
                           "late_rate": float(y_test.mean()), "verdict": gres.verdict, "passed": gres.passed,
                           "metrics": _metrics_row(gres)}
    # the maintainer owns the registry from here: deployment through the goal's gate, then
    # retraining when a monitoring rule fires (AlertPolicy is the hook in the rules' actions)
    alert_policy = AlertPolicy(name="monitoring alert")
    maintainer = Maintainer(paths["registry"], MODEL_NAME, goal=goal, policies=[alert_policy],
                            time_column=TIME_COLUMN, eval_window=EVAL_WINDOW, metric=COMPARE_METRIC,
                            windows=CHALLENGER_WINDOWS, weight_options=WEIGHT_OPTIONS,
                            n_boot=cfg.n_boot, seed=cfg.seed)
    registry = maintainer.registry
    month_end = _month_end(test_month)
    # deploy() gates on the metrics recorded in the bundle: those the gate above measured on the test month
    first = maintainer.deploy(bundle, at=month_end,
                              reason=f"initial deployment: {sel.best.name} trained on {story['data']['train_window']}, "
                                     f"tested on {story['data']['test_window']}")
    if first["kind"] != "deployed":
        raise RuntimeError("the first model does not meet the goal on its test month, so nothing can be deployed "
                           f"(use more of the data: --sample): {gres.summary()}")
    st.done(f"{gres.verdict}: " + ", ".join(f"{m.name} {m.value:.3f}" for m in gres.metrics)
            + f"; v{first['version']} -> production (decision `{first['kind']}`)")

    # reference for the monitors: the training inputs, and the predictions on them
    rng = np.random.default_rng(cfg.seed)
    ref_rows = train.take(pa.array(np.sort(rng.choice(train.num_rows, min(train.num_rows, 30_000), replace=False))))
    drift_inputs = DriftMonitor(columns=INPUTS[:-1], effect_floor=0.1, categorical_effect_floor=0.05)
    drift_inputs.fit(ref_rows.select(INPUTS[:-1]))
    p_ref = bundle.predict_proba(ref_rows.select(INPUTS))[:, 1]
    drift_preds = DriftMonitor(columns=["p_late"], effect_floor=0.1).fit(pa.table({"p_late": p_ref}))
    ctx = _Context(cfg=cfg, out=out, paths=paths, story=story, table=table, prep=prep, goal=goal,
                   registry=registry, drift_inputs=drift_inputs, drift_preds=drift_preds,
                   reference_profile=reference_profile, stages=st, maintainer=maintainer, alert_policy=alert_policy,
                   history=_labelled_history(table, prep))

    # 5. production months -----------------------------------------------------------------------
    from ..monitor import MonitorStore

    with MonitorStore(paths["monitor"]) as store:
        ctx.store = store
        alerts = _alerts(ctx)
        for m in prod_months:
            _production_month(ctx, m, alerts)

    # 6. dashboard --------------------------------------------------------------------------------
    st.start("dashboard")
    from .dashboard import write_dashboard

    story["decisions"] = ctx.maintainer.decisions()
    # each retraining's full report (mlcore.maintain saved it next to the registry)
    story["retrain_reports"] = []
    for d in story["decisions"]:
        rel = (d.get("evidence") or {}).get("report")
        if d["kind"] in ("promoted", "promotion_refused") and rel:
            with open(os.path.join(registry.root, rel), encoding="utf-8") as f:
                story["retrain_reports"].append({"at": d.get("at"), "kind": d["kind"], "report": json.load(f)})
    story["alerts_fired"] = ctx.fired
    story["registry"] = {"versions": [{"version": v.version, "created": v.created, "info": v.info}
                                      for v in registry.versions(MODEL_NAME)],
                         "aliases": registry.aliases(MODEL_NAME), "audit": registry.audit_log()}
    story["timings"] = st.times
    story["seconds"] = round(time.perf_counter() - st.t0, 1)
    with open(paths["story"], "w") as f:
        json.dump(_plain(story), f, indent=1, allow_nan=False)
    write_dashboard(_plain(story), paths["dashboard"])
    st.done()
    from .dashboard import summary_lines

    echo = cfg.echo or (lambda s: None)
    echo("\nSummary")
    for line in summary_lines(_plain(story)):
        echo("  " + line)
    echo(f"\nDone in {story['seconds']:.0f} s. Dashboard: {paths['dashboard']}")
    return story


@dataclass
class _Context:
    cfg: DemoConfig
    out: str
    paths: dict
    story: dict
    table: pa.Table
    prep: Preparation
    goal: Any
    registry: Any
    drift_inputs: Any
    drift_preds: Any
    reference_profile: Any
    stages: _Stages
    maintainer: Any
    alert_policy: Any
    history: pa.Table
    store: Any = None
    fired: list = field(default_factory=list)


def _alerts(ctx: _Context):
    """Alert rules: a goal metric out of its range in the month's labelled data (performance), or
    drift of the model's output in two months in a row."""
    from ..monitor import AlertManager, Rule

    def record(rule, events):
        ctx.fired.append({"rule": rule, "events": [e.to_dict() for e in events]})

    hook = ctx.alert_policy.action  # the maintainer's AlertPolicy: a firing queues a retraining
    return AlertManager([
        Rule("performance out of the goal's range", kind="performance", actions=[record, hook]),
        Rule("prediction drift, 2 months in a row", kind="drift", what="p_late", consecutive=2, actions=[record, hook]),
    ])


def _production_month(ctx: _Context, m: int, alerts) -> None:
    from ..deploy import Bundle
    from ..evaluate.gate import Predictions, gate
    from ..monitor import Event, estimate_binary_performance, events_from_report, join_late_labels, profile_drift
    from ..monitor import profile
    from ..serve.batch import score

    cfg, st = ctx.cfg, ctx.stages
    label = MONTH_NAMES[m - 1]
    st.start(f"production {_month_label(m)}: batch score into DuckDB, drift, estimate, labels, goal check")
    row: dict[str, Any] = {"month": label, "month_number": m}
    mv = ctx.registry.get(MODEL_NAME, "production")
    bundle = Bundle.load(mv.path, expected_hash=mv.content_hash)
    row["model_version"] = mv.version

    # the month's flights, as scheduled (cancellations are not known in advance)
    raw = _month_rows(ctx.table, [m])
    prepared, prep_info = ctx.prep.prepare(raw)
    row["validation"] = prep_info
    src = os.path.join(ctx.out, "batches", f"2013-{m:02d}.parquet")
    import pyarrow.parquet as pq

    pq.write_table(prepared.select(INPUTS + ["flight_id", "month"]), src)
    # profile=False: the scorer's own profiler cannot take the timestamp input column; the month's
    # profile is computed below on the reference's bins instead
    res = score(bundle, f"parquet:{src}", f"duckdb:{ctx.paths['warehouse']}:predictions",
                keep=["flight_id", "month"], run_id=f"2013-{m:02d}-v{mv.version}", progress=False, profile=False)
    row["scored"] = {"rows": res.rows_scored, "quarantined": res.rows_quarantined, "run_id": res.run_id,
                     "rows_per_s": res.rows_per_s, "bundle": mv.content_hash}
    con = _duck(ctx.paths["warehouse"])
    try:
        preds = _fetch(con, "SELECT flight_id, proba FROM predictions WHERE run_id = ? ORDER BY flight_id",
                       [res.run_id])
    finally:
        con.close()
    p = preds.column("proba").to_numpy()

    # drift before any label: inputs (raw values) and the model's output
    rep_in = ctx.drift_inputs.check(prepared.select(INPUTS[:-1]))
    rep_out = ctx.drift_preds.check(pa.table({"p_late": p}))
    ctx.store.add_report(rep_in, window=label)
    ctx.store.add_report(rep_out, window=label)
    month_profile = profile(prepared.select(INPUTS[:-1]), edges=ctx.reference_profile.edges)
    ctx.store.add_profile(month_profile, window=label)
    psi = {}
    for col, results in profile_drift(ctx.reference_profile, month_profile).items():
        r = next((r for r in results if r.test == "psi"), None)
        if r is not None:
            psi[col] = r.statistic
    row["drift"] = {f.column: {"effect_size": f.effect_size, "drifted": f.drifted, "p": f.adjusted_p_value,
                               "test": f.test, "psi": psi.get(f.column)} for f in rep_in.features}
    f_out = rep_out.features[0]
    row["prediction_drift"] = {"effect_size": f_out.effect_size, "drifted": f_out.drifted, "mean_p": float(p.mean())}
    est = estimate_binary_performance(p)
    row["estimate"] = {"accuracy": est["accuracy"], "band": est["accuracy_band"], "late_rate": float(p.mean())}

    # labels arrive as flights land: departure + delay + air time (none for cancelled flights)
    lab_src = _labelled(raw)
    dep = lab_src.column(TIME_COLUMN)
    minutes = pc.add(pc.fill_null(lab_src.column("dep_delay"), 0), pc.fill_null(lab_src.column("air_time"), 0))
    label_time = pc.add(dep.cast(pa.timestamp("s", tz="UTC")),
                        pc.cast(pc.multiply(pc.cast(minutes, pa.int64()), 60), pa.duration("s")))
    labels = pa.table({"flight_id": lab_src.column("flight_id"), "label_time": label_time,
                       TARGET: lab_src.column(TARGET)})
    scored = preds.append_column("time", pc.take(raw.column(TIME_COLUMN), pc.index_in(
        preds.column("flight_id"), value_set=raw.column("flight_id"))))
    joined = join_late_labels(scored, labels, on="flight_id", prediction_time="time", label_time="label_time",
                              max_delay=_dt.timedelta(days=1))
    have = joined.column(TARGET).is_valid().to_numpy(zero_copy_only=False)
    y = joined.column(TARGET).to_numpy(zero_copy_only=False)[have].astype(np.int64)
    pl = joined.column("proba").to_numpy()[have]
    con = _duck(ctx.paths["warehouse"])
    try:
        con.register("_labels", labels)
        con.execute("CREATE TABLE IF NOT EXISTS labels AS SELECT * FROM _labels WHERE false")
        con.execute("INSERT INTO labels SELECT * FROM _labels")
        con.unregister("_labels")
    finally:
        con.close()
    g = gate(Predictions(scores=pl, labels=(pl >= 0.5).astype(np.int64)), ctx.goal, None, y, model=MODEL_NAME,
             n_boot=cfg.n_boot, seed=cfg.seed)
    row["labels"] = {"scored": int(len(p)), "labelled": int(have.sum()), "late_rate": float(y.mean()),
                     "accuracy": float(((pl >= 0.5) == (y == 1)).mean())}
    row["metrics"] = _metrics_row(g)
    row["goal_met"] = g.passed

    events = events_from_report(rep_out, where=label)
    events += [Event("performance", r.name, label, {"value": r.value, "range": r.range, "shortfall": r.shortfall})
               for r in g.metrics if not r.passed]
    ctx.store.add_events(events_from_report(rep_in, where=label) + events)
    fired = alerts.process(events)
    row["alerts"] = fired
    row["drifted_inputs"] = rep_in.drifted_columns
    ctx.story["months"].append(row)
    st.note(f"model v{mv.version}: {res.rows_scored:,} flights scored ({res.rows_per_s:,.0f} rows/s); "
            f"late rate {row['labels']['late_rate']:.1%} (predicted {p.mean():.1%}); "
            + ", ".join(f"{r.name} {r.value:.3f}{'' if r.passed else ' FAIL'}" for r in g.metrics))
    st.note(f"drifted inputs: {', '.join(rep_in.drifted_columns) or 'none'}; prediction drift effect "
            f"{f_out.effect_size:.2f}{' (drift)' if f_out.drifted else ''}; alerts: {', '.join(fired) or 'none'}")

    # maintenance: the maintainer's policies see the month; a fired rule makes it retrain on every
    # label that has arrived, compare on the latest 30 days and promote only a better model
    from .policy import Observation

    obs = Observation(time=_month_end(m), drift=rep_in, events=events,
                      performance={r.name: r.value for r in g.metrics}, step=m)
    history = ctx.history.filter(pc.less_equal(ctx.history.column("month"), m)).drop_columns(["month"])
    t0 = time.perf_counter()
    decisions = ctx.maintainer.step(history, obs)
    row["maintenance"] = [{"kind": d["kind"], "version": d.get("version"), "reason": d.get("reason")}
                          for d in decisions]
    row["maintenance_seconds"] = round(time.perf_counter() - t0, 2)
    for d in decisions:
        if d["kind"] == "retrain_skipped":
            continue
        ev = d.get("evidence") or {}
        extra = ""
        if d["kind"] in ("promoted", "promotion_refused"):
            champ = ev.get("champion") or {}
            extra = (f" [{ev.get('metric')} on {_window_text(ev.get('evaluation_window'))}: champion "
                     f"{_num(champ.get('value'))}; " + ", ".join(
                         f"{c['name']} {_num(c['value'])}" for c in ev.get("challengers", [])) + "]")
        st.note(f"maintenance: {d['kind']}{' v' + str(d['version']) if d.get('version') else ''}{extra}")
    st.done()


def _num(v) -> str:
    return "n/a" if v is None else f"{v:.4f}"


def _window_text(w) -> str:
    if not isinstance(w, dict):
        return "the latest window"
    return f"{w.get('rows', '?'):,} rows {str(w.get('start', ''))[:10]}..{str(w.get('end', ''))[:10]}" \
        if isinstance(w.get("rows"), int) else str(w)
