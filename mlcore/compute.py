"""Column operations on compiled kernels, through the Arrow layer.

Each function takes a column (pyarrow Array or ChunkedArray, a 1-D NumPy array, a pandas Series,
an Arrow PyCapsule) or a table plus a column name, reads the Arrow buffers in place, and returns a
Python scalar or an Arrow array built over the kernel's output without copying. Null handling
follows ``pyarrow.compute``: nulls are skipped; ``sum`` and ``mean`` propagate NaN, ``min_max``
skips it; a column with no valid value gives ``None``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from . import _arrow
from ._kernels import bitmap as _bitmap
from ._kernels import elementwise as _elementwise
from ._kernels import reduce as _reduce

__all__ = ["sum", "mean", "min_max", "affine", "describe"]



def _zero_for(view: _arrow.ChunkView):
    dt = view.values.dtype
    if dt.kind == "u":
        return np.uint64(0)
    if dt.kind == "i":
        return np.int64(0)
    return np.float64(0.0)


def _sum_count(views):
    total = None
    count = 0
    for v in views:
        if v.length == 0:
            continue
        s, n = _reduce.sum_valid(v.length, v.offset, v.validity, v.values, _zero_for(v))
        if n:
            total = s if total is None else total + s
            count += n
    return total, count


def sum(data: Any, column: str | None = None):
    """Sum of the valid values; ``None`` when there is none.

    Integer columns sum as 64-bit integers (as Arrow does), floating-point ones as float64.

    Examples
    --------
    >>> import pyarrow as pa, mlcore.compute as mc
    >>> mc.sum(pa.array([1.5, None, 2.0]))
    3.5
    """
    views = _arrow.column_views(data, column, accept=("numeric",))
    total, count = _sum_count(views)
    if count == 0:
        return None
    return total.item() if isinstance(total, np.generic) else total


def mean(data: Any, column: str | None = None) -> float | None:
    """Mean of the valid values as float64; ``None`` when there is none.

    Examples
    --------
    >>> import pyarrow as pa, mlcore.compute as mc
    >>> mc.mean(pa.array([1, 2, None, 6]))
    3.0
    """
    views = _arrow.column_views(data, column, accept=("numeric",))
    total, count = _sum_count(views)
    if count == 0:
        return None
    return float(total) / count


def min_max(data: Any, column: str | None = None) -> dict:
    """``{"min": …, "max": …}`` over valid non-NaN values (NaN only when every valid value is NaN).

    Examples
    --------
    >>> import pyarrow as pa, mlcore.compute as mc
    >>> mc.min_max(pa.array([3.0, float("nan"), -1.0, None]))
    {'min': -1.0, 'max': 3.0}
    """
    views = _arrow.column_views(data, column, accept=("numeric",))
    lo, hi, n_finite, n_valid = np.inf, -np.inf, 0, 0
    for v in views:
        if v.length == 0:
            continue
        a, b, n = _reduce.min_max_valid(v.length, v.offset, v.validity, v.values)
        n_valid += v.length - v.null_count
        if n:
            lo, hi, n_finite = min(lo, a), max(hi, b), n_finite + n
    if n_valid == 0:
        return {"min": None, "max": None}
    if n_finite == 0:
        return {"min": float("nan"), "max": float("nan")}
    return {"min": float(lo), "max": float(hi)}


def _carry_validity(v: _arrow.ChunkView) -> np.ndarray | None:
    if not v.has_nulls:
        return None
    out = np.empty((v.length + 7) // 8, dtype=np.uint8)
    _bitmap.copy_bits(v.length, v.offset, v.validity, out)
    return out


def affine(data: Any, column: str | None = None, *, scale: float = 1.0, shift: float = 0.0) -> pa.ChunkedArray:
    """``x * scale + shift`` as float64, keeping nulls; one output chunk per input chunk.

    Examples
    --------
    >>> import pyarrow as pa, mlcore.compute as mc
    >>> mc.affine(pa.array([1.0, None, 3.0]), scale=2.0, shift=1.0).to_pylist()
    [3.0, None, 7.0]
    """
    views = _arrow.column_views(data, column, accept=("numeric",))
    chunks = []
    for v in views:
        out = _arrow.empty_numeric(v.length)
        if v.length:
            _elementwise.affine(v.length, v.offset, v.values, float(scale), float(shift), out)
        chunks.append(_arrow.wrap_numeric(out, _carry_validity(v), null_count=v.null_count))
    return pa.chunked_array(chunks, type=pa.float64())


_SUMMARY_FIELDS = ("n_valid", "n_null", "n_nan", "n_posinf", "n_neginf", "mean", "m2", "min", "max")


def describe(data: Any) -> pa.Table:
    """One row per numeric column: counts of rows, nulls, NaN and ±inf, mean, standard deviation,
    min and max of the finite values, computed in one compiled pass per chunk.

    Non-numeric columns are listed with their type and null count only.

    Examples
    --------
    >>> import pyarrow as pa, mlcore.compute as mc
    >>> mc.describe(pa.table({"x": [1.0, 2.0, None]})).column("mean").to_pylist()
    [1.5]
    """
    table = _arrow.as_table(data)
    rows = {k: [] for k in ("column", "type", "rows", "nulls", "nan", "inf", "mean", "std", "min", "max")}
    for name, col in zip(table.column_names, table.columns):
        kind = _arrow.type_kind(col.type)
        rows["column"].append(name)
        rows["type"].append(str(col.type))
        rows["rows"].append(len(col))
        rows["nulls"].append(col.null_count)
        if kind not in ("numeric", "temporal") or len(col) == 0:
            for k in ("nan", "inf", "mean", "std", "min", "max"):
                rows[k].append(None)
            continue
        n_nan = n_inf = n = 0
        mean_ = m2 = 0.0
        lo, hi = np.inf, -np.inf
        part = np.empty(len(_SUMMARY_FIELDS), dtype=np.float64)
        for v in (_arrow.chunk_view(c, name=name) for c in col.chunks):
            if v.length == 0:
                continue
            _reduce.summary(v.length, v.offset, v.validity, v.values, part)
            n_nan += int(part[2])
            n_inf += int(part[3] + part[4])
            k = int(part[0] - part[2] - part[3] - part[4])
            if k:
                # Chan et al.'s merge of two (count, mean, m2) summaries
                delta = part[5] - mean_
                tot = n + k
                mean_ += delta * k / tot
                m2 += part[6] + delta * delta * n * k / tot
                n = tot
                lo, hi = min(lo, part[7]), max(hi, part[8])
        rows["nan"].append(n_nan)
        rows["inf"].append(n_inf)
        rows["mean"].append(mean_ if n else None)
        rows["std"].append(float(np.sqrt(m2 / (n - 1))) if n > 1 else None)
        rows["min"].append(float(lo) if n else None)
        rows["max"].append(float(hi) if n else None)
    return pa.table(rows, schema=pa.schema([
        ("column", pa.string()), ("type", pa.string()), ("rows", pa.int64()), ("nulls", pa.int64()),
        ("nan", pa.int64()), ("inf", pa.int64()), ("mean", pa.float64()), ("std", pa.float64()),
        ("min", pa.float64()), ("max", pa.float64()),
    ]))
