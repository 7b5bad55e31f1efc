"""Reading sources: Parquet, CSV, Arrow IPC/Feather, and SQL on DuckDB or PostgreSQL (ADBC).

:func:`read` returns one ``pyarrow.Table``; :func:`read_batches` streams ``RecordBatch`` objects
of a fixed number of rows, so that a source larger than memory is processed in bounded memory.
Files are read through Arrow's own readers (memory-mapped where the format allows); SQL results
arrive as Arrow from the database driver, never row by row through Python.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Iterator, Sequence

import pyarrow as pa

from ..errors import missing_dependency

__all__ = ["FORMATS", "read", "read_batches", "rebatch"]

#: Formats known to :func:`read`, and the file name endings that select them.
FORMATS = {
    "parquet": (".parquet", ".pq", ".parq"),
    "csv": (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.bz2", ".csv.zst", ".csv.zip"),
    "ipc": (".arrow", ".feather", ".ipc", ".arrows"),
    "duckdb": (".duckdb", ".ddb"),
    "postgresql": (),
}

_DEFAULT_BATCH = 65_536


def _detect(source: Any, format: str | None, query: str | None) -> str:
    if format is not None:
        if format == "feather":
            return "ipc"
        if format not in FORMATS:
            raise ValueError(f"Unknown format {format!r}; expected one of {sorted(FORMATS) + ['feather']}")
        return format
    if _is_duckdb_connection(source):
        return "duckdb"
    if _is_dbapi_connection(source):
        return "postgresql"
    if isinstance(source, (str, os.PathLike)):
        s = os.fspath(source)
        low = s.lower()
        if low.startswith(("postgresql://", "postgres://")):
            return "postgresql"
        if low.startswith("duckdb:") or s == ":memory:":
            return "duckdb"
        for fmt, ends in FORMATS.items():
            if low.endswith(ends):
                return fmt
        if query is not None:
            return "duckdb"
        raise ValueError(
            f"Cannot tell the format of {s!r} from its name; pass format= one of {sorted(FORMATS)}"
        )
    raise TypeError(
        "source must be a path, a 'postgresql://' or 'duckdb:' URI, a DuckDB connection or an ADBC "
        f"connection; got {type(source).__module__}.{type(source).__qualname__}"
    )


def _is_duckdb_connection(obj: Any) -> bool:
    return type(obj).__module__.startswith(("duckdb", "_duckdb")) and hasattr(obj, "execute")


def _is_dbapi_connection(obj: Any) -> bool:
    return type(obj).__module__.startswith("adbc_driver") and hasattr(obj, "cursor")


def _need_query(fmt: str, query: str | None) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"A {fmt} source needs query= (an SQL string), got {query!r}")
    return query


def _check_batch_size(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def rebatch(batches: Iterable[pa.RecordBatch], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream of record batches into batches of exactly ``batch_size`` rows (the last
    may be shorter), without copying unless a batch spans two input batches."""
    batch_size = _check_batch_size(batch_size)
    pending: list[pa.RecordBatch] = []
    n_pending = 0
    for b in batches:
        start = 0
        while start < b.num_rows:
            take = min(batch_size - n_pending, b.num_rows - start)
            pending.append(b.slice(start, take))
            n_pending += take
            start += take
            if n_pending == batch_size:
                yield _concat(pending)
                pending, n_pending = [], 0
    if n_pending:
        yield _concat(pending)


def _concat(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]


def _csv_options(options: dict, batch_size: int | None):
    import pyarrow.csv as pacsv

    read = options.pop("read_options", None) or pacsv.ReadOptions()
    parse = options.pop("parse_options", None)
    convert = options.pop("convert_options", None)
    delimiter = options.pop("delimiter", None)
    if parse is None:
        parse = pacsv.ParseOptions(delimiter=delimiter) if delimiter else pacsv.ParseOptions()
    if convert is None:
        convert = pacsv.ConvertOptions(null_values=options.pop("null_values", ["", "NA", "NULL", "null", "NaN"]),
                                       strings_can_be_null=True,
                                       column_types=options.pop("column_types", None),
                                       include_columns=options.pop("columns", None))
    if options:
        raise TypeError(f"Unknown CSV options {sorted(options)}")
    return read, parse, convert


def _path(source) -> str:
    p = os.fspath(source)
    if not os.path.exists(p):
        raise FileNotFoundError(f"No such file: {p!r}")
    return p


def _csv_input(source):
    """A path for Arrow's CSV reader, or for a ``.zip`` archive holding one CSV file, that member
    opened as a stream (Arrow decompresses gz/bz2/zst itself but not zip)."""
    p = _path(source)
    if not p.lower().endswith(".zip"):
        return p
    import zipfile

    zf = zipfile.ZipFile(p)
    members = [m for m in zf.namelist() if m.lower().endswith((".csv", ".tsv", ".txt"))]
    if len(members) != 1:
        zf.close()
        raise ValueError(f"Expected one CSV file inside {p!r}, found {members}")
    return zf.open(members[0])


def _duckdb_connect(source):
    try:
        import duckdb
    except ImportError:
        raise missing_dependency("duckdb", "db") from None
    if _is_duckdb_connection(source):
        return source, False
    s = os.fspath(source)
    if s.lower().startswith("duckdb:"):
        s = s[len("duckdb:"):]
        if s.startswith("//"):
            s = s[2:]
    return duckdb.connect(s or ":memory:", read_only=s not in ("", ":memory:")), True


def _duckdb_relation(con, query: str, params):
    # A relation streams Arrow without the extra copy that a DB-API cursor result makes.
    rel = con.sql(query, params=params) if params is not None else con.sql(query)
    if rel is None:
        raise ValueError(f"The query returned no result set (was it a statement?): {query[:80]!r}")
    return rel


def _duckdb_call(res, methods, *args):
    """DuckDB renamed its Arrow methods across versions: use the first one this version has."""
    for m in methods:
        fn = getattr(res, m, None)
        if fn is not None:
            return fn(*args)
    raise AttributeError(f"This duckdb version has none of {methods}")  # pragma: no cover


def _adbc_connect(source):
    if _is_dbapi_connection(source):
        return source, False
    try:
        import adbc_driver_postgresql.dbapi as pg
    except ImportError:
        raise missing_dependency("adbc_driver_postgresql", "db") from None
    return pg.connect(os.fspath(source)), True


def read(
    source: Any,
    *,
    format: str | None = None,
    query: str | None = None,
    params: Sequence | None = None,
    columns: Sequence[str] | None = None,
    batch_size: int | None = None,
    **options: Any,
) -> pa.Table:
    """Read a whole source into one Arrow table.

    Parameters
    ----------
    source : path, URI or connection
        A file path (format from the extension or ``format=``), ``"postgresql://user@host:port/db"``
        (read through ADBC), ``"duckdb:path.duckdb"`` / ``":memory:"``, a DuckDB connection or an
        ADBC DB-API connection.
    format : {"parquet", "csv", "ipc", "feather", "duckdb", "postgresql"}, optional
    query : str, optional
        The SQL to run (SQL sources only). DuckDB may also query files (``read_parquet(...)``).
    params : sequence, optional
        Query parameters (``?`` for DuckDB, ``$1`` for PostgreSQL).
    columns : list of str, optional
        Read only these columns (file sources).
    batch_size : int, optional
        Chunk the result into batches of this many rows.
    **options
        Format options: for CSV ``delimiter``, ``null_values``, ``column_types``, or pyarrow's
        ``read_options``/``parse_options``/``convert_options``.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
    >>> from mlcore.data import read
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pq.write_table(pa.table({"x": [1, 2, 3]}), path)
    >>> read(path).num_rows
    3
    >>> read(":memory:", query="SELECT 42 AS answer").column("answer").to_pylist()
    [42]
    """
    fmt = _detect(source, format, query)
    if batch_size is not None:
        _check_batch_size(batch_size)
        with read_batches(source, format=fmt, query=query, params=params, columns=columns,
                          batch_size=batch_size, **options) as stream:
            got = list(stream)
            return pa.Table.from_batches(got, schema=got[0].schema if got else stream.schema)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(_path(source), columns=list(columns) if columns else None, **options)
    if fmt == "csv":
        import pyarrow.csv as pacsv

        if columns is not None:
            options["columns"] = list(columns)
        ro, po, co = _csv_options(dict(options), None)
        src = _csv_input(source)
        try:
            return pacsv.read_csv(src, read_options=ro, parse_options=po, convert_options=co)
        finally:
            if not isinstance(src, str):
                src.close()
    if fmt == "ipc":
        return _read_ipc(_path(source), columns, options)
    table = _read_sql(fmt, source, query, params, options)
    return table.select(list(columns)) if columns else table


def _read_ipc(path: str, columns, options) -> pa.Table:
    import pyarrow.ipc as ipc

    if options:
        raise TypeError(f"Unknown IPC options {sorted(options)}")
    with pa.memory_map(path, "r") as src:
        try:
            table = ipc.open_file(src).read_all()
        except pa.ArrowInvalid:
            src.seek(0)
            table = ipc.open_stream(src).read_all()
    return table.select(list(columns)) if columns else table


def _read_sql(fmt, source, query, params, options) -> pa.Table:
    query = _need_query(fmt, query)
    if options:
        raise TypeError(f"Unknown SQL options {sorted(options)}")
    if fmt == "duckdb":
        con, owned = _duckdb_connect(source)
        try:
            rel = _duckdb_relation(con, query, params)
            return _duckdb_call(rel, ("to_arrow_table", "arrow"))
        finally:
            if owned:
                con.close()
    con, owned = _adbc_connect(source)
    try:
        with con.cursor() as cur:
            cur.execute(query, params)
            return cur.fetch_arrow_table()
    finally:
        if owned:
            con.close()


class _BatchStream:
    """An iterator of record batches that also knows its schema and closes its source."""

    def __init__(self, schema: pa.Schema, batches: Iterator[pa.RecordBatch], close=None):
        self.schema = schema
        self._it = batches
        self._close = close

    def __iter__(self):
        return self

    def __next__(self) -> pa.RecordBatch:
        try:
            return next(self._it)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        if self._close is not None:
            c, self._close = self._close, None
            c()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):  # a stream dropped half-way still closes its file or connection
        try:
            self.close()
        except Exception:
            pass


def read_batches(
    source: Any,
    *,
    format: str | None = None,
    query: str | None = None,
    params: Sequence | None = None,
    columns: Sequence[str] | None = None,
    batch_size: int = _DEFAULT_BATCH,
    **options: Any,
) -> Iterator[pa.RecordBatch]:
    """Stream a source as record batches of ``batch_size`` rows (the last may be shorter).

    Only about one batch (plus the reader's own buffer: a Parquet row group, a CSV block, a
    fetched result chunk) is in memory at a time. The returned iterator has a ``schema``
    attribute, is a context manager, and closes the file or connection it opened when exhausted
    or closed.

    Parameters are those of :func:`read`.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
    >>> from mlcore.data import read_batches
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pq.write_table(pa.table({"x": list(range(10))}), path)
    >>> [b.num_rows for b in read_batches(path, batch_size=4)]
    [4, 4, 2]
    """
    batch_size = _check_batch_size(batch_size)
    fmt = _detect(source, format, query)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        # pre_buffer reads ahead every row group (measured: more memory than the whole table).
        options.setdefault("pre_buffer", False)
        pf = pq.ParquetFile(_path(source), **options)
        cols = list(columns) if columns else None
        schema = pf.schema_arrow if cols is None else pa.schema([pf.schema_arrow.field(c) for c in cols])
        it = pf.iter_batches(batch_size=batch_size, columns=cols)
        return _BatchStream(schema, rebatch(it, batch_size), pf.close)
    if fmt == "csv":
        import pyarrow.csv as pacsv

        if columns is not None:
            options["columns"] = list(columns)
        ro, po, co = _csv_options(dict(options), batch_size)
        src = _csv_input(source)
        reader = pacsv.open_csv(src, read_options=ro, parse_options=po, convert_options=co)

        def close():
            reader.close()
            if not isinstance(src, str):
                src.close()

        return _BatchStream(reader.schema, rebatch(reader, batch_size), close)
    if fmt == "ipc":
        import pyarrow.ipc as ipc

        if options:
            raise TypeError(f"Unknown IPC options {sorted(options)}")
        src = pa.memory_map(_path(source), "r")
        try:
            f = ipc.open_file(src)
            schema = f.schema
            gen = (f.get_batch(i) for i in range(f.num_record_batches))
        except pa.ArrowInvalid:
            src.seek(0)
            f = ipc.open_stream(src)
            schema = f.schema
            gen = iter(f)
        if columns:
            idx = [schema.get_field_index(c) for c in columns]
            schema = pa.schema([schema.field(i) for i in idx])
            gen = (b.select(list(columns)) for b in gen)
        return _BatchStream(schema, rebatch(gen, batch_size), src.close)
    query = _need_query(fmt, query)
    if options:
        raise TypeError(f"Unknown SQL options {sorted(options)}")
    if fmt == "duckdb":
        con, owned = _duckdb_connect(source)
        rel = _duckdb_relation(con, query, params)
        reader = _duckdb_call(rel, ("to_arrow_reader", "fetch_arrow_reader", "record_batch"), batch_size)
        close = con.close if owned else None
        return _select_stream(_BatchStream(reader.schema, rebatch(reader, batch_size), close), columns)
    con, owned = _adbc_connect(source)
    cur = con.cursor()
    cur.execute(query, params)
    reader = cur.fetch_record_batch()

    def close():
        cur.close()
        if owned:
            con.close()

    return _select_stream(_BatchStream(reader.schema, rebatch(reader, batch_size), close), columns)


def _select_stream(stream: _BatchStream, columns) -> _BatchStream:
    if not columns:
        return stream
    cols = list(columns)
    schema = pa.schema([stream.schema.field(c) for c in cols])
    return _BatchStream(schema, (b.select(cols) for b in stream), stream.close)
