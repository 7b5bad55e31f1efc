"""The prediction log: every served prediction, written asynchronously to the monitoring store.

Requests hand their rows (an Arrow table of inputs plus the output arrays) to a bounded in-memory
queue and return at once; one background thread concatenates what is queued and appends it to a
DuckDB table per model, ``predictions_<model>``: prediction_id, ts, version, bundle_hash,
latency_us, then one typed column per input feature and per output. Typed columns are what the
monitoring stage reads back. The log never fails or blocks a request: when the queue is full the
rows are counted in ``dropped`` instead of waited for, and a failed write is counted in ``errors``.
"""

from __future__ import annotations

import datetime as _dt
import queue
import re
import threading
import uuid

import numpy as np
import pyarrow as pa

from ..errors import missing_dependency

__all__ = ["PredictionLog", "new_prediction_ids", "table_name"]


def new_prediction_ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def table_name(model: str) -> str:
    return "predictions_" + re.sub(r"[^A-Za-z0-9_]", "_", model)


def _column(v: np.ndarray) -> pa.Array:
    v = np.asarray(v)
    if v.ndim == 1:
        return pa.array(v)
    flat = pa.array(np.ascontiguousarray(v).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(flat, int(np.prod(v.shape[1:])))


class PredictionLog:
    def __init__(self, path: str, *, max_queue: int = 10_000, flush_interval_s: float = 0.1):
        try:
            import duckdb
        except ImportError:
            raise missing_dependency("duckdb", "db") from None
        self.path = path
        self._q: queue.Queue = queue.Queue(maxsize=max_queue)
        self.dropped = 0
        self.written = 0
        self.errors = 0
        self.last_error: str | None = None
        self._interval = flush_interval_s
        self._con = duckdb.connect(path)
        self._known: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlcore-predlog", daemon=True)
        self._thread.start()

    def log(self, ids: list[str], model: str, version: str, bundle_hash: str, latency_us: float,
            inputs: pa.Table, outputs: dict[str, np.ndarray]) -> None:
        """Queue one request's rows; never raises, never waits."""
        try:
            self._q.put_nowait((ids, _dt.datetime.now(_dt.timezone.utc), model, version, bundle_hash,
                                latency_us, inputs, outputs))
        except queue.Full:
            self.dropped += len(ids)

    @staticmethod
    def _as_table(item) -> tuple[str, pa.Table]:
        ids, ts, model, version, bhash, lat, inputs, outputs = item
        n = len(ids)
        cols = {
            "prediction_id": pa.array(ids, pa.string()),
            "ts": pa.array([ts] * n, pa.timestamp("us", tz="UTC")),
            "version": pa.array([version] * n, pa.string()),
            "bundle_hash": pa.array([bhash] * n, pa.string()),
            "latency_us": pa.array(np.full(n, lat, dtype=np.float64)),
        }
        for name, col in zip(inputs.column_names, inputs.columns):
            cols[f"in_{name}"] = col
        for name, v in outputs.items():
            cols[f"out_{name}"] = _column(v)
        return table_name(model), pa.table(cols)

    def _write(self, items) -> None:
        by_table: dict[str, list[pa.Table]] = {}
        for it in items:
            try:
                name, t = self._as_table(it)
            except Exception as exc:  # noqa: BLE001
                self.errors += len(it[0])
                self.last_error = repr(exc)
                continue
            by_table.setdefault(name, []).append(t)
        for name, tables in by_table.items():
            try:
                batch = pa.concat_tables(tables, promote_options="permissive")
                self._con.register("_mlcore_batch", batch)
                if name not in self._known:
                    self._con.execute(f'create table if not exists "{name}" as select * from _mlcore_batch limit 0')
                    self._known.add(name)
                self._con.execute(f'insert into "{name}" by name select * from _mlcore_batch')
                self._con.unregister("_mlcore_batch")
                self.written += batch.num_rows
            except Exception as exc:  # noqa: BLE001 - the log must never take the server down
                self.errors += sum(t.num_rows for t in tables)
                self.last_error = repr(exc)

    def _loop(self) -> None:
        while not (self._stop.is_set() and self._q.empty()):
            pending = []
            try:
                pending.append(self._q.get(timeout=self._interval))
                while True:
                    pending.append(self._q.get_nowait())
            except queue.Empty:
                pass
            if pending:
                self._write(pending)
                for _ in pending:
                    self._q.task_done()

    def flush(self) -> None:
        """Wait until everything queued so far is written (or counted as an error)."""
        self._q.join()

    def close(self) -> None:
        """Write what is queued, then close the store."""
        self._stop.set()
        self._thread.join(timeout=30)
        self._con.close()
