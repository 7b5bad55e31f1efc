"""Sorted numeric samples of many columns in one flat buffer, read from Arrow once.

Each column's valid values are copied (nulls dropped through the validity bitmap, the only safe
reading of Arrow nulls, whose value slots hold arbitrary bits) into its segment of one float64
buffer and sorted there in place (a compiled radix sort from 65,536 values, NumPy's sort below),
both putting every NaN, whatever its sign bit, last.
``n[f]`` counts the non-NaN values, so the compiled merge walk never sees a NaN.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Sequence

import numba
import numpy as np

from .. import _arrow
from .._kernels import drift_sort as _sort
from .._kernels import drift_walk as _walk


_THREADED_FROM = 200_000  # values in all: below, thread start-up costs more than it saves


@dataclass(frozen=True)
class SortedColumns:
    """Sorted non-NaN values of several numeric columns, concatenated.

    ``values[start[f]:start[f] + n[f]]`` is column ``f`` sorted; ``n_nan[f]`` NaN follow it in
    the buffer; ``n_null[f]`` rows were null and ``n_rows[f]`` is the column length.
    """

    names: tuple[str, ...]
    values: np.ndarray
    start: np.ndarray
    n: np.ndarray
    n_nan: np.ndarray
    n_null: np.ndarray
    n_rows: np.ndarray

    def column(self, f: int) -> np.ndarray:
        """The sorted non-NaN values of column ``f`` (a view)."""
        s = int(self.start[f])
        return self.values[s:s + int(self.n[f])]

    def index(self, name: str) -> int:
        return self.names.index(name)


def sort_columns(table: Any, columns: Sequence[str]) -> SortedColumns:
    """Read ``columns`` of ``table`` (numeric Arrow columns, any chunking, offsets or nulls) and
    return them sorted, one segment per column."""
    views = [_arrow.numeric_views(table, name) for name in columns]
    n_rows = np.array([sum(v.length for v in vs) for vs in views], dtype=np.int64)
    n_null = np.array([sum(v.null_count for v in vs) for vs in views], dtype=np.int64)
    sizes = n_rows - n_null
    start = np.zeros(len(columns), dtype=np.int64)
    if len(columns):
        start[1:] = np.cumsum(sizes)[:-1]
    flat = _arrow.empty_numeric(int(sizes.sum()))
    n = np.zeros(len(columns), dtype=np.int64)
    n_nan = np.zeros(len(columns), dtype=np.int64)

    def one(f):
        pos = int(start[f])
        for v in views[f]:
            if v.length == 0 or v.null_count == v.length:
                continue
            pos = _walk.compact_valid(v.length, v.offset, v.validity, v.values, flat, pos)
        seg = flat[int(start[f]):pos]
        if seg.size >= _sort.RADIX_FROM:
            _sort.radix_sort_f64(seg)
        else:
            seg.sort()
        # NaN sort last, and searchsorted orders NaN the same way: the first NaN's position.
        k = int(np.searchsorted(seg, np.nan, side="left")) if seg.size else 0
        n[f] = k
        n_nan[f] = seg.size - k

    threads = min(numba.get_num_threads(), len(columns))
    if threads > 1 and int(sizes.sum()) >= _THREADED_FROM:
        # the sorts and the compaction kernel (nogil) release the GIL: columns sort in parallel
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, range(len(columns))))
    else:
        for f in range(len(columns)):
            one(f)
    return SortedColumns(tuple(columns), flat, start, n, n_nan, n_null, n_rows)


def sort_array(x: Any, name: str = "values") -> SortedColumns:
    """:func:`sort_columns` for one column-like input (Arrow array, NumPy 1-D, pandas Series)."""
    col = _arrow.as_chunked(x, name=name)
    import pyarrow as pa

    return sort_columns(pa.table({name: col}), [name])
