"""Splitting a table into train/validation/test parts: random, stratified, grouped, by time."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from ..errors import SchemaError

__all__ = ["SPLIT_METHODS", "split", "split_indices"]

SPLIT_METHODS = ("random", "stratified", "group", "time")


def _check_sizes(sizes: Sequence[float]) -> np.ndarray:
    try:
        s = np.asarray([float(x) for x in sizes], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"sizes must be a sequence of fractions, got {sizes!r}") from None
    if s.size < 2 or not np.all(s > 0) or abs(s.sum() - 1.0) > 1e-9:
        raise ValueError(f"sizes must hold two or more positive fractions that sum to 1, got {list(sizes)}")
    return s


def _counts(n: int, sizes: np.ndarray) -> np.ndarray:
    """Integer part sizes summing to n, by the largest remainder (ties to the earlier part)."""
    raw = sizes * n
    base = np.floor(raw).astype(np.int64)
    short = n - int(base.sum())
    if short:
        order = np.argsort(-(raw - base), kind="stable")
        base[order[:short]] += 1
    return base


def _codes(col: pa.ChunkedArray) -> np.ndarray:
    """Integer codes of a column's values (null is a value of its own)."""
    if pat.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    enc = pc.dictionary_encode(col, null_encoding="encode").combine_chunks()
    return np.asarray(enc.indices.cast(pa.int64()), dtype=np.int64) if len(col) else np.zeros(0, np.int64)


def split_indices(
    data: Any,
    *,
    method: str = "random",
    sizes: Sequence[float] = (0.8, 0.2),
    seed: int | None = 0,
    stratify: str | None = None,
    group: str | None = None,
    time: str | None = None,
) -> list[np.ndarray]:
    """The row numbers of each part (ascending within a part); see :func:`split`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import split_indices
    >>> [len(p) for p in split_indices(pa.table({"x": list(range(10))}), sizes=(0.7, 0.3))]
    [7, 3]
    """
    table = _arrow.as_table(data)
    if method not in SPLIT_METHODS:
        raise ValueError(f"method must be one of {list(SPLIT_METHODS)}, got {method!r}")
    s = _check_sizes(sizes)
    n = table.num_rows
    rng = np.random.default_rng(seed)
    need = {"stratified": ("stratify", stratify), "group": ("group", group), "time": ("time", time)}
    if method in need:
        pname, col_name = need[method]
        if col_name is None:
            raise ValueError(f"method={method!r} needs {pname}= (a column name)")
        col = _arrow.get_column(table, col_name)
    if method == "random":
        perm = rng.permutation(n)
        bounds = np.concatenate([[0], np.cumsum(_counts(n, s))])
        return [np.sort(perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    if method == "stratified":
        codes = _codes(col)
        parts: list[list[np.ndarray]] = [[] for _ in s]
        for c in np.unique(codes):
            rows = np.flatnonzero(codes == c)
            rows = rows[rng.permutation(rows.size)]
            bounds = np.concatenate([[0], np.cumsum(_counts(rows.size, s))])
            for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
                parts[k].append(rows[a:b])
        return [np.sort(np.concatenate(p)) if p else np.zeros(0, np.int64) for p in parts]
    if method == "group":
        codes = _codes(col)
        groups = np.unique(codes)
        if groups.size < s.size and n:
            raise ValueError(
                f"Column `{group}` has {groups.size} groups; a grouped split into {s.size} parts needs at least as many"
            )
        sizes_of = np.bincount(codes, minlength=groups.size if groups.size else 0) if n else np.zeros(0, np.int64)
        order = rng.permutation(groups.size)
        targets = np.cumsum(s) * n
        assign = np.empty(groups.size, dtype=np.int64)
        filled = 0
        part = 0
        in_part = 0
        for pos, g in enumerate(order):
            remaining = groups.size - pos
            # Move on once this part has its share, or when the groups left are only enough to
            # give every later part one; every part gets at least one group.
            if part < s.size - 1 and in_part and (filled >= targets[part] or remaining <= s.size - 1 - part):
                part += 1
                in_part = 0
            assign[g] = part
            filled += sizes_of[g]
            in_part += 1
        row_part = assign[codes] if n else np.zeros(0, np.int64)
        return [np.flatnonzero(row_part == k) for k in range(s.size)]
    # time
    t = col
    if not (pat.is_temporal(t.type) or pat.is_integer(t.type) or pat.is_floating(t.type)):
        raise SchemaError(f"Column `{time}` must be a timestamp, date or number for a time split, got `{t.type}`")
    n_null = t.null_count
    if n_null:
        raise SchemaError(f"Column `{time}` has {n_null} null times; a time split needs every row's time (impute or drop them first)")
    if pat.is_floating(t.type) and pc.any(pc.is_nan(t)).as_py():
        raise SchemaError(f"Column `{time}` has NaN times; a time split needs every row's time")
    order = np.asarray(pc.sort_indices(t), dtype=np.int64)  # stable: ties keep row order
    sorted_t = t.take(pa.array(order))
    bounds = list(np.cumsum(_counts(n, s))[:-1])
    # Never cut between equal times: the same instant would sit on both sides.
    fixed = []
    for b in bounds:
        b = int(b)
        if 0 < b < n:
            v = sorted_t[b - 1]
            eq = pc.equal(sorted_t, v)
            b = int(np.flatnonzero(_np_bool(eq))[-1]) + 1
        fixed.append(b)
    edges = [0] + fixed + [n]
    edges = list(np.maximum.accumulate(edges))
    return [np.sort(order[a:b]) for a, b in zip(edges[:-1], edges[1:])]


def _np_bool(arr) -> np.ndarray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return np.asarray(pc.fill_null(arr, False), dtype=bool)


def split(
    data: Any,
    *,
    method: str = "random",
    sizes: Sequence[float] = (0.8, 0.2),
    seed: int | None = 0,
    stratify: str | None = None,
    group: str | None = None,
    time: str | None = None,
) -> tuple[pa.Table, ...]:
    """Split rows into parts (train/test, or train/validation/test) of the given ``sizes``.

    - ``"random"``: a seeded permutation.
    - ``"stratified"``: each value of column ``stratify`` (null included) is split in the same
      proportions (largest-remainder rounding per class).
    - ``"group"``: whole groups of column ``group`` go to one part (no group is split), groups
      drawn in a seeded order until each part has its share of rows.
    - ``"time"``: earliest rows first by column ``time``; equal times never straddle a boundary.

    Rows keep their input order within a part. The same seed gives the same split.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from mlcore.data import split
    >>> t = pa.table({"t": [5, 1, 4, 2, 3], "y": [0, 1, 0, 1, 0]})
    >>> train, test = split(t, method="time", time="t", sizes=(0.6, 0.4))
    >>> train.column("t").to_pylist(), test.column("t").to_pylist()
    ([1, 2, 3], [5, 4])
    """
    table = _arrow.as_table(data)
    parts = split_indices(table, method=method, sizes=sizes, seed=seed, stratify=stratify, group=group, time=time)
    return tuple(table.take(pa.array(p, type=pa.int64())) for p in parts)
