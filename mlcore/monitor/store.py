"""Monitoring store: drift results, events and profiles in DuckDB (one file) or PostgreSQL (ADBC).

``MonitorStore(target)`` picks the backend from ``target``: a ``postgresql://`` (or
``postgres://``) URI opens PostgreSQL through the ADBC PostgreSQL driver; anything else is the
path of a DuckDB file (default ``monitor.duckdb``). Both backends hold the same tables, take the
same calls and give back the same Arrow tables:

- ``results(run_time, window, column, kind, test, statistic, p_value, adjusted_p_value,
  effect_size, effect_floor, significant, drifted)``, one row per feature per check;
- ``events(run_time, kind, what, "where", evidence JSON, time)``;
- ``profiles(run_time, window, column, kind, rows, nulls, nan, inf, mean, std, min, max, median)``,
  the per-column summary of a profile;
- ``profile_states(run_time, name, state)``: whole profiles (:meth:`Profile.to_json`, every count,
  bin and sketch bucket), so that a reference kept in the store loads back exactly
  (:meth:`MonitorStore.load_profile`).

Rows go in as Arrow tables: DuckDB reads them in place; ADBC ingests them with PostgreSQL's
binary COPY. Reads come back as Arrow tables from both. In :meth:`MonitorStore.query`, SQL
parameters use the backend's own placeholders (``?`` or ``$1`` in DuckDB, ``$1`` in PostgreSQL).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any

import pyarrow as pa

from ..errors import ArtifactError, missing_dependency

__all__ = ["MonitorStore"]

_TABLES = {
    "results": [("run_time", "TIMESTAMPTZ"), ("window", "VARCHAR"), ("column", "VARCHAR"), ("kind", "VARCHAR"),
                ("test", "VARCHAR"), ("statistic", "DOUBLE"), ("p_value", "DOUBLE"),
                ("adjusted_p_value", "DOUBLE"), ("effect_size", "DOUBLE"), ("effect_floor", "DOUBLE"),
                ("significant", "BOOLEAN"), ("drifted", "BOOLEAN")],
    "events": [("run_time", "TIMESTAMPTZ"), ("kind", "VARCHAR"), ("what", "VARCHAR"), ("where", "VARCHAR"),
               ("evidence", "VARCHAR"), ("time", "VARCHAR")],
    "profiles": [("run_time", "TIMESTAMPTZ"), ("window", "VARCHAR"), ("column", "VARCHAR"), ("kind", "VARCHAR"),
                 ("rows", "BIGINT"), ("nulls", "BIGINT"), ("nan", "BIGINT"), ("inf", "BIGINT"),
                 ("mean", "DOUBLE"), ("std", "DOUBLE"), ("min", "DOUBLE"), ("max", "DOUBLE"),
                 ("median", "DOUBLE")],
    "profile_states": [("run_time", "TIMESTAMPTZ"), ("name", "VARCHAR"), ("state", "VARCHAR")],
}
_PG_TYPES = {"DOUBLE": "DOUBLE PRECISION"}


def _ddl(table: str, postgres: bool) -> str:
    cols = ", ".join(f'"{n}" {_PG_TYPES.get(t, t) if postgres else t}' for n, t in _TABLES[table])
    return f"CREATE TABLE IF NOT EXISTS {table} ({cols})"


def _is_postgres(target: Any) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class _DuckDB:
    def __init__(self, path: str):
        try:
            import duckdb
        except ImportError as exc:
            raise missing_dependency("duckdb", "db") from exc
        self._con = duckdb.connect(path)

    def execute(self, sql: str) -> None:
        self._con.execute(sql)

    def append(self, table: str, data: pa.Table) -> None:
        self._con.register("_incoming", data)
        try:
            self._con.execute(f"INSERT INTO {table} SELECT * FROM _incoming")
        finally:
            self._con.unregister("_incoming")

    def query(self, sql: str, params: Any = None) -> pa.Table:
        rel = self._con.sql(sql, params=params) if params else self._con.sql(sql)
        # a relation's Arrow output avoids the copy of a DB-API result; DuckDB 2 renamed arrow()
        fetch = getattr(rel, "to_arrow_table", None) or getattr(rel, "arrow")
        return fetch()

    def close(self) -> None:
        self._con.close()


class _Postgres:
    def __init__(self, uri: str):
        try:
            import adbc_driver_postgresql.dbapi as pg
        except ImportError as exc:
            raise missing_dependency("adbc_driver_postgresql", "db") from exc
        self._con = pg.connect(uri)

    def execute(self, sql: str) -> None:
        with self._con.cursor() as cur:
            cur.execute(sql)
        self._con.commit()

    def append(self, table: str, data: pa.Table) -> None:
        with self._con.cursor() as cur:
            cur.adbc_ingest(table, data, mode="append")
        self._con.commit()

    def query(self, sql: str, params: Any = None) -> pa.Table:
        with self._con.cursor() as cur:
            if params:
                cur.execute(sql, params)
            else:
                cur.execute(sql)
            out = cur.fetch_arrow_table()
        self._con.commit()  # end the read transaction: later writes by others become visible
        return out

    def close(self) -> None:
        self._con.close()


def _utc_column(now: _dt.datetime, n: int) -> pa.Array:
    return pa.array([now] * n, pa.timestamp("us", tz="UTC"))


class MonitorStore:
    """Results, events and profiles of a monitor, in DuckDB or PostgreSQL (see the module doc).

    Parameters
    ----------
    target : str or path
        A ``postgresql://user@host:port/db`` URI (ADBC PostgreSQL driver, the ``db`` extra), or the
        path of a DuckDB file.

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

    def __init__(self, target: str | os.PathLike = "monitor.duckdb"):
        self.backend = "postgresql" if _is_postgres(target) else "duckdb"
        self.path = str(target) if self.backend == "duckdb" else None
        self._db = _Postgres(target) if self.backend == "postgresql" else _DuckDB(str(target))
        for table in _TABLES:
            self._db.execute(_ddl(table, self.backend == "postgresql"))

    def __enter__(self) -> "MonitorStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _append(self, table: str, data: pa.Table) -> None:
        self._db.append(table, data)

    def add_report(self, report, window: str = "", run_time: _dt.datetime | None = None) -> None:
        """Append one row per feature of a :class:`DriftReport`."""
        now = run_time or _dt.datetime.now(_dt.timezone.utc)
        t = report.to_table()
        n = t.num_rows
        data = pa.table({
            "run_time": _utc_column(now, n),
            "window": pa.array([window] * n, pa.string()),
            "column": t["column"].cast(pa.string()), "kind": t["kind"].cast(pa.string()),
            "test": t["test"].cast(pa.string()),
            "statistic": t["statistic"].cast(pa.float64()), "p_value": t["p_value"].cast(pa.float64()),
            "adjusted_p_value": t["adjusted_p_value"].cast(pa.float64()),
            "effect_size": t["effect_size"].cast(pa.float64()), "effect_floor": t["effect_floor"].cast(pa.float64()),
            "significant": t["significant"].cast(pa.bool_()), "drifted": t["drifted"].cast(pa.bool_())})
        self._append("results", data)

    def add_events(self, events, run_time: _dt.datetime | None = None) -> None:
        """Append :class:`Event` records."""
        now = run_time or _dt.datetime.now(_dt.timezone.utc)
        events = list(events)
        if not events:
            return
        self._append("events", pa.table({
            "run_time": _utc_column(now, len(events)),
            "kind": pa.array([e.kind for e in events], pa.string()),
            "what": pa.array([e.what for e in events], pa.string()),
            "where": pa.array([e.where for e in events], pa.string()),
            "evidence": pa.array([json.dumps(e.evidence, default=str) for e in events], pa.string()),
            "time": pa.array([None if e.time is None else str(e.time) for e in events], pa.string())}))

    def add_profile(self, profile, window: str = "", run_time: _dt.datetime | None = None) -> None:
        """Append the per-column summary of a :class:`Profile`."""
        now = run_time or _dt.datetime.now(_dt.timezone.utc)
        s = profile.summary()
        n = s.num_rows
        cols = {"run_time": _utc_column(now, n), "window": pa.array([window] * n, pa.string())}
        for k, typ in (("column", pa.string()), ("kind", pa.string()), ("rows", pa.int64()), ("nulls", pa.int64()),
                       ("nan", pa.int64()), ("inf", pa.int64()), ("mean", pa.float64()), ("std", pa.float64()),
                       ("min", pa.float64()), ("max", pa.float64()), ("median", pa.float64())):
            cols[k] = s[k].cast(typ)
        self._append("profiles", pa.table(cols))

    def save_profile(self, profile, name: str, run_time: _dt.datetime | None = None) -> None:
        """Keep a whole :class:`Profile` under ``name`` (a reference, a window): the latest one
        saved under a name is what :meth:`load_profile` returns."""
        now = run_time or _dt.datetime.now(_dt.timezone.utc)
        self._append("profile_states", pa.table({"run_time": _utc_column(now, 1), "name": pa.array([name], pa.string()),
                                                 "state": pa.array([profile.to_json()], pa.string())}))

    def load_profile(self, name: str):
        """The :class:`Profile` last saved under ``name`` (exactly as saved)."""
        from .profile import Profile

        # filter in Arrow rather than in SQL: the two backends differ in their placeholders
        t = self.query('SELECT run_time, name, state FROM profile_states ORDER BY run_time')
        rows = [i for i, v in enumerate(t["name"].to_pylist()) if v == name]
        if not rows:
            raise ArtifactError(f"No profile named `{name}` in the store; saved names: "
                                f"{sorted(set(t['name'].to_pylist()))}")
        return Profile.from_json(t["state"][rows[-1]].as_py())

    def query(self, sql: str, params: Any = None) -> pa.Table:
        """Run SQL on the store and return an Arrow table."""
        return self._db.query(sql, params)

    def results(self) -> pa.Table:
        return self.query('SELECT * FROM results ORDER BY run_time, "window", "column"')

    def events(self) -> pa.Table:
        return self.query("SELECT * FROM events ORDER BY run_time")

    def profiles(self) -> pa.Table:
        return self.query('SELECT * FROM profiles ORDER BY run_time, "window", "column"')
