"""One window of production, seen by maintenance: drift against the champion's data, performance
on the labels that arrived, the monitoring events — as an :class:`~mlcore.maintain.Observation`.

:func:`training_window` cuts the rows a bundle was trained on out of a table (from the
``training_window`` its lineage records); :func:`observe_window` runs the monitoring stage's
:class:`~mlcore.monitor.DriftMonitor` against that reference, measures the goal's metrics on the
labelled window (with bootstrap intervals) and turns the report into events
(:func:`mlcore.monitor.events_from_report`). ``mlcore run`` calls it once per period; a custom
loop can do the same and feed :meth:`Maintainer.step <mlcore.maintain.Maintainer.step>`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._arrow import as_table, get_column
from .policy import Observation

__all__ = ["WindowObservation", "observe_window", "training_window"]


def _scalar(col: pa.ChunkedArray, v: Any) -> pa.Scalar:
    if pa.types.is_timestamp(col.type):
        if isinstance(v, str):
            v = _dt.datetime.fromisoformat(v)
        if isinstance(v, _dt.datetime):
            if col.type.tz and v.tzinfo is None:
                v = v.replace(tzinfo=_dt.timezone.utc)
            return pa.scalar(v, pa.timestamp("us", tz=col.type.tz)).cast(col.type)
    return pa.scalar(v)


def training_window(bundle: Any, table: Any, time_column: str) -> pa.Table:
    """The rows of ``table`` inside the bundle's recorded training window (``lineage['training_window']``:
    ``start``/``end``, inclusive); the whole table when the bundle records none."""
    t = as_table(table)
    tw = (getattr(bundle, "lineage", None) or {}).get("training_window") or {}
    if not (tw.get("start") and tw.get("end")):
        return t
    col = get_column(t, time_column)
    return t.filter(pc.and_(pc.greater_equal(col, _scalar(col, tw["start"])),
                            pc.less_equal(col, _scalar(col, tw["end"]))))


@dataclass
class WindowObservation:
    """The result of :func:`observe_window`: the :class:`Observation` for the policies, plus what a
    dashboard shows (``to_dict()``: performance with intervals, positive rate, drift per feature, events)."""

    observation: Observation
    report: Any = field(repr=False)            # the DriftReport
    events: list = field(default_factory=list)
    performance: dict = field(default_factory=dict)
    performance_interval: dict = field(default_factory=dict)
    metric: str = ""
    rows: int = 0
    positive_rate: float | None = None

    def to_dict(self) -> dict:
        from .decisions import _plain

        feats = self.report.to_table().select(["column", "statistic", "p_value", "drifted"]).to_pylist()
        return _plain({"time": self.observation.time, "step": self.observation.step, "rows": self.rows,
                       "metric": self.metric, "performance": self.performance,
                       "performance_interval": self.performance_interval, "positive_rate": self.positive_rate,
                       "drift": {"drifted": bool(self.report.drifted), "drifted_columns": self.report.drifted_columns,
                                 "features": feats},
                       "events": [e.to_dict() for e in self.events]})


def observe_window(champion: Any, reference: Any, window: Any, goal, *, target: str | None = None,
                   columns: Sequence[str] | None = None, time: Any = None, step: int | None = None,
                   where: str = "", monitor: dict | None = None, model: str | None = None, n_boot: int = 200,
                   seed: int = 0) -> WindowObservation:
    """Observe one production window for maintenance.

    Parameters
    ----------
    champion
        The production Bundle (its ``input_columns`` are watched unless ``columns`` says otherwise).
    reference : table-like
        The champion's training rows (see :func:`training_window`).
    window : table-like
        The window's rows; with the ``target`` column, performance is measured too.
    goal : Goal
        Its prediction metrics are measured (the first is ``metric``).
    monitor : dict, optional
        :class:`~mlcore.monitor.DriftMonitor` options (alpha, correction, numeric_test,
        categorical_test, effect_floor, categorical_effect_floor).
    time, step, where
        The observation's data time and step number, and the events' ``where`` label.

    Returns
    -------
    WindowObservation

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.goals import Goal
    >>> from mlcore.maintain import ModelSpec, observe_window
    >>> rng = np.random.default_rng(0); x = rng.normal(size=2000)
    >>> t = pa.table({"x": x, "y": (x > 0).astype(np.int64)})
    >>> champ = ModelSpec("y", "LogisticRegression", features=["x"]).fit(t.slice(0, 1000))
    >>> moved = pa.table({"x": x[1000:] + 1.0, "y": (x[1000:] > 0.5).astype(np.int64)})
    >>> seen = observe_window(champ, t.slice(0, 1000), moved, Goal.single("g", ["accuracy >= 0.9"]),
    ...                       target="y", n_boot=50)
    >>> seen.report.drifted_columns, seen.performance["accuracy"] < 0.9
    (['x'], True)
    """
    from ..monitor import DriftMonitor, events_from_report
    from .challengers import compare_models

    ref = as_table(reference)
    cur = as_table(window)
    cols = list(columns) if columns else list(champion.input_columns)
    opts = dict(monitor or {})
    opts.pop("columns", None)
    opts.pop("metrics", None)
    report = DriftMonitor(columns=cols, **opts).fit(ref.select(cols)).check(cur.select(cols))
    events = events_from_report(report, where=where)
    perf, ci, metric, rate = {}, {}, "", None
    if target is not None and target in cur.column_names and cur.num_rows:
        comp = compare_models(champion, {}, cur, goal, target=target, model=model, n_boot=n_boot, seed=seed)
        metric = comp.metric
        for r in comp.champion.gate.get("metrics", []):
            perf[r["name"]] = r["value"]
            ci[r["name"]] = [r["low"], r["high"]]
        y = cur.column(target).to_numpy(zero_copy_only=False)
        classes = getattr(getattr(champion, "model", None), "classes_", None)
        pos = classes[-1] if classes is not None and len(classes) == 2 else 1
        rate = float(np.mean(y == pos))
    obs = Observation(time=time, drift=report, events=events, performance=perf, step=step)
    return WindowObservation(obs, report, events, perf, ci, metric, cur.num_rows, rate)
