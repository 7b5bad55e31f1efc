"""Windows, events and rules, the DuckDB store, the HTML report and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mlcore.monitor import (AlertManager, DriftMonitor, Event, MonitorStore, Rule, check_windows,
                            events_from_report, html_report, row_windows, time_windows)
from mlcore.monitor.cli import monitor as monitor_cli


def _ref_cur(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    ref = pa.table({"a": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    cur = pa.table({"a": np.r_[rng.normal(size=n), rng.normal(1.0, size=n)],
                    "c": np.r_[rng.choice(["x", "y"], n), rng.choice(["x", "y", "z"], n)]})
    return ref, cur


def test_row_windows_tumbling_sliding_and_zero_copy():
    t = pa.table({"x": np.arange(10.0)})
    assert [(w.start, w.end) for w in row_windows(t, 4)] == [(0, 4), (4, 8), (8, 10)]
    assert [(w.start, w.end) for w in row_windows(t, 4, step=3, drop_partial=True)] == [(0, 4), (3, 7), (6, 10)]
    w = next(iter(row_windows(t, 4, step=2)))
    assert w.data["x"].chunks[0].buffers()[1].address == t["x"].chunks[0].buffers()[1].address
    assert list(row_windows(t.slice(0, 0), 4)) == []


def test_time_windows_unsorted_nulls_and_sliding():
    ts = pa.array([130, 5, None, 61, 0, 59], pa.timestamp("s"))
    t = pa.table({"t": ts, "x": [4, 2, 9, 3, 1, 5]})
    got = [sorted(w.data["x"].to_pylist()) for w in time_windows(t, "t", dt.timedelta(minutes=1))]
    assert got == [[1, 2, 5], [3], [4]]
    slide = [sorted(w.data["x"].to_pylist()) for w in time_windows(t, "t", dt.timedelta(minutes=1),
                                                                   period=dt.timedelta(minutes=2))]
    assert slide == [[1, 2, 3, 5], [3, 4], [4]]
    with pytest.raises(Exception, match="timestamp"):
        list(time_windows(t, "x", 1.5)) if False else list(time_windows(pa.table({"t": [1.0]}), "t", 1))


def test_check_windows_and_policies():
    ref, cur = _ref_cur()
    reps = [r.drifted for _, r in check_windows(DriftMonitor().fit(ref), row_windows(cur, 3000))]
    assert reps == [False, True]
    reps = [r.drifted for _, r in check_windows(DriftMonitor().fit(ref), row_windows(cur, 3000), policy="previous")]
    assert reps == [False, True]
    reps = list(check_windows(DriftMonitor().fit(ref), row_windows(cur, 3000), policy="expanding"))
    assert len(reps) == 2


def test_events_rules_consecutive_and_prometheus():
    ref, cur = _ref_cur()
    m = DriftMonitor().fit(ref)
    fired = []
    am = AlertManager([Rule("a twice", what="a", consecutive=2, actions=[lambda r, ev: fired.append((r, len(ev)))]),
                       Rule("unseen", kind="quality"),
                       Rule("big effect", field="effect_size", threshold=0.5)])
    out = []
    for w, rep in check_windows(m, row_windows(cur, 1500)):
        ev = events_from_report(rep, where=str(w.start))
        out.append(am.process(ev))
    assert out[0] == [] and out[1] == []
    assert "a twice" not in out[2] and "a twice" in out[3]
    assert "unseen" in out[2] and "big effect" in out[2]
    assert fired == [("a twice", 1)]
    prom = am.prometheus()
    assert 'mlcore_monitor_rule_fired_total{rule="a twice"} 1.0' in prom
    assert 'mlcore_monitor_drift_effect_size{column="a"}' in prom


def test_store_roundtrip(tmp_path):
    from mlcore.monitor import profile

    ref, cur = _ref_cur()
    m = DriftMonitor().fit(ref)
    rep = m.check(cur)
    with MonitorStore(tmp_path / "m.duckdb") as s:
        s.add_report(rep, window="w1")
        s.add_events(events_from_report(rep, where="w1"))
        s.add_profile(profile(cur), window="w1")
        r = s.results()
        assert r["column"].to_pylist() == ["a", "c"] and r["drifted"].to_pylist() == [True, True]
        e = s.events()
        assert "dataset" in e["kind"].to_pylist()
        assert json.loads(e["evidence"][0].as_py())
        assert s.query("SELECT count(*) AS n FROM profiles")["n"][0].as_py() == 2


def test_html_report_escapes_and_plots():
    ref, cur = _ref_cur()
    ref = ref.rename_columns(["<b>a</b>", "c"])
    cur = cur.rename_columns(["<b>a</b>", "c"])
    m = DriftMonitor().fit(ref)
    page = html_report([(str(w.start), r) for w, r in check_windows(m, row_windows(cur, 1500))])
    assert "&lt;b&gt;a&lt;/b&gt;" in page and "<b>a</b>" not in page
    assert page.count("<svg") == 2 and "Dataset drift" in page and "<script" not in page


def test_cli_fit_and_check(tmp_path):
    ref, cur = _ref_cur()
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(cur, tmp_path / "cur.parquet")
    pq.write_table(ref, tmp_path / "same.parquet")
    runner = CliRunner()
    r = runner.invoke(monitor_cli, ["fit", str(tmp_path / "ref.parquet"), "--out", str(tmp_path / "mon")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(monitor_cli, ["check", str(tmp_path / "mon"), str(tmp_path / "cur.parquet"),
                                    "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
                                    "--store", str(tmp_path / "s.duckdb"), "--window", "w1"])
    assert r.exit_code == 1 and "DRIFT" in r.output
    assert json.loads((tmp_path / "r.json").read_text())["drifted"] is True
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    r = runner.invoke(monitor_cli, ["check", str(tmp_path / "mon"), str(tmp_path / "same.parquet")])
    assert r.exit_code == 0 and "dataset drift: False" in r.output


def test_webhook_posts_json_and_never_raises():
    import http.server
    import threading

    from mlcore.monitor import webhook_action

    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.handle_request, daemon=True)
    th.start()
    webhook_action(f"http://127.0.0.1:{srv.server_port}/hook")("r", [Event("drift", "a", "w", {"p": 0.01})])
    th.join(5)
    srv.server_close()
    assert got and got[0]["rule"] == "r" and got[0]["events"][0]["evidence"] == {"p": 0.01}
    # a dead endpoint is logged, not raised
    webhook_action(f"http://127.0.0.1:{srv.server_port}/hook", timeout=0.5)("r", [])
    with pytest.raises(ValueError, match="http"):
        webhook_action("file:///etc/passwd")
