"""`mlcore bench BUNDLE`: latency percentiles and throughput for the bundle's paths, side by side."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from mlcore.cli import main
from mlcore.deploy import Bundle
from mlcore.train import compile_model


def test_bench_prints_paths_and_writes_json(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int)
    Bundle(compile_model(LogisticRegression().fit(X, y)), input_columns=list("abcd")).save(tmp_path / "b")
    r = CliRunner().invoke(main, ["bench", str(tmp_path / "b"), "--rows", "500", "--calls", "200",
                                  "--threads", "1,2", "--json", str(tmp_path / "bench.json")])
    assert r.exit_code == 0, r.output
    assert "mlcore (Arrow row)" in r.output and "mlcore (row path)" in r.output
    rows = json.loads((tmp_path / "bench.json").read_text())
    assert [x["path"] for x in rows] == ["mlcore (Arrow row)", "mlcore (row path)"]
    for x in rows:
        assert 0 < x["p50_us"] <= x["p99_us"] and set(x["threads"]) == {"1", "2"}
        assert all(v > 0 for v in x["threads"].values())


def test_bench_bad_threads_is_a_usage_error(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    Bundle(compile_model(LogisticRegression().fit(X, X[:, 0] > 0)), input_columns=["a", "b"]).save(tmp_path / "b")
    r = CliRunner().invoke(main, ["bench", str(tmp_path / "b"), "--threads", "one"])
    assert r.exit_code == 2 and "comma-separated integers" in r.output
