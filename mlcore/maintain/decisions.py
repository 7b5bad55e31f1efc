"""The decision log: every maintenance decision with its evidence, as JSON lines next to the registry.

One JSON object per line, appended under an exclusive lock (several processes may write), never
rewritten. Each record has ``id`` (sequence number in the file), ``time`` (wall clock, UTC),
``at`` (the data time of the step, when known), ``model``, ``kind`` (one of :data:`DECISION_KINDS`),
``reason`` (one sentence), ``version``/``previous`` (registry versions where it applies) and
``evidence`` (the numbers behind the decision: the policy triggers, the comparison, the gate).

Examples
--------
>>> import tempfile
>>> from mlcore.maintain import DecisionLog
>>> log = DecisionLog(tempfile.mkdtemp() + "/decisions.jsonl")
>>> _ = log.record("flights", "retrain_skipped", "no policy fired", evidence={"policies": []})
>>> [d["kind"] for d in log.read()]
['retrain_skipped']
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import math
import os
from typing import Any

import numpy as np

__all__ = ["DecisionLog", "DECISION_KINDS", "read_decisions"]

#: What a decision can be.
DECISION_KINDS = ("deployed", "retrain_triggered", "retrain_skipped", "promoted", "promotion_refused", "rollback",
                  "retrain_failed")


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, _dt.timedelta):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "to_dict"):
        return _plain(obj.to_dict())
    return repr(obj)


class DecisionLog:
    """Append-only JSON-lines log of maintenance decisions (see the module docstring)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.path.abspath(os.fspath(path))
        os.makedirs(os.path.dirname(self.path), exist_ok=True)

    def record(self, model: str, kind: str, reason: str, *, evidence: dict | None = None, at: Any = None,
               version: int | None = None, previous: int | None = None, **extra: Any) -> dict:
        """Append one decision; returns the record written (with its ``id``)."""
        if kind not in DECISION_KINDS:
            raise ValueError(f"decision kind {kind!r} is not one of {list(DECISION_KINDS)}")
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with open(self.path, "rb") as f:
                n = sum(1 for line in f if line.strip())
            rec = _plain({"id": n + 1, "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds"),
                          "at": at, "model": model, "kind": kind, "reason": reason, "version": version,
                          "previous": previous, "evidence": evidence or {}, **extra})
            os.write(fd, (json.dumps(rec, sort_keys=True, allow_nan=False) + "\n").encode())
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        return rec

    def read(self, model: str | None = None, kind: str | None = None) -> list[dict]:
        """Every decision (oldest first), optionally of one model and/or one kind."""
        return read_decisions(self.path, model=model, kind=kind)

    def last(self, model: str | None = None, kind: str | tuple | None = None) -> dict | None:
        kinds = (kind,) if isinstance(kind, str) else kind
        for d in reversed(self.read(model)):
            if kinds is None or d["kind"] in kinds:
                return d
        return None

    def to_table(self, model: str | None = None):
        """The log as an Arrow table (evidence as JSON text), for a dashboard or DuckDB."""
        import pyarrow as pa

        rows = self.read(model)
        return pa.table({
            "id": pa.array([r["id"] for r in rows], pa.int64()),
            "time": pa.array([r["time"] for r in rows], pa.string()),
            "at": pa.array([None if r.get("at") is None else str(r["at"]) for r in rows], pa.string()),
            "model": pa.array([r["model"] for r in rows], pa.string()),
            "kind": pa.array([r["kind"] for r in rows], pa.string()),
            "reason": pa.array([r["reason"] for r in rows], pa.string()),
            "version": pa.array([r.get("version") for r in rows], pa.int64()),
            "previous": pa.array([r.get("previous") for r in rows], pa.int64()),
            "evidence": pa.array([json.dumps(r.get("evidence") or {}, sort_keys=True) for r in rows], pa.string()),
        })


def read_decisions(path: str | os.PathLike, *, model: str | None = None, kind: str | None = None) -> list[dict]:
    """Read a decision log file (an empty list when it does not exist yet)."""
    p = os.fspath(path)
    if not os.path.exists(p):
        return []
    out = []
    with open(p, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}: line {i} is not JSON ({exc})") from None
            if (model is None or rec.get("model") == model) and (kind is None or rec.get("kind") == kind):
                out.append(rec)
    return out
