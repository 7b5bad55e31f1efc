"""Policies, the maintainer, promotion through the registry, rollback and the decision log."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

from mlcore.deploy import Registry
from mlcore.goals import Goal
from mlcore.maintain import (AlertPolicy, DecisionLog, DriftPolicy, Maintainer, ModelSpec, Observation,
                             PerformancePolicy, SchedulePolicy, policy_from_dict, read_decisions, rollback)
from mlcore.monitor import AlertManager, DriftMonitor, Event, Rule


def _data(n=4000, flip=2500, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    after = t >= flip
    x0 = rng.normal(size=n) + 0.8 * after
    x1 = rng.normal(size=n)
    logit = np.where(after, 2.5 * x1, 2.5 * x0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    ts = pa.array([dt.datetime(2013, 1, 1) + dt.timedelta(hours=int(i)) for i in t], pa.timestamp("us"))
    return pa.table({"time": ts, "x0": x0, "x1": x1, "y": y})


GOAL = Goal.single("flip", ["roc_auc >= 0.75"], task="binary")
SPEC = ModelSpec("y", "LogisticRegression", steps=[{"kind": "standard_scaler", "columns": ["x0", "x1"]}])


def test_policies():
    t0 = dt.datetime(2013, 1, 1)
    s = SchedulePolicy("7d")
    assert not s.evaluate(Observation(time=t0 + dt.timedelta(days=3)), last_retrain=t0).triggered
    assert s.evaluate(Observation(time=t0 + dt.timedelta(days=7)), last_retrain=t0).triggered
    assert SchedulePolicy(2).evaluate(Observation(step=5), last_step=3).triggered
    assert not SchedulePolicy(3).evaluate(Observation(step=5), last_step=3).triggered

    rng = np.random.default_rng(0)
    mon = DriftMonitor().fit(pa.table({"a": rng.normal(size=2000), "b": rng.normal(size=2000)}))
    same = mon.check(pa.table({"a": rng.normal(size=2000), "b": rng.normal(size=2000)}))
    moved = mon.check(pa.table({"a": rng.normal(1, size=2000), "b": rng.normal(size=2000)}))
    d = DriftPolicy(consecutive=2)
    assert not d.evaluate(Observation(drift=moved)).triggered  # 1 of 2
    assert d.evaluate(Observation(drift=moved)).triggered
    assert not d.evaluate(Observation(drift=same)).triggered
    assert DriftPolicy(columns=["b"]).evaluate(Observation(drift=moved)).triggered is False

    p = PerformancePolicy("log_loss", max=0.5)
    assert p.evaluate(Observation(performance={"log_loss": 0.7})).triggered
    assert not p.evaluate(Observation(performance={})).triggered
    drop = PerformancePolicy("roc_auc", drop=0.05, baseline=0.8)
    assert drop.evaluate(Observation(performance={"roc_auc": 0.74})).triggered
    assert not drop.evaluate(Observation(performance={"roc_auc": 0.77})).triggered
    assert PerformancePolicy("roc_auc", goal=GOAL).min == 0.75

    a = AlertPolicy(rules=["drift3"])
    am = AlertManager([Rule("drift3", consecutive=1, actions=[a.action]), Rule("other", kind="quality",
                                                                                actions=[a.action])])
    am.process([Event("drift", "x0", "w1", {"p_value": 0.0}), Event("quality", "x1", "w1", {})])
    t = a.evaluate(Observation())
    assert t.triggered and t.evidence["rules"] == ["drift3"]
    assert not a.evaluate(Observation()).triggered  # consumed

    assert policy_from_dict({"kind": "schedule", "every": "30d"}).every == dt.timedelta(days=30)
    with pytest.raises(ValueError, match="unknown key.*'evry'.*allowed"):
        policy_from_dict({"kind": "schedule", "evry": "30d"})
    with pytest.raises(ValueError, match="unknown policy kind"):
        policy_from_dict({"kind": "cron"})


def test_maintainer_lifecycle_promote_refuse_rollback(tmp_path):
    data = _data()
    reg = Registry(tmp_path / "reg")
    m = Maintainer(reg, "flip", goal=GOAL, time_column="time", eval_window=600, sliding_window=800,
                   policies=[PerformancePolicy("roc_auc", goal=GOAL)], n_boot=100)
    d0 = m.deploy(SPEC, data.slice(0, 2000), test=data.slice(2000, 500), at=dt.datetime(2013, 3, 25))
    assert d0["kind"] == "deployed" and d0["version"] == 1
    assert reg.alias("flip", "production") == 1

    # performance still fine: skipped, with the policy's reason
    d = m.step(data.slice(0, 2500), Observation(time=dt.datetime(2013, 4, 10), performance={"roc_auc": 0.9}))
    assert [x["kind"] for x in d] == ["retrain_skipped"]
    assert "within range" in d[0]["reason"]

    # after the concept change the champion's AUC is low: retrain, challenger wins, promoted
    d = m.step(data, Observation(time=dt.datetime(2013, 6, 15), performance={"roc_auc": 0.6}))
    assert [x["kind"] for x in d] == ["retrain_triggered", "promoted"]
    promoted = d[1]
    assert promoted["version"] == 2 and promoted["previous"] == 1
    ev = promoted["evidence"]
    assert ev["promote"] and ev["chosen"] in ("sliding", "weighted")
    assert {c["name"] for c in ev["challengers"]} == {"weighted", "sliding", "expanding"}
    chosen = next(c for c in ev["challengers"] if c["name"] == ev["chosen"])
    assert chosen["beats_champion"] and chosen["difference"]["interval"][0] > 0
    assert reg.alias("flip", "production") == 2
    audit = [a for a in reg.audit_log() if a["event"] == "promote" and a["version"] == 2]
    assert audit and audit[0]["evidence"]["chosen"] == ev["chosen"]
    report = json.loads((tmp_path / "reg" / ev["report"]).read_text())
    assert report["comparison"]["champion"]["metric_value"] == pytest.approx(ev["champion"]["value"])

    # retraining again on the same data: the champion is now as good; a strict comparison refuses
    m.require_significant = True
    m.min_improvement = 0.01
    d = m.retrain(data, at=dt.datetime(2013, 6, 20), reason="manual")
    assert d["kind"] == "promotion_refused" and d["version"] == 3
    assert reg.alias("flip", "production") == 2
    assert any(a["event"] == "promotion_refused" and a["version"] == 3 for a in reg.audit_log())

    # rollback: one call
    r = m.rollback("operator asked")
    assert r["kind"] == "rollback" and r["version"] == 1 and r["previous"] == 2
    assert reg.alias("flip", "production") == 1

    log = read_decisions(tmp_path / "reg" / "decisions.jsonl")
    assert [x["kind"] for x in log] == ["deployed", "retrain_skipped", "retrain_triggered", "promoted",
                                        "promotion_refused", "rollback"]
    assert [x["id"] for x in log] == list(range(1, 7))
    table = DecisionLog(tmp_path / "reg" / "decisions.jsonl").to_table()
    assert table.num_rows == 6 and table["kind"][3].as_py() == "promoted"
    json.loads(table["evidence"][3].as_py())


def test_schedule_cooldown_and_functional_rollback(tmp_path):
    data = _data(n=2000, flip=10_000)
    m = Maintainer(tmp_path / "reg", "m", goal=GOAL, time_column="time", eval_window=300, sliding_window=500,
                   policies=[SchedulePolicy("30d"), PerformancePolicy("roc_auc", min=0.99)], cooldown="10d",
                   n_boot=50, windows=("sliding", "expanding"))
    m.deploy(SPEC, data.slice(0, 1000), at=dt.datetime(2013, 2, 1), test=data.slice(1000, 300))
    d = m.step(data, time=dt.datetime(2013, 2, 5), performance={"roc_auc": 0.9})
    assert d[0]["kind"] == "retrain_skipped" and "cooldown" in d[0]["reason"]
    d = m.step(data, time=dt.datetime(2013, 2, 20))
    assert d[0]["kind"] == "retrain_skipped" and "every 30 days" in d[0]["reason"]
    d = m.step(data, time=dt.datetime(2013, 3, 5))
    assert d[0]["kind"] == "retrain_triggered" and "schedule" in d[0]["reason"]
    assert d[1]["kind"] in ("promoted", "promotion_refused")
    if d[1]["kind"] == "promoted":
        assert rollback(tmp_path / "reg", "m")["version"] == 1
    else:  # nothing moved: there is no earlier production version to go back to
        with pytest.raises(KeyError, match="no earlier version"):
            rollback(tmp_path / "reg", "m")


def test_consecutive_drift_survives_a_new_process(tmp_path):
    rng = np.random.default_rng(0)
    mon = DriftMonitor().fit(pa.table({"a": rng.normal(size=2000)}))
    moved = mon.check(pa.table({"a": rng.normal(1, size=2000)}))
    data = _data(n=1500, flip=10_000)

    def maintainer():  # rebuilt each time, as a resumed run does
        return Maintainer(tmp_path / "reg", "m", goal=GOAL, time_column="time", eval_window=300,
                          sliding_window=400, policies=[DriftPolicy(consecutive=2)], n_boot=30,
                          windows=("sliding",))

    maintainer().deploy(SPEC, data.slice(0, 800), test=data.slice(800, 300))
    assert maintainer().step(data, drift=moved)[0]["kind"] == "retrain_skipped"
    d = maintainer().step(data, drift=moved)
    assert d[0]["kind"] == "retrain_triggered" and "drift" in d[0]["reason"]
    assert maintainer().step(data, drift=moved)[0]["kind"] == "retrain_skipped"  # counting starts again


def test_goal_gate_refuses_a_first_model_that_misses_the_goal(tmp_path):
    data = _data()
    m = Maintainer(tmp_path / "reg", "m", goal=Goal.single("hard", ["roc_auc >= 0.99"]), n_boot=50)
    d = m.deploy(SPEC, data.slice(0, 1000), test=data.slice(1000, 2000))
    assert d["kind"] == "promotion_refused" and d["evidence"]["goal"]["roc_auc"]["passed"] is False
    assert Registry(tmp_path / "reg").alias("m", "production") is None


def test_observe_window_feeds_the_policies():
    from mlcore.maintain import observe_window, train_challengers, training_window

    data = _data()
    bundles, desc, _ = train_challengers(SPEC, data.slice(0, 2000), time_column="time", sliding_window=500,
                                         windows=("sliding",))
    champ = bundles["sliding"]
    ref = training_window(champ, data, "time")
    assert ref.num_rows == 500 == desc["sliding"]["rows"]
    before = observe_window(champ, ref, data.slice(2000, 400), GOAL, target="y", time=dt.datetime(2013, 4, 1))
    after = observe_window(champ, ref, data.slice(3000, 400), GOAL, target="y", where="late",
                           monitor={"alpha": 0.01})
    assert before.performance["roc_auc"] > 0.8 > after.performance["roc_auc"]
    assert "x0" in after.report.drifted_columns and after.events[0].where == "late"
    lo, hi = after.performance_interval["roc_auc"]
    assert lo <= after.performance["roc_auc"] <= hi
    assert PerformancePolicy("roc_auc", goal=GOAL).evaluate(after.observation).triggered
    assert DriftPolicy().evaluate(after.observation).triggered
    d = after.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["rows"] == 400 and 0 < d["positive_rate"] < 1 and d["drift"]["features"]
