"""MonitorStore over both backends: DuckDB (a file) and PostgreSQL through ADBC (a real server).

The same suite runs on each; a final test checks that both give back identical tables.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pyarrow as pa
import pytest

from mlcore.errors import ArtifactError
from mlcore.monitor import DriftMonitor, MonitorStore, Profile, events_from_report, profile

T0 = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.timezone.utc)


def _ref_cur(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    a[:7] = np.nan
    ref = pa.table({"a": a, "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    cur = pa.table({"a": np.r_[rng.normal(size=n), rng.normal(1.0, size=n)],
                    "b": pa.array(np.r_[rng.normal(size=2 * n - 3), [np.inf, -np.inf, -0.0]]),
                    "c": np.r_[rng.choice(["x", "y"], n), rng.choice(["x", "y", "z"], n)]})
    return ref, cur


@pytest.fixture(scope="module")
def pg_uri():
    pytest.importorskip("adbc_driver_postgresql")
    from pgserver import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.uri
    finally:
        server.stop()


_PG_DB = [0]


def _fresh_db(uri: str) -> str:
    """A new database on the server, so that tests do not see each other's rows."""
    import adbc_driver_postgresql.dbapi as pg

    _PG_DB[0] += 1
    name = f"store_{_PG_DB[0]}"
    with pg.connect(uri, autocommit=True) as con:  # CREATE DATABASE cannot run in a transaction
        with con.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
    return uri.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["duckdb", "postgresql"])
def target(request, tmp_path):
    if request.param == "duckdb":
        return str(tmp_path / "m.duckdb")
    return _fresh_db(request.getfixturevalue("pg_uri"))


def _fill(store):
    ref, cur = _ref_cur()
    rep = DriftMonitor().fit(ref).check(cur)
    store.add_report(rep, window="w1", run_time=T0)
    store.add_report(rep, window="w2", run_time=T0 + dt.timedelta(hours=1))
    store.add_events(events_from_report(rep, where="w1"), run_time=T0)
    store.add_events([], run_time=T0)  # nothing to add: no error, no row
    p_ref = profile(ref)
    p_cur = profile(cur, edges=p_ref.edges)
    store.add_profile(p_cur, window="w1", run_time=T0)
    store.save_profile(p_ref, "reference", run_time=T0)
    store.save_profile(p_cur, "reference", run_time=T0 + dt.timedelta(hours=2))  # the newer one wins
    store.save_profile(p_ref, "old", run_time=T0)
    return rep, p_ref, p_cur


def test_store_roundtrip(target):
    with MonitorStore(target) as s:
        assert s.backend == ("postgresql" if target.startswith("postgresql://") else "duckdb")
        rep, p_ref, p_cur = _fill(s)
        r = s.results()
        assert r.num_rows == 2 * len(rep.features)
        assert r["window"].to_pylist() == ["w1"] * 3 + ["w2"] * 3
        assert r["column"].to_pylist()[:3] == ["a", "b", "c"]
        assert r["drifted"].to_pylist()[:3] == [f.drifted for f in rep.features] == [True, False, True]
        want_p = [f.p_value for f in rep.features]
        assert r["p_value"].to_pylist()[:3] == want_p  # floats stored and read back bit for bit
        assert r["run_time"].to_pylist()[0] == T0
        e = s.events()
        assert "dataset" in e["kind"].to_pylist()
        assert all(isinstance(json.loads(v), dict) for v in e["evidence"].to_pylist())
        prof = s.profiles()
        assert prof["column"].to_pylist() == ["a", "b", "c"]
        assert prof["inf"].to_pylist()[:2] == [0, 2]
        assert prof["mean"][0].as_py() == p_cur["a"].mean
        assert s.load_profile("reference") == p_cur
        old = s.load_profile("old")
        assert old == p_ref and old["a"].n_nan == 7
        assert old.merge(p_cur) == p_ref.merge(p_cur)
        with pytest.raises(ArtifactError, match="No profile named `missing`"):
            s.load_profile("missing")
        n = s.query("SELECT count(*) AS n FROM profiles")["n"][0].as_py()
        assert n == 3


def test_store_reopen_keeps_rows(target):
    with MonitorStore(target) as s:
        _fill(s)
    with MonitorStore(target) as s:  # tables exist already: CREATE IF NOT EXISTS, rows kept
        assert s.results().num_rows == 6
        ref, _ = _ref_cur()
        assert s.load_profile("old") == profile(ref)


def test_both_backends_give_the_same_tables(tmp_path, pg_uri):
    outs = {}
    for name, tgt in (("duckdb", str(tmp_path / "same.duckdb")), ("postgresql", _fresh_db(pg_uri))):
        with MonitorStore(tgt) as s:
            _fill(s)
            outs[name] = (s.results(), s.events().drop_columns(["time"]), s.profiles(), s.load_profile("reference"))
    for a, b in zip(outs["duckdb"][:3], outs["postgresql"][:3]):
        assert a.schema.names == b.schema.names
        for col in a.schema.names:
            x, y = a[col].to_pylist(), b[col].to_pylist()
            assert [None if isinstance(v, float) and math.isnan(v) else v for v in x] == \
                   [None if isinstance(v, float) and math.isnan(v) else v for v in y], col
    assert outs["duckdb"][3] == outs["postgresql"][3]


def test_profile_json_roundtrip_and_bad_text():
    ref, cur = _ref_cur()
    p = profile(cur)
    assert Profile.from_json(p.to_json()) == p
    bad = json.loads(p.to_json())
    bad["dtypes"]["0_counts"] = "|O"
    with pytest.raises(ArtifactError, match="dtype"):
        Profile.from_json(json.dumps(bad))
    with pytest.raises(ArtifactError, match="JSON"):
        Profile.from_json("{not json")


def test_cli_check_writes_to_postgresql(tmp_path, pg_uri):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from mlcore.monitor.cli import monitor as monitor_cli

    pg_uri = _fresh_db(pg_uri)
    ref, cur = _ref_cur()
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(cur, tmp_path / "cur.parquet")
    runner = CliRunner()
    r = runner.invoke(monitor_cli, ["fit", str(tmp_path / "ref.parquet"), "--out", str(tmp_path / "mon")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(monitor_cli, ["check", str(tmp_path / "mon"), str(tmp_path / "cur.parquet"),
                                    "--store", pg_uri, "--window", "cli-w"])
    assert r.exit_code == 1, r.output
    with MonitorStore(pg_uri) as s:
        got = s.query("SELECT \"column\", drifted FROM results WHERE \"window\" = $1 ORDER BY \"column\"", ["cli-w"])
    assert got["column"].to_pylist() == ["a", "b", "c"] and got["drifted"].to_pylist() == [True, False, True]
