"""Detection events, rules that decide what happens on them, and alert actions.

An alarm is an :class:`Event` (what, where, evidence, time). A :class:`Rule` fires when events
match it in ``consecutive`` windows in a row (a goal like "PSI < 0.2 per feature" becomes a rule on
the statistic; "drift in 3 consecutive windows" a rule with ``consecutive=3``). When a rule fires,
its actions run: a callback, a log record, a webhook (JSON POST), or a retraining hook (any
callable; the maintenance stage plugs in here). :meth:`AlertManager.prometheus` renders the
current metrics in the Prometheus text format.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

__all__ = ["Event", "Rule", "AlertManager", "events_from_report", "log_action", "webhook_action"]

_log = logging.getLogger("mlcore.monitor")


@dataclass(frozen=True)
class Event:
    """A recorded detection: ``kind`` ("drift", "detector", "quality", "dataset"), ``what`` (the
    column or detector), ``where`` (window or segment), ``evidence`` (numbers) and ``time``."""

    kind: str
    what: str
    where: str
    evidence: dict
    time: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat())

    def to_dict(self) -> dict:
        return asdict(self)


def events_from_report(report, where: str = "") -> list[Event]:
    """One event per drifted feature, one per data-quality finding (nulls/NaN in the current
    data, unseen categories), and one ``dataset`` event when the dataset-level verdict is drift.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from mlcore.monitor import DriftMonitor, events_from_report
    >>> rng = np.random.default_rng(0)
    >>> m = DriftMonitor().fit(pa.table({"a": rng.normal(size=3000)}))
    >>> [e.kind for e in events_from_report(m.check(pa.table({"a": rng.normal(1, size=3000)})))]
    ['drift', 'dataset']
    """
    out = []
    for f in report.features:
        if f.drifted:
            out.append(Event("drift", f.column, where, {
                "test": f.test, "statistic": f.statistic, "p_value": f.p_value,
                "adjusted_p_value": f.adjusted_p_value, "effect_size": f.effect_size,
                "effect_size_name": f.effect_size_name, "effect_floor": f.effect_floor}))
        q = f.quality
        if q.get("unseen_categories"):
            out.append(Event("quality", f.column, where, {"unseen_categories": q["unseen_categories"]}))
        if q.get("rows") and (q.get("null", 0) + q.get("nan", 0)) == q["rows"]:
            out.append(Event("quality", f.column, where, {"all_missing": True, "rows": q["rows"]}))
    if report.drifted:
        out.append(Event("dataset", "dataset", where, {"n_drifted": report.n_drifted,
                                                        "columns": report.drifted_columns,
                                                        "correction": report.correction, "alpha": report.alpha}))
    return out


@dataclass
class Rule:
    """Fire when an event of ``kind`` (and ``what``, if given) passes ``condition`` in
    ``consecutive`` windows in a row.

    ``condition`` is a callable on the event, or None (any matching event). ``threshold`` with
    ``field`` is a shortcut: evidence[field] >= threshold.
    """

    name: str
    kind: str = "drift"
    what: str | None = None
    consecutive: int = 1
    condition: Callable[[Event], bool] | None = None
    field: str | None = None
    threshold: float | None = None
    actions: Sequence[Callable[[str, list[Event]], Any]] = ()

    def matches(self, e: Event) -> bool:
        if e.kind != self.kind or (self.what is not None and e.what != self.what):
            return False
        if self.field is not None and self.threshold is not None:
            v = e.evidence.get(self.field)
            if v is None or (isinstance(v, float) and math.isnan(v)) or v < self.threshold:
                return False
        return self.condition(e) if self.condition is not None else True


def log_action(level: int = logging.WARNING) -> Callable[[str, list[Event]], None]:
    """An action that logs the firing rule and its events on the ``mlcore.monitor`` logger."""
    def act(rule: str, events: list[Event]) -> None:
        _log.log(level, "monitor rule %s fired: %s", rule, json.dumps([e.to_dict() for e in events], default=str))
    return act


def webhook_action(url: str, timeout: float = 5.0) -> Callable[[str, list[Event]], None]:
    """An action that POSTs ``{"rule": ..., "events": [...]}`` as JSON to ``url``; a failure is
    logged, never raised (an alert must not break the pipeline that raised it)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"webhook url must start with http:// or https://, got {url!r}")

    def act(rule: str, events: list[Event]) -> None:
        body = json.dumps({"rule": rule, "events": [e.to_dict() for e in events]}, default=str).encode()
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout):
                pass
        except OSError as exc:
            _log.error("webhook for rule %s failed: %s", rule, exc)
    return act


class AlertManager:
    """Apply rules to the events of successive windows.

    Examples
    --------
    >>> from mlcore.monitor import AlertManager, Event, Rule
    >>> fired = []
    >>> am = AlertManager([Rule("twice", consecutive=2, actions=[lambda r, ev: fired.append(r)])])
    >>> am.process([Event("drift", "a", "w1", {})]); am.process([Event("drift", "a", "w2", {})])
    []
    ['twice']
    >>> fired
    ['twice']
    """

    def __init__(self, rules: Iterable[Rule]):
        self.rules = list(rules)
        self._streak: dict[tuple[str, str], int] = {}
        self.history: list[tuple[str, list[Event]]] = []
        self.metrics: dict[tuple[str, str], float] = {}

    def process(self, events: Sequence[Event]) -> list[str]:
        """Feed the events of one window; returns the names of the rules that fired."""
        fired = []
        for rule in self.rules:
            hits = [e for e in events if rule.matches(e)]
            keys = {e.what for e in hits} if rule.what is None else ({rule.what} if hits else set())
            for key in list(self._streak):
                if key[0] == rule.name and key[1] not in keys:
                    self._streak[key] = 0
            trig = []
            for key in keys:
                n = self._streak.get((rule.name, key), 0) + 1
                self._streak[(rule.name, key)] = n
                if n >= rule.consecutive:
                    trig.extend(e for e in hits if e.what == key)
            if trig:
                fired.append(rule.name)
                self.history.append((rule.name, trig))
                for act in rule.actions:
                    act(rule.name, trig)
        for e in events:
            for k, v in e.evidence.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    self.metrics[(f"mlcore_monitor_{e.kind}_{k}", e.what)] = float(v)
        for name in fired:
            self.metrics[("mlcore_monitor_rule_fired_total", name)] = \
                self.metrics.get(("mlcore_monitor_rule_fired_total", name), 0.0) + 1.0
        return fired

    def prometheus(self) -> str:
        """The latest metrics in the Prometheus text exposition format."""
        lines = []
        for (name, label), v in sorted(self.metrics.items()):
            safe = label.replace("\\", "\\\\").replace('"', '\\"')
            key = "rule" if name.endswith("fired_total") else "column"
            lines.append(f'{name}{{{key}="{safe}"}} {v!r}')
        return "\n".join(lines) + ("\n" if lines else "")
