"""Batch scoring: every row scored exactly once, resumable after a kill, into Parquet, DuckDB and a
real PostgreSQL; quarantine of bad rows; the Ray engine equals the local one."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from mlcore.deploy.bundle import Bundle
from mlcore.errors import SchemaError
from mlcore.serve.batch import score
from mlcore.train import compile_model

COLS = [f"f{j}" for j in range(8)]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("score")
    rng = np.random.default_rng(11)
    n = 60_000
    X = rng.normal(size=(n, len(COLS)))
    y = (X[:, 0] - X[:, 3] > 0).astype(int)
    est = LogisticRegression().fit(X[:5000], y[:5000])
    Bundle(compile_model(est), input_columns=COLS, name="m").save(root / "bundle")
    ids = np.arange(n, dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, 37, replace=False)] = True  # rows with a missing value: quarantined
    cols = {"row_id": ids}
    for j, c in enumerate(COLS):
        cols[c] = pa.array(X[:, j], mask=mask if j == 2 else None)
    table = pa.table(cols)
    src = root / "input"
    src.mkdir()
    for k in range(3):  # three files, several row groups each
        pq.write_table(table.slice(k * 20_000, 20_000), src / f"part-{k}.parquet", row_group_size=7_000)
    return {"root": root, "bundle": str(root / "bundle"), "src": str(src), "est": est, "X": X, "mask": mask, "n": n}


def _check_output(s, preds: pa.Table, quarantine: pa.Table | None):
    n, mask = s["n"], s["mask"]
    got_ids = preds.column("row_id").to_numpy()
    assert len(got_ids) == len(set(got_ids.tolist())) == n - mask.sum()
    q_ids = [] if quarantine is None else quarantine.column("row_id").to_pylist()
    assert sorted(q_ids) == sorted(np.flatnonzero(mask).tolist())
    assert sorted(got_ids.tolist() + q_ids) == list(range(n))
    order = np.argsort(got_ids)
    want = s["est"].predict(s["X"][got_ids[order]])
    np.testing.assert_array_equal(preds.column("prediction").to_numpy()[order], want)
    assert preds.column("prediction_id").null_count == 0
    assert len(set(preds.column("prediction_id").to_pylist())) == preds.num_rows
    if quarantine is not None:
        assert set(quarantine.column("reason").to_pylist()) == {"column `f2`: missing value"}


def test_parquet_to_parquet(setup, tmp_path):
    res = score(setup["bundle"], setup["src"], f"parquet:{tmp_path / 'out'}", batch_size=8_000, keep=["row_id"])
    assert res.rows_scored + res.rows_quarantined == setup["n"] and res.rows_quarantined == 37
    preds = pq.read_table(tmp_path / "out", schema=None).select(["row_id", "prediction", "proba", "prediction_id",
                                                                  "run_id", "bundle_hash"])
    quar = pq.read_table(tmp_path / "out" / "_quarantine")
    _check_output(setup, preds, quar)
    assert set(preds.column("bundle_hash").to_pylist()) == {Bundle.load(setup["bundle"]).content_hash}
    again = score(setup["bundle"], setup["src"], f"parquet:{tmp_path / 'out'}", batch_size=8_000, keep=["row_id"])
    assert again.partitions == 0 and again.skipped_partitions == res.partitions  # idempotent


def test_profile_on_the_reference_bins(setup, tmp_path):
    from mlcore.monitor import Profile, profile

    b = Bundle.load(setup["bundle"])
    ref = profile(pq.read_table(setup["src"]).select(COLS).slice(0, 10_000))
    Bundle(b.model, input_columns=COLS, reference=ref).save(tmp_path / "b")
    res = score(str(tmp_path / "b"), setup["src"], f"parquet:{tmp_path / 'out'}", batch_size=9_000)
    prof = Profile.load(res.extra["profile"])
    assert prof["f1"].n_rows == setup["n"]
    np.testing.assert_array_equal(prof["f1"].edges, ref["f1"].edges)
    whole = profile(pq.read_table(setup["src"]).select(COLS), edges=ref.edges)
    np.testing.assert_array_equal(prof["f1"].hist, whole["f1"].hist)  # merged per-partition == one pass


def test_profile_skips_columns_without_a_profile_kind(setup, tmp_path):
    # timestamps ride along in the input (kept for the output) but have no profile kind: the run's
    # profile covers the numeric and categorical columns and scoring does not fail
    t = pq.read_table(setup["src"])
    n = t.num_rows
    t = t.append_column("ts", pa.array(np.arange(n, dtype=np.int64) * 60_000_000, pa.timestamp("us")))
    t = t.append_column("carrier", pa.array(np.array(["AA", "UA", "DL"])[np.arange(n) % 3]))
    pq.write_table(t, tmp_path / "in.parquet")
    res = score(setup["bundle"], str(tmp_path / "in.parquet"), f"parquet:{tmp_path / 'out'}", batch_size=9_000,
                keep=["row_id", "ts", "carrier"])
    from mlcore.monitor import Profile

    prof = Profile.load(res.extra["profile"])
    assert "ts" not in prof.columns and prof["carrier"].categories == {"AA": 20_000, "UA": 20_000, "DL": 20_000}
    assert prof["f1"].n_rows == n
    assert pq.read_table(tmp_path / "out").column("ts").type == pa.timestamp("us")


def test_missing_column_fails_before_writing(setup, tmp_path):
    t = pq.read_table(setup["src"]).drop_columns(["f5"])
    pq.write_table(t, tmp_path / "bad.parquet")
    with pytest.raises(SchemaError, match=r"lacks columns \['f5'\]"):
        score(setup["bundle"], str(tmp_path / "bad.parquet"), f"parquet:{tmp_path / 'out'}")
    assert not [f for f in os.listdir(tmp_path / "out") if f.endswith(".parquet")]


def test_incompatible_duckdb_table_is_a_clear_error(setup, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect(str(tmp_path / "o.duckdb"))
    con.execute("create table preds (something int)")
    con.close()
    with pytest.raises(SchemaError, match="target table `preds` exists"):
        score(setup["bundle"], setup["src"], f"duckdb:{tmp_path / 'o.duckdb'}:preds", keep=["row_id"])


def _kill_and_resume(setup, target: str, read_back, tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "mlcore")
    cmd = [exe, "score", setup["bundle"], setup["src"], "--into", target, "--batch-size", "1500", "--keep", "row_id",
           "--no-progress", "--pause-s", "0.1"]
    env = dict(os.environ)
    with open(tmp_path / "score.log", "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.05)
            committed = read_back(partial=True)
            if committed >= 3 or proc.poll() is not None:
                break
        assert proc.poll() is None, "the scoring run finished before it could be killed; make it longer"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    partial = read_back(partial=True)
    assert 0 < partial < setup["n"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "already committed" in r.stdout


def test_kill_and_resume_parquet(setup, tmp_path):
    out = tmp_path / "out"

    def read_back(partial=False):
        files = [f for f in os.listdir(out)] if out.exists() else []
        return sum(pq.ParquetFile(out / f).metadata.num_rows for f in files if f.startswith("part-"))

    _kill_and_resume(setup, f"parquet:{out}", read_back, tmp_path)
    _check_output(setup, pq.read_table(out).select(["row_id", "prediction", "prediction_id"]),
                  pq.read_table(out / "_quarantine"))
    # the run's monitoring profile covers every input row exactly once, across the kill
    from mlcore.monitor import Profile

    runs = [d for d in os.listdir(out / "_profiles") if "-" not in d]
    assert len(runs) == 1
    prof = Profile.load(out / "_profiles" / runs[0])
    assert prof["f0"].n_rows == setup["n"]
    assert prof["f2"].n_null == int(setup["mask"].sum())


def test_kill_and_resume_duckdb(setup, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    db = tmp_path / "scores.duckdb"

    def read_back(partial=False):
        if not db.exists():
            return 0
        try:
            con = duckdb.connect(str(db), read_only=True)
        except duckdb.IOException:  # the writer holds the lock
            return 0
        try:
            return con.execute("select coalesce(sum(rows), 0) from _mlcore_score_partitions").fetchone()[0]
        except duckdb.CatalogException:
            return 0
        finally:
            con.close()

    # DuckDB allows one writer, so the test cannot read the table while the run holds the file:
    # it watches the run's progress line (rows committed) instead, and kills it mid-run.
    exe = os.path.join(os.path.dirname(sys.executable), "mlcore")
    cmd = [exe, "score", setup["bundle"], setup["src"], "--into", f"duckdb:{db}:preds", "--batch-size", "1500",
           "--keep", "row_id", "--pause-s", "0.1"]
    log_path = tmp_path / "score.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd + ["--progress"], stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            text = log_path.read_text(errors="replace")
            counts = re.findall(r"scoring \S+ ([\d,]+)/", text)
            if counts and int(counts[-1].replace(",", "")) >= 4500:
                break
        assert proc.poll() is None, "finished before the kill: " + log_path.read_text(errors="replace")[-500:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    cmd.append("--no-progress")
    partial = read_back()
    assert 0 < partial < setup["n"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(db), read_only=True)
    preds = con.sql("select row_id, prediction, prediction_id from preds").to_arrow_table()
    quar = con.sql("select row_id, reason from preds_quarantine").to_arrow_table()
    con.close()
    _check_output(setup, preds, quar)


def test_kill_and_resume_postgresql(setup, tmp_path):
    pytest.importorskip("adbc_driver_postgresql")
    from pgserver import PostgresServer

    import adbc_driver_postgresql.dbapi as pg

    server = PostgresServer().start()
    try:
        def read_back(partial=False):
            try:
                with pg.connect(server.uri) as conn, conn.cursor() as cur:
                    cur.execute("select coalesce(sum(rows), 0) from _mlcore_score_partitions")
                    return int(cur.fetchone()[0])
            except Exception:  # noqa: BLE001 - the table may not exist yet
                return 0

        _kill_and_resume(setup, f"{server.uri}#preds", read_back, tmp_path)
        with pg.connect(server.uri) as conn, conn.cursor() as cur:
            cur.execute("select row_id, prediction, prediction_id from preds")
            preds = cur.fetch_arrow_table()
            cur.execute("select row_id, reason from preds_quarantine")
            quar = cur.fetch_arrow_table()
        _check_output(setup, preds, quar)
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside Ray's own modules
def test_ray_engine_equals_local(setup, tmp_path):
    ray = pytest.importorskip("ray")
    local = score(setup["bundle"], setup["src"], f"parquet:{tmp_path / 'local'}", batch_size=16_000, keep=["row_id"])
    try:
        res = score(setup["bundle"], setup["src"], f"parquet:{tmp_path / 'ray'}", batch_size=16_000, keep=["row_id"],
                    engine="ray")
    finally:
        ray.shutdown()
    assert res.rows_scored == local.rows_scored and res.run_id == local.run_id
    a = pq.read_table(tmp_path / "local").sort_by("prediction_id")
    b = pq.read_table(tmp_path / "ray").sort_by("prediction_id")
    assert a.equals(b)
    qa = pq.read_table(tmp_path / "local" / "_quarantine").sort_by("prediction_id")
    qb = pq.read_table(tmp_path / "ray" / "_quarantine").sort_by("prediction_id")
    assert qa.equals(qb)


def test_csv_ipc_and_duckdb_sql_sources_give_the_same_predictions(setup, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    import pyarrow.csv as pacsv
    import pyarrow.feather as feather

    t = pq.read_table(setup["src"]).slice(0, 5_000)
    t = t.filter(pa.compute.is_valid(t.column("f2")))
    pacsv.write_csv(t, tmp_path / "in.csv")
    feather.write_feather(t, tmp_path / "in.arrow")
    con = duckdb.connect(str(tmp_path / "src.duckdb"))
    con.register("t", t)
    con.execute("create table inputs as select * from t")
    con.close()
    outs = {}
    for name, source, query in [
        ("csv", str(tmp_path / "in.csv"), None),
        ("ipc", str(tmp_path / "in.arrow"), None),
        ("duckdb", f"duckdb:{tmp_path / 'src.duckdb'}:select * from inputs order by row_id", None),
    ]:
        res = score(setup["bundle"], source, f"parquet:{tmp_path / name}", batch_size=1_000, keep=["row_id"], query=query)
        assert res.rows_scored == t.num_rows and res.rows_quarantined == 0
        outs[name] = pq.read_table(tmp_path / name).sort_by("row_id")
    want = setup["est"].predict(np.column_stack([t.column(c).to_numpy() for c in COLS]))
    for name, out in outs.items():
        np.testing.assert_array_equal(out.column("prediction").to_numpy(), want[np.argsort(t.column("row_id").to_numpy())])


def test_postgresql_query_source(setup, tmp_path):
    pytest.importorskip("adbc_driver_postgresql")
    import adbc_driver_postgresql.dbapi as pg
    from pgserver import PostgresServer

    t = pq.read_table(setup["src"]).slice(0, 3_000)
    server = PostgresServer().start()
    try:
        with pg.connect(server.uri) as conn:
            with conn.cursor() as cur:
                cur.adbc_ingest("inputs", t, mode="create")
            conn.commit()
        res = score(setup["bundle"], server.uri, f"parquet:{tmp_path / 'out'}", query="select * from inputs order by row_id",
                    batch_size=700, keep=["row_id"])
    finally:
        server.stop()
    out = pq.read_table(tmp_path / "out").sort_by("row_id")
    n_bad = int(setup["mask"][:3_000].sum())
    assert res.rows_scored == 3_000 - n_bad and res.rows_quarantined == n_bad
    ok = ~setup["mask"][:3_000]
    np.testing.assert_array_equal(out.column("prediction").to_numpy(), setup["est"].predict(setup["X"][:3_000][ok]))
