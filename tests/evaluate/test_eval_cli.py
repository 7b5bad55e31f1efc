"""``mlcore evaluate`` (the click group, tested on its own until the lead registers it)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from mlcore.evaluate.cli import evaluate
from mlcore.goals import Goal


def _files(tmp_path, auc_min):
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.integers(0, 2, n)
    s = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    x = rng.normal(size=n)
    pq.write_table(pa.table({"y": y, "p": s, "x": x, "g": rng.choice(["a", "b"], n)}), tmp_path / "test.parquet")
    pq.write_table(pa.table({"x": rng.normal(size=n)}), tmp_path / "train.parquet")
    Goal.single("g", [f"roc_auc >= {auc_min}", "psi < 0.2", "demographic_parity_difference <= 0.5"]).save(
        tmp_path / "goal.toml")


def test_gate_passes_and_writes_reports(tmp_path):
    _files(tmp_path, 0.7)
    r = CliRunner().invoke(evaluate, ["gate", str(tmp_path / "goal.toml"), str(tmp_path / "test.parquet"),
                                      "--target", "y", "--score", "p", "--sensitive", "g", "--segment", "g",
                                      "--reference", str(tmp_path / "train.parquet"), "--n-boot", "50",
                                      "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    assert "may go to production" in r.output and "PASS roc_auc" in r.output
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["passed"] is True and d["slices"]
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")


def test_gate_fails_with_exit_status_1(tmp_path):
    _files(tmp_path, 0.95)
    r = CliRunner().invoke(evaluate, ["gate", str(tmp_path / "goal.toml"), str(tmp_path / "test.parquet"),
                                      "--target", "y", "--score", "p", "--n-boot", "20"])
    assert r.exit_code == 1
    assert "FAIL roc_auc" in r.output and "misses roc_auc >= 0.95 by" in r.output
    assert "FAIL psi" in r.output  # no --reference: psi cannot be checked, and says why
    assert "reference" in r.output


def test_goal_and_metrics_commands(tmp_path):
    _files(tmp_path, 0.8)
    r = CliRunner().invoke(evaluate, ["goal", str(tmp_path / "goal.toml")])
    assert r.exit_code == 0 and "roc_auc >= 0.8" in r.output and "psi < 0.2" in r.output
    (tmp_path / "bad.toml").write_text('name = "b"\n[models.m]\n[[models.m.metrics]]\nmetric = "roc_acu"\nmin = 0.8\n')
    r = CliRunner().invoke(evaluate, ["goal", str(tmp_path / "bad.toml")])
    assert r.exit_code == 1 and "Unknown metric 'roc_acu'" in r.output
    r = CliRunner().invoke(evaluate, ["metrics"])
    assert r.exit_code == 0 and "roc_auc" in r.output and "latency_p99_us" in r.output
    r = CliRunner().invoke(evaluate, ["gate", str(tmp_path / "goal.toml"), str(tmp_path / "test.parquet"),
                                      "--target", "nope", "--score", "p"])
    assert r.exit_code == 2 and "column 'nope' not found" in r.output


def test_cli_import_is_cheap_and_names_stay_functions():
    import subprocess
    import sys

    code = ("import sys, mlcore.evaluate.cli; assert 'numba' not in sys.modules, 'numba imported'; "
            "import mlcore.evaluate.report; from mlcore.evaluate import gate; assert callable(gate); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
