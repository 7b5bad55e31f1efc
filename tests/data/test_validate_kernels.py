"""The validation passes against the pure-Python reference and against pandas / pyarrow.compute,
on plain, sliced, chunked, empty and all-null columns with NaN and ±inf."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from mlcore.data import ColumnSpec
from mlcore.data._scan import KINDS, scan_column, scan_table
from reference.data_layouts import layouts
from reference.data_validate import ref_check_column, ref_duplicate_rows

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
small = st.sampled_from([0.0, -0.0, 1.0, 2.5, -3.0])
specials = st.sampled_from([math.nan, math.inf, -math.inf])
float_values = st.lists(st.one_of(finite, small, specials, st.none()), max_size=200)
int_values = st.lists(st.one_of(st.integers(-(2**40), 2**40), st.integers(-3, 3), st.none()), max_size=200)
bounds = st.tuples(st.one_of(st.none(), st.floats(-100, 100)), st.one_of(st.none(), st.floats(-100, 100)))


def _run(col, spec, n=None):
    n = len(col) + 1 if n is None else n
    return scan_column("x", col, spec, np.zeros(0, np.uint64), np.uint64(1), n)


def _rows(scan, kind):
    ex = scan.examples[KINDS.index(kind)]
    return [int(r) for r in ex if r >= 0]


def _assert_matches(scan, ref):
    for kind in KINDS:
        assert scan.count(kind) == ref["counts"][kind], kind
        assert _rows(scan, kind) == ref["rows"][kind], kind
    if ref["min"] is None:
        assert scan.min is None
    else:
        assert scan.min == ref["min"] and scan.max == ref["max"]
    assert scan.constant == ref["constant"]


def _spec(dtype, lo, hi, **kw):
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return ColumnSpec("x", dtype, min=lo, max=hi, **kw)


@given(layouts(float_values, pa.float64()), bounds, st.booleans(), st.booleans())
def test_float_column_matches_reference_and_pyarrow(case, b, unique, with_cats):
    values, col = case
    cats = [0.0, 1.0, 2.5, math.nan] if with_cats else None
    spec = _spec("double", *b, unique=unique, categories=cats, role="categorical" if with_cats else "numeric")
    scan = _run(col, spec)
    lo = -math.inf if spec.min is None else spec.min
    hi = math.inf if spec.max is None else spec.max
    ref = ref_check_column(values, lo=lo, hi=hi, categories=cats, unique=unique)
    _assert_matches(scan, ref)
    # the library users trust, on the same column
    assert scan.count("null") == col.null_count
    assert scan.count("nan") == (pc.sum(pc.is_nan(col)).as_py() or 0)
    assert scan.count("posinf") == (pc.sum(pc.equal(col, math.inf)).as_py() or 0)
    fin = pc.filter(col, pc.is_finite(col))
    mm = pc.min_max(fin)
    assert (scan.min, scan.max) == (mm["min"].as_py(), mm["max"].as_py())


@given(layouts(int_values, pa.int64()), bounds, st.booleans(), st.booleans())
def test_int_column_matches_reference_and_pandas(case, b, unique, with_cats):
    values, col = case
    cats = [-3, 0, 1, 2] if with_cats else None
    spec = _spec("int64", *b, unique=unique, categories=cats, role="categorical" if with_cats else "numeric")
    scan = _run(col, spec)
    lo = -math.inf if spec.min is None else spec.min
    hi = math.inf if spec.max is None else spec.max
    _assert_matches(scan, ref_check_column(values, lo=lo, hi=hi, categories=cats, unique=unique))
    s = pd.Series(values, dtype="Int64")
    assert scan.count("null") == int(s.isna().sum())
    if unique:
        assert scan.count("duplicate") == int(s.dropna().duplicated().sum())
    if with_cats:
        assert scan.count("unseen_category") == int((~s.dropna().isin(cats)).sum())
    if s.notna().any():
        assert (scan.min, scan.max) == (int(s.min()), int(s.max()))


@given(layouts(st.lists(st.one_of(st.integers(-5, 5), st.none()), max_size=100), pa.int32()), st.booleans())
def test_narrow_ints_and_constancy(case, unique):
    values, col = case
    scan = _run(col, ColumnSpec("x", "int32", unique=unique))
    _assert_matches(scan, ref_check_column(values, unique=unique))


@given(layouts(float_values, pa.float32()))
def test_float32_column(case):
    values, col = case
    f32 = [None if v is None else float(np.float32(v)) for v in values]
    scan = _run(col, ColumnSpec("x", "float", unique=True))
    _assert_matches(scan, ref_check_column(f32, unique=True))


@given(layouts(float_values, pa.float64()))
def test_non_integral_floats_where_ints_are_declared(case):
    values, col = case
    scan = _run(col, ColumnSpec("x", "int64"))
    _assert_matches(scan, ref_check_column(values, integral=True))


_alphabet = st.sampled_from(list("0123456789+-.eE aAnNfFiItTyY\t") + ["é", "Ω", "infinity", "nan", "inf"])
strings = st.lists(_alphabet, max_size=6).map("".join)
string_values = st.lists(st.one_of(strings, st.sampled_from(["EWR", "JFK", "LGA", "ewr ", ""]), st.none()),
                         max_size=150)


@given(layouts(string_values, pa.string(), filler="pad"), st.booleans(), st.booleans(),
       st.sampled_from([None, "int64", "double"]))
def test_string_column_matches_reference_and_pyarrow(case, unique, with_cats, parse):
    values, col = case
    cats = ["EWR", "JFK", "LGA", ""] if with_cats else None
    dtype = parse or "string"
    spec = ColumnSpec("x", dtype, role="categorical", categories=cats, unique=unique)
    scan = _run(col, spec)
    ref = ref_check_column(values, categories=cats, unique=unique,
                           parse={"int64": "int", "double": "float"}.get(parse))
    _assert_matches(scan, ref)
    if with_cats:
        assert scan.count("unseen_category") == (pc.sum(pc.invert(pc.is_in(col.drop_null(), value_set=pa.array(cats)))).as_py() or 0)
    if unique:
        assert scan.count("duplicate") == len(col) - col.null_count - pc.count_distinct(col).as_py()


@given(layouts(string_values, pa.large_string(), filler="pad"), st.booleans())
def test_large_string_column(case, unique):
    values, col = case
    scan = _run(col, ColumnSpec("x", "large_string", role="categorical", categories=["EWR", "JFK"], unique=unique))
    _assert_matches(scan, ref_check_column(values, categories=["EWR", "JFK"], unique=unique))


@given(string_values, st.lists(st.integers(0, 150), max_size=3), st.booleans(), st.booleans())
def test_dictionary_column_with_differing_chunk_dictionaries(values, cuts, unique, parse):
    bounds = [0] + sorted(min(c, len(values)) for c in cuts) + [len(values)]
    chunks = [pa.array(values[a:b], type=pa.string()).dictionary_encode() for a, b in zip(bounds[:-1], bounds[1:])]
    col = pa.chunked_array(chunks, type=pa.dictionary(pa.int32(), pa.string()))
    cats = ["EWR", "JFK", ""]
    spec = ColumnSpec("x", "double" if parse else str(col.type), role="categorical", categories=cats, unique=unique)
    scan = _run(col, spec)
    _assert_matches(scan, ref_check_column(values, categories=cats, unique=unique, parse="float" if parse else None))


@given(layouts(st.lists(st.one_of(st.booleans(), st.none()), max_size=100), pa.bool_()))
def test_bool_column(case):
    values, col = case
    scan = _run(col, ColumnSpec("x", "bool", role="categorical"))
    ref = ref_check_column(values)
    assert scan.count("null") == ref["counts"]["null"]
    assert _rows(scan, "null") == ref["rows"]["null"]
    assert scan.constant == ref["constant"]


def test_empty_and_all_null_columns():
    for t, dtype in ((pa.float64(), "double"), (pa.int64(), "int64"), (pa.string(), "string"), (pa.bool_(), "bool")):
        empty = _run(pa.chunked_array([], type=t), ColumnSpec("x", dtype, unique=True))
        assert empty.counts.sum() == 0 and not empty.constant and empty.min is None
        nulls = _run(pa.chunked_array([pa.nulls(11, type=t)]), ColumnSpec("x", dtype, unique=True))
        assert nulls.count("null") == 11 and nulls.counts.sum() == 11 and not nulls.constant


def test_examples_are_capped_and_table_wide():
    col = pa.chunked_array([pa.array([1.0, None, 3.0]), pa.array([None, None, 6.0, None])])
    scan = _run(col, ColumnSpec("x", "double"), n=2)
    assert scan.count("null") == 4
    assert _rows(scan, "null") == [1, 3]


def test_timestamp_range_in_column_units():
    ts = pa.array([0, 3600, 7200, None], type=pa.timestamp("s", tz="UTC"))
    spec = ColumnSpec("x", "timestamp[s, tz=UTC]", role="timestamp", min="1970-01-01T00:30:00+00:00",
                      max="1970-01-01T01:00:00+00:00")
    scan = _run(pa.chunked_array([ts]), spec)
    assert (scan.count("below_min"), scan.count("above_max"), scan.count("null")) == (1, 1, 1)
    assert _rows(scan, "below_min") == [0] and _rows(scan, "above_max") == [2]


rows_strategy = st.lists(
    st.tuples(st.one_of(st.sampled_from([0.0, -0.0, 1.0, math.nan]), st.none()),
              st.one_of(st.sampled_from(["a", "b"]), st.none()),
              st.one_of(st.integers(0, 1), st.none()),
              st.one_of(st.booleans(), st.none())),
    max_size=80,
)


@given(rows_strategy, st.integers(1, 2), st.integers(0, 80))
def test_duplicate_rows_match_reference_and_pandas(rows, n_threads, cut):
    cols = list(zip(*rows)) if rows else [[], [], [], []]
    t = pa.table({"f": pa.array(cols[0], pa.float64()), "s": pa.array(cols[1], pa.string()),
                  "i": pa.array(cols[2], pa.int64()), "b": pa.array(cols[3], pa.bool_())})
    cut = min(cut, t.num_rows)
    t = pa.concat_tables([t.slice(0, cut), t.slice(cut)])  # two chunks per column
    scan = scan_table(t, {}, n_examples=0, duplicate_rows=True, n_threads=n_threads)
    ref = ref_duplicate_rows(rows)
    assert list(zip(scan.duplicate_rows.tolist(), scan.duplicate_of.tolist())) == ref
    # pandas treats NaN and None alike in a float column and -0.0 == 0.0, as the kernel does
    df = pd.DataFrame({"f": [np.nan if v is None else v for v in cols[0]], "fnull": [v is None for v in cols[0]],
                       "s": list(cols[1]), "i": list(cols[2]), "b": list(cols[3])})
    if len(df):
        assert int(df.duplicated().sum()) == len(ref)
