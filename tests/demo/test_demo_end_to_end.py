"""``mlcore demo`` end to end on a reduced run (a quarter of the flights): the story holds."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from mlcore.datasets import nycflights13
from mlcore.maintain.demo import DemoConfig, load_flights

SECTIONS = ("section-summary", "section-data", "section-model", "section-metrics", "section-drift",
            "section-decisions")


def test_demo_prints_progress_summary_and_dashboard(demo_run):
    out, stdout = demo_run["out"], demo_run["stdout"]
    story = demo_run["story"]
    # a progress line per stage, then the summary and where the dashboard is
    n_stages = 5 + len(story["months"])
    for k in range(1, n_stages + 1):
        assert f"[{k}/{n_stages}]" in stdout, k
    assert f"Dashboard: {out / 'dashboard.html'}" in stdout
    assert "cancelled or diverted" in stdout
    page = (out / "dashboard.html").read_text(encoding="utf-8")
    for sec in SECTIONS:
        assert f'id="{sec}"' in page, sec
    # self-contained: no script, no link to anything outside the page
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_demo_first_model_goes_through_the_gate_and_the_registry(demo_run):
    story = demo_run["story"]
    ev = story["evaluation"]
    assert ev["passed"] and ev["verdict"] == "may go to production"
    assert set(ev["metrics"]) == {m["name"] for m in story["goal"]["metrics"]}
    audit = story["registry"]["audit"]
    first = next(a for a in audit if a["event"] == "promote")
    assert first["version"] == 1 and first["alias"] == "production"
    assert all(e["passed"] for e in first["evidence"]["goal"].values())  # the goal gate's checks
    assert story["months"][0]["model_version"] == 1


def test_demo_monitor_flags_drift_and_decay_in_later_months(demo_run):
    import duckdb

    story = demo_run["story"]
    months = story["months"]
    assert [m["month"] for m in months] == ["Sep", "Oct", "Nov", "Dec"]
    # the weather of autumn is not the weather of Jan-Jul: input drift every production month
    for m in months:
        assert "temp" in m["drifted_inputs"], m["month"]
    # the model misses its goal once labels arrive, and a rule fires
    assert not all(m["goal_met"] for m in months)
    assert any(m["alerts"] for m in months)
    # everything went through DuckDB: the predictions of every month and the monitor's records
    con = duckdb.connect(str(demo_run["out"] / "warehouse.duckdb"), read_only=True)
    try:
        per_run = dict(con.sql("SELECT run_id, count(*) FROM predictions GROUP BY run_id").fetchall())
        n_labels = con.sql("SELECT count(*) FROM labels").fetchall()[0][0]
    finally:
        con.close()
    assert sorted(per_run.values()) == sorted(m["scored"]["rows"] for m in months)
    assert n_labels >= sum(m["labels"]["labelled"] for m in months)
    con = duckdb.connect(str(demo_run["out"] / "monitor.duckdb"), read_only=True)
    try:
        drift_windows = {r[0] for r in con.sql('SELECT DISTINCT "where" FROM events WHERE kind = \'drift\'').fetchall()}
    finally:
        con.close()
    assert {m["month"] for m in months} <= drift_windows


def test_demo_late_arrival_rates_are_the_data_s():
    # the rates the demo reports, against a direct count on the raw table
    table, facts = load_flights()
    flights = nycflights13("flights")
    arr = flights.column("arr_delay")
    assert facts["n_cancelled"] == arr.null_count == 9_430
    month = flights.column("month").to_numpy()
    ok = arr.is_valid().to_numpy(zero_copy_only=False)
    late = pc.fill_null(pc.greater(arr, 15), False).to_numpy(zero_copy_only=False)
    for k, name in ((9, "Sep"), (10, "Oct"), (11, "Nov"), (12, "Dec")):
        sel = (month == k) & ok
        assert facts["late_rate_by_month"][name] == pytest.approx(late[sel].mean(), abs=1e-12)
    # the "about 13% in September to about 33% in December"
    assert facts["late_rate_by_month"]["Sep"] == pytest.approx(0.132, abs=0.001)
    assert facts["late_rate_by_month"]["Dec"] == pytest.approx(0.326, abs=0.001)
    assert table.num_rows == flights.num_rows  # the weather join keeps every flight (m:1)


@pytest.mark.parametrize("kw", [dict(months=0), dict(months=5), dict(sample=0.0), dict(sample=1.5),
                                dict(train_months=11)])
def test_demo_config_rejects_bad_options(kw):
    with pytest.raises(ValueError):
        DemoConfig(out="x", **kw)


def test_demo_month_option_limits_the_run(tmp_path):
    from mlcore.maintain.demo import run_demo

    lines = []
    story = run_demo(DemoConfig(out=str(tmp_path / "o"), months=1, sample=0.25, n_boot=20, echo=lines.append))
    assert [m["month"] for m in story["months"]] == ["Sep"]
    assert (tmp_path / "o" / "dashboard.html").exists()
    assert np.isfinite(story["months"][0]["metrics"]["roc_auc"]["value"])


def test_demo_maintenance_retrains_compares_on_the_same_window_and_promotes(demo_run):
    import json

    story, out = demo_run["story"], demo_run["out"]
    decisions = story["decisions"]
    kinds = [d["kind"] for d in decisions]
    assert kinds[0] == "deployed" and decisions[0]["version"] == 1
    # every retraining was asked for by a monitoring rule, and ended in a registry decision
    assert kinds.count("retrain_triggered") >= 1
    outcomes = [d for d in decisions if d["kind"] in ("promoted", "promotion_refused")]
    assert len(outcomes) == kinds.count("retrain_triggered")
    for d in outcomes:
        ev = d["evidence"]
        assert ev["metric"] == "log_loss" and ev["champion"] is not None and ev["challengers"]
        # the full report: champion and every challenger scored on the very same recent rows,
        # which lie after every row the challengers were trained on
        with open(out / "registry" / ev["report"], encoding="utf-8") as f:
            report = json.load(f)
        window = report["evaluation_window"]
        comp = report["comparison"]
        assert comp["n_rows"] == window["rows"] > 0
        assert comp["champion"]["gate"]["n_rows"] == window["rows"]
        for c in comp["challengers"]:
            assert c["gate"]["n_rows"] == window["rows"]
            assert c["window"]["end"] <= window["start"]
        assert d["at"][:7] <= window["end"][:7]  # the window is the latest labelled month
    # at least one challenger won: promoted through the registry, with its audit entry
    promoted = [d for d in decisions if d["kind"] == "promoted"]
    assert promoted, [d["reason"] for d in outcomes]
    audit = story["registry"]["audit"]
    for d in promoted:
        entry = next(a for a in audit if a["event"] == "promote" and a["version"] == d["version"])
        assert entry["alias"] == "production" and entry["previous"] == d["previous"]
        assert entry["evidence"]["promote"] is True and entry["evidence"]["chosen"]
        best = next(c for c in d["evidence"]["challengers"] if c["name"] == d["evidence"]["chosen"])
        assert best["meets_goal"] and best["beats_champion"]
        assert best["difference"]["improvement"] > 0
    refused = [d for d in decisions if d["kind"] == "promotion_refused"]
    for d in refused:
        assert any(a["event"] == "promotion_refused" and a["version"] == d["version"] for a in audit)
    # the promoted model serves the next months, as the registry's alias says
    last = promoted[-1]
    assert story["registry"]["aliases"]["production"] == (last["version"] if not any(
        d["kind"] == "promoted" and d["version"] > last["version"] for d in decisions) else None)
    after = [m for m in story["months"] if m["month_number"] > int(last["at"][5:7])]
    assert after and all(m["model_version"] == last["version"] for m in after)
