"""Monitoring store: drift results, events and profile summaries in one DuckDB file.

Tables (created on first use):

- ``results(run_time, window, column, kind, test, statistic, p_value, adjusted_p_value,
  effect_size, effect_floor, significant, drifted)``, one row per feature per check;
- ``events(run_time, kind, what, "where", evidence JSON, time)``;
- ``profiles(run_time, window, column, kind, rows, nulls, nan, inf, mean, std, min, max, median)``.

Rows are appended as Arrow tables (DuckDB reads them without a copy). PostgreSQL through ADBC is
not wired here yet.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any

import pyarrow as pa

from ..errors import missing_dependency

__all__ = ["MonitorStore"]

_DDL = [
    """CREATE TABLE IF NOT EXISTS results (run_time TIMESTAMPTZ, "window" VARCHAR, "column" VARCHAR,
       kind VARCHAR, test VARCHAR, statistic DOUBLE, p_value DOUBLE, adjusted_p_value DOUBLE,
       effect_size DOUBLE, effect_floor DOUBLE, significant BOOLEAN, drifted BOOLEAN)""",
    """CREATE TABLE IF NOT EXISTS events (run_time TIMESTAMPTZ, kind VARCHAR, what VARCHAR,
       "where" VARCHAR, evidence VARCHAR, time VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS profiles (run_time TIMESTAMPTZ, "window" VARCHAR, "column" VARCHAR,
       kind VARCHAR, rows BIGINT, nulls BIGINT, nan BIGINT, inf BIGINT, mean DOUBLE, std DOUBLE,
       min DOUBLE, max DOUBLE, median DOUBLE)""",
]


class MonitorStore:
    """A DuckDB file holding results, events and profile summaries.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa, tempfile, os
    >>> from mlcore.monitor import DriftMonitor, MonitorStore
    >>> rng = np.random.default_rng(0)
    >>> m = DriftMonitor().fit(pa.table({"a": rng.normal(size=1000)}))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with MonitorStore(os.path.join(d, "m.duckdb")) as s:
    ...         s.add_report(m.check(pa.table({"a": rng.normal(size=1000)})), window="w1")
    ...         s.results()["column"].to_pylist()
    ['a']
    """

    def __init__(self, path: str | os.PathLike = "monitor.duckdb"):
        try:
            import duckdb
        except ImportError as exc:
            raise missing_dependency("duckdb", "db") from exc
        self.path = str(path)
        self._con = duckdb.connect(self.path)
        for ddl in _DDL:
            self._con.execute(ddl)

    def __enter__(self) -> "MonitorStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    def _append(self, table: str, data: pa.Table) -> None:
        self._con.register("_incoming", data)
        try:
            self._con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
        finally:
            self._con.unregister("_incoming")

    def add_report(self, report, window: str = "", run_time: _dt.datetime | None = None) -> None:
        """Append one row per feature of a :class:`DriftReport`."""
        now = run_time or _dt.datetime.now(_dt.timezone.utc)
        t = report.to_table()
        n = t.num_rows
        data = pa.table({
            "run_time": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
            "window": pa.array([window] * n, pa.string()),
            "column": t["column"], "kind": t["kind"], "test": t["test"],
            "statistic": t["statistic"].cast(pa.float64()), "p_value": t["p_value"].cast(pa.float64()),
            "adjusted_p_value": t["adjusted_p_value"].cast(pa.float64()),
            "effect_size": t["effect_size"].cast(pa.float64()), "effect_floor": t["effect_floor"],
            "significant": t["significant"], "drifted": t["drifted"]})
        self._append("results", data)

    def add_events(self, events, run_time: _dt.datetime | None = None) -> None:
        """Append :class:`Event` records."""
        now = run_time or _dt.datetime.now(_dt.timezone.utc)
        events = list(events)
        if not events:
            return
        self._append("events", pa.table({
            "run_time": pa.array([now] * len(events), pa.timestamp("us", tz="UTC")),
            "kind": [e.kind for e in events], "what": [e.what for e in events], "where": [e.where for e in events],
            "evidence": [json.dumps(e.evidence, default=str) for e in events], "time": [e.time for e in events]}))

    def add_profile(self, profile, window: str = "", run_time: _dt.datetime | None = None) -> None:
        """Append the per-column summary of a :class:`Profile`."""
        now = run_time or _dt.datetime.now(_dt.timezone.utc)
        s = profile.summary()
        n = s.num_rows
        cols = {"run_time": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
                "window": pa.array([window] * n, pa.string())}
        for k, typ in (("column", pa.string()), ("kind", pa.string()), ("rows", pa.int64()), ("nulls", pa.int64()),
                       ("nan", pa.int64()), ("inf", pa.int64()), ("mean", pa.float64()), ("std", pa.float64()),
                       ("min", pa.float64()), ("max", pa.float64()), ("median", pa.float64())):
            cols[k] = s[k].cast(typ)
        self._append("profiles", pa.table(cols))

    def query(self, sql: str, params: Any = None) -> pa.Table:
        """Run SQL on the store and return an Arrow table."""
        rel = self._con.sql(sql, params=params) if params else self._con.sql(sql)
        # a relation's Arrow output avoids the copy of a DB-API result; DuckDB 2 renamed arrow()
        fetch = getattr(rel, "to_arrow_table", None) or getattr(rel, "arrow")
        return fetch()

    def results(self) -> pa.Table:
        return self.query('SELECT * FROM results ORDER BY run_time, "window", "column"')

    def events(self) -> pa.Table:
        return self.query("SELECT * FROM events ORDER BY run_time")
