"""Reading Parquet, CSV, Arrow IPC/Feather, DuckDB and PostgreSQL (ADBC), whole and streamed."""

from __future__ import annotations

import datetime as dt


import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from mlcore.data import read, read_batches


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(0)
    n = 1000
    x = rng.normal(size=n)
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "x": pa.array(x, mask=rng.random(n) < 0.1),
        "c": pa.array(rng.choice(["EWR", "JFK", "LGA"], n)),
        "t": pa.array(np.arange(n, dtype=np.int64) * 3_600_000, type=pa.timestamp("ms", tz="UTC")),
    })


@pytest.fixture(scope="module")
def files(sample, tmp_path_factory):
    d = tmp_path_factory.mktemp("io")
    paths = {"parquet": str(d / "s.parquet"), "feather": str(d / "s.feather"), "arrows": str(d / "s.arrows"),
             "csv": str(d / "s.csv")}
    pq.write_table(sample, paths["parquet"], row_group_size=128)
    feather.write_feather(sample, paths["feather"], chunksize=100)
    with ipc.new_stream(paths["arrows"], sample.schema) as w:
        for b in sample.to_batches(max_chunksize=77):
            w.write_batch(b)
    pacsv.write_csv(sample.drop_columns(["t"]), paths["csv"])
    return paths


@pytest.mark.parametrize("kind", ["parquet", "feather", "arrows"])
def test_read_files_round_trip(sample, files, kind):
    got = read(files[kind])
    assert got.equals(sample)
    assert read(files[kind], columns=["x", "c"]).equals(sample.select(["x", "c"]))


def test_read_csv(sample, files):
    got = read(files["csv"])
    want = sample.drop_columns(["t"])
    assert got.num_rows == want.num_rows
    assert got.column("id").to_pylist() == want.column("id").to_pylist()
    assert got.column("x").null_count == want.column("x").null_count
    np.testing.assert_allclose(got.column("x").to_numpy(zero_copy_only=False),
                               want.column("x").to_numpy(zero_copy_only=False), rtol=1e-15)
    assert read(files["csv"], columns=["c"]).column_names == ["c"]


@pytest.mark.parametrize("kind", ["parquet", "feather", "arrows", "csv"])
@pytest.mark.parametrize("batch_size", [1, 100, 333, 5000])
def test_read_batches_exact_sizes(sample, files, kind, batch_size):
    want = sample.drop_columns(["t"]) if kind == "csv" else sample
    with read_batches(files[kind], batch_size=batch_size) as stream:
        assert stream.schema.names == want.column_names
        batches = list(stream)
    sizes = [b.num_rows for b in batches]
    assert sum(sizes) == want.num_rows
    assert all(s == batch_size for s in sizes[:-1]) and 0 < sizes[-1] <= batch_size
    got = pa.Table.from_batches(batches)
    assert got.column("id").equals(want.column("id"))
    chunked = read(files[kind], batch_size=batch_size)
    assert chunked.num_rows == want.num_rows and chunked.column(0).num_chunks == len(batches)


def test_streaming_keeps_memory_bounded(tmp_path):
    """A 32 MB Parquet file streamed in 16k-row batches never holds much more than a batch."""
    n = 1_000_000
    rng = np.random.default_rng(1)
    table = pa.table({f"x{j}": rng.normal(size=n) for j in range(4)})
    path = str(tmp_path / "big.parquet")
    pq.write_table(table, path, row_group_size=32_768, compression="none")
    full = table.nbytes
    del table
    base = pa.total_allocated_bytes()
    peak = 0
    rows = 0
    total = 0.0
    for b in read_batches(path, batch_size=16_384):
        rows += b.num_rows
        total += float(np.sum(b.column(0).to_numpy()))
        peak = max(peak, pa.total_allocated_bytes() - base)
        del b
    assert rows == n
    assert np.isfinite(total)
    assert peak < full / 8, f"streaming held {peak} bytes of Arrow memory for a {full}-byte table"


def test_duckdb_memory_query_and_params():
    t = read(":memory:", query="SELECT range AS i, range * 2 AS j FROM range(10) WHERE range >= ?", params=[7])
    assert t.column("i").to_pylist() == [7, 8, 9]
    assert t.column("j").to_pylist() == [14, 16, 18]


def test_duckdb_file_and_connection(tmp_path, sample, files):
    import duckdb

    db = str(tmp_path / "s.duckdb")
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE s AS SELECT * FROM read_parquet('{files['parquet']}')")
    # an open connection is used as is and left open
    got = read(con, query="SELECT id, x, c FROM s ORDER BY id")
    assert got.column("x").to_pylist() == sample.column("x").to_pylist()
    sizes = [b.num_rows for b in read_batches(con, query="SELECT * FROM s", batch_size=300)]
    assert sizes == [300, 300, 300, 100]
    con.execute("SELECT 1")  # still open
    con.close()
    # by path (opened read-only, closed after)
    assert read(db, query="SELECT count(*) AS n FROM s").column("n").to_pylist() == [1000]
    assert read(f"duckdb:{db}", query="SELECT max(id) AS m FROM s").column("m").to_pylist() == [999]


def test_postgres_through_adbc(postgres_server, sample):
    pg = pytest.importorskip("adbc_driver_postgresql.dbapi", reason="the `db` extra (ADBC PostgreSQL) is not installed")

    with pg.connect(postgres_server) as con:
        with con.cursor() as cur:
            cur.adbc_ingest("flights_sample", sample, mode="replace")
        con.commit()
    got = read(postgres_server, query="SELECT id, x, c, t FROM flights_sample ORDER BY id")
    assert got.num_rows == sample.num_rows
    assert got.column("x").to_pylist() == sample.column("x").to_pylist()
    assert got.column("c").to_pylist() == sample.column("c").to_pylist()
    assert got.column("t").to_pylist() == sample.column("t").to_pylist()
    some = read(postgres_server, query="SELECT id FROM flights_sample WHERE c = $1 ORDER BY id", params=["JFK"])
    assert some.column("id").to_pylist() == [i for i, c in enumerate(sample.column("c").to_pylist()) if c == "JFK"]
    stream = read_batches(postgres_server, query="SELECT id FROM flights_sample ORDER BY id", batch_size=256)
    sizes = [b.num_rows for b in stream]
    assert sizes == [256, 256, 256, 232]


def test_postgres_fixture_gives_a_fresh_server(postgres_server):
    pytest.importorskip("adbc_driver_postgresql.dbapi", reason="the `db` extra (ADBC PostgreSQL) is not installed")
    t = read(postgres_server, query="SELECT current_setting('listen_addresses') AS a, version() AS v")
    assert t.column("a").to_pylist() == ["127.0.0.1"]
    assert "PostgreSQL" in t.column("v")[0].as_py()


def test_read_errors(tmp_path, files):
    with pytest.raises(ValueError, match="Cannot tell the format"):
        read(str(tmp_path / "data.unknown"))
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        read(str(tmp_path / "nope.parquet"))
    with pytest.raises(ValueError, match="needs query="):
        read(":memory:")
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        list(read_batches(files["parquet"], batch_size=0))
    with pytest.raises(ValueError, match="Unknown format"):
        read(files["parquet"], format="xlsx")
    with pytest.raises(TypeError, match="source must be"):
        read(42)
    # an explicit format overrides the name
    assert read(files["feather"], format="ipc").num_rows == 1000


def test_empty_result_keeps_schema(files):
    t = read(":memory:", query="SELECT 1::BIGINT AS a WHERE false", batch_size=10)
    assert t.num_rows == 0 and t.column_names == ["a"]
    assert read(files["parquet"], columns=["id"], batch_size=10).num_rows == 1000


def test_timestamp_round_trip_through_duckdb(sample):
    import duckdb

    con = duckdb.connect()
    con.register("s", sample)
    got = read(con, query="SELECT t FROM s ORDER BY id LIMIT 2")
    assert got.column("t").to_pylist()[1] == dt.datetime(1970, 1, 1, 1, tzinfo=dt.timezone.utc)
    con.close()



def test_sql_sources_select_columns(tmp_path):
    q = "SELECT range AS a, range * 2 AS b FROM range(5)"
    assert read(":memory:", query=q, columns=["b"]).column_names == ["b"]
    stream = read_batches(":memory:", query=q, columns=["b"], batch_size=2)
    assert stream.schema.names == ["b"]
    assert [b.column(0).to_pylist() for b in stream] == [[0, 2], [4, 6], [8]]
