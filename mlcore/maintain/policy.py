"""Maintenance policies: when to retrain. On a schedule, on drift, on a performance drop, on alerts.

A policy looks at one :class:`Observation` (the data time, the latest drift report, the
monitoring events, the performance measured on the labels that have arrived) and the time of the
last retraining, and answers with a :class:`Trigger`: retrain or not, why, and the evidence.
:class:`AlertPolicy` is the hook for monitoring's :class:`~mlcore.monitor.AlertManager`: put
``policy.action`` in a :class:`~mlcore.monitor.Rule`'s actions and every firing of the rule queues
a retraining request that the next maintenance step consumes.

Examples
--------
>>> import datetime as dt
>>> from mlcore.maintain import Observation, PerformancePolicy, SchedulePolicy
>>> p = PerformancePolicy("roc_auc", min=0.7)
>>> p.evaluate(Observation(performance={"roc_auc": 0.64})).triggered
True
>>> s = SchedulePolicy(every="30d")
>>> s.evaluate(Observation(time=dt.datetime(2013, 3, 1)), last_retrain=dt.datetime(2013, 2, 15)).triggered
False
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

__all__ = ["Observation", "Trigger", "Policy", "SchedulePolicy", "DriftPolicy", "PerformancePolicy", "AlertPolicy",
           "policy_from_dict", "POLICY_KINDS"]


@dataclass
class Observation:
    """What one maintenance step sees.

    ``time``: the data time of the step (a datetime, or None); ``drift``: a
    :class:`~mlcore.monitor.DriftReport` or its ``to_dict()``; ``events``: monitoring
    :class:`~mlcore.monitor.Event` objects (or dicts); ``performance``: metric -> value measured on
    the latest labelled window; ``step``: a step counter (for schedules in steps).
    """

    time: Any = None
    drift: Any = None
    events: Sequence = ()
    performance: dict = field(default_factory=dict)
    step: int | None = None

    def to_dict(self) -> dict:
        d: dict = {"time": _iso(self.time), "step": self.step, "performance": dict(self.performance)}
        if self.drift is not None:
            dr = _drift_dict(self.drift)
            d["drift"] = {"drifted": dr.get("drifted"), "drifted_columns": dr.get("drifted_columns", []),
                          "n_drifted": dr.get("n_drifted")}
        if self.events:
            d["events"] = [_event_dict(e) for e in self.events][:50]
        return d


@dataclass
class Trigger:
    """A policy's answer: retrain or not, why, and the numbers it looked at."""

    policy: str
    triggered: bool
    reason: str
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"policy": self.policy, "triggered": self.triggered, "reason": self.reason, "evidence": self.evidence}


def _iso(v):
    return v.isoformat() if hasattr(v, "isoformat") else v


def _event_dict(e) -> dict:
    return e.to_dict() if hasattr(e, "to_dict") else dict(e)


def _drift_dict(d) -> dict:
    if d is None:
        return {}
    if isinstance(d, dict):
        return d
    out = d.to_dict() if hasattr(d, "to_dict") else {}
    if hasattr(d, "drifted"):
        out["drifted"] = bool(d.drifted)
    if hasattr(d, "drifted_columns"):
        out["drifted_columns"] = list(d.drifted_columns)
    return out


def _duration(v, what: str):
    if v is None or isinstance(v, (_dt.timedelta, int)) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        from .challengers import _span

        return _span(v)
    raise ValueError(f"{what}={v!r}: expected a number of steps, a timedelta or a span like '30d'")


class Policy:
    """Base class: ``evaluate(observation, last_retrain=None, last_step=None) -> Trigger``."""

    kind = "policy"
    name = "policy"

    def evaluate(self, obs: Observation, last_retrain: Any = None, last_step: int | None = None) -> Trigger:
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError

    def restore(self, trigger: dict) -> None:
        """Pick up the state this policy left in its last recorded :class:`Trigger` (``to_dict()``),
        so that a policy rebuilt in a new process (a resumed run) continues where it stopped."""


class SchedulePolicy(Policy):
    """Retrain every ``every``: a span (``'30d'``, a timedelta; compared on the observation's data
    time) or a number of steps. The first observation with no retraining before it triggers only
    when ``initial`` is True."""

    kind = "schedule"

    def __init__(self, every: Any, *, initial: bool = False, name: str = "schedule"):
        self.every = _duration(every, "every")
        if self.every is None or (isinstance(self.every, int) and self.every < 1):
            raise ValueError(f"SchedulePolicy: every={every!r}, expected a positive span or step count")
        self.initial = bool(initial)
        self.name = name

    def evaluate(self, obs, last_retrain=None, last_step=None) -> Trigger:
        if isinstance(self.every, int):
            if obs.step is None:
                return Trigger(self.name, False, "no step number in the observation")
            if last_step is None:
                return Trigger(self.name, self.initial, "first step" + (" (initial retraining)" if self.initial else ""))
            gone = obs.step - last_step
            return Trigger(self.name, gone >= self.every, f"{gone} step(s) since the last retraining (every {self.every})",
                           {"steps_since": gone, "every": self.every})
        if obs.time is None:
            return Trigger(self.name, False, "no time in the observation")
        if last_retrain is None:
            return Trigger(self.name, self.initial, "no retraining yet" + (" (initial retraining)" if self.initial else ""))
        gone = obs.time - last_retrain
        return Trigger(self.name, gone >= self.every, f"{gone} since the last retraining (every {self.every})",
                       {"since": str(gone), "every": str(self.every)})

    def to_dict(self) -> dict:
        every = self.every if isinstance(self.every, int) else f"{self.every.total_seconds() / 86400:g}d"
        return {"kind": self.kind, "name": self.name, "every": every, "initial": self.initial}


class DriftPolicy(Policy):
    """Retrain when the drift report says drift: the dataset-level verdict (``dataset=True``) or at
    least ``min_features`` drifted features (among ``columns`` if given), in ``consecutive``
    observations in a row. Events of kind ``dataset``/``drift`` count the same way when no
    report is given."""

    kind = "drift"

    def __init__(self, *, min_features: int = 1, dataset: bool = True, columns: Sequence[str] | None = None,
                 consecutive: int = 1, name: str = "drift"):
        if int(min_features) < 1 or int(consecutive) < 1:
            raise ValueError("DriftPolicy: min_features and consecutive must be >= 1")
        self.min_features = int(min_features)
        self.dataset = bool(dataset)
        self.columns = list(columns) if columns is not None else None
        self.consecutive = int(consecutive)
        self.name = name
        self._streak = 0

    def evaluate(self, obs, last_retrain=None, last_step=None) -> Trigger:
        d = _drift_dict(obs.drift)
        if d:
            cols = list(d.get("drifted_columns") or [])
            dataset = bool(d.get("drifted"))
        else:
            evs = [_event_dict(e) for e in obs.events]
            cols = sorted({e["what"] for e in evs if e.get("kind") == "drift"})
            dataset = any(e.get("kind") == "dataset" for e in evs)
            if not evs:
                self._streak = 0
                return Trigger(self.name, False, "no drift report and no event in this observation")
        if self.columns is not None:
            cols = [c for c in cols if c in self.columns]
        hit = bool((self.dataset and dataset and (self.columns is None or cols)) or len(cols) >= self.min_features)
        self._streak = self._streak + 1 if hit else 0
        fired = self._streak >= self.consecutive
        streak = self._streak
        if fired:  # the retraining resets the count: drift is then measured against the new model's data
            self._streak = 0
        why = (f"drift in {len(cols)} feature(s) {cols[:10]}" + (" and at the dataset level" if dataset else "")
               if hit else "no drift")
        if hit and not fired:
            why += f" ({streak} of {self.consecutive} consecutive observations)"
        return Trigger(self.name, fired, why, {"drifted_columns": cols, "dataset_drift": dataset,
                                               "streak": streak, "fired": fired})

    def restore(self, trigger: dict) -> None:
        ev = trigger.get("evidence") or {}
        if "streak" in ev:
            self._streak = 0 if ev.get("fired") else int(ev["streak"])

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "min_features": self.min_features, "dataset": self.dataset,
                "columns": self.columns, "consecutive": self.consecutive}


class PerformancePolicy(Policy):
    """Retrain when ``metric`` (measured on the labels that arrived) leaves its range: below
    ``min`` / above ``max``, or worse than ``baseline`` by more than ``drop``. With a ``goal``
    and no explicit range, the goal's range of that metric is used."""

    kind = "performance"

    def __init__(self, metric: str, *, min: float | None = None, max: float | None = None,
                 drop: float | None = None, baseline: float | None = None, goal=None, model: str | None = None,
                 name: str = "performance"):
        if goal is not None and min is None and max is None:
            m = goal.objective(model).metric(metric) if hasattr(goal, "objective") else goal.metric(metric)
            min, max = m.min, m.max
        if min is None and max is None and drop is None:
            raise ValueError(f"PerformancePolicy({metric!r}): give min, max, drop (with baseline) or a goal")
        if drop is not None and drop < 0:
            raise ValueError(f"PerformancePolicy: drop={drop!r}, expected >= 0")
        self.metric = metric
        self.min, self.max, self.drop, self.baseline = min, max, drop, baseline
        self.name = name

    def _greater_is_better(self) -> bool:
        if self.min is not None and self.max is None:
            return True
        if self.max is not None and self.min is None:
            return False
        from ..evaluate.bootstrap import metric_spec

        try:
            return metric_spec(self.metric).greater_is_better
        except ValueError:
            return True

    def evaluate(self, obs, last_retrain=None, last_step=None) -> Trigger:
        v = obs.performance.get(self.metric)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return Trigger(self.name, False, f"{self.metric} not measured in this observation (no labels yet?)")
        v = float(v)
        ev = {"metric": self.metric, "value": v, "min": self.min, "max": self.max}
        if self.min is not None and v < self.min:
            return Trigger(self.name, True, f"{self.metric} = {v:.4g} < {self.min:g}", ev)
        if self.max is not None and v > self.max:
            return Trigger(self.name, True, f"{self.metric} = {v:.4g} > {self.max:g}", ev)
        base = self.baseline if self.baseline is not None else obs.performance.get(f"baseline_{self.metric}")
        if self.drop is not None and base is not None:
            loss = (base - v) if self._greater_is_better() else (v - base)
            ev.update({"baseline": base, "drop": self.drop, "loss": loss})
            if loss > self.drop:
                return Trigger(self.name, True, f"{self.metric} = {v:.4g}, {loss:.4g} worse than the baseline "
                                                f"{base:.4g} (allowed {self.drop:g})", ev)
        return Trigger(self.name, False, f"{self.metric} = {v:.4g} within range", ev)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "metric": self.metric, "min": self.min, "max": self.max,
                "drop": self.drop, "baseline": self.baseline}


class AlertPolicy(Policy):
    """Retrain when a monitoring rule fired: use ``policy.action`` as an action of a
    :class:`~mlcore.monitor.Rule`; each firing is queued and consumed by the next evaluation.
    ``rules`` limits the rules that count (default: all).

    Examples
    --------
    >>> from mlcore.monitor import AlertManager, Event, Rule
    >>> from mlcore.maintain import AlertPolicy, Observation
    >>> policy = AlertPolicy()
    >>> am = AlertManager([Rule("drift", actions=[policy.action])])
    >>> am.process([Event("drift", "temp", "2013-12", {"p_value": 0.001})])
    ['drift']
    >>> policy.evaluate(Observation()).triggered
    True
    """

    kind = "alert"

    def __init__(self, rules: Sequence[str] | None = None, name: str = "alert"):
        self.rules = list(rules) if rules is not None else None
        self.name = name
        self.pending: list[tuple[str, list]] = []

    def action(self, rule: str, events: list) -> None:
        """The AlertManager action: queue a retraining request for this rule's events."""
        if self.rules is None or rule in self.rules:
            self.pending.append((rule, list(events)))

    def evaluate(self, obs, last_retrain=None, last_step=None) -> Trigger:
        if not self.pending:
            return Trigger(self.name, False, "no monitoring alert since the last step")
        fired, self.pending = self.pending, []
        rules = sorted({r for r, _ in fired})
        evs = [_event_dict(e) for _, es in fired for e in es][:50]
        return Trigger(self.name, True, f"monitoring rule(s) {rules} fired", {"rules": rules, "events": evs})

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "rules": self.rules}


POLICY_KINDS = {"schedule": SchedulePolicy, "drift": DriftPolicy, "performance": PerformancePolicy,
                "alert": AlertPolicy}


def policy_from_dict(d: dict, *, goal=None) -> Policy:
    """A policy from its table (``kind`` plus the constructor's options), as in a pipeline spec.

    Examples
    --------
    >>> policy_from_dict({"kind": "drift", "min_features": 2}).min_features
    2
    """
    if not isinstance(d, dict) or "kind" not in d:
        raise ValueError(f"a policy needs a `kind` (one of {sorted(POLICY_KINDS)}), got {d!r}")
    kind = d["kind"]
    if kind not in POLICY_KINDS:
        raise ValueError(f"unknown policy kind {kind!r}; allowed: {sorted(POLICY_KINDS)}")
    import inspect

    cls = POLICY_KINDS[kind]
    opts = {k: v for k, v in d.items() if k != "kind"}
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "goal", "model")]
    extra = sorted(set(opts) - set(allowed))
    if extra:
        raise ValueError(f"policy {kind!r} has unknown key(s) {extra}; allowed: {sorted(allowed)}")
    if kind == "performance" and goal is not None:
        opts["goal"] = goal
    return cls(**opts)
