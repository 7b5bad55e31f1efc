"""Fitted category sets as plain arrays, and the kernel lookup from Arrow strings to codes.

A category set is the sorted categories' UTF-8 bytes (``cat_data``, uint8) with their offsets
(``cat_offsets``, int64) plus an open-addressing table (``slots``) rebuilt on load. Codes: the
category position, -1 for a category not seen at fit, -2 for null. Accepted columns: string,
large_string, binary, dictionary (its dictionary is looked up once, then the indices mapped);
integer and bool columns are cast to strings once (a copy), their categories sorted by value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from .._kernels import feat_strings as ks
from ..errors import SchemaError

__all__ = ["fit_categories", "CategorySet", "codes_of"]


def _string_column(col: pa.ChunkedArray, name: str, owner: str) -> tuple[pa.ChunkedArray, str]:
    t = col.type
    if pat.is_string(t) or pat.is_large_string(t) or pat.is_binary(t) or pat.is_large_binary(t):
        return col, "string"
    if pat.is_dictionary(t):
        return col, "string"
    if pat.is_integer(t) or pat.is_boolean(t):
        return col.cast(pa.string()), "int" if pat.is_integer(t) else "bool"
    raise SchemaError(
        f"{owner} expects a categorical column (string, large_string, binary, dictionary, integer "
        f"or bool), got `{t}` - at column `{name}`"
    )


class CategorySet:
    """Sorted categories of one column as arrays, with the hash table for lookups."""

    def __init__(self, cat_offsets: np.ndarray, cat_data: np.ndarray):
        self.cat_offsets = np.ascontiguousarray(cat_offsets, dtype=np.int64)
        self.cat_data = np.ascontiguousarray(cat_data, dtype=np.uint8)
        n = self.cat_offsets.size - 1
        size = 16
        while size < 2 * n + 2:
            size *= 2
        self.slots = np.full(size, -1, dtype=np.int32)
        dup = ks.build_table(self.cat_offsets, self.cat_data, self.slots)
        if dup >= 0:
            raise ValueError(f"category {self.label(dup)!r} occurs twice in a category set")

    @classmethod
    def from_values(cls, values: list[bytes]) -> "CategorySet":
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum([len(v) for v in values], out=offsets[1:])
        data = np.frombuffer(b"".join(values), dtype=np.uint8) if values else np.zeros(0, np.uint8)
        return cls(offsets, data.copy())

    def __len__(self) -> int:
        return self.cat_offsets.size - 1

    def raw(self, i: int) -> bytes:
        return self.cat_data[self.cat_offsets[i]:self.cat_offsets[i + 1]].tobytes()

    def label(self, i: int) -> str:
        return self.raw(i).decode("utf-8", errors="replace")

    def labels(self) -> list[str]:
        return [self.label(i) for i in range(len(self))]


def fit_categories(table: pa.Table, name: str, owner: str) -> tuple[CategorySet, np.ndarray, int, str]:
    """(sorted categories, their counts, null count, value type) of a column."""
    col, vtype = _string_column(_arrow.get_column(table, name), name, owner)
    if pat.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    vc = pc.value_counts(col)
    values = vc.field("values")
    counts = vc.field("counts").to_numpy()
    null_count = 0
    items = []
    for v, n in zip(values.to_pylist(), counts):
        if v is None:
            null_count = int(n)
            continue
        raw = v.encode("utf-8") if isinstance(v, str) else bytes(v)
        items.append((raw, int(n)))
    if vtype == "int":
        items.sort(key=lambda it: int(it[0]))
    else:
        items.sort(key=lambda it: it[0])  # UTF-8 byte order is code-point order (Python's str sort)
    cats = CategorySet.from_values([it[0] for it in items])
    return cats, np.array([it[1] for it in items], dtype=np.int64), null_count, vtype


def codes_of(table: pa.Table, name: str, cats: CategorySet, owner: str) -> np.ndarray:
    """int32 codes of every row of column ``name``: category position, -1 unseen, -2 null."""
    col, _ = _string_column(_arrow.get_column(table, name), name, owner)
    out = np.empty(len(col), dtype=np.int32)
    pos = 0
    for chunk in col.chunks:
        n = len(chunk)
        if n == 0:
            continue
        dst = out[pos:pos + n]
        if pat.is_dictionary(chunk.type):
            dictionary = chunk.dictionary
            if not (pat.is_string(dictionary.type) or pat.is_large_string(dictionary.type)
                    or pat.is_binary(dictionary.type) or pat.is_large_binary(dictionary.type)):
                dictionary = dictionary.cast(pa.string())
            dv = _arrow.chunk_view(dictionary, name=name)
            dict_codes = np.empty(len(dictionary), dtype=np.int32)
            if len(dictionary):
                ks.lookup(dv.length, dv.offset, dv.validity, dv.offsets, dv.values, cats.cat_offsets,
                          cats.cat_data, cats.slots, np.int32(-2), dict_codes)
            v = _arrow.chunk_view(chunk, name=name)
            ks.map_indices(v.length, v.offset, v.validity, v.values, dict_codes, np.int32(-2), dst)
        else:
            v = _arrow.chunk_view(chunk, name=name, accept=("string",))
            ks.lookup(v.length, v.offset, v.validity, v.offsets, v.values, cats.cat_offsets,
                      cats.cat_data, cats.slots, np.int32(-2), dst)
        pos += n
    return out


def raise_unseen(table: pa.Table, name: str, codes: np.ndarray, null_seen: bool, owner: str) -> None:
    """Raise a ValueError naming the first category (or null) not seen at fit, if any."""
    bad = codes == -1
    if not null_seen:
        bad |= codes == -2
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    value = _arrow.get_column(table, name)[i].as_py()
    what = "null" if value is None else repr(value)
    raise ValueError(
        f"{owner}: column `{name}` has category {what} at row {i} (and {int(bad.sum()) - 1} more "
        f"row(s)) not seen at fit, and handle_unknown='error'; fit with handle_unknown='ignore' or "
        f"'infrequent' to accept unseen categories"
    )
