"""mlcore.compute against the pure-Python references and pyarrow.compute, on awkward layouts."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlcore.compute as mc
from mlcore.errors import SchemaError
from reference.columns import ref_affine, ref_describe_column, ref_mean, ref_min_max, ref_sum

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
specials = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0])
float_values = st.lists(st.one_of(finite, specials, st.none()), max_size=300)
float_values_nonan = st.lists(st.one_of(finite, st.none()), max_size=300)
int_values = st.lists(st.one_of(st.integers(-(2**40), 2**40), st.none()), max_size=300)


@st.composite
def layouts(draw, values_strategy, arrow_type):
    """The same values as one array, a slice of a larger array (arbitrary bit offset), or chunks."""
    values = draw(values_strategy)
    how = draw(st.sampled_from(["plain", "sliced", "chunked", "sliced-chunked"]))
    if how == "plain":
        return values, pa.array(values, type=arrow_type)
    if how in ("sliced", "sliced-chunked"):
        pre = draw(st.integers(0, 19))
        post = draw(st.integers(0, 5))
        padded = [None] * (pre // 2) + [1] * (pre - pre // 2) + values + [None] * post
        arr = pa.array(padded, type=arrow_type).slice(pre, len(values))
        if how == "sliced":
            return values, arr
        values_arr = arr
    else:
        values_arr = pa.array(values, type=arrow_type)
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=4)))
    bounds = [0] + cuts + [len(values)]
    chunks = [values_arr.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])]
    return values, pa.chunked_array(chunks, type=arrow_type)


def _same(a, b, tol=0.0):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b or abs(a - b) <= tol


def _scale(values):
    return sum(abs(v) for v in values if v is not None and math.isfinite(v))


@given(layouts(float_values, pa.float64()))
def test_sum_mean_float(case):
    values, arr = case
    tol = 1e-12 * max(1.0, _scale(values))
    assert _same(mc.sum(arr), ref_sum(values), tol)
    assert _same(mc.sum(arr), pc.sum(arr).as_py(), tol)
    m = mc.mean(arr)
    assert _same(m, ref_mean(values), tol)
    assert _same(m, pc.mean(arr).as_py(), tol)


@given(layouts(int_values, pa.int64()))
def test_sum_int_is_exact(case):
    values, arr = case
    assert mc.sum(arr) == ref_sum(values) == pc.sum(arr).as_py()
    assert _same(mc.mean(arr), pc.mean(arr).as_py(), 1e-9 * max(1.0, _scale(values)))


@given(layouts(float_values, pa.float64()))
def test_min_max(case):
    values, arr = case
    got = mc.min_max(arr)
    want = ref_min_max(values)
    theirs = pc.min_max(arr).as_py()
    for k in ("min", "max"):
        assert _same(got[k], want[k]) and _same(got[k], theirs[k])


@given(layouts(float_values_nonan, pa.float64()), finite, finite)
def test_affine_keeps_nulls_and_matches(case, scale, shift):
    values, arr = case
    out = mc.affine(arr, scale=scale, shift=shift)
    assert out.type == pa.float64()
    ref = ref_affine(values, scale, shift)
    theirs = pc.add(pc.multiply(pc.cast(arr, pa.float64()), scale), shift).to_pylist()
    got = out.to_pylist()
    for g, r, t, v in zip(got, ref, theirs, values):
        if r is None:
            assert g is None and t is None
        else:
            # one rounding of x*scale + shift (fused or not): within 2 ulp of the operands' size
            tol = 4.5e-16 * (abs(v * scale) + abs(shift))
            assert abs(g - r) <= tol and abs(g - t) <= tol
    for chunk in out.chunks:
        chunk.validate(full=True)


@pytest.mark.parametrize("t", [pa.int8(), pa.int16(), pa.int32(), pa.uint16(), pa.uint32(), pa.uint64(), pa.float32()])
def test_other_numeric_types(t):
    values = [1, 2, None, 100, 7]
    arr = pa.array(values, type=t).slice(1)
    assert mc.sum(arr) == pc.sum(arr).as_py()
    assert mc.min_max(arr) == {"min": 2.0, "max": 100.0}
    assert mc.affine(arr, scale=2.0).to_pylist() == [4.0, None, 200.0, 14.0]


@pytest.mark.parametrize("arr", [
    pa.array([], pa.float64()),
    pa.array([None, None, None], pa.float64()),
    pa.chunked_array([], pa.float64()),
    pa.chunked_array([pa.array([None], pa.float64()), pa.array([], pa.float64())]),
])
def test_empty_and_all_null(arr):
    assert mc.sum(arr) is None and pc.sum(arr).as_py() is None
    assert mc.mean(arr) is None and pc.mean(arr).as_py() is None
    assert mc.min_max(arr) == {"min": None, "max": None} == pc.min_max(arr).as_py()
    out = mc.affine(arr, scale=3.0)
    assert out.to_pylist() == [None] * len(arr)


def test_all_nan_min_max():
    got = mc.min_max(pa.array([math.nan, None, math.nan]))
    assert math.isnan(got["min"]) and math.isnan(got["max"])


def test_large_column_with_nulls_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=100_003)
    mask = rng.random(x.size) < 0.1
    arr = pa.array(x, mask=mask).slice(11, 90_001)
    xs, ms = x[11:11 + 90_001], mask[11:11 + 90_001]
    assert mc.sum(arr) == pytest.approx(x[11:11 + 90_001][~ms].sum(), rel=1e-12)
    assert mc.mean(arr) == pytest.approx(np.mean(xs[~ms]), rel=1e-12)
    assert mc.min_max(arr) == {"min": xs[~ms].min(), "max": xs[~ms].max()}


def test_table_and_column_name():
    t = pa.table({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert mc.sum(t, "a") == 3.0
    with pytest.raises(SchemaError, match="`b`"):
        mc.sum(t, "b")


def test_describe_matches_reference():
    vals = [1.0, None, math.nan, math.inf, 4.0, -2.5, 10.0]
    col = pa.chunked_array([pa.array(vals[:3]), pa.array(vals[3:])])
    t = pa.table({"x": col, "i": pa.array([1, 2, 3, None, 5, 6, 7]), "s": ["a"] * 7})
    d = {r["column"]: r for r in mc.describe(t).to_pylist()}
    for name, values in (("x", vals), ("i", [1, 2, 3, None, 5, 6, 7])):
        want = ref_describe_column(values)
        for k, w in want.items():
            assert _same(d[name][k], w, 1e-12 * (abs(w) if w else 1)), (name, k)
    assert d["s"]["nulls"] == 0 and d["s"]["mean"] is None
