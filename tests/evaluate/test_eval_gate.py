"""The gate, multi-model goals, slices, fairness, domain comparison, speed and the JSON/HTML output."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import mlcore.evaluate as ev
from mlcore.evaluate import domain, fairness, slices, speed
from mlcore.evaluate._inputs import MetricInputError
from mlcore.evaluate.gate import Predictions, gate, gate_goal
from mlcore.evaluate.report import to_html
from mlcore.goals import Goal, GoalError, MetricRange, Objective


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    n = 3000
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.8 * rng.normal(size=n) > 0).astype(np.int64)
    group = np.where(rng.random(n) < 0.5, "north", "south")
    model = LogisticRegression().fit(X[:1500], y[:1500])
    return dict(X=X, y=y, group=group, model=model, tr=slice(0, 1500), te=slice(1500, n))


def test_public_surface():
    assert {"gate", "gate_goal", "Predictions", "to_html", "measure_latency", "bootstrap_metric",
            "slice_metrics", "fairness_metrics", "compare_domains", "feature_drift"} <= set(ev.__all__)
    for name in ev.__all__:
        assert getattr(ev, name) is not None


def test_failing_metric_blocks_the_verdict_and_says_by_how_much(problem):
    p = problem
    goal = Goal.single("g", ["roc_auc >= 0.99", "accuracy >= 0.5", "log_loss <= 2"], task="binary")
    r = gate(p["model"], goal, p["X"][p["te"]], p["y"][p["te"]], n_boot=50)
    assert not r.passed and r.verdict == "may not go to production"
    [fail] = r.failures
    assert fail.metric == "roc_auc" and fail.bound == "min"
    assert fail.shortfall == pytest.approx(0.99 - fail.value, abs=1e-9)
    assert fail.low <= fail.value <= fail.high
    assert "FAIL roc_auc" in r.summary() and "misses roc_auc >= 0.99 by" in r.summary()
    d = json.loads(r.to_json())
    assert d["verdict"] == "may not go to production"
    assert d["failures"][0]["name"] == "roc_auc" and d["failures"][0]["shortfall"] > 0
    html = to_html(r)
    assert "FAIL" in html and "misses roc_auc &gt;= 0.99 by" in html


def test_all_ranges_hold_then_it_may_ship(problem):
    p = problem
    goal = Goal.single("g", ["roc_auc >= 0.7", "f1 >= 0.5", "brier_score <= 0.25", "expected_calibration_error <= 0.2"])
    r = gate(p["model"], goal, p["X"][p["te"]], p["y"][p["te"]], n_boot=50)
    assert r.passed and r.verdict == "may go to production" and r.failures == []


def test_multi_model_goal(problem):
    p = problem
    rng = np.random.default_rng(1)
    Xr = rng.normal(size=(600, 2))
    yr = Xr @ np.array([1.0, -2.0]) + rng.normal(size=600) * 0.1
    reg = LinearRegression().fit(Xr[:300], yr[:300])
    goal = Goal("lending", [Objective("click", ["roc_auc >= 0.7"], task="binary"),
                            Objective("amount", ["r2 >= 0.9", "mae <= 0.5"], task="regression")])
    res = gate_goal(goal, {"click": dict(predictor=p["model"], X=p["X"][p["te"]], y_true=p["y"][p["te"]]),
                           "amount": dict(predictor=reg, X=Xr[300:], y_true=yr[300:])}, n_boot=30)
    assert res.passed and set(res.models) == {"click", "amount"}
    goal2 = Goal("lending", [goal.objectives[0], Objective("amount", ["r2 >= 0.999"], task="regression")])
    res2 = gate_goal(goal2, {"click": dict(predictor=p["model"], X=p["X"][p["te"]], y_true=p["y"][p["te"]]),
                             "amount": dict(predictor=reg, X=Xr[300:], y_true=yr[300:])}, n_boot=30)
    assert not res2.passed and [(m, f.metric) for m, f in res2.failures] == [("amount", "r2")]
    assert json.loads(res2.to_json())["models"]["click"]["passed"] is True
    page = to_html(res2)
    assert "Model <code>click</code>" in page and "Model <code>amount</code>" in page
    assert "Verdict: may not go to production" in page and "r2 = " in page
    with pytest.raises(GoalError, match=r"no input for \['amount'\]"):
        gate_goal(goal, {"click": dict(predictor=p["model"], X=p["X"], y_true=p["y"])})


def test_unknown_metric_name_is_an_error_before_work(problem):
    p = problem
    with pytest.raises(GoalError, match=r"model 'model': Unknown metric 'roc_acu'.*did you mean 'roc_auc'"):
        gate(p["model"], Goal.single("g", ["roc_acu >= 0.8"]), p["X"], p["y"])


def test_undefined_metrics_fail_with_a_note(problem):
    p = problem
    te = p["te"]
    goal = Goal.single("g", ["roc_auc >= 0.5", "psi <= 0.2", "demographic_parity_difference <= 0.1",
                             "latency_p99_us <= 1000"])
    r = gate(Predictions(labels=np.ones(10, dtype=int), scores=np.linspace(0, 1, 10)), goal, None,
             np.ones(10, dtype=int), n_boot=10)
    notes = {m.metric: m.note for m in r.metrics}
    assert all(not m.passed and math.isnan(m.value) for m in r.metrics)
    assert "single class" in notes["roc_auc"]
    assert "reference" in notes["psi"]
    assert "sensitive" in notes["demographic_parity_difference"]
    assert "predictor object" in notes["latency_p99_us"]
    json.loads(r.to_json())  # NaN becomes null: still valid JSON
    # a label the model never saw: log loss cannot score it, the metric fails with the label named
    y = np.where(p["y"][te] == 1, "late", "on time").astype(object)
    y[:3] = "cancelled"
    r2 = gate(Predictions(proba=np.column_stack([1 - np.full(y.size, 0.3), np.full(y.size, 0.3)]),
                          labels=np.full(y.size, "late"), classes=["late", "on time"]),
              Goal.single("g", ["log_loss <= 1", "accuracy >= 0"]), None, y, n_boot=5)
    by = {m.metric: m for m in r2.metrics}
    assert not by["log_loss"].passed and "'cancelled'" in by["log_loss"].note
    assert by["accuracy"].passed  # a label never predicted simply counts as an error
    with pytest.raises(MetricInputError, match="Mix of"):
        ev.compute_metric("accuracy", np.array([0, "a"], dtype=object), np.array([0, 1]))


def test_drift_domain_fairness_speed_in_the_gate(problem):
    p = problem
    X, y, te, tr = p["X"], p["y"], p["te"], p["tr"]
    prod = X[te] + np.array([0.8, 0.0, 0.0])
    goal = Goal.single("g", [
        MetricRange("psi", max=0.2, max_inclusive=False), "domain_auc <= 0.6",
        MetricRange("demographic_parity_difference", max=0.1), "equalized_odds_difference <= 0.2",
        "latency_p99_us <= 1e7", "throughput_rows_per_s >= 1", "production_accuracy >= 0.5"], task="binary")
    r = gate(p["model"], goal, X[te], y[te], sensitive=p["group"][te], segments={"group": p["group"][te], "x1": X[te, 1]},
             reference=X[tr], production=prod, n_boot=30, latency=dict(n_calls=100, warmup=10, batch_rounds=2))
    by = {m.metric: m for m in r.metrics}
    assert not by["psi"].passed and by["psi"].details["worst_feature"] == "x0"
    assert not by["domain_auc"].passed and by["domain_auc"].value > 0.6
    assert by["demographic_parity_difference"].passed
    assert by["latency_p99_us"].passed and by["latency_p99_us"].value > 0
    assert "importance-weighted" in by["production_accuracy"].note
    assert r.slices and {s["column"] for s in r.slices} == {"group", "x1"}
    assert {"roc", "pr", "calibration", "latency_us"} <= set(r.plots)
    html = to_html(r)
    for key in ("roc", "pr", "calibration", "slices", "drift", "fairness", "latency"):
        assert f'id="plot-{key}"' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in html and "https://" not in html


def test_slices_worst_first_and_defined_results():
    rng = np.random.default_rng(2)
    n = 2000
    seg = np.where(rng.random(n) < 0.5, "a", "b")
    y = rng.integers(0, 2, n)
    s = np.where(seg == "a", y * 0.6 + rng.random(n) * 0.4, rng.random(n))  # b: a random ranking
    y[(seg == "b") & (np.arange(n) < 40)] = 1
    single = np.where(np.arange(n) < 50, "tiny", "big")
    y2 = y.copy()
    y2[:50] = 1  # the "tiny" segment has one class: AUC undefined there
    rows = slices.slice_metrics("roc_auc", y, s, {"seg": seg}, values={"seg": ["c"]})
    assert [r["segment"] for r in rows] == ["b", "a", "c"]
    assert rows[2]["n"] == 0 and rows[2]["note"] == "empty slice" and math.isnan(rows[2]["value"])
    rows2 = slices.slice_metrics("roc_auc", y2, s, {"s": single}, min_rows=10)
    tiny = next(r for r in rows2 if r["segment"] == "tiny")
    assert math.isnan(tiny["value"]) and "single class" in tiny["note"] and rows2[-1] is tiny
    loss_rows = slices.slice_metrics("log_loss", y, np.clip(s, 0, 1), {"seg": seg})
    assert loss_rows[0]["value"] >= loss_rows[1]["value"]  # a loss: the highest is the worst
    codes, labels = slices.segment_codes(pa.array([1.0, None, 3.0, float("nan")] * 30 + list(range(80))), bins=4)
    assert labels[-1] == "(null)" and (codes == len(labels) - 1).sum() == 60
    with pytest.raises(MetricInputError, match="segment column `seg` has 3 rows"):
        slices.slice_metrics("accuracy", [0, 1], [0, 1], {"seg": ["a", "b", "c"]})


def test_fairness_matches_fairlearn():
    fl = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(4)
    n = 3000
    g = rng.choice(["x", "y", "z"], n)
    y = rng.integers(0, 2, n)
    p = np.where(g == "x", rng.random(n) < 0.6, rng.random(n) < 0.4).astype(int)
    w = rng.random(n)
    for ww in (None, w):
        assert fairness.demographic_parity_difference(y, p, g, sample_weight=ww) == pytest.approx(
            fl.demographic_parity_difference(y, p, sensitive_features=g, sample_weight=ww), abs=1e-12)
        assert fairness.equalized_odds_difference(y, p, g, sample_weight=ww) == pytest.approx(
            fl.equalized_odds_difference(y, p, sensitive_features=g, sample_weight=ww), abs=1e-12)
    rates = fairness.group_rates(y, p, g)
    assert set(rates) == {"x", "y", "z"} and sum(r["n"] for r in rates.values()) == n
    with pytest.raises(MetricInputError, match="pos_label='yes' occurs in neither"):
        fairness.group_rates(y, p, g, pos_label="yes")


def test_domain_comparison_and_importance_weights():
    rng = np.random.default_rng(5)
    ref = pa.table({"a": rng.normal(size=3000), "c": rng.choice(["u", "v"], 3000)})
    same = pa.table({"a": rng.normal(size=3000), "c": rng.choice(["u", "v"], 3000)})
    shifted = pa.table({"a": rng.normal(1.0, 1.0, 3000), "c": rng.choice(["u", "v"], 3000, p=[0.9, 0.1])})
    a = domain.compare_domains(ref, same, n_boot=30)
    b = domain.compare_domains(ref, shifted, n_boot=30)
    assert 0.4 < a.domain_auc < 0.6 and b.domain_auc > 0.75
    assert b.drift["a"] > 0.2 and a.drift["a"] < 0.05 and b.drift["c"] > a.drift["c"]
    # importance weighting moves the reference's mean of a toward the production mean (1.0)
    x = ref.column("a").to_numpy()
    assert np.average(x, weights=b.weights) > 0.5 > abs(np.average(x, weights=a.weights))
    assert domain.importance_weighted_metric("mae", x, np.zeros_like(x), b.weights) > \
        domain.importance_weighted_metric("mae", x, np.zeros_like(x), a.weights)


def test_psi_and_replaceable_drift_function():
    x = np.random.default_rng(6).normal(size=4000)
    assert domain.psi(x, x) == 0.0
    assert domain.psi(x, x + 1.0) > 0.5
    assert math.isfinite(domain.psi(x, np.full(100, 50.0)))  # all in one bin: the floor keeps it finite
    try:
        domain.set_drift_function(lambda ref, cur, feats: {f: 42.0 for f in feats})
        assert domain.feature_drift(pa.table({"a": x}), pa.table({"a": x})) == {"a": 42.0}
    finally:
        domain.set_drift_function(None)
    assert domain.feature_drift(pa.table({"a": x}), pa.table({"a": x})) == {"a": 0.0}


def test_measure_latency(problem):
    r = speed.measure_latency(problem["model"], problem["X"], n_calls=200, warmup=10, batch_rounds=2, threads=(1, 2))
    assert r.n_calls == 200 and r.samples_us.size == 200
    assert 0 < r.p50_us <= r.p90_us <= r.p99_us <= r.p999_us
    assert set(r.threads) == {1, 2} and all(v > 0 for v in r.threads.values())
    lo, hi = r.percentile_interval(99, n_boot=50)
    assert lo <= hi
    t = pa.table({f"x{j}": problem["X"][:, j] for j in range(3)})
    with pytest.raises(ValueError, match="n_calls=0"):
        speed.measure_latency(problem["model"], problem["X"], n_calls=0)
    with pytest.raises(TypeError, match="has no"):
        speed.measure_latency(object(), t)


def test_fairness_bootstrap_resamples_are_weighted_differences():
    from mlcore._kernels import metric_bootstrap as mb

    rng = np.random.default_rng(8)
    n = 500
    g = rng.choice(["x", "y"], n)
    y = rng.integers(0, 2, n)
    p = rng.integers(0, 2, n)
    dpd, eo = fairness.bootstrap_differences(y, p, g, n_boot=3, seed=4)
    for b in range(3):
        c = np.array([mb.poisson_count(np.uint64(4), b, i) for i in range(n)], dtype=np.float64)
        assert dpd[b] == pytest.approx(fairness.demographic_parity_difference(y, p, g, sample_weight=c), abs=1e-12)
        assert eo[b] == pytest.approx(fairness.equalized_odds_difference(y, p, g, sample_weight=c), abs=1e-12)
