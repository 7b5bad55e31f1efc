"""The maintainer: policies decide when, a retraining decides what, the registry promotes or refuses.

A :class:`Maintainer` watches one registered model (``name``, alias ``production`` by default):

- :meth:`Maintainer.deploy` publishes a first model and promotes it through the registry with
  the goal's gate (:func:`mlcore.deploy.goal_gate` on its recorded metrics);
- :meth:`Maintainer.step` evaluates the policies on an :class:`~mlcore.maintain.Observation`;
  when one fires it runs :meth:`Maintainer.retrain`, otherwise it records why not;
- :meth:`Maintainer.retrain` re-executes training on a fresh window with the champion's own
  model spec (:func:`~mlcore.maintain.retrain`), publishes the chosen challenger, and calls
  :meth:`Registry.promote <mlcore.deploy.Registry.promote>` with a gate that passes **only if the
  challenger meets the goal and beats the champion on the same recent window**; the registry's
  audit entry (``promote`` or ``promotion_refused``) carries that evidence;
- :meth:`Maintainer.rollback` moves the alias back in one call.

Every decision — deployed, retrain triggered or skipped, promoted or refused, rollback — goes to
the :class:`~mlcore.maintain.DecisionLog` (``<registry>/decisions.jsonl`` by default) with its
evidence; each retraining's full report is kept as JSON under ``<registry>/reports/``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from typing import Any, Sequence

from ..deploy import Bundle, PromotionRefused, Registry
from ..goals import Goal
from .challengers import WINDOWS, retrain
from .decisions import DecisionLog, _plain
from .model_spec import ModelSpec
from .policy import Observation, Policy

__all__ = ["Maintainer", "rollback"]


def _registry(reg) -> Registry:
    return reg if isinstance(reg, Registry) else Registry(reg)


def rollback(registry: Registry | str | os.PathLike, name: str, *, alias: str = "production",
             reason: str = "manual rollback", log: str | os.PathLike | None = None) -> dict:
    """Move ``alias`` of ``name`` back to its previous version and record the decision.

    Returns the decision record. The command line's ``mlcore maintain rollback`` calls this.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from mlcore.deploy import Registry
    >>> from mlcore.deploy.artifact import Component, write_artifact
    >>> root = tempfile.mkdtemp(); reg = Registry(root + "/reg")
    >>> for i in (1, 2):
    ...     _ = write_artifact(f"{root}/a{i}", {"model": Component("demo", {}, {"w": np.full(3, i)})})
    ...     _ = reg.promote("m", reg.publish("m", f"{root}/a{i}").version)
    >>> rollback(reg, "m", reason="bad night")["version"]
    1
    """
    reg = _registry(registry)
    current = reg.alias(name, alias)
    mv = reg.rollback(name, alias)
    dlog = DecisionLog(log or os.path.join(reg.root, "decisions.jsonl"))
    return dlog.record(name, "rollback", reason, version=mv.version, previous=current,
                       evidence={"alias": alias, "content_hash": mv.content_hash})


class Maintainer:
    """Keep one registered model fresh (see the module docstring).

    Parameters
    ----------
    registry : Registry or path
    name : str
        The model's name in the registry.
    goal : Goal
        What the model must achieve; decides the comparison and the promotion.
    spec : ModelSpec, optional
        What to train; default: the champion's recorded spec.
    policies : list of Policy
        When to retrain (:class:`SchedulePolicy`, :class:`DriftPolicy`, :class:`PerformancePolicy`,
        :class:`AlertPolicy`); any one that fires triggers a retraining.
    time_column, eval_window, sliding_window, recent_window, windows, weight_options
        The fresh window (see :func:`~mlcore.maintain.retrain`).
    alias : str
        The alias that serves (default ``production``).
    log : path, optional
        The decision log (default ``<registry>/decisions.jsonl``).
    metric, min_improvement, require_significant, costs, n_boot, seed
        The comparison (see :func:`~mlcore.maintain.compare_models`).
    cooldown : str or timedelta, optional
        No retraining within this span (data time) of the previous one.
    n_threads : int, optional
        Threads of each challenger's fit (default 1, see :meth:`ModelSpec.fit`; None: no cap).

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, tempfile
    >>> from mlcore.goals import Goal
    >>> from mlcore.maintain import Maintainer, ModelSpec, Observation, PerformancePolicy
    >>> rng = np.random.default_rng(0); x = rng.normal(size=2000)
    >>> data = pa.table({"t": np.arange(2000), "x": x, "y": (x > 0).astype(np.int64)})
    >>> goal = Goal.single("g", ["roc_auc >= 0.8"])
    >>> m = Maintainer(tempfile.mkdtemp(), "demo", goal=goal, time_column="t",
    ...                policies=[PerformancePolicy("roc_auc", goal=goal)], n_boot=50)
    >>> m.deploy(ModelSpec("y", "LogisticRegression", features=["x"]), data.slice(0, 1000),
    ...          test=data.slice(1000, 500))["kind"]
    'deployed'
    >>> [d["kind"] for d in m.step(data, Observation(performance={"roc_auc": 0.95}))]
    ['retrain_skipped']
    """

    def __init__(self, registry: Registry | str | os.PathLike, name: str, *, goal: Goal, spec: ModelSpec | None = None,
                 policies: Sequence[Policy] = (), time_column: str | None = None, eval_window: Any = 0.2,
                 sliding_window: Any = 0.25, recent_window: Any = None, windows: Sequence[str] = WINDOWS,
                 weight_options: dict | None = None, alias: str = "production", log: str | os.PathLike | None = None,
                 model: str | None = None, metric: str | None = None, min_improvement: float = 0.0,
                 require_significant: bool = False, costs: dict | None = None, n_boot: int = 200, seed: int = 0,
                 cooldown: Any = None, n_threads: int | None = 1):
        if not isinstance(goal, Goal):
            raise TypeError(f"Maintainer: goal must be an mlcore.goals.Goal, got {type(goal).__name__}")
        self.registry = _registry(registry)
        self.name = name
        self.goal = goal
        self.spec = spec
        self.policies = list(policies)
        self.time_column = time_column
        self.eval_window, self.sliding_window, self.recent_window = eval_window, sliding_window, recent_window
        self.windows = tuple(windows)
        self.weight_options = weight_options
        self.alias = alias
        self.log = DecisionLog(log or os.path.join(self.registry.root, "decisions.jsonl"))
        self.model = model
        self.metric = metric
        self.min_improvement = float(min_improvement)
        self.require_significant = bool(require_significant)
        self.costs = costs
        self.n_boot = int(n_boot)
        self.seed = int(seed)
        from .policy import _duration

        self.cooldown = _duration(cooldown, "cooldown")
        self.n_threads = n_threads
        self.last_report = None

    # -- state --------------------------------------------------------------------------------
    def champion(self) -> tuple[Any, Bundle | None]:
        """(ModelVersion, loaded Bundle) behind the alias, or (None, None) before the first deployment."""
        v = self.registry.alias(self.name, self.alias) if self.name in self.registry.models() else None
        if v is None:
            return None, None
        mv = self.registry.verify(self.name, v)
        return mv, Bundle.load(mv.path, expected_hash=mv.content_hash)

    def decisions(self, kind: str | None = None) -> list[dict]:
        return self.log.read(self.name, kind)

    def _last_retrain(self) -> tuple[Any, int | None]:
        d = self.log.last(self.name, ("deployed", "promoted", "promotion_refused", "retrain_failed"))
        if d is None:
            return None, None
        at = d.get("at")
        if isinstance(at, str):
            try:
                at = _dt.datetime.fromisoformat(at)
            except ValueError:
                at = None
        return at, d.get("step")

    # -- deploy -------------------------------------------------------------------------------
    def _publish(self, bundle: Bundle, info: dict) -> Any:
        with tempfile.TemporaryDirectory(prefix="mlcore-maintain-") as tmp:
            path = os.path.join(tmp, "bundle")
            bundle.save(path)
            return self.registry.publish(self.name, path, info=_plain(info))

    def deploy(self, spec_or_bundle: ModelSpec | Bundle, data: Any = None, *, at: Any = None, test: Any = None,
               reason: str = "initial deployment") -> dict:
        """Publish a first model (a Bundle, or a ModelSpec fitted on ``data``) and promote it with the goal's gate.

        Its metrics are measured on ``test`` when given (else those recorded in the bundle).
        Returns the decision record (``deployed`` or ``promotion_refused``).
        """
        from ..deploy import goal_gate

        if isinstance(spec_or_bundle, ModelSpec):
            if data is None:
                raise ValueError("Maintainer.deploy: a ModelSpec needs the training `data`")
            self.spec = self.spec or spec_or_bundle
            bundle = spec_or_bundle.fit(data, goal=self.goal, lineage={"window": "initial"})
        else:
            bundle = spec_or_bundle
        if test is not None:
            from .challengers import compare_models

            spec = self.spec or ModelSpec.from_bundle(bundle)
            comp = compare_models(None, {"model": bundle}, test, self.goal, target=spec.target, model=self.model,
                                  n_boot=self.n_boot, seed=self.seed)
            bundle.metrics.update({r["name"]: r["value"] for r in comp.challengers[0].gate.get("metrics", [])})
        mv = self._publish(bundle, {"metrics": bundle.metrics, "window": bundle.lineage.get("window"),
                                    "at": at})
        previous = self.registry.alias(self.name, self.alias)
        gate = goal_gate(self.goal, self.model)

        def quality_gate(version):
            ok, evidence = gate(version)
            # metrics this stage cannot measure from labels (latency, drift) are not held against
            # a deployment here: the evaluation stage's gate checks them
            measured = {k: v for k, v in evidence.items() if v.get("value") is not None}
            return all(v["passed"] for v in measured.values()) and bool(measured), {"goal": measured}

        try:
            self.registry.promote(self.name, mv.version, alias=self.alias, gate=quality_gate)
        except PromotionRefused as exc:
            return self.log.record(self.name, "promotion_refused", f"{reason}: the model misses the goal",
                                   version=mv.version, previous=previous, at=at, evidence=exc.evidence)
        return self.log.record(self.name, "deployed", reason, version=mv.version, previous=previous, at=at,
                               evidence={"metrics": bundle.metrics, "goal": self.goal.to_dict()})

    # -- policies -----------------------------------------------------------------------------
    def _restore_policies(self) -> None:
        """Policies with memory (consecutive drift) continue from their last recorded trigger."""
        if getattr(self, "_restored", False):
            return
        self._restored = True
        last = self.log.last(self.name, ("retrain_skipped", "retrain_triggered"))
        if last is None:
            return
        recorded = {t.get("policy"): t for t in (last.get("evidence") or {}).get("policies", [])}
        for p in self.policies:
            if p.name in recorded:
                p.restore(recorded[p.name])

    def observe(self, obs: Observation) -> tuple[bool, list]:
        """Evaluate every policy: (any fired, the triggers). Records nothing."""
        self._restore_policies()
        last_at, last_step = self._last_retrain()
        triggers = [p.evaluate(obs, last_retrain=last_at, last_step=last_step) for p in self.policies]
        fired = [t for t in triggers if t.triggered]
        if fired and self.cooldown is not None and last_at is not None and obs.time is not None:
            if isinstance(self.cooldown, _dt.timedelta) and obs.time - last_at < self.cooldown:
                for t in fired:
                    t.triggered = False
                    t.reason += f" (cooldown: last retraining {obs.time - last_at} ago, < {self.cooldown})"
                fired = []
        return bool(fired), triggers

    def step(self, data: Any, obs: Observation | None = None, **observation: Any) -> list[dict]:
        """One maintenance step: evaluate the policies on ``obs`` (or the keyword arguments of an
        :class:`Observation`), retrain on ``data`` when one fires. Returns the decisions recorded."""
        obs = obs if obs is not None else Observation(**observation)
        fired, triggers = self.observe(obs)
        evidence = {"observation": obs.to_dict(), "policies": [t.to_dict() for t in triggers]}
        if not fired:
            why = "; ".join(f"{t.policy}: {t.reason}" for t in triggers) or "no maintenance policy configured"
            return [self.log.record(self.name, "retrain_skipped", why, at=obs.time, step=obs.step, evidence=evidence)]
        why = "; ".join(f"{t.policy}: {t.reason}" for t in triggers if t.triggered)
        first = self.log.record(self.name, "retrain_triggered", why, at=obs.time, step=obs.step, evidence=evidence)
        return [first, self.retrain(data, at=obs.time, step=obs.step, reason=why)]

    # -- retraining ---------------------------------------------------------------------------
    def retrain(self, data: Any, *, at: Any = None, step: int | None = None, reason: str = "manual retraining",
                before: Any = None) -> dict:
        """Train challengers on a fresh window, compare with the champion, promote only if it wins.

        Returns the decision record: ``promoted``, ``promotion_refused`` or ``retrain_failed``.
        The full :class:`~mlcore.maintain.RetrainReport` is ``self.last_report`` and is saved
        as JSON under ``<registry>/reports/``.
        """
        mv, champ = self.champion()
        spec = self.spec
        if spec is None:
            if champ is None:
                raise ValueError("Maintainer.retrain: no champion and no ModelSpec; deploy a model first or pass spec=")
            spec = ModelSpec.from_bundle(champ)
        try:
            report = retrain(spec, data, goal=self.goal, champion=champ, time_column=self.time_column,
                             eval_window=self.eval_window, sliding_window=self.sliding_window,
                             recent_window=self.recent_window, windows=self.windows,
                             weight_options=self.weight_options, before=before, model=self.model, metric=self.metric,
                             min_improvement=self.min_improvement, require_significant=self.require_significant,
                             costs=self.costs, n_boot=self.n_boot, seed=self.seed, n_threads=self.n_threads)
        except (ValueError, RuntimeError) as exc:
            return self.log.record(self.name, "retrain_failed", f"{reason}: {type(exc).__name__}: {exc}", at=at,
                                   step=step, version=None, previous=mv.version if mv else None,
                                   evidence={"error": str(exc)})
        self.last_report = report
        rdict = report.to_dict()
        report_path = self._save_report(rdict)
        evidence = _evidence(rdict)
        evidence["report"] = os.path.relpath(report_path, self.registry.root)
        bundle = report.chosen_bundle
        if bundle is None:
            return self.log.record(self.name, "retrain_failed", f"{reason}: no challenger was trained", at=at,
                                   step=step, previous=mv.version if mv else None, evidence=evidence)
        new = self._publish(bundle, {"metrics": bundle.metrics, "window": report.chosen, "at": at,
                                     "retrain_report": evidence["report"]})

        def gate(version):
            return report.promote, evidence

        try:
            self.registry.promote(self.name, new.version, alias=self.alias, gate=gate)
        except PromotionRefused:
            return self.log.record(self.name, "promotion_refused", f"{reason} -> {report.reason}", at=at, step=step,
                                   version=new.version, previous=mv.version if mv else None, evidence=evidence)
        return self.log.record(self.name, "promoted", f"{reason} -> {report.reason}", at=at, step=step,
                               version=new.version, previous=mv.version if mv else None, evidence=evidence)

    def _save_report(self, rdict: dict) -> str:
        d = os.path.join(self.registry.root, "reports")
        os.makedirs(d, exist_ok=True)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        path = os.path.join(d, f"{self.name}-{stamp}.json")
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
        with os.fdopen(fd, "w") as f:
            json.dump(rdict, f, indent=1, sort_keys=True, allow_nan=False)
        os.replace(tmp, path)
        return path

    def rollback(self, reason: str = "manual rollback") -> dict:
        """Move the alias back to its previous version (one call), recorded in the decision log."""
        return rollback(self.registry, self.name, alias=self.alias, reason=reason, log=self.log.path)


def _evidence(r: dict) -> dict:
    """The compact evidence of a retraining for the audit entry and the decision log."""
    comp = r.get("comparison") or {}
    champ = comp.get("champion") or {}
    return {
        "metric": r.get("metric"), "before": r.get("before"), "now": r.get("now"), "forecast": r.get("forecast"),
        "chosen": r.get("chosen"), "promote": r.get("promote"), "reason": r.get("reason"),
        "evaluation_window": r.get("evaluation_window"),
        "champion": {"value": champ.get("metric_value"), "interval": champ.get("metric_interval"),
                     "meets_goal": champ.get("meets_goal"), "cost": champ.get("cost")} if champ else None,
        "challengers": [{"name": c["name"], "value": c["metric_value"], "interval": c["metric_interval"],
                         "meets_goal": c["meets_goal"], "beats_champion": c["beats_champion"],
                         "difference": c.get("difference"), "cost": c.get("cost"), "window": c.get("window")}
                        for c in comp.get("challengers", [])],
        "weights": {k: (r.get("weights") or {}).get(k) for k in ("effective_sample_size", "ess_ratio", "domain_auc",
                                                                 "domain_auc_interval", "n_history", "n_recent")}
        if r.get("weights") else None,
    }
