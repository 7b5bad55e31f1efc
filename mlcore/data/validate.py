"""Validation: one compiled pass per column, a report of every problem with counts and examples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from ..errors import SchemaError
from ._scan import KINDS, TableScan, scan_table
from .schema import Schema

__all__ = ["PROBLEMS", "ValidationReport", "validate"]

#: Every problem a report can list. Column-level problems (missing/unexpected column, type,
#: constant, all-null) count the rows of the table; table-level ones use the column name ``*``.
PROBLEMS = (
    "missing_column", "unexpected_column", "type_mismatch", "null", "all_null", "nan", "posinf", "neginf",
    "below_min", "above_max", "unseen_category", "duplicate", "constant", "duplicate_row", "empty_table",
)

_PROBLEM_SCHEMA = pa.schema([
    ("column", pa.string()), ("problem", pa.string()), ("count", pa.int64()),
    ("examples", pa.list_(pa.string())), ("rows", pa.list_(pa.int64())), ("detail", pa.string()),
])
_STATS_SCHEMA = pa.schema([
    ("column", pa.string()), ("type", pa.string()), ("rows", pa.int64()), ("nulls", pa.int64()),
    ("nan", pa.int64()), ("posinf", pa.int64()), ("neginf", pa.int64()), ("min", pa.string()),
    ("max", pa.string()), ("below_min", pa.int64()), ("above_max", pa.int64()),
    ("unseen_category", pa.int64()), ("duplicate", pa.int64()), ("type_mismatch", pa.int64()),
    ("constant", pa.bool_()),
])


def _show(v: Any) -> str:
    return repr(v)


@dataclass
class ValidationReport:
    """The result of :func:`validate`.

    Attributes
    ----------
    problems : pyarrow.Table
        One row per problem found: ``column, problem, count, examples`` (values as text),
        ``rows`` (their row numbers) and ``detail``.
    columns : pyarrow.Table
        Per-column statistics from the pass (counts of every kind, finite min/max, constancy).
    n_rows : int
    """

    problems: pa.Table
    columns: pa.Table
    n_rows: int

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.problems.num_rows == 0

    def count(self, column: str, problem: str) -> int:
        """The count of ``problem`` at ``column`` (0 when not reported)."""
        if problem not in PROBLEMS:
            raise ValueError(f"Unknown problem {problem!r}; expected one of {list(PROBLEMS)}")
        for c, p, n in zip(self.problems["column"].to_pylist(), self.problems["problem"].to_pylist(),
                           self.problems["count"].to_pylist()):
            if c == column and p == problem:
                return n
        return 0

    def summary(self) -> str:
        """A readable list of the problems: column, problem, count and example values."""
        if self.ok:
            return f"No problems in {self.n_rows:,} rows x {self.columns.num_rows} columns."
        lines = [f"{self.problems.num_rows} problems in {self.n_rows:,} rows x {self.columns.num_rows} columns:"]
        for row in self.problems.to_pylist():
            ex = ", ".join(row["examples"][:5])
            detail = f" ({row['detail']})" if row["detail"] else ""
            where = f" e.g. {ex} at rows {row['rows'][:5]}" if ex else ""
            lines.append(f"  - `{row['column']}`: {row['problem']} x {row['count']:,}{detail}{where}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def validate(
    data: Any,
    schema: Schema,
    *,
    examples: int = 5,
    duplicate_rows: bool = True,
    n_threads: int = 1,
) -> ValidationReport:
    """Check ``data`` against ``schema`` in one compiled pass per column.

    Each pass counts nulls, NaN, +inf and -inf, computes the finite min/max, counts values
    outside the allowed range and outside the allowed categories, repeats in ``unique`` columns,
    values that do not fit the declared type (strings that do not parse as the declared number,
    non-integral floats where integers are declared), and notes constant columns. Whole-row
    duplicates are found from per-row hashes accumulated in the same passes, then confirmed
    exactly.

    Parameters
    ----------
    data : table-like
        Anything :func:`mlcore._arrow.as_table` accepts.
    schema : Schema
    examples : int
        How many example values and rows to keep per problem.
    duplicate_rows : bool
        Whether to look for repeated rows.
    n_threads : int
        Threads to spread the columns over (the kernels release the GIL).

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import infer_schema, validate
    >>> s = infer_schema(pa.table({"x": [1.0, 2.0], "c": ["a", "b"]}))
    >>> r = validate(pa.table({"x": [1.0, float("nan"), 9.0], "c": ["a", "b", "z"]}), s)
    >>> r.count("x", "nan"), r.count("x", "above_max"), r.count("c", "unseen_category")
    (1, 1, 1)
    """
    if not isinstance(schema, Schema):
        raise TypeError(f"schema must be an mlcore.data.Schema, got {type(schema).__name__}")
    if int(examples) < 0:
        raise ValueError(f"examples must be >= 0, got {examples}")
    table = _arrow.as_table(data)
    names = table.column_names
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SchemaError(f"Column names must be unique to validate; repeated: {dup}")
    specs = {n: (schema[n] if n in schema else None) for n in names}
    scan = scan_table(table, specs, n_examples=int(examples), duplicate_rows=duplicate_rows, n_threads=n_threads)
    return _report(table, schema, scan, int(examples))


def _report(table: pa.Table, schema: Schema, scan: TableScan, k: int) -> ValidationReport:
    n = table.num_rows
    rows: list[dict] = []

    lookup: dict[int, Any] = {}  # example row -> value, of the column being reported (one take each)

    def add(column, problem, count, ex_rows=(), values=None, detail=""):
        ex_rows = [int(r) for r in ex_rows if r >= 0][:k]
        if values is None:
            values = [_show(lookup[r]) for r in ex_rows]
        rows.append(dict(column=column, problem=problem, count=int(count), examples=values, rows=ex_rows,
                         detail=detail))

    if n == 0:
        add("*", "empty_table", 0, detail="the table has no rows")
    for spec in schema:
        if spec.name not in table.column_names:
            add(spec.name, "missing_column", n, values=[], detail=f"expected `{spec.dtype}` ({spec.role})")
    stats = {f.name: [] for f in _STATS_SCHEMA}
    for name in table.column_names:
        cs = scan.columns[name]
        spec = schema[name] if name in schema else None
        wanted = np.unique(cs.examples[cs.examples >= 0])
        lookup.clear()
        if wanted.size:
            lookup.update(zip(wanted.tolist(), table.column(name).take(pa.array(wanted)).to_pylist()))
        c = {kind: cs.count(kind) for kind in KINDS}
        ex = {kind: cs.examples[KINDS.index(kind)] for kind in KINDS}
        if spec is None:
            add(name, "unexpected_column", n, values=[], detail=f"`{cs.type}` is not in the schema")
        if cs.type_problem:
            add(name, "type_mismatch", c["type_mismatch"], ex["type_mismatch"], detail=cs.type_problem)
        elif c["type_mismatch"]:
            add(name, "type_mismatch", c["type_mismatch"], ex["type_mismatch"],
                detail=f"values do not fit the declared `{spec.dtype}` (column is `{cs.type}`)")
        if n and c["null"] == n:
            add(name, "all_null", n, values=[], detail="every value is null")
        elif c["null"] and spec is not None and not spec.nullable:
            add(name, "null", c["null"], ex["null"], detail="the schema says not nullable")
        for kind, allowed in (("nan", spec is not None and spec.allow_nan),
                              ("posinf", spec is not None and spec.allow_inf),
                              ("neginf", spec is not None and spec.allow_inf)):
            if c[kind] and not allowed:
                add(name, kind, c[kind], ex[kind])
        if c["below_min"]:
            add(name, "below_min", c["below_min"], ex["below_min"], detail=f"min allowed {spec.min!r}")
        if c["above_max"]:
            add(name, "above_max", c["above_max"], ex["above_max"], detail=f"max allowed {spec.max!r}")
        if c["unseen_category"]:
            add(name, "unseen_category", c["unseen_category"], ex["unseen_category"],
                detail=f"{len(spec.categories)} categories allowed")
        if c["duplicate"]:
            add(name, "duplicate", c["duplicate"], ex["duplicate"], detail="the schema says unique")
        if cs.constant and n > 1 and c["null"] < n:
            valid_at = pc.index(pc.is_valid(table.column(name)), True).as_py()
            value = table.column(name)[valid_at].as_py()
            add(name, "constant", n, values=[_show(value)], detail="one distinct value")
        stats["column"].append(name)
        stats["type"].append(str(cs.type))
        stats["rows"].append(n)
        stats["nulls"].append(c["null"])
        for kind in ("nan", "posinf", "neginf", "below_min", "above_max", "unseen_category", "duplicate",
                     "type_mismatch"):
            stats[kind].append(c[kind])
        stats["min"].append(None if cs.min is None else _show_bound(cs.min, cs.type))
        stats["max"].append(None if cs.max is None else _show_bound(cs.max, cs.type))
        stats["constant"].append(bool(cs.constant))
    if len(scan.duplicate_rows):
        dr, of = scan.duplicate_rows, scan.duplicate_of
        add("*", "duplicate_row", len(dr), dr, values=[f"row {a} = row {b}" for a, b in zip(dr[:k], of[:k])],
            detail="whole rows repeated (first occurrence kept as the original)")
    problems = pa.Table.from_pylist(rows, schema=_PROBLEM_SCHEMA)
    return ValidationReport(problems, pa.table(stats, schema=_STATS_SCHEMA), n)


def _show_bound(v: Any, t: pa.DataType) -> str:
    if pat.is_temporal(t) or (pat.is_dictionary(t) and pat.is_temporal(t.value_type)):
        vt = t.value_type if pat.is_dictionary(t) else t
        storage = pa.int32() if vt.bit_width == 32 else pa.int64()
        return str(pa.scalar(int(v), type=storage).cast(vt).as_py())
    return repr(v)

