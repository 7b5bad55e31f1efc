"""Joining sources: on keys (hash join) and on time (as-of: the nearest earlier observation)."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from .._kernels import data_join as _kj
from ..errors import SchemaError, ShapeError

__all__ = ["join", "join_asof"]

_ROW = "__mlcore_row__"
_HOWS = {"left": "left outer", "inner": "inner", "outer": "full outer", "right": "right outer"}


def _names(x: str | Sequence[str] | None, what: str) -> list[str]:
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    out = list(x)
    if not all(isinstance(n, str) for n in out):
        raise TypeError(f"{what} must be a column name or a list of names, got {x!r}")
    return out


def _key_type(lt: pa.DataType, rt: pa.DataType, lname: str, rname: str) -> pa.DataType | None:
    """The common type two key columns are compared in, or a SchemaError naming both."""
    if pat.is_dictionary(lt):
        lt = lt.value_type
    if pat.is_dictionary(rt):
        rt = rt.value_type
    if lt.equals(rt):
        return lt
    stringy = (pat.is_string(lt) or pat.is_large_string(lt)) and (pat.is_string(rt) or pat.is_large_string(rt))
    if stringy:
        return pa.large_string()
    if pat.is_integer(lt) and pat.is_integer(rt):
        return pa.int64()
    if pat.is_temporal(lt) and pat.is_temporal(rt) and pat.is_timestamp(lt) and pat.is_timestamp(rt):
        if lt.tz != rt.tz and (lt.tz is None or rt.tz is None):
            raise SchemaError(
                f"Cannot join timestamp key `{lname}` ({lt}) with `{rname}` ({rt}): one has a time zone "
                "and the other has none; give both the same zone"
            )
        unit = max((lt.unit, rt.unit), key=["s", "ms", "us", "ns"].index)
        return pa.timestamp(unit, tz=lt.tz)
    raise SchemaError(
        f"Cannot join key `{lname}` of type `{lt}` with key `{rname}` of type `{rt}`; cast one of them first"
    )


def _cast_keys(table: pa.Table, names: list[str], types: list[pa.DataType]) -> pa.Table:
    for n, t in zip(names, types):
        col = table.column(n)
        if not col.type.equals(t):
            i = table.schema.get_field_index(n)
            table = table.set_column(i, n, pc.cast(col, t))
    return table


def _check_unique(table: pa.Table, keys: list[str], side: str) -> None:
    counts = table.select(keys).group_by(keys).aggregate([([], "count_all")])
    c = counts.column("count_all")
    if len(c) and pc.max(c).as_py() > 1:
        at = pc.index(c, pc.max(c)).as_py()
        example = {k: counts.column(k)[at].as_py() for k in keys}
        n_bad = pc.sum(pc.greater(c, 1)).as_py()
        raise ShapeError(
            f"The {side} keys {keys} must be unique for this join, but {n_bad} keys repeat, e.g. {example} "
            f"occurs {pc.max(c).as_py()} times"
        )


def join(
    left: Any,
    right: Any,
    *,
    on: str | Sequence[str] | None = None,
    left_on: str | Sequence[str] | None = None,
    right_on: str | Sequence[str] | None = None,
    how: str = "left",
    suffix: str = "_right",
    validate: str | None = None,
) -> pa.Table:
    """Join two tables on equal keys, keeping the left table's row order.

    Null keys match nothing (SQL semantics). Integer keys of different widths, and ``string``
    with ``large_string``, are compared in a common type; other type differences are an error
    that names both columns.

    Parameters
    ----------
    left, right : table-like
    on : column name or names, present in both tables
    left_on, right_on : names, when they differ between the tables
    how : {"left", "inner", "outer", "right"}
    suffix : str
        Appended to right columns whose names collide with left columns.
    validate : {"1:1", "m:1", "1:m"}, optional
        Check that the keys are unique on the side(s) that must be, so that a join cannot
        multiply rows unexpectedly; a :class:`ShapeError` names a repeated key.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import join
    >>> flights = pa.table({"origin": ["EWR", "JFK", "EWR"], "hour": [5, 5, 6]})
    >>> weather = pa.table({"origin": ["EWR", "EWR", "JFK"], "hour": [5, 6, 5], "temp": [39.0, 39.9, 41.0]})
    >>> join(flights, weather, on=["origin", "hour"], validate="m:1").column("temp").to_pylist()
    [39.0, 41.0, 39.9]
    """
    lt, rt = _arrow.as_table(left), _arrow.as_table(right)
    if how not in _HOWS:
        raise ValueError(f"how must be one of {list(_HOWS)}, got {how!r}")
    if on is not None and (left_on is not None or right_on is not None):
        raise ValueError("Pass either on= or left_on=/right_on=, not both")
    lk = _names(on if on is not None else left_on, "left_on")
    rk = _names(on if on is not None else right_on, "right_on")
    if not lk or len(lk) != len(rk):
        raise ValueError(f"Need the same positive number of left and right keys, got {lk} and {rk}")
    for n in lk:
        _arrow.get_column(lt, n)
    for n in rk:
        _arrow.get_column(rt, n)
    if validate not in (None, "1:1", "m:1", "1:m"):
        raise ValueError(f"validate must be None, '1:1', 'm:1' or '1:m', got {validate!r}")
    types = [_key_type(lt.column(a).type, rt.column(b).type, a, b) for a, b in zip(lk, rk)]
    lt, rt = _cast_keys(lt, lk, types), _cast_keys(rt, rk, types)
    if validate in ("1:1", "m:1"):
        _check_unique(rt, rk, "right")
    if validate in ("1:1", "1:m"):
        _check_unique(lt, lk, "left")
    if _ROW in lt.column_names or _ROW in rt.column_names:
        raise SchemaError(f"Column name `{_ROW}` is reserved by mlcore.data.join")
    lt = lt.append_column(_ROW, pa.array(np.arange(lt.num_rows, dtype=np.int64)))
    rt = rt.append_column(_ROW + "r", pa.array(np.arange(rt.num_rows, dtype=np.int64)))
    out = lt.join(rt, keys=lk, right_keys=rk, join_type=_HOWS[how], right_suffix=suffix,
                  coalesce_keys=True, use_threads=True)
    # Arrow's hash join emits rows in no fixed order: restore the left order (then the right's).
    out = out.sort_by([(_ROW, "ascending"), (_ROW + "r", "ascending")])
    out = out.drop_columns([_ROW, _ROW + "r"])
    order = [c for c in lt.column_names if c != _ROW]
    order += [c for c in out.column_names if c not in order]
    return out.select(order).combine_chunks()


def _time_values(col: pa.ChunkedArray, name: str) -> tuple[np.ndarray, np.ndarray]:
    t = col.type
    if pat.is_timestamp(t) or pat.is_date(t) or pat.is_duration(t) or pat.is_integer(t):
        storage = pa.int32() if (not pat.is_integer(t) and t.bit_width == 32) else pa.int64()
        ints = pc.cast(pc.cast(col, storage), pa.int64())
        valid = np.asarray(pc.is_valid(ints), dtype=bool) if len(col) else np.zeros(0, bool)
        vals = np.asarray(pc.fill_null(ints, 0), dtype=np.int64) if len(col) else np.zeros(0, np.int64)
        return vals, valid
    if pat.is_floating(t):
        f = pc.cast(col, pa.float64())
        vals = np.asarray(pc.fill_null(f, np.nan), dtype=np.float64) if len(col) else np.zeros(0)
        return vals, ~np.isnan(vals)
    raise SchemaError(f"As-of column `{name}` must be a timestamp, date, integer or float column, got `{t}`")


def _group_codes(lt: pa.Table, rt: pa.Table, lby: list[str], rby: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """Joint integer codes of the `by` keys over both tables (-1 for a null key)."""
    nl = lt.num_rows
    code = np.zeros(nl + rt.num_rows, dtype=np.int64)
    for a, b in zip(lby, rby):
        t = _key_type(lt.column(a).type, rt.column(b).type, a, b)
        both = pa.chunked_array(pc.cast(lt.column(a), t).chunks + pc.cast(rt.column(b), t).chunks, type=t)
        enc = pc.dictionary_encode(both).combine_chunks()
        idx = np.asarray(pc.fill_null(enc.indices.cast(pa.int64()), -1), dtype=np.int64)
        n_values = len(enc.dictionary) + 1
        code = np.where((code < 0) | (idx < 0), -1, code * n_values + idx)
    if lby:
        valid = code >= 0
        uniq, inv = np.unique(code[valid], return_inverse=True)
        out = np.full(code.size, -1, dtype=np.int64)
        out[valid] = inv
        code, n_groups = out, len(uniq)
    else:
        n_groups = 1
    return code[:nl], code[nl:], n_groups


def _tolerance(tol: Any, col_type: pa.DataType) -> tuple[bool, float | int]:
    if tol is None:
        return False, 0
    if isinstance(tol, _dt.timedelta):
        if not (pat.is_timestamp(col_type) or pat.is_duration(col_type)):
            raise SchemaError(f"A timedelta tolerance needs a timestamp column, got `{col_type}`")
        unit = col_type.unit
        return True, pa.scalar(tol, type=pa.duration(unit)).cast(pa.int64()).as_py()
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) or tol < 0:
        raise ValueError(f"tolerance must be a non-negative number or a datetime.timedelta, got {tol!r}")
    return True, tol


def join_asof(
    left: Any,
    right: Any,
    *,
    on: str,
    by: str | Sequence[str] | None = None,
    right_on: str | None = None,
    right_by: str | Sequence[str] | None = None,
    tolerance: Any = None,
    direction: str = "backward",
    allow_exact_matches: bool = True,
    suffix: str = "_right",
) -> pa.Table:
    """For each left row, the right row of the same ``by`` group with the nearest earlier (or,
    with ``direction="forward"``, later) ``on`` value, as pandas' ``merge_asof``.

    Neither table needs to be sorted; the result keeps the left rows in order and adds the right
    table's other columns (null where nothing matched: no earlier observation, a gap beyond
    ``tolerance``, or a null time or key). When several right rows share the matching time, the
    last of them (in the right table's order) is taken going backward, the first going forward.

    Parameters
    ----------
    left, right : table-like
    on : str
        The time column (timestamp, date, integer or float).
    by : name or names, optional
        Keys that must match exactly (e.g. the airport).
    right_on, right_by : optional
        The right table's names when they differ.
    tolerance : number or datetime.timedelta, optional
        The largest allowed distance in time.
    direction : {"backward", "forward"}
    allow_exact_matches : bool
        Whether an equal time matches (else strictly earlier / later).
    suffix : str
        Appended to right columns whose names collide with left columns.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import join_asof
    >>> trades = pa.table({"t": [3, 7, 10], "k": ["a", "a", "b"]})
    >>> quotes = pa.table({"t": [1, 5, 9, 2], "k": ["a", "a", "b", "b"], "q": [1.0, 2.0, 3.0, 4.0]})
    >>> join_asof(trades, quotes, on="t", by="k").column("q").to_pylist()
    [1.0, 2.0, 3.0]
    """
    lt, rt = _arrow.as_table(left), _arrow.as_table(right)
    if direction not in ("backward", "forward"):
        raise ValueError(f"direction must be 'backward' or 'forward', got {direction!r}")
    ron = right_on or on
    lby = _names(by, "by")
    rby = _names(right_by, "right_by") if right_by is not None else lby
    if len(lby) != len(rby):
        raise ValueError(f"by and right_by must name as many columns, got {lby} and {rby}")
    lcol, rcol = _arrow.get_column(lt, on), _arrow.get_column(rt, ron)
    for n in lby:
        _arrow.get_column(lt, n)
    for n in rby:
        _arrow.get_column(rt, n)
    ct = _key_type(lcol.type, rcol.type, on, ron)
    if not lcol.type.equals(ct):
        lcol = pc.cast(lcol, ct)
    if not rcol.type.equals(ct):
        rcol = pc.cast(rcol, ct)
    has_tol, tol = _tolerance(tolerance, ct)
    ltime, lvalid = _time_values(lcol, on)
    rtime, rvalid = _time_values(rcol, ron)
    lgroup, rgroup, n_groups = _group_codes(lt, rt, lby, rby)
    lvalid &= lgroup >= 0
    keep = np.flatnonzero(rvalid & (rgroup >= 0))
    order = keep[np.lexsort((rtime[keep], rgroup[keep]))]
    rg_sorted = rgroup[order]
    groups = np.arange(n_groups, dtype=np.int64)
    starts = np.searchsorted(rg_sorted, groups, side="left").astype(np.int64)
    ends = np.searchsorted(rg_sorted, groups, side="right").astype(np.int64)
    rt_sorted = np.ascontiguousarray(rtime[order])
    if rt_sorted.dtype == np.float64:
        ltime = ltime.astype(np.float64)
        tol = float(tol)
    else:
        ltime = ltime.astype(np.int64)
        tol = int(tol) if float(tol).is_integer() else tol
        if not isinstance(tol, int):
            rt_sorted, ltime = rt_sorted.astype(np.float64), ltime.astype(np.float64)
    match = np.empty(lt.num_rows, dtype=np.int64)
    _kj.asof_match(lgroup, ltime, lvalid.astype(np.uint8), starts, ends, rt_sorted, order.astype(np.int64),
                   direction == "forward", bool(allow_exact_matches), has_tol, tol, match)
    extra = [c for c in rt.column_names if c != ron and c not in rby]
    taken = rt.select(extra).take(pa.array(match, mask=match < 0))
    out = lt
    for name in extra:
        new = name if name not in out.column_names else name + suffix
        if new in out.column_names:
            raise SchemaError(f"Column `{new}` exists on both sides even with the suffix {suffix!r}")
        out = out.append_column(new, taken.column(name))
    return out.combine_chunks()
