"""The compiled scan behind validate() and repair(): one kernel pass per column chunk.

Internal: turns a column plus its :class:`ColumnSpec` into kernel arguments (hash sets for
categories and uniqueness, range bounds in the column's own unit, parse modes for type checks),
runs the pass chunk by chunk and merges the per-chunk state.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from .. import _arrow
from .._kernels import data_validate as K
from ..errors import SchemaError
from .schema import ColumnSpec, _bound_number

KINDS = ("null", "nan", "posinf", "neginf", "below_min", "above_max", "unseen_category", "duplicate",
         "type_mismatch")

_EMPTY_U64 = np.zeros(0, dtype=np.uint64)
_EMPTY_U8 = np.zeros(0, dtype=np.uint8)
_EMPTY_I64 = np.zeros(0, dtype=np.int64)


def _capacity(n: int) -> int:
    """A power of two at least twice ``n`` (load factor at most 1/2), and at least 8."""
    return 1 << max(3, int(2 * max(n, 1) - 1).bit_length())


def _bits_dtype(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return values.view({4: np.int32, 8: np.int64}[values.dtype.itemsize])
    return values


def _salt(j: int) -> np.uint64:
    return np.uint64((0x632BE59BD9B4E019 * (j + 1)) & 0xFFFFFFFFFFFFFFFF)


def _is_string(t: pa.DataType) -> bool:
    return pat.is_string(t) or pat.is_large_string(t)


def _string_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """offsets (int64) and data (uint8) of a whole small string array, offset 0."""
    arr = pc.cast(arr, pa.large_string()) if not pat.is_large_string(arr.type) else arr
    v = _arrow.chunk_view(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    offs = np.asarray(v.offsets[v.offset:v.offset + v.length + 1], dtype=np.int64)
    return offs, v.values


@dataclass
class ColumnScan:
    """What one column's pass found."""

    name: str
    type: pa.DataType
    n_rows: int
    counts: np.ndarray
    examples: np.ndarray
    min: Any = None
    max: Any = None
    constant: bool = False
    type_problem: str | None = None  # a column-level type mismatch, described
    checked: tuple = ()  # the kinds this pass looked for, beyond nulls

    def count(self, kind: str) -> int:
        return int(self.counts[KINDS.index(kind)])


def compatible(actual: pa.DataType, declared: pa.DataType) -> str:
    """How a column of type ``actual`` relates to the declared type: 'same', 'parse' (strings
    that must parse as numbers), 'integral' (floats that must be whole), 'widen' (a lossless
    numeric cast) or 'mismatch'."""
    a = actual.value_type if pat.is_dictionary(actual) else actual
    d = declared.value_type if pat.is_dictionary(declared) else declared
    if a.equals(d) or (_is_string(a) and _is_string(d)):
        return "same"
    if _is_string(a) and (pat.is_integer(d) or pat.is_floating(d)):
        return "parse"
    if pat.is_floating(a) and pat.is_integer(d):
        return "integral"
    if pat.is_integer(a) and (pat.is_floating(d) or pat.is_integer(d)):
        return "widen"
    if pat.is_floating(a) and pat.is_floating(d):
        return "widen"
    return "mismatch"


def _numeric_set(spec: ColumnSpec, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    cats = [c for c in spec.categories if c is not None]
    try:
        vals = np.array(cats, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        raise SchemaError(
            f"Categories {cats[:5]!r} of column `{spec.name}` are not values of its type {dtype}"
        ) from None
    keys = np.empty(len(vals), dtype=np.uint64)
    if len(vals):
        K.numeric_keys(len(vals), 0, vals, _bits_dtype(vals), keys)
    cap = _capacity(len(vals))
    tk, tu = np.zeros(cap, dtype=np.uint64), np.zeros(cap, dtype=np.uint8)
    K.build_numeric_set(keys, tk, tu)
    return tk, tu


def _string_set(categories: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    cats = pa.array([str(c) for c in categories if c is not None], type=pa.large_string())
    offs, data = _string_buffers(cats)
    slots = np.full(_capacity(len(cats)), -1, dtype=np.int64)
    K.build_string_set(offs, data, slots)
    packed = np.zeros(max(len(cats), 1), dtype=np.uint64)
    K.pack_strings(offs, data, packed)
    return slots, offs, data, packed


def scan_column(name: str, col: pa.ChunkedArray, spec: ColumnSpec | None, rowhash: np.ndarray,
                salt: np.uint64, n_examples: int) -> ColumnScan:
    """Run the pass for one column. ``rowhash`` (uint64, one per row, or empty) is added to."""
    n = len(col)
    counts = np.zeros(K.N_KINDS, dtype=np.int64)
    examples = np.full((K.N_KINDS, n_examples), -1, dtype=np.int64)
    t = col.type
    out = ColumnScan(name, t, n, counts, examples)
    declared = spec.type if spec is not None else t
    rel = compatible(t, declared) if spec is not None else "same"
    kind = _arrow.type_kind(t)
    if rel == "mismatch" or kind is None:
        # No value-level check is meaningful: report the column, hash it as its text for the row
        # duplicates, and count its nulls.
        if rel == "mismatch":
            out.type_problem = f"expected `{declared}`, got `{t}`"
        valid = np.asarray(col.is_valid(), dtype=bool) if n else np.zeros(0, dtype=bool)
        if rel == "mismatch":
            counts[K.MISMATCH] = n - col.null_count
            rows = np.flatnonzero(valid)[:n_examples]
            examples[K.MISMATCH, :len(rows)] = rows
        counts[K.NULL] = col.null_count
        rows = np.flatnonzero(~valid)[:n_examples]
        examples[K.NULL, :len(rows)] = rows
        if rowhash.size and n:
            # Row duplicates still need this column: hash its values as text.
            # (a type with no text form, e.g. a list, is left out of the hashes: the exact
            # comparison of candidate rows in rows_equal still sees it)
            try:
                as_text = pc.cast(col, pa.large_string())
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                as_text = None
            if as_text is not None:
                scan_column(name, as_text, None, rowhash, salt, n_examples)
        out.checked = ("type_mismatch",) if rel == "mismatch" else ()
        return out
    if kind == "dictionary":
        _scan_dictionary(col, spec, rel, declared, rowhash, salt, out)
    elif kind in ("numeric", "temporal"):
        _scan_numeric(col, spec, rel, declared, rowhash, salt, out)
    elif kind == "string":
        _scan_string(col, spec, rel, declared, rowhash, salt, out)
    elif kind == "bool":
        _scan_bool(col, rowhash, salt, out)
    return out


def _range(spec: ColumnSpec | None, declared: pa.DataType, actual: pa.DataType) -> tuple[float, float]:
    if spec is None:
        return -math.inf, math.inf
    if pat.is_temporal(actual) and not actual.equals(declared):
        return -math.inf, math.inf  # another unit or zone: reported as a mismatch, range unchecked
    lo = -math.inf if spec.min is None else _bound_number(spec, spec.min)
    hi = math.inf if spec.max is None else _bound_number(spec, spec.max)
    return lo, hi


def _scan_numeric(col, spec, rel, declared, rowhash, salt, out: ColumnScan):
    lo, hi = _range(spec, declared, col.type)
    integral = rel == "integral"
    cat_k, cat_u = _EMPTY_U64, _EMPTY_U8
    views = [_arrow.chunk_view(c, name=out.name) for c in col.chunks]
    dtype = views[0].values.dtype if views else np.dtype(np.float64)
    checked = ["nan", "posinf", "neginf"] if dtype.kind == "f" else []
    if spec is not None and spec.categories is not None and not pat.is_temporal(col.type):
        cat_k, cat_u = _numeric_set(spec, dtype)
        checked.append("unseen_category")
    uniq_k, uniq_u = _EMPTY_U64, _EMPTY_U8
    if spec is not None and spec.unique:
        cap = _capacity(len(col) - col.null_count)
        uniq_k, uniq_u = np.zeros(cap, dtype=np.uint64), np.zeros(cap, dtype=np.uint8)
        checked.append("duplicate")
    if math.isfinite(lo) or math.isfinite(hi):
        checked += ["below_min", "above_max"]
    if integral:
        checked.append("type_mismatch")
    key_kind = K.KEY_FLOAT if dtype.kind == "f" else (K.KEY_UNSIGNED if dtype == np.uint64 else K.KEY_SIGNED)
    minmax = np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min], dtype=np.int64)
    scratch = np.empty(K.BLOCK, dtype=np.uint8)
    base = 0
    for v in views:
        if v.length:
            K.numeric_pass(v.length, v.offset, v.validity, v.values, _bits_dtype(v.values), key_kind, base, lo, hi,
                           integral, cat_k, cat_u, uniq_k, uniq_u, rowhash, salt, out.counts, out.examples,
                           minmax, scratch)
        base += v.length
    minmax = _from_order_keys(minmax, dtype)
    n_valid = len(col) - out.count("null")
    n_nan, n_pinf, n_ninf = out.count("nan"), out.count("posinf"), out.count("neginf")
    n_finite = n_valid - n_nan - n_pinf - n_ninf
    if n_finite:
        out.min, out.max = minmax[0].item(), minmax[1].item()
    # Constant: one kind of valid value only, and one finite value when finite (-0.0 == 0.0).
    kinds_present = sum(1 for c in (n_nan, n_pinf, n_ninf, n_finite) if c)
    out.constant = kinds_present == 1 and (n_finite == 0 or minmax[0] == minmax[1])
    out.checked = tuple(checked)


def _from_order_keys(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Invert kernels.data_validate.order_key: int64 order keys back to values of ``dtype``."""
    k = keys.astype(np.int64)
    if dtype.kind == "f":
        b = k ^ ((k >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
        return b.astype({4: np.int32, 8: np.int64}[dtype.itemsize]).view(dtype)
    if dtype == np.uint64:
        return (k ^ np.int64(-0x8000000000000000)).view(np.uint64)
    return k.astype(dtype)


def _scan_string(col, spec, rel, declared, rowhash, salt, out: ColumnScan):
    parse_mode = K.PARSE_NONE
    checked = []
    if rel == "parse":
        parse_mode = K.PARSE_INT if pat.is_integer(declared) else K.PARSE_FLOAT
        checked.append("type_mismatch")
    cat_slots, cat_offs, cat_data, cat_packed = _EMPTY_I64, _EMPTY_I64, _EMPTY_U8, _EMPTY_U64
    if spec is not None and spec.categories is not None:
        cat_slots, cat_offs, cat_data, cat_packed = _string_set(spec.categories)
        checked.append("unseen_category")
    unique = spec is not None and spec.unique
    if unique:
        checked.append("duplicate")
        if col.num_chunks > 1:
            col = pa.chunked_array([col.combine_chunks()], type=col.type)  # repeats across chunks: one buffer
    firsts = []
    differs = False
    base = 0
    for c in col.chunks:
        v = _arrow.chunk_view(c, name=out.name)
        if v.length:
            uniq = np.full(_capacity(v.length), -1, dtype=np.int64) if unique else _EMPTY_I64
            state = np.zeros(3, dtype=np.int64)
            K.string_pass(v.length, v.offset, v.validity, v.offsets, v.values, base, parse_mode,
                          cat_slots, cat_offs, cat_data, cat_packed, uniq, rowhash, salt, out.counts, out.examples, state)
            differs |= bool(state[2])
            if state[0]:
                firsts.append(c[int(state[1])].as_py())
        base += v.length
    out.constant = bool(firsts) and not differs and all(f == firsts[0] for f in firsts)
    out.checked = tuple(checked)


def _scan_dictionary(col, spec, rel, declared, rowhash, salt, out: ColumnScan):
    vt = col.type.value_type
    if not _is_string(vt):
        # Dictionaries of numbers are rare: decode them (a copy) and check the values.
        decoded = pa.chunked_array([c.dictionary_decode() for c in col.chunks], type=vt)
        if pat.is_integer(vt) or pat.is_floating(vt) or pat.is_temporal(vt):
            return _scan_numeric(decoded, spec, rel, declared, rowhash, salt, out)
        return _scan_bool(decoded, rowhash, salt, out)
    if col.num_chunks > 1:
        col = pa.table({"c": col}).unify_dictionaries().column(0)
    chunks = [c for c in col.chunks]
    dictionary = chunks[0].dictionary if chunks else pa.array([], type=vt)
    uniq = pc.unique(dictionary)
    canon = np.asarray(pc.index_in(dictionary, value_set=uniq, skip_nulls=False).fill_null(0), dtype=np.int64)
    # Entry-level facts from one string pass over the distinct entries, with room to list them all.
    m = len(uniq)
    ecounts = np.zeros(K.N_KINDS, dtype=np.int64)
    eex = np.full((K.N_KINDS, max(m, 1)), -1, dtype=np.int64)
    parse_mode = K.PARSE_NONE
    checked = []
    if rel == "parse":
        parse_mode = K.PARSE_INT if pat.is_integer(declared) else K.PARSE_FLOAT
        checked.append("type_mismatch")
    cat_slots, cat_offs, cat_data, cat_packed = _EMPTY_I64, _EMPTY_I64, _EMPTY_U8, _EMPTY_U64
    if spec is not None and spec.categories is not None:
        cat_slots, cat_offs, cat_data, cat_packed = _string_set(spec.categories)
        checked.append("unseen_category")
    unseen = np.zeros(max(m, 1), dtype=np.uint8)
    mismatch = np.zeros(max(m, 1), dtype=np.uint8)
    entry_hash = np.zeros(max(m, 1), dtype=np.uint64)
    if m:
        u = pc.cast(uniq, pa.large_string())
        uv = _arrow.chunk_view(u)
        K.string_pass(uv.length, uv.offset, uv.validity, uv.offsets, uv.values, 0, parse_mode, cat_slots,
                      cat_offs, cat_data, cat_packed, _EMPTY_I64, _EMPTY_U64, np.uint64(0), ecounts, eex,
                      np.zeros(3, np.int64))
        unseen[eex[K.UNSEEN][eex[K.UNSEEN] >= 0]] = 1
        mismatch[eex[K.MISMATCH][eex[K.MISMATCH] >= 0]] = 1
        K.string_hashes(uv.length, uv.offset, uv.offsets, uv.values, entry_hash)
        # A null dictionary entry reads as a null value, never as a category.
        unseen[eex[K.NULL][eex[K.NULL] >= 0]] = 0
    check_uniq = spec is not None and spec.unique
    if check_uniq:
        checked.append("duplicate")
    seen = np.zeros(max(m, 1), dtype=np.uint8)
    state = np.zeros(3, dtype=np.int64)
    base = 0
    for c in chunks:
        v = _arrow.chunk_view(c, name=out.name)
        if v.length:
            K.index_pass(v.length, v.offset, v.validity, v.values, base, canon, unseen, mismatch, entry_hash,
                         seen, check_uniq, rowhash, salt, out.counts, out.examples, state)
        base += v.length
    out.constant = bool(state[0]) and not state[2]
    out.checked = tuple(checked)


def _scan_bool(col, rowhash, salt, out: ColumnScan):
    state = np.zeros(3, dtype=np.int64)
    base = 0
    for c in col.chunks:
        v = _arrow.chunk_view(c, name=out.name)
        if v.length:
            K.bool_pass(v.length, v.offset, v.validity, v.values, base, rowhash, salt, out.counts,
                        out.examples, state)
        base += v.length
    out.constant = bool(state[0]) and not state[2]


@dataclass
class TableScan:
    columns: dict = field(default_factory=dict)  # name -> ColumnScan
    duplicate_rows: np.ndarray = field(default_factory=lambda: _EMPTY_I64)  # rows repeating an earlier row
    duplicate_of: np.ndarray = field(default_factory=lambda: _EMPTY_I64)    # ... and that earlier row


def scan_table(table: pa.Table, specs: dict, *, n_examples: int = 5, duplicate_rows: bool = True,
               n_threads: int = 1) -> TableScan:
    """Scan every column of ``table`` (``specs``: name -> ColumnSpec or None), optionally finding
    repeated rows. Columns are spread over ``n_threads`` threads (the kernels release the GIL)."""
    n = table.num_rows
    names = table.column_names
    n_threads = max(1, min(int(n_threads), len(names) or 1))
    groups = [list(range(g, len(names), n_threads)) for g in range(n_threads)]
    hashes = [np.zeros(n if duplicate_rows else 0, dtype=np.uint64) for _ in groups]

    def run(g):
        res = {}
        for j in groups[g]:
            res[names[j]] = scan_column(names[j], table.column(j), specs.get(names[j]), hashes[g],
                                        _salt(j), n_examples)
        return res

    result = TableScan()
    if n_threads == 1:
        result.columns = run(0)
    else:
        with ThreadPoolExecutor(n_threads) as ex:
            parts = list(ex.map(run, range(n_threads)))
        for j in range(len(names)):
            result.columns[names[j]] = parts[j % n_threads][names[j]]
        for h in hashes[1:]:
            hashes[0] += h
    if duplicate_rows and n > 1 and names:
        first_of = np.empty(n, dtype=np.int64)
        slots = np.full(_capacity(n), -1, dtype=np.int64)
        n_dup = K.hash_repeats(hashes[0], slots, first_of)
        if n_dup:
            rows = np.flatnonzero(first_of >= 0)
            firsts = first_of[rows]
            same = rows_equal(table, rows, firsts)
            result.duplicate_rows, result.duplicate_of = rows[same], firsts[same]
    return result


def rows_equal(table: pa.Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact row equality of rows ``a[k]`` and ``b[k]`` (null equals null, NaN equals NaN): checks
    the candidates that the 64-bit row hashes matched."""
    same = np.ones(len(a), dtype=bool)
    ia, ib = pa.array(a), pa.array(b)
    for col in table.columns:
        if pat.is_null(col.type):
            continue
        x, y = col.take(ia), col.take(ib)
        if pat.is_dictionary(x.type):
            x, y = x.cast(x.type.value_type), y.cast(y.type.value_type)
        try:
            eq = pc.fill_null(pc.equal(x, y), False)
        except pa.ArrowNotImplementedError:  # nested types: compare the Python values
            same &= np.array([a == b for a, b in zip(x.to_pylist(), y.to_pylist())], dtype=bool)
            continue
        both_null = pc.and_(pc.is_null(x), pc.is_null(y))
        ok = pc.or_(eq, both_null)
        if pat.is_floating(x.type):
            ok = pc.or_(ok, pc.fill_null(pc.and_(pc.is_nan(x), pc.is_nan(y)), False))
        same &= np.asarray(ok.combine_chunks() if isinstance(ok, pa.ChunkedArray) else ok, dtype=bool)
    return same
