"""Repair: checked casts, category spellings, non-finite and out-of-range values, duplicates,
imputation. Rows that cannot be repaired go to a quarantine table with the reason; nothing is
dropped silently and every change is recorded in the report."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from .._kernels import data_validate as K
from ..errors import SchemaError
from ._scan import compatible, scan_table
from .schema import ColumnSpec, Schema, _bound_number

__all__ = ["IMPUTE_STRATEGIES", "RepairReport", "RepairResult", "repair"]

#: Imputation strategies; ``("constant", value)`` fills with ``value``.
IMPUTE_STRATEGIES = ("mean", "median", "mode", "constant")

ROW_COLUMN = "_row"
REASON_COLUMN = "_reason"
FLAG_COLUMN = "_duplicate"

_ACTIONS_SCHEMA = pa.schema([
    ("column", pa.string()), ("action", pa.string()), ("count", pa.int64()), ("detail", pa.string()),
])


@dataclass
class RepairReport:
    """What :func:`repair` did: one row per action (``column, action, count, detail``)."""

    actions: pa.Table
    n_rows_in: int
    n_rows_out: int
    n_quarantined: int

    def count(self, column: str, action: str) -> int:
        total = 0
        for c, a, n in zip(self.actions["column"].to_pylist(), self.actions["action"].to_pylist(),
                           self.actions["count"].to_pylist()):
            if c == column and a == action:
                total += n
        return total

    def summary(self) -> str:
        lines = [f"Repaired {self.n_rows_in:,} rows: {self.n_rows_out:,} kept, {self.n_quarantined:,} quarantined; "
                 f"{self.actions.num_rows} actions:"]
        for r in self.actions.to_pylist():
            lines.append(f"  - `{r['column']}`: {r['action']} x {r['count']:,}" + (f" ({r['detail']})" if r["detail"] else ""))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass
class RepairResult:
    """``table``: the repaired rows, typed as the schema says; ``quarantine``: the rows that could
    not be repaired, as they came in, with ``_row`` (their input row number) and ``_reason``;
    ``report``: every action taken."""

    table: pa.Table
    quarantine: pa.Table
    report: RepairReport

    def __iter__(self):  # allows: table, quarantine, report = repair(...)
        return iter((self.table, self.quarantine, self.report))


class _State:
    def __init__(self, n: int):
        self.n = n
        self.reasons: list[tuple[str, np.ndarray]] = []
        self.actions: list[dict] = []

    def quarantine(self, mask: np.ndarray, reason: str) -> int:
        k = int(mask.sum())
        if k:
            self.reasons.append((reason, mask))
        return k

    def act(self, column: str, action: str, count: int, detail: str = "") -> None:
        if count:
            self.actions.append(dict(column=column, action=action, count=int(count), detail=detail))

    def bad(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for _, m in self.reasons:
            out |= m
        return out


def _mask(arr) -> np.ndarray:
    """A boolean Arrow array/ChunkedArray as NumPy, nulls as False."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return np.asarray(pc.fill_null(arr, False), dtype=bool) if len(arr) else np.zeros(0, dtype=bool)


def _set_null(col: pa.ChunkedArray, mask: np.ndarray) -> pa.ChunkedArray:
    if not mask.any():
        return col
    return pc.if_else(pa.array(mask), pa.nulls(len(col), type=col.type), col)


def _examples(col: pa.ChunkedArray, mask: np.ndarray, k: int = 3) -> str:
    rows = np.flatnonzero(mask)[:k]
    if not len(rows):
        return ""
    vals = col.take(pa.array(rows)).to_pylist()
    return "e.g. " + ", ".join(repr(v) for v in vals)


def _cast(name: str, col: pa.ChunkedArray, spec: ColumnSpec, st: _State) -> pa.ChunkedArray:
    declared = spec.type
    t = col.type
    if t.equals(declared):
        return col
    rel = compatible(t, declared)
    valid_n = len(col) - col.null_count
    if pat.is_dictionary(t) and not pat.is_dictionary(declared):
        col = pc.cast(col, t.value_type)
        t = col.type
        if t.equals(declared):
            st.act(name, "cast", valid_n, f"dictionary -> {declared}")
            return col
    bad = np.zeros(len(col), dtype=bool)
    work = col
    if rel == "parse":
        mode = K.PARSE_INT if pat.is_integer(declared) else K.PARSE_FLOAT
        base = 0
        for c in col.chunks:
            v = _arrow.chunk_view(c, name=name)
            if v.length:
                K.parse_flags(v.length, v.offset, v.validity, v.offsets, v.values, mode, bad[base:base + v.length])
            base += v.length
        bad = bad.astype(bool)
        # Arrow's cast takes neither surrounding spaces nor a '+' sign, which the check accepts.
        work = pc.replace_substring_regex(pc.utf8_trim_whitespace(_set_null(col, bad)), r"^\+", "")
    elif rel == "integral":
        flags = _numeric_flags(col, -math.inf, math.inf, True)
        bad = (flags & (2 | 4 | 8 | 64)) != 0
        info = np.iinfo(declared.to_pandas_dtype())
        x = np.asarray(pc.fill_null(pc.cast(col, pa.float64()), 0.0)) if len(col) else np.zeros(0)
        bad |= ((x < info.min) | (x > info.max)) & ((flags & 1) == 0)
        work = _set_null(col, bad)
    try:
        out = pc.cast(work, declared, safe=True)
    except pa.ArrowNotImplementedError:
        raise SchemaError(f"Cannot cast column `{name}` from `{t}` to `{declared}`: Arrow has no such cast") from None
    except pa.ArrowInvalid:
        # Find the values that fail, one distinct value at a time (only on this slow path).
        distinct = pc.unique(work.combine_chunks())
        failing = []
        for v in distinct:
            if not v.is_valid:
                continue
            try:
                pc.cast(pa.array([v.as_py()], type=work.type), declared, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                failing.append(v.as_py())
        more = _mask(pc.is_in(work, value_set=pa.array(failing, type=work.type)))
        bad |= more
        out = pc.cast(_set_null(work, more), declared, safe=True)
    n_bad = st.quarantine(bad, f"cast: `{name}` value does not fit `{declared}`")
    st.act(name, "cast_failed_quarantined", n_bad, f"{t} -> {declared}; {_examples(col, bad)}")
    st.act(name, "cast", valid_n - n_bad, f"{t} -> {declared}")
    return out


def _numeric_flags(col: pa.ChunkedArray, lo: float, hi: float, integral: bool) -> np.ndarray:
    flags = np.zeros(len(col), dtype=np.uint8)
    base = 0
    for c in col.chunks:
        v = _arrow.chunk_view(c)
        if v.length:
            K.numeric_flags(v.length, v.offset, v.validity, v.values, lo, hi, integral, flags[base:base + v.length])
        base += v.length
    return flags


def _normalize(s):
    return pc.utf8_lower(pc.utf8_trim_whitespace(s))


def _categories(name: str, col: pa.ChunkedArray, spec: ColumnSpec, st: _State, normalize: bool,
                unseen: str) -> pa.ChunkedArray:
    vt = col.type.value_type if pat.is_dictionary(col.type) else col.type
    if pat.is_boolean(vt):
        return col
    try:
        allowed = pa.array([c for c in spec.categories if c is not None], type=vt)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise SchemaError(f"Categories of column `{name}` are not values of its type `{vt}`: {spec.categories[:5]!r}") from None
    work = pc.cast(col, vt) if pat.is_dictionary(col.type) else col
    valid = _mask(pc.is_valid(work))
    inside = _mask(pc.is_in(work, value_set=allowed))
    out_mask = valid & ~inside
    if normalize and out_mask.any() and (pat.is_string(vt) or pat.is_large_string(vt)):
        norm_allowed = _normalize(allowed)
        # Two categories that normalise alike ('NY', 'ny') are ambiguous: never a target.
        counts = pc.value_counts(norm_allowed)
        ambiguous = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        idx = pc.index_in(_normalize(work), value_set=norm_allowed)
        hit = out_mask & _mask(pc.is_valid(idx)) & ~_mask(pc.is_in(_normalize(work), value_set=ambiguous))
        if hit.any():
            replacement = allowed.take(pc.fill_null(idx, 0))
            before = work
            work = pc.if_else(pa.array(hit), replacement, work)
            pairs = sorted({(a, b) for a, b in zip(before.filter(pa.array(hit)).to_pylist()[:1000],
                                                   work.filter(pa.array(hit)).to_pylist()[:1000])})[:3]
            st.act(name, "normalize_category", int(hit.sum()),
                   "case/whitespace: " + ", ".join(f"{a!r} -> {b!r}" for a, b in pairs))
            out_mask &= ~hit
    if out_mask.any():
        detail = f"{len(allowed)} categories allowed; {_examples(work, out_mask)}"
        if unseen == "quarantine":
            st.quarantine(out_mask, f"unseen category in `{name}`")
            st.act(name, "unseen_category_quarantined", int(out_mask.sum()), detail)
        elif unseen == "null":
            work = _set_null(work, out_mask)
            st.act(name, "unseen_category_nulled", int(out_mask.sum()), detail)
        else:
            st.act(name, "unseen_category_kept", int(out_mask.sum()), detail)
    if pat.is_dictionary(col.type):
        work = pc.cast(work, col.type)
    return work


def _numeric(name: str, col: pa.ChunkedArray, spec: ColumnSpec, st: _State, nonfinite: str,
             out_of_range: str) -> pa.ChunkedArray:
    t = col.type
    lo = -math.inf if spec.min is None else _bound_number(spec, spec.min)
    hi = math.inf if spec.max is None else _bound_number(spec, spec.max)
    flags = _numeric_flags(col, lo, hi, False)
    if pat.is_floating(t):
        for bit, what, allowed in ((2, "nan", spec.allow_nan), (4 | 8, "inf", spec.allow_inf)):
            m = (flags & bit) != 0
            if allowed or not m.any():
                continue
            if nonfinite == "null":
                col = _set_null(col, m)
                st.act(name, f"{what}_to_null", int(m.sum()))
            elif nonfinite == "quarantine":
                st.quarantine(m, f"{what} in `{name}`")
                st.act(name, f"{what}_quarantined", int(m.sum()))
            else:
                st.act(name, f"{what}_kept", int(m.sum()))
    below, above = (flags & 16) != 0, (flags & 32) != 0
    m = below | above
    if m.any():
        detail = f"allowed [{spec.min}, {spec.max}]; {_examples(col, m)}"
        if out_of_range == "clip":
            storage = t
            if spec.min is not None and below.any():
                col = pc.if_else(pa.array(below), _bound_scalar(spec, spec.min, storage), col)
            if spec.max is not None and above.any():
                col = pc.if_else(pa.array(above), _bound_scalar(spec, spec.max, storage), col)
            st.act(name, "clipped", int(m.sum()), detail)
        elif out_of_range == "quarantine":
            st.quarantine(m, f"out of range in `{name}`")
            st.act(name, "out_of_range_quarantined", int(m.sum()), detail)
        elif out_of_range == "null":
            col = _set_null(col, m)
            st.act(name, "out_of_range_to_null", int(m.sum()), detail)
        else:
            st.act(name, "out_of_range_kept", int(m.sum()), detail)
    return col


def _bound_scalar(spec: ColumnSpec, bound: Any, t: pa.DataType) -> pa.Scalar:
    v = _bound_number(spec, bound)
    if pat.is_temporal(t):
        storage = pa.int32() if t.bit_width == 32 else pa.int64()
        return pa.scalar(int(v), type=storage).cast(t)
    if pat.is_integer(t):
        # clipping an integer column to a fractional bound rounds inward
        v = math.ceil(v) if bound == spec.min else math.floor(v)
        return pa.scalar(int(v), type=t)
    return pa.scalar(float(v), type=t)


def _duplicate_key_mask(col: pa.ChunkedArray) -> np.ndarray:
    """Rows whose non-null value occurred in an earlier row (a stable sort, then neighbours)."""
    n = len(col)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    if pat.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    order = pc.array_sort_indices(col, null_placement="at_end")  # stable: equal values keep row order
    s = col.take(order)
    eq = pc.equal(s.slice(1), s.slice(0, n - 1))
    if pat.is_floating(col.type):
        eq = pc.or_(pc.fill_null(eq, False), pc.fill_null(pc.and_(pc.is_nan(s.slice(1)), pc.is_nan(s.slice(0, n - 1))), False))
    later = _mask(eq)
    out[np.asarray(order)[1:][later]] = True
    return out


def _impute_value(name: str, col: pa.ChunkedArray, strategy: Any, good: np.ndarray) -> tuple[Any, str]:
    t = col.type
    vt = t.value_type if pat.is_dictionary(t) else t
    if isinstance(strategy, (tuple, list)) and len(strategy) == 2 and strategy[0] == "constant":
        return pa.scalar(strategy[1], type=vt), f"constant {strategy[1]!r}"
    if strategy not in IMPUTE_STRATEGIES or strategy == "constant":
        raise ValueError(
            f"Impute strategy for column `{name}` must be one of 'mean', 'median', 'mode' or "
            f"('constant', value); got {strategy!r}"
        )
    basis = col.filter(pa.array(good)) if len(col) else col
    if pat.is_dictionary(t):
        basis = pc.cast(basis, vt)
    if strategy == "mode":
        # The most frequent value, the smallest among ties (as scikit-learn's "most_frequent").
        vc = pc.value_counts(pc.drop_null(basis)) if len(basis) else None
        if pat.is_floating(vt) and vc is not None:
            vc = vc.filter(pc.is_finite(vc.field("values")))
        if vc is None or len(vc) == 0:
            raise ValueError(f"Cannot impute column `{name}` by its mode: it has no valid value")
        top = vc.filter(pc.equal(vc.field("counts"), pc.max(vc.field("counts"))))
        value = pc.min(top.field("values"))
        return value.cast(vt), f"mode {value.as_py()!r}"
    if not (pat.is_integer(vt) or pat.is_floating(vt)):
        raise SchemaError(f"Impute strategy {strategy!r} needs a numeric column; `{name}` is `{vt}`")
    x = np.asarray(pc.drop_null(pc.cast(basis, pa.float64())), dtype=np.float64) if len(basis) else np.zeros(0)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ValueError(f"Cannot impute column `{name}` by its {strategy}: it has no finite value")
    v = float(np.mean(x)) if strategy == "mean" else float(np.median(x))
    if pat.is_integer(vt):
        r = round(v)  # half to even, as NumPy
        return pa.scalar(int(r), type=vt), f"{strategy} {v!r} rounded to {int(r)}"
    return pa.scalar(v, type=vt), f"{strategy} {v!r}"


def repair(
    data: Any,
    schema: Schema,
    *,
    impute: str | dict | None = None,
    out_of_range: str = "clip",
    unseen: str = "quarantine",
    nonfinite: str = "null",
    normalize_categories: bool = True,
    duplicates: str = "drop",
    missing_columns: str = "error",
) -> RepairResult:
    """Repair ``data`` to fit ``schema``; quarantine the rows that cannot be repaired.

    The steps, per column in schema order, then over rows:

    1. **Checked cast** to the schema's type: strings that do not parse, floats that are not whole
       (to an integer type), values that overflow: their rows are quarantined.
    2. **Category spellings** (``normalize_categories``): a value that is not an allowed category
       but equals one after trimming whitespace and lower-casing is replaced by it.
    3. **Unseen categories**: ``unseen`` = ``"quarantine"`` (default), ``"null"`` or ``"keep"``.
    4. **NaN and ±inf** (unless the schema allows them): ``nonfinite`` = ``"null"`` (default, so
       that imputation can fill them), ``"quarantine"`` or ``"keep"``.
    5. **Range**: ``out_of_range`` = ``"clip"`` (default), ``"quarantine"``, ``"null"``, ``"keep"``.
    6. **Duplicates** among the remaining rows (whole rows, and repeated keys in ``unique``
       columns): ``duplicates`` = ``"drop"`` (default: later copies quarantined), ``"flag"`` (a
       ``_duplicate`` bool column) or ``"keep"``.
    7. **Imputation** of nulls: ``impute`` = a strategy for every column with nulls, or a dict
       ``{column: strategy}``; strategies ``"mean"``, ``"median"`` (numeric), ``"mode"``, or
       ``("constant", value)``. Statistics come from the rows that are kept.
    8. Rows still null in a non-nullable column are quarantined.

    Parameters
    ----------
    missing_columns : {"error", "null"}
        A schema column absent from the data: an error, or (when nullable) added as nulls.

    Returns
    -------
    RepairResult
        ``table`` (schema columns first, typed as the schema; other columns kept after them),
        ``quarantine`` (input rows with ``_row`` and ``_reason``) and ``report``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import Schema, ColumnSpec, repair
    >>> s = Schema([ColumnSpec("x", "double", min=0.0, max=10.0, nullable=False),
    ...             ColumnSpec("c", "string", role="categorical", categories=["EWR", "JFK"])])
    >>> t = pa.table({"x": [1.0, None, 42.0, 3.0], "c": [" ewr", "JFK", "JFK", "XXX"]})
    >>> res = repair(t, s, impute="median")
    >>> res.table.to_pydict()
    {'x': [1.0, 5.5, 10.0], 'c': ['EWR', 'JFK', 'JFK']}
    >>> res.quarantine.column("_reason").to_pylist()
    ['unseen category in `c`']
    """
    if not isinstance(schema, Schema):
        raise TypeError(f"schema must be an mlcore.data.Schema, got {type(schema).__name__}")
    for pname, val, allowed in (("out_of_range", out_of_range, ("clip", "quarantine", "null", "keep")),
                                ("unseen", unseen, ("quarantine", "null", "keep")),
                                ("nonfinite", nonfinite, ("null", "quarantine", "keep")),
                                ("duplicates", duplicates, ("drop", "flag", "keep")),
                                ("missing_columns", missing_columns, ("error", "null"))):
        if val not in allowed:
            raise ValueError(f"{pname} must be one of {list(allowed)}, got {val!r}")
    table = _arrow.as_table(data)
    names = table.column_names
    if len(set(names)) != len(names):
        raise SchemaError(f"Column names must be unique to repair; repeated: {sorted({n for n in names if names.count(n) > 1})}")
    for reserved in (ROW_COLUMN, REASON_COLUMN, FLAG_COLUMN):
        if reserved in names:
            raise SchemaError(f"Column name `{reserved}` is reserved by mlcore.data.repair")
    n = table.num_rows
    st = _State(n)
    cols: dict[str, pa.ChunkedArray] = {}
    for spec in schema:
        if spec.name not in names:
            if missing_columns == "null" and spec.nullable:
                cols[spec.name] = pa.chunked_array([pa.nulls(n, type=spec.type)])
                st.act(spec.name, "missing_column_added_as_null", max(n, 1))
                continue
            raise SchemaError(
                f"Column `{spec.name}` of the schema is missing from the data (it has {names[:20]}); "
                "pass missing_columns='null' to add it as nulls"
                + ("" if spec.nullable else " (it would also need nullable=True)")
            )
        col = table.column(spec.name)
        col = _cast(spec.name, col, spec, st)
        vt = col.type.value_type if pat.is_dictionary(col.type) else col.type
        if spec.categories is not None:
            col = _categories(spec.name, col, spec, st, normalize_categories, unseen)
        if pat.is_integer(vt) or pat.is_floating(vt) or pat.is_temporal(vt):
            col = _numeric(spec.name, col, spec, st, nonfinite, out_of_range)
        cols[spec.name] = col
    extra = [c for c in names if c not in schema]
    for c in extra:
        cols[c] = table.column(c)
        st.act(c, "unexpected_column_kept", max(n, 1), f"`{table.column(c).type}` is not in the schema")
    work = pa.table(cols) if cols else pa.table({})
    # Duplicates among the rows that are otherwise kept.
    kept = np.flatnonzero(~st.bad())
    dup_flag = np.zeros(n, dtype=bool)
    sub = work.take(pa.array(kept)) if len(kept) != n else work
    dups = {}
    if sub.num_rows > 1 and sub.num_columns:
        scan = scan_table(sub, {}, n_examples=0, duplicate_rows=True)
        m = np.zeros(n, dtype=bool)
        m[kept[scan.duplicate_rows]] = True
        dups["*"] = (m, "duplicate row")
        for spec in schema:
            if spec.unique and spec.name in sub.column_names:
                m = np.zeros(n, dtype=bool)
                m[kept[_duplicate_key_mask(sub.column(spec.name))]] = True
                m &= ~dups["*"][0]
                dups[spec.name] = (m, f"duplicate key in `{spec.name}`")
    for col_name, (m, reason) in dups.items():
        k = int(m.sum())
        if not k:
            continue
        if duplicates == "drop":
            st.quarantine(m, reason)
            st.act(col_name, "duplicate_quarantined", k, reason + "s after the first occurrence")
        elif duplicates == "flag":
            dup_flag |= m
            st.act(col_name, "duplicate_flagged", k, f"{reason}s marked in `{FLAG_COLUMN}`")
        else:
            st.act(col_name, "duplicate_kept", k, reason + "s")
    # Imputation from the rows that are kept.
    good = ~st.bad()
    if impute is not None:
        plan = impute if isinstance(impute, dict) else {c.name: impute for c in schema}
        for cname, strategy in plan.items():
            if cname not in work.column_names:
                raise SchemaError(f"Cannot impute column `{cname}`: it is not in the data or the schema")
            col = work.column(cname)
            missing = _mask(pc.is_null(col)) & good
            if not missing.any() and isinstance(impute, str):
                continue
            value, how = _impute_value(cname, col, strategy, good & ~_mask(pc.is_null(col)))
            filled = pc.fill_null(col, value) if not pat.is_dictionary(col.type) else \
                pc.cast(pc.fill_null(pc.cast(col, col.type.value_type), value), col.type)
            work = work.set_column(work.schema.get_field_index(cname), cname, filled)
            st.act(cname, "imputed", int(missing.sum()), how)
    for spec in schema:
        if not spec.nullable and spec.name in work.column_names:
            m = _mask(pc.is_null(work.column(spec.name))) & ~st.bad()
            if st.quarantine(m, f"null in non-nullable `{spec.name}`"):
                st.act(spec.name, "null_quarantined", int(m.sum()), "the schema says not nullable")
    bad = st.bad()
    keep_rows = pa.array(np.flatnonzero(~bad))
    out = work.take(keep_rows) if bad.any() else work
    if duplicates == "flag":
        out = out.append_column(FLAG_COLUMN, pa.array(dup_flag[~bad]))
    # Type the result as the schema says (nullability included, where it now holds).
    fields = []
    for f in out.schema:
        if f.name in schema:
            spec = schema[f.name]
            fields.append(pa.field(f.name, spec.type, nullable=spec.nullable or out.column(f.name).null_count > 0))
        else:
            fields.append(f)
    out = out.cast(pa.schema(fields)).combine_chunks()
    qrows = np.flatnonzero(bad)
    quarantine = table.take(pa.array(qrows, type=pa.int64()))
    reasons = [[] for _ in qrows]
    pos = {int(r): i for i, r in enumerate(qrows)}
    for reason, m in st.reasons:
        for r in np.flatnonzero(m):
            reasons[pos[int(r)]].append(reason)
    quarantine = quarantine.append_column(ROW_COLUMN, pa.array(qrows, type=pa.int64()))
    quarantine = quarantine.append_column(REASON_COLUMN, pa.array(["; ".join(r) for r in reasons], type=pa.string()))
    report = RepairReport(pa.Table.from_pylist(st.actions, schema=_ACTIONS_SCHEMA), n, out.num_rows, len(qrows))
    return RepairResult(out, quarantine, report)
