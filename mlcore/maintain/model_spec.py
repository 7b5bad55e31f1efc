"""The model spec: what to train, as data, so that a challenger is trained exactly like the champion.

A :class:`ModelSpec` names the target, the feature plan's steps (each ``{"kind", "columns",
options}``, a kind from :data:`mlcore.features.plan.KINDS`) and the estimator (a class name from
the closed list of estimators :func:`mlcore.train.compile_model` converts, with its parameters).
:meth:`ModelSpec.fit` fits the plan and the estimator (optionally with sample weights), compiles
the model and returns a :class:`~mlcore.deploy.Bundle` whose lineage carries the spec itself, so a
later retraining can rebuild the same pipeline from the champion alone (:meth:`ModelSpec.from_bundle`).

Estimator classes are looked up in a closed table (no import path is ever read from a spec or a
bundle).
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._arrow import as_table, get_column
from ..errors import SchemaError

__all__ = ["ModelSpec", "ESTIMATORS", "make_estimator"]


def _estimator_table() -> dict[str, tuple[str, str]]:
    from ..train.compile import SUPPORTED_ESTIMATORS

    out = {}
    for (module, name), family in SUPPORTED_ESTIMATORS.items():
        if name in ("Booster", "IsolationForest"):  # not trainable from a spec's (X, y) fit
            continue
        out[name] = (module, name)
    return out


#: Estimator class name -> (module, class): the only estimators a spec may name.
ESTIMATORS: dict[str, tuple[str, str]] = _estimator_table()


def make_estimator(name: str, params: dict | None = None):
    """A fresh estimator of class ``name`` (from :data:`ESTIMATORS`) with ``params``.

    Examples
    --------
    >>> make_estimator("LogisticRegression", {"C": 0.5}).C
    0.5
    """
    if name not in ESTIMATORS:
        import difflib

        close = difflib.get_close_matches(str(name), list(ESTIMATORS), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise SchemaError(f"unknown estimator {name!r}{hint} Known estimators: {sorted(ESTIMATORS)}")
    module, cls_name = ESTIMATORS[name]
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except ImportError as exc:
        extra = module.split(".")[0]
        raise SchemaError(f"estimator {name!r} needs the package `{extra}`: pip install 'mlcore[{extra}]'") from exc
    est = cls()
    params = dict(params or {})
    valid = set(est.get_params())
    unknown = sorted(set(params) - valid)
    if unknown:
        raise SchemaError(f"estimator {name!r} has no parameter(s) {unknown}; it has {sorted(valid)}")
    return est.set_params(**params)


def _json_params(est) -> tuple[dict, bool]:
    """The estimator's explicit parameters as JSON, and whether they all survived the trip."""
    out, ok = {}, True
    for k, v in est.get_params(deep=False).items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            ok = False
            continue
        try:
            json.dumps(v)
        except TypeError:
            ok = False
            continue
        out[k] = v
    return out, ok


def _step_dict(step) -> dict:
    from ..features._base import Transform

    if isinstance(step, Transform):
        return {"kind": step.kind, **step.get_params()}
    if isinstance(step, dict):
        return dict(step)
    raise TypeError(f"a plan step must be a feature Transform or a dict with `kind` and `columns`, got {step!r}")


def _build_step(d: dict, where: str):
    from ..features.plan import KINDS

    if not isinstance(d, dict) or "kind" not in d:
        raise SchemaError(f"{where}: a plan step needs `kind` and `columns`, got {d!r}")
    kind = d["kind"]
    if kind not in KINDS:
        raise SchemaError(f"{where}: unknown transform kind {kind!r}; expected one of {sorted(KINDS)}")
    params = {k: v for k, v in d.items() if k != "kind"}
    if "columns" not in params:
        raise SchemaError(f"{where}: transform {kind!r} needs `columns`")
    try:
        return KINDS[kind](**params)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: transform {kind!r}: {exc}") from None


@dataclass
class ModelSpec:
    """What to train: target, feature plan steps, estimator (see the module docstring).

    Parameters
    ----------
    target : str
        The target column.
    estimator : str, dict or estimator
        A class name from :data:`ESTIMATORS`, ``{"name": ..., "params": {...}}``, or an unfitted
        estimator of one of those classes (its parameters are recorded).
    steps : list
        Feature plan steps: dicts ``{"kind": "standard_scaler", "columns": [...], ...options}`` or
        Transform objects. Empty: the ``features`` columns pass through as numbers.
    features : list of str, optional
        Input columns when ``steps`` is empty (numeric or bool).
    params : dict
        Estimator parameters (with a class name).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> rng = np.random.default_rng(0); x = rng.normal(size=200)
    >>> t = pa.table({"x": x, "c": rng.choice(["a", "b"], 200), "y": (x > 0).astype(np.int64)})
    >>> spec = ModelSpec("y", "LogisticRegression", steps=[{"kind": "standard_scaler", "columns": ["x"]},
    ...                  {"kind": "one_hot", "columns": ["c"], "handle_unknown": "ignore"}])
    >>> bundle = spec.fit(t)
    >>> bundle.input_columns, ModelSpec.from_bundle(bundle) == spec
    (['x', 'c'], True)
    """

    target: str
    estimator: Any
    steps: list = field(default_factory=list)
    features: list | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.target, str) or not self.target:
            raise SchemaError(f"ModelSpec: `target` must be a column name, got {self.target!r}")
        est = self.estimator
        if isinstance(est, dict):
            extra = set(est) - {"name", "params"}
            if extra or "name" not in est:
                raise SchemaError(f"ModelSpec: an estimator table has `name` and `params`, got keys {sorted(est)}")
            self.params = {**dict(est.get("params") or {}), **self.params}
            est = est["name"]
        if not isinstance(est, str):
            name = type(est).__name__
            if name not in ESTIMATORS:
                make_estimator(name)  # the clear error
            params, _ = _json_params(est)
            self.params = {**params, **self.params}
            est = name
        make_estimator(est, self.params)  # fails now, not at the first retraining
        self.estimator = est
        self.steps = [_step_dict(s) for s in self.steps]
        for i, s in enumerate(self.steps):
            _build_step(s, f"ModelSpec step {i}")
        if not self.steps and not self.features:
            raise SchemaError("ModelSpec: give feature plan `steps` or the `features` columns")
        if self.features is not None:
            if isinstance(self.features, str):
                raise TypeError(f"ModelSpec: `features` must be a list of names, got the string {self.features!r}")
            self.features = [str(f) for f in self.features]
            if self.target in self.features:
                raise SchemaError(f"ModelSpec: the target `{self.target}` is also a feature")

    # -- building -----------------------------------------------------------------------------
    def new_estimator(self):
        """A fresh, unfitted estimator."""
        return make_estimator(self.estimator, self.params)

    def new_plan(self):
        """A fresh, unfitted feature plan."""
        from ..features import FeaturePlan
        from ..features.scalers import Passthrough

        if self.steps:
            return FeaturePlan([_build_step(s, f"ModelSpec step {i}") for i, s in enumerate(self.steps)])
        return FeaturePlan([Passthrough(list(self.features))])

    @property
    def input_columns(self) -> list[str]:
        """The columns the fitted pipeline reads (in order, each once)."""
        cols: list[str] = []
        for s in self.steps:
            for c in s["columns"]:
                if c not in cols:
                    cols.append(c)
        for c in self.features or []:
            if c not in cols:
                cols.append(c)
        return cols

    def fit(self, data: Any, *, sample_weight: Any = None, goal=None, metrics: dict | None = None,
            lineage: dict | None = None, name: str | None = None, n_threads: int | None = 1):
        """Fit the plan and the estimator on ``data`` (rows weighted by ``sample_weight``: an array
        or a column name), compile, and return a :class:`~mlcore.deploy.Bundle`.

        The plan is fitted on the rows unweighted (its statistics only scale the inputs); the
        estimator sees the weights. ``n_threads`` caps the estimator's OpenMP/BLAS threads
        (default 1: retraining runs next to serving and monitoring, and on a loaded machine
        OpenMP's spinning threads made gradient-boosting fits many times slower; None: no cap).
        """
        if n_threads is None:
            return self._fit(data, sample_weight, goal, metrics, lineage, name)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=int(n_threads)):
            return self._fit(data, sample_weight, goal, metrics, lineage, name)

    def _fit(self, data, sample_weight, goal, metrics, lineage, name):
        from ..deploy import Bundle, data_hash
        from ..features import as_matrix
        from ..train import compile_model
        from ..train.fit import fit_matrix, target_vector

        table = as_table(data)
        w = None
        if sample_weight is not None:
            if isinstance(sample_weight, str):
                w = np.asarray(get_column(table, sample_weight).to_numpy(zero_copy_only=False), dtype=np.float64)
            else:
                w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != (table.num_rows,):
                raise SchemaError(f"ModelSpec.fit: sample_weight has {w.size} values for {table.num_rows} rows")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise SchemaError("ModelSpec.fit: sample_weight must be finite and >= 0")
        missing = [c for c in self.input_columns + [self.target] if c not in table.column_names]
        if missing:
            raise SchemaError(f"ModelSpec.fit: column(s) {missing} missing from the data "
                              f"(it has {table.column_names[:30]})")
        y = target_vector(table, self.target)
        plan = self.new_plan()
        feats = plan.fit_transform(table.select(self.input_columns), y)
        if not hasattr(feats, "num_columns"):
            raise SchemaError("ModelSpec.fit: the plan gives a sparse (text) matrix; maintenance trains "
                              "dense plans only")
        X = np.asfortranarray(as_matrix(feats))
        est = fit_matrix(self.new_estimator(), X, y, list(plan.feature_names_out_), w)
        model = compile_model(est)
        lin = {"model_spec": self.to_dict(), "data_hash": data_hash(table.select(self.input_columns + [self.target])),
               "n_rows": table.num_rows, "weighted": w is not None, **(lineage or {})}
        return Bundle(model, input_columns=self.input_columns, plan=plan, goal=goal, metrics=metrics or {},
                      lineage=lin, name=name)

    # -- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = {"target": self.target, "estimator": {"name": self.estimator, "params": dict(self.params)},
             "steps": [dict(s) for s in self.steps]}
        if self.features is not None:
            d["features"] = list(self.features)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        if not isinstance(d, dict):
            raise SchemaError(f"ModelSpec.from_dict: expected a table, got {type(d).__name__}")
        allowed = {"target", "estimator", "steps", "features", "params"}
        extra = sorted(set(d) - allowed)
        if extra:
            raise SchemaError(f"model spec has unknown key(s) {extra}; allowed: {sorted(allowed)}")
        if "target" not in d or "estimator" not in d:
            raise SchemaError(f"model spec needs `target` and `estimator`, got keys {sorted(d)}")
        return cls(d["target"], d["estimator"], steps=list(d.get("steps") or []), features=d.get("features"),
                   params=dict(d.get("params") or {}))

    @classmethod
    def from_bundle(cls, bundle) -> "ModelSpec":
        """The spec a bundle was trained from (recorded in its lineage by :meth:`fit`)."""
        spec = (getattr(bundle, "lineage", None) or {}).get("model_spec")
        if spec is None:
            raise SchemaError("the bundle's lineage has no `model_spec`: it was not trained by ModelSpec.fit; "
                              "pass the spec explicitly")
        return cls.from_dict(spec)

    def __eq__(self, other) -> bool:
        return isinstance(other, ModelSpec) and self.to_dict() == other.to_dict()

    @staticmethod
    def columns_of(steps: Sequence[dict]) -> list[str]:
        return [c for s in steps for c in s.get("columns", [])]
