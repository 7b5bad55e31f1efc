"""Goals: the metrics that matter, with acceptance ranges, for one or several models.

A :class:`Goal` is one business objective. It holds one :class:`Objective` per model that serves
it (a lending goal: a click model and a default model), and each objective lists
:class:`MetricRange` items: a metric name, an acceptance range and the metric's parameters.
The same object gates evaluation, drives monitoring alerts and decides maintenance.

TOML form (read with ``tomllib``, written by this module)::

    name = "lending"
    description = "Lend to people who click and repay"

    [models.click]
    task = "binary"

    [[models.click.metrics]]
    metric = "roc_auc"
    min = 0.8

    [[models.click.metrics]]
    metric = "latency_p99_us"
    max = 50.0

    [[models.click.metrics]]
    metric = "psi"
    max = 0.2
    max_inclusive = false

Examples
--------
>>> from mlcore.goals import Goal, Objective, MetricRange
>>> g = Goal("lending", [Objective("click", [MetricRange("roc_auc", min=0.8)])])
>>> Goal.from_toml(g.to_toml()) == g
True
>>> g.objective("click").metrics[0].check(0.75).shortfall
0.05
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from ..errors import SchemaError

__all__ = ["GoalError", "MetricRange", "Check", "Objective", "Goal", "TASKS"]

#: Tasks an objective may declare (they say which metrics make sense).
TASKS = ("binary", "multiclass", "regression", "any")


class GoalError(SchemaError):
    """A goal, or a goal file, is not valid (the message names the model, the metric and the value)."""


def _num(v: Any, what: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise GoalError(f"{what} must be a number, got {v!r}")
    v = float(v)
    if math.isnan(v):
        raise GoalError(f"{what} is NaN; expected a number")
    return v


@dataclass(frozen=True)
class Check:
    """The outcome of checking one value against a range.

    ``shortfall`` is by how much the value misses the range (0 when it passes; for a value equal
    to an exclusive bound, 0 as well but ``passed`` is False); NaN values fail with NaN shortfall.
    """

    passed: bool
    shortfall: float
    bound: str  # "min", "max" or "" when passed


@dataclass(frozen=True)
class MetricRange:
    """A metric with its acceptance range ``min <= value <= max`` (either side optional; each
    side inclusive unless told otherwise), plus the metric's parameters (``params``).

    Examples
    --------
    >>> MetricRange("psi", max=0.2, max_inclusive=False).describe()
    'psi < 0.2'
    >>> MetricRange.parse("roc_auc >= 0.8")
    MetricRange(metric='roc_auc', min=0.8, max=None, min_inclusive=True, max_inclusive=True, params={}, label='')
    """

    metric: str
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    params: dict = field(default_factory=dict)
    label: str = ""

    def __post_init__(self):
        if not isinstance(self.metric, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", self.metric):
            raise GoalError(f"metric name must be an identifier, got {self.metric!r}")
        lo = _num(self.min, f"`min` of metric {self.metric!r}")
        hi = _num(self.max, f"`max` of metric {self.metric!r}")
        if lo is None and hi is None:
            raise GoalError(f"metric {self.metric!r} has no acceptance range; give `min`, `max` or both")
        if lo is not None and hi is not None and lo > hi:
            raise GoalError(f"metric {self.metric!r} has min {lo} > max {hi}: no value can pass")
        object.__setattr__(self, "min", lo)
        object.__setattr__(self, "max", hi)
        # a missing side has no inclusiveness: normalise so that equal ranges compare equal
        object.__setattr__(self, "min_inclusive", bool(self.min_inclusive) if lo is not None else True)
        object.__setattr__(self, "max_inclusive", bool(self.max_inclusive) if hi is not None else True)
        if not isinstance(self.params, dict):
            raise GoalError(f"`params` of metric {self.metric!r} must be a table, got {self.params!r}")
        object.__setattr__(self, "params", dict(self.params))

    @property
    def name(self) -> str:
        """Display name: the label, else the metric (with its parameters)."""
        if self.label:
            return self.label
        if not self.params:
            return self.metric
        return self.metric + "[" + ", ".join(f"{k}={v}" for k, v in sorted(self.params.items())) + "]"

    @property
    def greater_is_better(self) -> bool:
        """True when only a lower bound is set (the range then says which way is better)."""
        return self.min is not None and self.max is None

    def check(self, value: float) -> Check:
        """Pass/fail of ``value``, with the shortfall (how far outside the range it lies)."""
        v = float(value)
        if math.isnan(v):
            return Check(False, float("nan"), "min" if self.min is not None else "max")
        if self.min is not None and (v < self.min or (v == self.min and not self.min_inclusive)):
            return Check(False, round(self.min - v, 12), "min")
        if self.max is not None and (v > self.max or (v == self.max and not self.max_inclusive)):
            return Check(False, round(v - self.max, 12), "max")
        return Check(True, 0.0, "")

    def contains(self, value: float) -> bool:
        return self.check(value).passed

    def describe(self) -> str:
        """The range as text: 'roc_auc >= 0.8', 'psi < 0.2', '0.1 <= mae <= 2'."""
        lo_op = ">=" if self.min_inclusive else ">"
        hi_op = "<=" if self.max_inclusive else "<"
        if self.min is not None and self.max is not None:
            return f"{_g(self.min)} {lo_op.replace('>', '<')} {self.name} {hi_op} {_g(self.max)}"
        if self.min is not None:
            return f"{self.name} {lo_op} {_g(self.min)}"
        return f"{self.name} {hi_op} {_g(self.max)}"

    @classmethod
    def parse(cls, text: str, **params) -> "MetricRange":
        """Build from 'metric >= 0.8', 'metric < 0.2' or 'metric in [0.1, 0.5]'."""
        m = re.fullmatch(r"\s*([A-Za-z_][\w.\-]*)\s*(>=|<=|>|<)\s*(\S+)\s*", text)
        if m:
            name, op, num = m.groups()
            v = _parse_float(num, text)
            if op.startswith(">"):
                return cls(name, min=v, min_inclusive=op == ">=", params=params)
            return cls(name, max=v, max_inclusive=op == "<=", params=params)
        m = re.fullmatch(r"\s*([A-Za-z_][\w.\-]*)\s+in\s*([\[(])\s*(\S+)\s*,\s*(\S+)\s*([\])])\s*", text)
        if m:
            name, lb, lo, hi, rb = m.groups()
            return cls(name, min=_parse_float(lo, text), max=_parse_float(hi, text),
                       min_inclusive=lb == "[", max_inclusive=rb == "]", params=params)
        raise GoalError(f"cannot read the range {text!r}; expected 'metric >= 0.8', 'metric < 0.2' "
                        "or 'metric in [0.1, 0.5]'")

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"metric": self.metric}
        if self.label:
            d["label"] = self.label
        if self.min is not None:
            d["min"] = self.min
            if not self.min_inclusive:
                d["min_inclusive"] = False
        if self.max is not None:
            d["max"] = self.max
            if not self.max_inclusive:
                d["max_inclusive"] = False
        if self.params:
            d["params"] = dict(self.params)
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str = "") -> "MetricRange":
        if not isinstance(d, dict):
            raise GoalError(f"{where}a metric must be a table, got {d!r}")
        known = {"metric", "label", "min", "max", "min_inclusive", "max_inclusive", "params"}
        extra = set(d) - known
        if extra:
            raise GoalError(f"{where}metric {d.get('metric')!r} has unknown key(s) {sorted(extra)}; "
                            f"expected some of {sorted(known)}")
        if "metric" not in d:
            raise GoalError(f"{where}a metric entry has no `metric` name: {d!r}")
        for k in ("min_inclusive", "max_inclusive"):
            if k in d and not isinstance(d[k], bool):
                raise GoalError(f"{where}`{k}` of metric {d['metric']!r} must be true or false, got {d[k]!r}")
        return cls(d["metric"], min=d.get("min"), max=d.get("max"), min_inclusive=d.get("min_inclusive", True),
                   max_inclusive=d.get("max_inclusive", True), params=d.get("params", {}), label=d.get("label", ""))


def _g(v: float) -> str:
    return f"{v:g}"


def _parse_float(s: str, text: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise GoalError(f"cannot read the number {s!r} in {text!r}") from None


@dataclass(frozen=True)
class Objective:
    """What one model must achieve: its metrics with acceptance ranges.

    Examples
    --------
    >>> o = Objective("default", ["roc_auc >= 0.75", "expected_calibration_error <= 0.05"], task="binary")
    >>> [m.metric for m in o.metrics]
    ['roc_auc', 'expected_calibration_error']
    """

    model: str
    metrics: tuple = ()
    task: str = "any"
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.model, str) or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", self.model):
            raise GoalError(f"model name must be letters, digits, '_', '.', '-'; got {self.model!r}")
        if self.task not in TASKS:
            raise GoalError(f"model {self.model!r}: task {self.task!r} is not one of {list(TASKS)}")
        items = []
        for m in self.metrics:
            if isinstance(m, str):
                m = MetricRange.parse(m)
            elif isinstance(m, dict):
                m = MetricRange.from_dict(m, f"model {self.model!r}: ")
            elif not isinstance(m, MetricRange):
                raise GoalError(f"model {self.model!r}: a metric must be a MetricRange, a dict or a string "
                                f"like 'roc_auc >= 0.8'; got {m!r}")
            items.append(m)
        if not items:
            raise GoalError(f"model {self.model!r} lists no metric")
        names = [m.name for m in items]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise GoalError(f"model {self.model!r} lists {dup} more than once; give each a distinct `label`")
        object.__setattr__(self, "metrics", tuple(items))

    def metric(self, name: str) -> MetricRange:
        """The range named ``name`` (its label or metric), or an error listing those there are."""
        for m in self.metrics:
            if m.name == name or (not m.label and m.metric == name):
                return m
        raise GoalError(f"model {self.model!r} has no metric {name!r}; it has {[m.name for m in self.metrics]}")

    def check(self, values: dict) -> dict:
        """Check measured values ({metric name or label: value}) against the ranges: {name: Check}.

        What monitoring alerts on and what maintenance compares models with; a metric of the
        objective missing from ``values`` fails with NaN shortfall (it was not measured).

        Examples
        --------
        >>> o = Objective("m", ["roc_auc >= 0.8", "psi < 0.2"])
        >>> {k: c.passed for k, c in o.check({"roc_auc": 0.85, "psi": 0.3}).items()}
        {'roc_auc': True, 'psi': False}
        """
        unknown = [k for k in values if k not in {m.name for m in self.metrics} | {m.metric for m in self.metrics}]
        if unknown:
            raise GoalError(f"model {self.model!r} has no metric {unknown}; it has {[m.name for m in self.metrics]}")
        out = {}
        for m in self.metrics:
            v = values.get(m.name, values.get(m.metric) if not m.label and not m.params else values.get(m.name))
            out[m.name] = m.check(float("nan") if v is None else v)
        return out

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"task": self.task}
        if self.description:
            d["description"] = self.description
        d["metrics"] = [m.to_dict() for m in self.metrics]
        return d

    @classmethod
    def from_dict(cls, model: str, d: dict) -> "Objective":
        if not isinstance(d, dict):
            raise GoalError(f"model {model!r} must be a table, got {d!r}")
        extra = set(d) - {"task", "description", "metrics"}
        if extra:
            raise GoalError(f"model {model!r} has unknown key(s) {sorted(extra)}; expected task, description, metrics")
        metrics = d.get("metrics", [])
        if not isinstance(metrics, list):
            raise GoalError(f"model {model!r}: `metrics` must be an array of tables")
        return cls(model, tuple(metrics), task=d.get("task", "any"), description=d.get("description", ""))


@dataclass(frozen=True)
class Goal:
    """One business objective, served by one or several models, each with its :class:`Objective`.

    Examples
    --------
    >>> g = Goal.single("churn", ["roc_auc >= 0.8", "latency_p99_us <= 50"])
    >>> g.models
    ['model']
    """

    name: str
    objectives: tuple = ()
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise GoalError(f"a goal needs a non-empty name, got {self.name!r}")
        objs = tuple(self.objectives)
        if not objs:
            raise GoalError(f"goal {self.name!r} has no model objective")
        for o in objs:
            if not isinstance(o, Objective):
                raise GoalError(f"goal {self.name!r}: objectives must be Objective objects, got {o!r}")
        names = [o.model for o in objs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise GoalError(f"goal {self.name!r} lists model(s) {dup} more than once")
        object.__setattr__(self, "objectives", objs)

    @classmethod
    def single(cls, name: str, metrics: Iterable, *, model: str = "model", task: str = "any",
               description: str = "") -> "Goal":
        """A goal for one model."""
        return cls(name, (Objective(model, tuple(metrics), task=task),), description)

    @property
    def models(self) -> list[str]:
        return [o.model for o in self.objectives]

    def objective(self, model: str | None = None) -> Objective:
        """The objective of ``model`` (optional when the goal has one model)."""
        if model is None:
            if len(self.objectives) == 1:
                return self.objectives[0]
            raise GoalError(f"goal {self.name!r} spans models {self.models}; say which one (model=...)")
        for o in self.objectives:
            if o.model == model:
                return o
        raise GoalError(f"goal {self.name!r} has no model {model!r}; it has {self.models}")

    # ----------------------------------------------------------------- serialisation

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"name": self.name}
        if self.description:
            d["description"] = self.description
        d["models"] = {o.model: o.to_dict() for o in self.objectives}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Goal":
        if not isinstance(d, dict):
            raise GoalError(f"a goal must be a table, got {type(d).__name__}")
        extra = set(d) - {"name", "description", "models"}
        if extra:
            raise GoalError(f"goal has unknown key(s) {sorted(extra)}; expected name, description, models")
        models = d.get("models")
        if not isinstance(models, dict) or not models:
            raise GoalError("goal has no [models.NAME] table; add one per model")
        return cls(d.get("name", ""), tuple(Objective.from_dict(k, v) for k, v in models.items()),
                   d.get("description", ""))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Goal":
        return cls.from_dict(json.loads(text))

    def to_toml(self) -> str:
        """The goal as TOML text (see the module docstring for the layout)."""
        d = self.to_dict()
        lines = [f"name = {_toml_value(d['name'])}"]
        if "description" in d:
            lines.append(f"description = {_toml_value(d['description'])}")
        for model, od in d["models"].items():
            lines += ["", f"[models.{_toml_key(model)}]", f"task = {_toml_value(od['task'])}"]
            if "description" in od:
                lines.append(f"description = {_toml_value(od['description'])}")
            for m in od["metrics"]:
                lines += ["", f"[[models.{_toml_key(model)}.metrics]]"]
                for k, v in m.items():
                    lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, text: str) -> "Goal":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise GoalError(f"goal TOML does not parse: {exc}") from exc
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike) -> None:
        """Write the goal to ``path`` (.toml or .json by extension)."""
        text = self.to_json() if str(path).endswith(".json") else self.to_toml()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Goal":
        """Read a goal from a .toml or .json file."""
        with open(path, "rb") as f:
            raw = f.read()
        if str(path).endswith(".json"):
            return cls.from_json(raw.decode("utf-8"))
        return cls.from_toml(raw.decode("utf-8"))


def _toml_string(s: str) -> str:
    """A TOML basic string: backslash, quote and every control character (DEL too) escaped."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_\-]+", k) else _toml_string(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if math.isnan(v):
            return "nan"
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise GoalError(f"cannot write {v!r} ({type(v).__name__}) to TOML; use numbers, strings, booleans, "
                    "arrays or tables")
