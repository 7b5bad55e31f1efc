"""Batch scoring: Parquet -> bundle -> Parquet / DuckDB / PostgreSQL, against in-memory prediction
and plain ingest baselines, in one run.

Model (c) of the compiled-models issue: LightGBM, 500 trees x 31 leaves on 50 float features.
Rows: $MLCORE_BENCH_ROWS (default 2,000,000; the issue's figure is 10,000,000). Each scoring run
is a subprocess, so its peak RSS is its own (reported for 1M rows and for the full size, to show
that memory does not grow with the data). Run:

    python -m pytest -c benchmarks/pytest.ini benchmarks/bench_score.py --benchmark-json=.benchmarks/score.json
    python benchmarks/report_score.py .benchmarks/score.json
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROWS = int(os.environ.get("MLCORE_BENCH_ROWS", "2000000"))
F = 50
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def workdir():
    lgb = pytest.importorskip("lightgbm")
    from mlcore.deploy.bundle import Bundle
    from mlcore.train import compile_model

    d = tempfile.mkdtemp(prefix="mlcore-bench-score-")
    rng = np.random.default_rng(7)
    Xtr = rng.normal(size=(50_000, F))
    ytr = (Xtr[:, :5].sum(axis=1) + rng.normal(size=50_000) > 0).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 31, "verbose": -1, "num_threads": 1},
                        lgb.Dataset(Xtr, ytr), num_boost_round=500)
    cols = [f"f{j}" for j in range(F)]
    Bundle(compile_model(booster), input_columns=cols, name="c").save(os.path.join(d, "bundle"))
    for name, n in (("1m", 1_000_000), ("full", ROWS)):
        os.makedirs(os.path.join(d, name))
        step = 500_000
        for k in range(0, n, step):
            m = min(step, n - k)
            X = rng.normal(size=(m, F))
            pq.write_table(pa.table({c: X[:, j] for j, c in enumerate(cols)}),
                           os.path.join(d, name, f"part-{k // step:05d}.parquet"), row_group_size=100_000)
    yield d


RUNNER = r'''
import json, resource, sys, time
from mlcore.serve.batch import score
t = time.perf_counter()
cpu0 = time.process_time()
res = score(sys.argv[1], sys.argv[2], sys.argv[3], batch_size=int(sys.argv[4]), proba=False)
print(json.dumps({"rows": res.rows_scored, "wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - cpu0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''

INMEM = r'''
import json, resource, sys, time
import pyarrow.parquet as pq
from mlcore.deploy.bundle import Bundle
b = Bundle.load(sys.argv[1])
t = pq.read_table(sys.argv[2])
b.predict(t.slice(0, 1000))
t0 = time.perf_counter(); cpu0 = time.process_time()
p = b.predict(t)
print(json.dumps({"rows": len(p), "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - cpu0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def _run(code, *args):
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=3600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", ["in_memory_predict", "parquet_to_parquet", "parquet_to_parquet_1m",
                                  "parquet_to_duckdb"])
def bench_score(benchmark, workdir, case, tmp_path):
    benchmark.group = "score"
    bundle = os.path.join(workdir, "bundle")
    src = os.path.join(workdir, "1m" if case.endswith("_1m") else "full")
    if case == "in_memory_predict":
        r = benchmark.pedantic(_run, args=(INMEM, bundle, src), rounds=1, iterations=1)
    elif case.startswith("parquet_to_parquet"):
        r = benchmark.pedantic(_run, args=(RUNNER, bundle, src, f"parquet:{tmp_path / 'out'}", 131_072), rounds=1,
                               iterations=1)
    else:
        pytest.importorskip("duckdb")
        r = benchmark.pedantic(_run, args=(RUNNER, bundle, src, f"duckdb:{tmp_path / 'o.duckdb'}:preds", 131_072),
                               rounds=1, iterations=1)
    r["rows_per_s"] = r["rows"] / r["wall_s"]
    benchmark.extra_info.update(r)


@pytest.mark.parametrize("how", ["mlcore_duckdb_commit", "pyarrow_to_duckdb", "mlcore_postgres_commit", "psycopg_copy"])
def bench_ingest(benchmark, how, tmp_path):
    """Ingest 1M prediction rows (id, run, hash, prediction) into DuckDB and PostgreSQL."""
    benchmark.group = "ingest"
    n = 1_000_000
    t = pa.table({"prediction_id": pa.array([f"{i:032x}" for i in range(n)]), "run_id": pa.array(["r"] * n),
                  "bundle_hash": pa.array(["h"] * n), "prediction": pa.array(np.random.default_rng(0).random(n))})
    if how == "mlcore_duckdb_commit":
        pytest.importorskip("duckdb")
        from mlcore.serve.batch import open_target

        def go():
            tgt = open_target(f"duckdb:{tmp_path / 'a.duckdb'}:preds")
            for k in range(0, n, 131_072):
                tgt.commit("run", k, t.slice(k, 131_072), None)
            tgt.close()
    elif how == "pyarrow_to_duckdb":
        duckdb = pytest.importorskip("duckdb")

        def go():
            con = duckdb.connect(str(tmp_path / "b.duckdb"))
            con.register("t", t)
            con.execute("create table preds as select * from t")
            con.close()
    else:
        pytest.importorskip("adbc_driver_postgresql")
        sys.path.insert(0, os.path.join(HERE, "..", "tests"))
        from pgserver import PostgresServer

        server = PostgresServer().start()
        benchmark.extra_info["server"] = "PostgreSQL in a temp dir (fsync off)"
        if how == "mlcore_postgres_commit":
            from mlcore.serve.batch import open_target

            def go():
                tgt = open_target(f"{server.uri}#preds")
                for k in range(0, n, 131_072):
                    tgt.commit("run", k, t.slice(k, 131_072), None)
                tgt.close()
        else:
            psycopg = pytest.importorskip("psycopg")

            def go():
                with psycopg.connect(server.uri) as conn, conn.cursor() as cur:
                    cur.execute("create table preds2 (prediction_id text, run_id text, bundle_hash text, prediction float8)")
                    with cur.copy("copy preds2 from stdin") as cp:
                        for row in zip(*(t.column(i).to_pylist() for i in range(4))):
                            cp.write_row(row)
    t0 = time.perf_counter()
    try:
        benchmark.pedantic(go, rounds=1, iterations=1)
    finally:
        if how in ("mlcore_postgres_commit", "psycopg_copy"):
            server.stop()
    benchmark.extra_info.update({"rows": n, "rows_per_s": n / (time.perf_counter() - t0),
                                 "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
