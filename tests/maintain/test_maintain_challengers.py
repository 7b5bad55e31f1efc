"""Challengers vs the champion on the same window: paired differences, choice, report, costs."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

from mlcore.deploy import Bundle
from mlcore.errors import SchemaError
from mlcore.evaluate import bootstrap_samples
from mlcore.goals import Goal
from mlcore.maintain import ModelSpec, compare_models, make_estimator, retrain, split_window


def _drifting(n=4000, flip=2500, seed=0):
    """x ~ N(0,1) then N(0.7,1) after `flip`; the concept moves from x0 to x1."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    after = t >= flip
    x0 = rng.normal(size=n) + 0.7 * after
    x1 = rng.normal(size=n)
    c = rng.choice(["a", "b"], n)
    logit = np.where(after, 2.5 * x1, 2.5 * x0) + (c == "b") * 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    start = dt.datetime(2013, 1, 1)
    ts = pa.array([start + dt.timedelta(hours=int(i)) for i in t], pa.timestamp("us"))
    return pa.table({"time": ts, "x0": x0, "x1": x1, "c": c, "y": y})


SPEC = ModelSpec("y", "LogisticRegression", steps=[
    {"kind": "standard_scaler", "columns": ["x0", "x1"]},
    {"kind": "one_hot", "columns": ["c"], "handle_unknown": "ignore"}])
GOAL = Goal.single("flip", ["roc_auc >= 0.75", "log_loss <= 0.6"], task="binary")


def test_model_spec_round_trip_and_errors(tmp_path):
    data = _drifting()
    b = SPEC.fit(data.slice(0, 1000))
    path = tmp_path / "b"
    b.save(path)
    loaded = Bundle.load(path)
    assert ModelSpec.from_bundle(loaded) == SPEC
    assert np.allclose(loaded.predict_proba(data.slice(0, 50)), b.predict_proba(data.slice(0, 50)))
    with pytest.raises(SchemaError, match="unknown estimator 'LogisticRegresion'.*LogisticRegression"):
        ModelSpec("y", "LogisticRegresion", features=["x0"])
    with pytest.raises(SchemaError, match="no parameter"):
        ModelSpec("y", "LogisticRegression", features=["x0"], params={"depth": 3})
    with pytest.raises(SchemaError, match="unknown transform kind 'scaler'"):
        ModelSpec("y", "LogisticRegression", steps=[{"kind": "scaler", "columns": ["x0"]}])
    with pytest.raises(SchemaError, match="unknown key"):
        ModelSpec.from_dict({"target": "y", "estimator": "LogisticRegression", "feature": ["x0"]})
    assert make_estimator("HistGradientBoostingClassifier", {"max_iter": 7}).max_iter == 7


def test_weighted_fit_uses_the_weights():
    data = _drifting()
    w = np.where(np.arange(data.num_rows) >= 2500, 1.0, 0.0)
    b_w = SPEC.fit(data, sample_weight=w)
    b_after = SPEC.fit(data.slice(2500))
    p1, p2 = b_w.predict_proba(data)[:, 1], b_after.predict_proba(data)[:, 1]
    assert np.max(np.abs(p1 - p2)) < 1e-3  # zero weight == row left out (up to the plan's scaling)


def test_split_window_sizes():
    data = _drifting(n=100)
    a, b = split_window(data, 10, time_column="time")
    assert (a.num_rows, b.num_rows) == (90, 10)
    a, b = split_window(data, 0.25, time_column="time")
    assert b.num_rows == 25
    a, b = split_window(data, "1d", time_column="time")  # hourly rows: the last 24 hours
    assert b.num_rows == 24
    with pytest.raises(ValueError, match="window"):
        split_window(data, "yesterday", time_column="time")


def test_paired_difference_is_zero_for_the_same_model_and_matches_manual_bootstrap():
    data = _drifting()
    champ = SPEC.fit(data.slice(0, 2000))
    ev = data.slice(3000)
    comp = compare_models(champ, {"same": champ}, ev, GOAL, target="y", n_boot=100, seed=5)
    d = comp.candidate("same").difference
    assert d["improvement"] == 0.0 and d["interval"] == [0.0, 0.0]
    assert not comp.candidate("same").beats_champion

    other = SPEC.fit(data.slice(2500, 500))
    comp = compare_models(champ, {"other": other}, ev, GOAL, target="y", n_boot=100, seed=5)
    y = ev["y"].to_numpy()
    s_new = bootstrap_samples("roc_auc", y, other.predict_proba(ev)[:, 1], n_boot=100, seed=5)
    s_old = bootstrap_samples("roc_auc", y, champ.predict_proba(ev)[:, 1], n_boot=100, seed=5)
    lo, hi = np.quantile(s_new - s_old, [0.025, 0.975])
    d = comp.candidate("other").difference
    assert d["interval"] == pytest.approx([lo, hi])
    # the paired interval is narrower than the two separate intervals side by side
    assert hi - lo < (np.quantile(s_new, 0.975) - np.quantile(s_new, 0.025)) + \
        (np.quantile(s_old, 0.975) - np.quantile(s_old, 0.025))


def test_retrain_after_a_concept_change_chooses_a_recent_window_and_promotes():
    data = _drifting()
    champ = SPEC.fit(data.slice(0, 2000), metrics={"roc_auc": 0.9})
    report = retrain(None, data, goal=GOAL, champion=champ, time_column="time", eval_window=600,
                     sliding_window=800, n_boot=100, costs={"fp": 1.0, "fn": 5.0, "threshold": 0.2})
    comp = report.comparison
    assert {c.name for c in comp.challengers} == {"weighted", "sliding", "expanding"}
    assert report.now["value"] < 0.7  # the champion decayed
    assert report.before == {"roc_auc": 0.9}
    assert report.chosen in ("sliding", "weighted")
    best = comp.candidate(report.chosen)
    assert best.meets_goal and best.beats_champion and report.promote
    assert best.difference["interval"][0] > 0
    assert best.cost["saving_per_row"] > 0 and "saving_interval" in best.cost
    assert comp.candidate("weighted").window["effective_sample_size"] < comp.candidate("weighted").window["rows"]
    assert report.forecast["interval"][0] <= report.forecast["value"] <= report.forecast["interval"][1]
    d = report.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["weights"]["n_recent"] == 800
    html = report.to_html()
    assert "<section" in html and "Promote" in html and "weighted" in html
    assert report.chosen_bundle.lineage["window"] == report.chosen
    assert "chosen" in report.summary()


def test_before_window_and_weights_options():
    data = _drifting()
    champ = SPEC.fit(data.slice(0, 2000))
    report = retrain(None, data, goal=GOAL, champion=champ, time_column="time", eval_window=0.15,
                     sliding_window="30d", windows=("weighted",), before=data.slice(2000, 500), n_boot=50,
                     weight_options={"model": "logistic", "n_splits": 3, "columns": ["x0", "x1"]})
    assert report.before["roc_auc"] > report.now["value"] + 0.1  # measured on the window before the drift
    w = report.weights
    assert w["model"] == "logistic" and w["columns"] == ["x0", "x1"] and w["n_recent"] == 30 * 24
    assert [c.name for c in report.comparison.challengers] == ["weighted"]
    with pytest.raises(ValueError, match="windows="):
        retrain(None, data, goal=GOAL, champion=champ, windows=("monthly",))


def test_no_promotion_when_the_champion_is_as_good():
    rng = np.random.default_rng(1)
    n = 3000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(np.int64)
    data = pa.table({"t": np.arange(n), "x": x, "y": y})
    spec = ModelSpec("y", "LogisticRegression", features=["x"])
    champ = spec.fit(data.slice(0, 2400))
    report = retrain(spec, data, goal=Goal.single("g", ["roc_auc >= 0.7"]), champion=champ, time_column="t",
                     eval_window=600, sliding_window=600, n_boot=100, require_significant=True)
    assert not report.promote
    assert "not enough" in report.reason or "no challenger" in report.reason


def test_goal_without_prediction_metrics_is_a_clear_error():
    data = _drifting(n=400)
    champ = SPEC.fit(data)
    with pytest.raises(SchemaError, match="computable from predictions"):
        compare_models(champ, {}, data, Goal.single("g", ["latency_p99_us <= 50"]), target="y")
