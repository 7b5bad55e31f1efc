"""Batch scoring on Ray Data: the same partitions, predictions and commits as the local engine.

The driver cuts the Parquet source into the same fixed-size partitions the local engine uses
(partition k = global rows [k·B, (k+1)·B), from the files' row-group metadata), and hands the
partition descriptors to ``Dataset.map_batches`` with a pool of actors; each actor loads and
verifies the bundle once, reads its rows straight from the files, and returns the predictions as
Arrow IPC bytes. The driver commits each partition to the target exactly as the local engine does,
so the output of a Ray run equals the single-machine run's, row for row.
"""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from ..errors import missing_dependency

__all__ = ["score_ray"]


def _files(path: str) -> list[str]:
    if os.path.isdir(path):
        out = []
        for root, _, names in os.walk(path):
            for n in names:
                if n.endswith((".parquet", ".pq")) and not n.startswith((".", "_")):
                    out.append(os.path.join(root, n))
        return sorted(out)
    return [path]


def _read_rows(files: list[tuple[str, int]], start: int, stop: int, columns: list[str]) -> pa.Table:
    """Rows [start, stop) of the concatenation of ``files`` ((path, n_rows) in dataset order)."""
    pieces = []
    offset = 0
    for path, n in files:
        lo, hi = max(start, offset), min(stop, offset + n)
        if lo < hi:
            pf = pq.ParquetFile(path)
            rg_start = 0
            for rg in range(pf.metadata.num_row_groups):
                rn = pf.metadata.row_group(rg).num_rows
                a, b = max(lo - offset, rg_start), min(hi - offset, rg_start + rn)
                if a < b:
                    t = pf.read_row_group(rg, columns=columns)
                    pieces.append(t.slice(a - rg_start, b - a))
                rg_start += rn
        offset += n
        if offset >= stop:
            break
    return pa.concat_tables(pieces).combine_chunks() if pieces else pa.table({c: [] for c in columns})


def _to_ipc(t: pa.Table | None) -> bytes:
    if t is None:
        return b""
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    return sink.getvalue().to_pybytes()


def _from_ipc(b: bytes) -> pa.Table | None:
    return ipc.open_stream(b).read_all() if b else None


class _ScoreActor:
    def __init__(self, bundle_path: str, content_hash: str, files, columns, run_id: str, proba: bool, keep):
        from ..deploy.bundle import Bundle

        self.bundle = Bundle.load(bundle_path, expected_hash=content_hash)
        self.files, self.columns, self.run_id, self.proba, self.keep = files, columns, run_id, proba, keep

    def __call__(self, batch: pa.Table) -> pa.Table:
        from .batch import _predict_partition

        parts, preds, quars = [], [], []
        for part, start, stop in zip(batch.column("part").to_pylist(), batch.column("start").to_pylist(),
                                     batch.column("stop").to_pylist()):
            rows = _read_rows(self.files, start, stop, self.columns)
            p, q = _predict_partition(self.bundle, rows.to_batches()[0] if rows.num_rows else rows, self.run_id, part, self.proba, self.keep)
            parts.append(part)
            preds.append(_to_ipc(p))
            quars.append(_to_ipc(q))
        return pa.table({"part": pa.array(parts, pa.int64()), "preds": pa.array(preds, pa.binary()),
                         "quarantine": pa.array(quars, pa.binary())})


def score_ray(bundle, src, target: str, *, batch_size: int, run_id: str, proba: bool, address: str | None = None,
              concurrency: int | None = None, keep=(), columns=None):
    try:
        import ray
    except ImportError:
        raise missing_dependency("ray", "ray") from None
    from .batch import ScoreResult, _FileSource, open_target

    if not isinstance(src, _FileSource) or src.fmt != "parquet":
        raise ValueError("engine='ray' reads Parquet sources; score other sources with engine='local'")
    if bundle.path is None or bundle.content_hash is None:
        raise ValueError("engine='ray' needs a saved bundle (load it from a path)")
    files = [(f, pq.ParquetFile(f).metadata.num_rows) for f in _files(src.path)]
    # the same order the local engine reads: pyarrow.dataset sorts the files by path
    total = sum(n for _, n in files)
    n_parts = (total + batch_size - 1) // batch_size
    t0 = time.perf_counter()
    tgt = open_target(target)
    done = tgt.committed(run_id)
    todo = [k for k in range(n_parts) if k not in done]
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                 num_cpus=None if address else (os.cpu_count() or 2))
    rows = scored = quarantined = 0
    try:
        if todo:
            n_actors = concurrency or max(1, min(len(todo), int(ray.available_resources().get("CPU", 1))))
            items = [{"part": k, "start": k * batch_size, "stop": min((k + 1) * batch_size, total)} for k in todo]
            # one block per partition, so that every actor gets work
            desc = ray.data.from_items(items, override_num_blocks=len(items))
            out = desc.map_batches(
                _ScoreActor, batch_format="pyarrow", batch_size=1, concurrency=n_actors,
                fn_constructor_args=(bundle.path, bundle.content_hash, files, list(columns or bundle.input_columns), run_id,
                                     proba, list(keep)),
            )
            for b in out.iter_batches(batch_format="pyarrow", batch_size=None):
                for part, pb, qb in zip(b.column("part").to_pylist(), b.column("preds").to_pylist(),
                                        b.column("quarantine").to_pylist()):
                    preds, quar = _from_ipc(pb), _from_ipc(qb)
                    tgt.commit(run_id, part, preds, quar)
                    scored += 1
                    rows += preds.num_rows
                    quarantined += 0 if quar is None else quar.num_rows
    finally:
        tgt.close()
    secs = time.perf_counter() - t0
    return ScoreResult(run_id, scored, len(done), rows, quarantined, secs,
                       (rows + quarantined) / secs if secs > 0 else 0.0, tgt.description,
                       extra={"engine": "ray", "partitions_total": n_parts})

