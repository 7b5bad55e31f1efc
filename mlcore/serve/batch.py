"""Batch serving: stream any amount of data through a bundle into a store, resumably.

``score(bundle, source, target)`` reads the source as a deterministic sequence of record batches
(partitions), predicts each, and commits each partition to the target exactly once:

- Parquet target (a folder): one file per partition, written under a temporary name and renamed;
  a partition is committed when its file exists.
- DuckDB and PostgreSQL targets: the partition's predictions and a row in
  ``_mlcore_score_partitions`` are written in one transaction.

A run killed at any moment and started again (same run id, same source, same batch size) skips
the committed partitions and finishes the rest: every input row scored exactly once. Each output
row carries a prediction id (deterministic: a UUID5 of run id, partition and row), the bundle's
content hash and the run id. Rows that fail the bundle's input checks (missing values where the
bundle's schema forbids them, values that are not numbers) go to a quarantine table with the
reason, never into predictions and never lost. Reading, predicting and writing overlap in three
threads with bounded queues, so memory is bounded by the batch size, not the data size.

Sources: ``parquet:PATH`` (file or folder), ``csv:PATH``, ``ipc:PATH``, ``duckdb:FILE:SQL``,
``postgresql://…`` plus ``query=``; a plain path picks the format from its extension.
Targets: ``parquet:DIR``, ``duckdb:FILE:TABLE``, ``postgresql://…#TABLE``.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import _arrow
from .._progress import Progress
from ..deploy.bundle import Bundle
from ..errors import SchemaError, missing_dependency

__all__ = ["score", "ScoreResult", "open_source", "open_target"]

_NS = uuid.UUID("6f1c1f8e-2d0b-4a39-9a57-1d6c0b6f7e21")


@dataclass
class ScoreResult:
    run_id: str
    partitions: int
    skipped_partitions: int
    rows_scored: int
    rows_quarantined: int
    seconds: float
    rows_per_s: float
    target: str
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# sources
class _Source:
    total_rows: int | None = None
    description = ""

    def batches(self, columns: list[str], batch_size: int) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError


def _rebatch(reader: Iterator[pa.RecordBatch], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Fixed-size batches (the last may be shorter), whatever sizes the reader yields."""
    pending: list[pa.RecordBatch] = []
    n = 0
    for b in reader:
        if b.num_rows == 0:
            continue
        pending.append(b)
        n += b.num_rows
        while n >= batch_size:
            t = pa.Table.from_batches(pending)
            head, tail = t.slice(0, batch_size), t.slice(batch_size)
            yield head.combine_chunks().to_batches()[0]
            pending = tail.to_batches()
            n = tail.num_rows
    if n:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


class _FileSource(_Source):
    def __init__(self, path: str, fmt: str):
        import pyarrow.dataset as ds

        self.path, self.fmt = path, fmt
        self.dataset = ds.dataset(path, format={"parquet": "parquet", "csv": "csv", "ipc": "ipc"}[fmt])
        self.description = f"{fmt}:{path}"
        if fmt == "parquet":
            self.total_rows = sum(f.metadata.num_rows for f in self.dataset.get_fragments())

    def batches(self, columns, batch_size):
        missing = [c for c in columns if c not in self.dataset.schema.names]
        if missing:
            raise SchemaError(f"source {self.description} lacks columns {missing} that the bundle needs")
        # no read-ahead beyond one batch: memory stays bounded by the batch size, not the data size
        scanner = self.dataset.scanner(columns=columns, batch_size=batch_size, use_threads=False,
                                       batch_readahead=1, fragment_readahead=1)
        return _rebatch(iter(scanner.to_batches()), batch_size)


class _DuckDBSource(_Source):
    def __init__(self, db: str, query: str):
        try:
            import duckdb
        except ImportError:
            raise missing_dependency("duckdb", "db") from None
        self.db, self.query = db, query
        self.description = f"duckdb:{db}"
        self._duckdb = duckdb

    def batches(self, columns, batch_size):
        con = self._duckdb.connect(self.db, read_only=True)
        rel = con.sql(self.query)
        missing = [c for c in columns if c not in rel.columns]
        if missing:
            con.close()
            raise SchemaError(f"query result lacks columns {missing} that the bundle needs")
        projected = rel.select(*[f'"{c}"' for c in columns])
        # duckdb 2 renamed fetch_record_batch to to_arrow_reader
        to_reader = getattr(projected, "to_arrow_reader", None) or projected.fetch_record_batch
        reader = to_reader(batch_size)

        def gen():
            try:
                yield from _rebatch(iter(reader), batch_size)
            finally:
                con.close()

        return gen()


class _PostgresSource(_Source):
    def __init__(self, uri: str, query: str):
        try:
            import adbc_driver_postgresql.dbapi as pg
        except ImportError:
            raise missing_dependency("adbc-driver-postgresql", "db") from None
        self.uri, self.query, self._pg = uri, query, pg
        self.description = "postgresql"

    def batches(self, columns, batch_size):
        conn = self._pg.connect(self.uri)
        cur = conn.cursor()
        cur.execute(self.query)
        reader = cur.fetch_record_batch()
        missing = [c for c in columns if c not in reader.schema.names]
        if missing:
            conn.close()
            raise SchemaError(f"query result lacks columns {missing} that the bundle needs")

        def gen():
            try:
                for b in _rebatch(iter(reader), batch_size):
                    yield b.select(columns)
            finally:
                cur.close()
                conn.close()

        return gen()


def open_source(source: str, *, query: str | None = None) -> _Source:
    """Parse a source string (see the module docstring)."""
    if source.startswith(("postgresql://", "postgres://")):
        if not query:
            raise ValueError("a PostgreSQL source needs query=")
        return _PostgresSource(source, query)
    kind, _, rest = source.partition(":")
    if kind == "duckdb":
        db, _, sql = rest.partition(":")
        sql = sql or query
        if not sql:
            raise ValueError("a DuckDB source is duckdb:FILE:SQL (or pass query=)")
        return _DuckDBSource(db, sql)
    if kind in ("parquet", "csv", "ipc") and rest:
        return _FileSource(rest, kind)
    path = source
    lower = path.lower()
    if lower.endswith(".csv"):
        return _FileSource(path, "csv")
    if lower.endswith((".arrow", ".feather", ".ipc")):
        return _FileSource(path, "ipc")
    if lower.endswith((".parquet", ".pq")) or os.path.isdir(path):
        return _FileSource(path, "parquet")
    raise ValueError(f"cannot tell the format of source {source!r}; prefix it with parquet:, csv:, ipc: or duckdb:")


# --------------------------------------------------------------------------------------------
# targets
class _Target:
    description = ""

    def committed(self, run_id: str) -> set[int]:
        raise NotImplementedError

    def commit(self, run_id: str, part: int, predictions: pa.Table, quarantine: pa.Table | None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _ParquetTarget(_Target):
    def __init__(self, path: str):
        self.path = path
        self.description = f"parquet:{path}"
        os.makedirs(path, exist_ok=True)
        os.makedirs(os.path.join(path, "_quarantine"), exist_ok=True)

    def _name(self, run_id, part):
        return f"part-{run_id}-{part:08d}.parquet"

    def committed(self, run_id):
        prefix = f"part-{run_id}-"
        return {int(f[len(prefix):-8]) for f in os.listdir(self.path) if f.startswith(prefix) and f.endswith(".parquet")}

    def _atomic(self, table, final):
        tmp = os.path.join(os.path.dirname(final), f".tmp-{uuid.uuid4().hex}.parquet")
        pq.write_table(table, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)

    def commit(self, run_id, part, predictions, quarantine):
        if quarantine is not None and quarantine.num_rows:
            self._atomic(quarantine, os.path.join(self.path, "_quarantine", self._name(run_id, part)))
        self._atomic(predictions, os.path.join(self.path, self._name(run_id, part)))  # last: the commit marker


_MARKERS = "_mlcore_score_partitions"


class _DuckDBTarget(_Target):
    def __init__(self, db: str, table: str):
        try:
            import duckdb
        except ImportError:
            raise missing_dependency("duckdb", "db") from None
        self.db, self.table = db, table
        self.description = f"duckdb:{db}:{table}"
        self.con = duckdb.connect(db)
        self.con.execute(f'create table if not exists "{_MARKERS}" (target varchar, run_id varchar, part bigint, '
                         f'rows bigint, quarantined bigint, committed_at timestamp default now(), primary key (target, run_id, part))')
        self._ready: set[str] = set()

    def committed(self, run_id):
        rows = self.con.execute(f'select part from "{_MARKERS}" where target = ? and run_id = ?', [self.table, run_id]).fetchall()
        return {r[0] for r in rows}

    def _ensure(self, name: str, t: pa.Table):
        if name in self._ready:
            return
        existing = self.con.execute("select column_name, data_type from information_schema.columns where table_name = ?",
                                    [name]).fetchall()
        if existing:
            have = {c for c, _ in existing}
            missing = [c for c in t.column_names if c not in have]
            if missing:
                raise SchemaError(f"target table `{name}` exists with columns {sorted(have)} but lacks {missing}; "
                                  "use another table or drop it")
        else:
            self.con.register("_mlcore_schema", t.slice(0, 0))
            self.con.execute(f'create table "{name}" as select * from _mlcore_schema')
            self.con.unregister("_mlcore_schema")
        self._ready.add(name)

    def commit(self, run_id, part, predictions, quarantine):
        self._ensure(self.table, predictions)
        if quarantine is not None and quarantine.num_rows:
            self._ensure(self.table + "_quarantine", quarantine)
        self.con.begin()
        try:
            self.con.register("_mlcore_p", predictions)
            self.con.execute(f'insert into "{self.table}" by name select * from _mlcore_p')
            self.con.unregister("_mlcore_p")
            nq = 0
            if quarantine is not None and quarantine.num_rows:
                self.con.register("_mlcore_q", quarantine)
                self.con.execute(f'insert into "{self.table}_quarantine" by name select * from _mlcore_q')
                self.con.unregister("_mlcore_q")
                nq = quarantine.num_rows
            self.con.execute(f'insert into "{_MARKERS}" (target, run_id, part, rows, quarantined) values (?, ?, ?, ?, ?)',
                             [self.table, run_id, part, predictions.num_rows, nq])
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def close(self):
        self.con.close()


class _PostgresTarget(_Target):
    def __init__(self, uri: str, table: str):
        try:
            import adbc_driver_postgresql.dbapi as pg
        except ImportError:
            raise missing_dependency("adbc-driver-postgresql", "db") from None
        self.uri, self.table = uri, table
        self.description = f"postgresql:{table}"
        self.conn = pg.connect(uri)
        with self.conn.cursor() as cur:
            cur.execute(f'create table if not exists "{_MARKERS}" (target text, run_id text, part bigint, rows bigint, '
                        f'quarantined bigint, committed_at timestamptz default now(), primary key (target, run_id, part))')
        self.conn.commit()

    def committed(self, run_id):
        with self.conn.cursor() as cur:
            cur.execute(f'select part from "{_MARKERS}" where target = $1 and run_id = $2', parameters=(self.table, run_id))
            rows = cur.fetchall()
        self.conn.commit()
        return {int(r[0]) for r in rows}

    def commit(self, run_id, part, predictions, quarantine):
        try:
            with self.conn.cursor() as cur:
                cur.adbc_ingest(self.table, predictions, mode="create_append")
                nq = 0
                if quarantine is not None and quarantine.num_rows:
                    cur.adbc_ingest(self.table + "_quarantine", quarantine, mode="create_append")
                    nq = quarantine.num_rows
                cur.execute(f'insert into "{_MARKERS}" (target, run_id, part, rows, quarantined) values ($1, $2, $3, $4, $5)',
                            parameters=(self.table, run_id, part, predictions.num_rows, nq))
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    def close(self):
        self.conn.close()


def open_target(target: str) -> _Target:
    """Parse a target string (see the module docstring)."""
    if target.startswith(("postgresql://", "postgres://")):
        uri, _, table = target.partition("#")
        if not table:
            raise ValueError("a PostgreSQL target is postgresql://…#TABLE")
        return _PostgresTarget(uri, table)
    kind, _, rest = target.partition(":")
    if kind == "duckdb":
        db, _, table = rest.rpartition(":")
        if not db or not table:
            raise ValueError("a DuckDB target is duckdb:FILE:TABLE")
        return _DuckDBTarget(db, table)
    if kind == "parquet" and rest:
        return _ParquetTarget(rest)
    raise ValueError(f"unknown target {target!r}; expected parquet:DIR, duckdb:FILE:TABLE or postgresql://…#TABLE")


# --------------------------------------------------------------------------------------------
def _check_rows(bundle: Bundle, batch: pa.RecordBatch) -> tuple[np.ndarray | None, list[str]]:
    """(mask of rows to quarantine or None when all may be scored, the reason per flagged row)."""
    import pyarrow.types as pat

    n = batch.num_rows
    nullable = {}
    if bundle.schema is not None and hasattr(bundle.schema, "columns"):
        try:
            for spec in bundle.schema.columns:
                nullable[spec.name] = getattr(spec, "nullable", True)
        except TypeError:
            pass
    bad = None
    reasons = None
    for name in bundle.input_columns:
        col = batch.column(batch.schema.get_field_index(name))
        t = col.type
        flag = None
        if not (pat.is_integer(t) or pat.is_floating(t) or pat.is_boolean(t)) and bundle.plan is None:
            flag, why = np.ones(n, dtype=bool), f"column `{name}`: type {t} is not numeric"
        elif col.null_count and not nullable.get(name, bundle.plan is not None or _model_accepts_nan(bundle)):
            flag, why = pc.is_null(col).to_numpy(zero_copy_only=False), f"column `{name}`: missing value"
        if flag is None:
            continue
        if bad is None:
            bad, reasons = np.zeros(n, dtype=bool), np.full(n, "", dtype=object)
        new = flag & ~bad
        reasons[new] = why  # the first reason found is the one recorded
        bad |= flag
    if bad is None or not bad.any():
        return None, []
    return bad, list(reasons[bad])


def _model_accepts_nan(bundle: Bundle) -> bool:
    return bool(getattr(bundle.model, "accepts_nan", getattr(bundle.model, "kind", "") == "tree_ensemble"))


def _ids(run_id: str, start: int, rows: np.ndarray) -> pa.Array:
    """Deterministic prediction ids "<run_id>:<input row number>", built in Arrow (no Python loop)."""
    nums = pc.cast(pa.array(rows + start, pa.int64()), pa.string())
    return pc.binary_join_element_wise(pa.scalar(run_id + ":"), nums, "")


def _repeat(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n) if hasattr(pa, "repeat") else pa.array([value] * n, pa.string())


def _predict_partition(bundle: Bundle, batch: pa.RecordBatch, run_id: str, part: int, proba: bool,
                       keep: list[str] = (), start: int | None = None):
    """Predictions (and quarantined rows) of one partition; ``start`` is its first input row number."""
    n = batch.num_rows
    start = part * n if start is None else start
    bad, reasons = _check_rows(bundle, batch)
    row_ids = np.arange(n, dtype=np.int64)
    kept = {c: batch.column(batch.schema.get_field_index(c)) for c in keep}
    quarantine = None
    table = pa.Table.from_batches([batch])
    if bad is not None:
        qidx = row_ids[bad]
        quarantine = table.take(pa.array(qidx)).append_column("reason", pa.array(reasons, pa.string()))
        quarantine = quarantine.append_column("prediction_id", _ids(run_id, start, qidx))
        quarantine = quarantine.append_column("run_id", _repeat(run_id, len(qidx)))
        good = row_ids[~bad]
        table = table.take(pa.array(good))
        kept = {c: v.take(pa.array(good)) for c, v in kept.items()}
        row_ids = good
    table = table.select(bundle.input_columns)
    if bundle.plan is None:
        table = table.cast(pa.schema([(f.name, pa.float64()) for f in table.schema]))
    m = table.num_rows
    cols = {**kept, "prediction_id": _ids(run_id, start, row_ids), "run_id": _repeat(run_id, m),
            "bundle_hash": _repeat(bundle.content_hash or "", m)}
    if m:
        if proba:
            pred, p = bundle.predict_with_proba(table)
            p = np.asarray(p, dtype=np.float64)
            cols["prediction"] = pa.array(pred)
            cols["proba"] = pa.array(p[:, -1] if p.ndim == 2 and p.shape[1] == 2 else (p if p.ndim == 1 else list(p)))
        else:
            cols["prediction"] = pa.array(np.asarray(bundle.predict(table)))
    else:
        cols["prediction"] = pa.array([], pa.float64())
        if proba:
            cols["proba"] = pa.array([], pa.float64())
    return pa.table(cols), quarantine


def score(bundle: Bundle | str, source: str, target: str, *, query: str | None = None, batch_size: int = 65_536,
          run_id: str | None = None, proba: bool | None = None, progress: bool | None = None,
          engine: str = "local", ray_address: str | None = None, max_partitions: int | None = None,
          on_batch: Callable[[pa.RecordBatch, pa.Table], None] | None = None,
          keep: list[str] | tuple[str, ...] = (), pause_s: float = 0.0,
          profile_dir: str | None = None, profile: bool = True) -> ScoreResult:
    """Score ``source`` with ``bundle`` into ``target`` (see the module docstring).

    ``run_id`` defaults to a hash of the bundle, the source and the batch size, so running the
    same command again resumes the same run. ``max_partitions`` stops after that many new
    partitions (for tests and for splitting work). ``keep`` names input columns (keys) copied to
    the output, so that rows can be matched and labels joined later. ``on_batch(inputs, predictions)`` is called
    for every scored partition in the same pass (the hook for monitoring profiles). ``pause_s``
    waits after each commit, to throttle the writes into a shared database.
    """
    if isinstance(bundle, (str, os.PathLike)):
        bundle = Bundle.load(bundle)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    src = open_source(source, query=query)
    if run_id is None:
        run_id = uuid.uuid5(_NS, json.dumps([bundle.content_hash, source, query, batch_size])).hex[:16]
    if proba is None:
        proba = bundle.has_proba
    keep = list(keep)
    columns = list(bundle.input_columns) + [c for c in keep if c not in bundle.input_columns]
    if engine == "ray":
        from .batch_ray import score_ray

        return score_ray(bundle, src, target, batch_size=batch_size, run_id=run_id, proba=proba, address=ray_address,
                         keep=list(keep), columns=columns)
    if engine != "local":
        raise ValueError(f"engine must be 'local' or 'ray', got {engine!r}")
    tgt = open_target(target)
    if profile_dir is None and isinstance(tgt, _ParquetTarget) and _monitoring_available():
        profile_dir = os.path.join(tgt.path, "_profiles")
    profiler = _RunProfiler(bundle, profile_dir, run_id) if (profile and profile_dir) else None
    t0 = time.perf_counter()
    done = tgt.committed(run_id)
    bar = Progress(src.total_rows, label=f"scoring {run_id}", enabled=progress)
    q_in: queue.Queue = queue.Queue(maxsize=2)
    q_out: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    errors: list[BaseException] = []
    stats = {"parts": 0, "skipped": 0, "rows": 0, "quarantined": 0}

    def put(q: queue.Queue, item) -> None:
        while True:
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                if stop.is_set() and item is not None:
                    return

    def reader():
        try:
            new = 0
            for part, batch in enumerate(src.batches(columns, batch_size)):
                if stop.is_set():
                    break
                if part == 0 and profiler is not None:
                    profiler.first_batch(batch)
                if part in done:
                    stats["skipped"] += 1
                    bar.update(batch.num_rows)
                    continue
                if max_partitions is not None and new >= max_partitions:
                    break
                put(q_in, (part, batch))
                new += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            put(q_in, None)

    def predictor():
        try:
            while True:
                item = q_in.get()
                if item is None or stop.is_set():
                    break
                part, batch = item
                preds, quarantine = _predict_partition(bundle, batch, run_id, part, proba, keep, part * batch_size)
                if profiler is not None:
                    profiler.partition(part, batch, preds)
                if on_batch is not None:
                    on_batch(batch, preds)
                put(q_out, (part, preds, quarantine))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
            stop.set()
        finally:
            put(q_out, None)

    threads = [threading.Thread(target=reader, daemon=True), threading.Thread(target=predictor, daemon=True)]
    for t in threads:
        t.start()
    try:
        while True:
            item = q_out.get()
            if item is None:
                break
            part, preds, quarantine = item
            tgt.commit(run_id, part, preds, quarantine)
            nq = 0 if quarantine is None else quarantine.num_rows
            stats["parts"] += 1
            stats["rows"] += preds.num_rows
            stats["quarantined"] += nq
            bar.update(preds.num_rows + nq)
            if pause_s > 0:
                time.sleep(pause_s)
    except BaseException:
        stop.set()
        raise
    finally:
        stop.set()
        while not q_in.empty():
            q_in.get_nowait()
        for t in threads:
            t.join(timeout=30)
        tgt.close()
        bar.close()
    if errors:
        raise errors[0]
    extra = {}
    if profiler is not None and max_partitions is None:
        extra["profile"] = profiler.finish()
    secs = time.perf_counter() - t0
    return ScoreResult(run_id, stats["parts"], stats["skipped"], stats["rows"], stats["quarantined"], secs,
                       (stats["rows"] + stats["quarantined"]) / secs if secs > 0 else 0.0, tgt.description, extra)


def _monitoring_available() -> bool:
    try:
        from ..monitor import Profile, profile  # noqa: F401
    except ImportError:
        return False
    return True


class _RunProfiler:
    """Monitoring profiles computed in the scoring pass: one per partition, merged at the end."""

    def __init__(self, bundle: Bundle, root: str, run_id: str):
        from ..monitor import profile as _profile  # noqa: F401 - fail early when monitoring is absent

        self.root, self.run_id = root, run_id
        os.makedirs(root, exist_ok=True)
        self.edges = {}
        ref = bundle.reference
        if ref is not None and hasattr(ref, "edges"):
            self.edges = {k: np.asarray(v) for k, v in ref.edges.items() if v is not None and len(v)}
        self.from_reference = bool(self.edges)

    def first_batch(self, batch: pa.RecordBatch) -> None:
        """Without a reference profile, partition 0 fixes the bins of the whole run (every
        partition must share them to merge); the reader always sees partition 0, even on resume."""
        if self.from_reference or self.edges:
            return
        from ..monitor import profile as _profile

        self.edges = {k: np.asarray(v) for k, v in _profile(pa.Table.from_batches([batch])).edges.items()}

    def _dir(self, part: int) -> str:
        return os.path.join(self.root, f"{self.run_id}-{part:08d}")

    def partition(self, part: int, inputs: pa.RecordBatch, preds: pa.Table) -> None:
        from ..monitor import profile as _profile

        t = pa.Table.from_batches([inputs])
        if "prediction" in self.edges and preds.num_rows == t.num_rows:
            t = t.append_column("prediction", preds.column("prediction"))
        # numeric columns on the run's bins, categories counted; other kinds (timestamps, lists)
        # have no profile and are left out (the profile lists the columns it covers)
        cols = [c for c in t.column_names if c in self.edges
                or _arrow.type_kind(t.schema.field(c).type) in ("string", "dictionary", "bool")]
        edges = {k: v for k, v in self.edges.items() if k in t.column_names}
        prof = _profile(t, cols, edges=edges)
        final = self._dir(part)
        tmp = final + f".tmp-{uuid.uuid4().hex}"
        prof.save(tmp)
        if os.path.exists(final):  # a killed run wrote it already; the new one is the same data
            import shutil

            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)

    def finish(self) -> str:
        from ..monitor import Profile

        prefix = f"{self.run_id}-"
        parts = sorted(d for d in os.listdir(self.root) if d.startswith(prefix) and ".tmp-" not in d)
        merged = None
        for d in parts:
            p = Profile.load(os.path.join(self.root, d))
            merged = p if merged is None else merged.merge(p)
        out = os.path.join(self.root, self.run_id)
        if merged is not None:
            tmp = out + f".tmp-{uuid.uuid4().hex}"
            merged.save(tmp)
            if os.path.exists(out):
                import shutil

                shutil.rmtree(out, ignore_errors=True)
            os.replace(tmp, out)
        return out

