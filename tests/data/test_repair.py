"""Repair: imputation against scikit-learn's SimpleImputer, clipping against NumPy, checked casts
against pyarrow, and the accounting rule: every input row is either kept or quarantined."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer

from mlcore.data import ColumnSpec, Schema, infer_schema, repair, validate
from mlcore.errors import SchemaError


def _messy(seed, n=400):
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 5, n)
    x[rng.random(n) < 0.1] = np.nan
    ints = rng.integers(0, 7, n).astype(np.float64)
    ints[rng.random(n) < 0.15] = np.nan
    return x, ints


@pytest.mark.parametrize("strategy", ["mean", "median", "mode", ("constant", -1.0)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_imputation_matches_simple_imputer(strategy, seed):
    x, ints = _messy(seed)
    table = pa.table({"x": pa.array(x), "k": pa.array(ints)})  # NaN, not null: the imputer's missing value
    schema = Schema([ColumnSpec("x", "double"), ColumnSpec("k", "double")])
    res = repair(table, schema, impute=strategy, duplicates="keep")
    skl = {"mean": "mean", "median": "median", "mode": "most_frequent"}.get(strategy, "constant")
    kw = {"fill_value": strategy[1]} if skl == "constant" else {}
    want = SimpleImputer(strategy=skl, **kw).fit_transform(np.column_stack([x, ints]))
    got = np.column_stack([res.table["x"].to_numpy(), res.table["k"].to_numpy()])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert res.quarantine.num_rows == 0
    assert res.report.count("x", "nan_to_null") == int(np.isnan(x).sum())
    assert res.report.count("x", "imputed") == int(np.isnan(x).sum())


def test_integer_mean_is_rounded_and_recorded():
    t = pa.table({"a": pa.array([1, 2, None, 2], pa.int64())})
    res = repair(t, Schema([ColumnSpec("a", "int64")]), impute="mean", duplicates="keep")
    assert res.table["a"].to_pylist() == [1, 2, 2, 2]
    assert "rounded to 2" in res.report.actions["detail"].to_pylist()[-1]


def test_clip_matches_numpy_and_timestamps_clip():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 3, 1000)
    res = repair(pa.table({"x": x}), Schema([ColumnSpec("x", "double", min=-2.0, max=2.5)]), duplicates="keep")
    np.testing.assert_array_equal(res.table["x"].to_numpy(), np.clip(x, -2.0, 2.5))
    assert res.report.count("x", "clipped") == int(((x < -2) | (x > 2.5)).sum())
    ts = pa.array([0, 5000, 90000], pa.timestamp("s"))
    spec = ColumnSpec("t", "timestamp[s]", role="timestamp", min="1970-01-01T01:00:00", max="1970-01-02T00:00:00")
    got = repair(pa.table({"t": ts}), Schema([spec])).table["t"].cast(pa.int64()).to_pylist()
    assert got == [3600, 5000, 86400]
    ints = repair(pa.table({"i": [-5, 3, 99]}), Schema([ColumnSpec("i", "int64", min=-1.5, max=10.2)])).table
    assert ints["i"].to_pylist() == [-1, 3, 10]


@pytest.mark.parametrize("policy", ["quarantine", "null", "keep"])
def test_out_of_range_policies(policy):
    t = pa.table({"x": [1.0, 50.0, 3.0]})
    res = repair(t, Schema([ColumnSpec("x", "double", min=0.0, max=10.0)]), out_of_range=policy)
    if policy == "quarantine":
        assert res.table["x"].to_pylist() == [1.0, 3.0]
        assert res.quarantine["_reason"].to_pylist() == ["out of range in `x`"]
        assert res.quarantine["_row"].to_pylist() == [1] and res.quarantine["x"].to_pylist() == [50.0]
    elif policy == "null":
        assert res.table["x"].to_pylist() == [1.0, None, 3.0]
    else:
        assert res.table["x"].to_pylist() == [1.0, 50.0, 3.0]
    assert res.report.count("x", {"quarantine": "out_of_range_quarantined", "null": "out_of_range_to_null",
                                  "keep": "out_of_range_kept"}[policy]) == 1


def test_checked_cast_from_strings():
    raw = [" 12", "+7", "x1", None, "3.5", "-4", "99999999999999999999"]
    t = pa.table({"n": raw, "f": ["1e3", "nan", " -inf", "abc", None, ".5", "5."]})
    schema = Schema([ColumnSpec("n", "int32"), ColumnSpec("f", "double", allow_nan=True, allow_inf=True)])
    res = repair(t, schema, duplicates="keep")
    q = dict(zip(res.quarantine["_row"].to_pylist(), res.quarantine["_reason"].to_pylist()))
    assert sorted(q) == [2, 3, 4, 6]
    assert q[2] == "cast: `n` value does not fit `int32`"
    assert "cast: `f` value does not fit `double`" in q[3]
    assert res.table.schema.field("n").type == pa.int32()
    # rows 0, 1 and 5 survive: row 3 fails on `f`, rows 2, 4 and 6 on `n`
    assert res.table["n"].to_pylist() == [12, 7, -4]
    got_f = res.table["f"].to_pylist()
    assert got_f[0] == 1000.0 and math.isnan(got_f[1]) and got_f[2] == 0.5
    only_f = repair(t.select(["f"]), Schema([schema["f"]])).table["f"].to_pylist()
    assert only_f[2] == -math.inf and only_f[3] is None and only_f[4:] == [0.5, 5.0]
    assert res.report.count("n", "cast_failed_quarantined") == 3


def test_checked_cast_float_to_int_and_overflow():
    t = pa.table({"a": [1.0, 2.5, float("nan"), 4.0, 1e12, None]})
    res = repair(t, Schema([ColumnSpec("a", "int32")]), duplicates="keep")
    assert res.table["a"].to_pylist() == [1, 4, None]
    assert res.quarantine["_row"].to_pylist() == [1, 2, 4]
    t = pa.table({"a": pa.array([1, 2**40], pa.int64())})
    res = repair(t, Schema([ColumnSpec("a", "int16")]))
    assert res.table["a"].to_pylist() == [1] and res.quarantine["_row"].to_pylist() == [1]
    with pytest.raises(SchemaError, match="Cannot cast column `a` from `list<item: int64>` to `double`"):
        repair(pa.table({"a": pa.array([[1]])}), Schema([ColumnSpec("a", "double")]))


def test_category_spellings_normalised_then_unseen_quarantined():
    t = pa.table({"origin": [" ewr", "JFK", "Jfk ", "LGA", "BOS", None], "v": [1, 2, 3, 4, 5, 6]})
    schema = Schema([ColumnSpec("origin", "string", role="categorical", categories=["EWR", "JFK", "LGA"]),
                     ColumnSpec("v", "int64")])
    res = repair(t, schema)
    assert res.table["origin"].to_pylist() == ["EWR", "JFK", "JFK", "LGA", None]
    assert res.report.count("origin", "normalize_category") == 2
    assert res.quarantine["origin"].to_pylist() == ["BOS"]
    assert res.quarantine["_reason"].to_pylist() == ["unseen category in `origin`"]
    nulled = repair(t, schema, unseen="null").table["origin"].to_pylist()
    assert nulled == ["EWR", "JFK", "JFK", "LGA", None, None]
    raw = repair(t, schema, normalize_categories=False, unseen="keep").table["origin"].to_pylist()
    assert raw == t["origin"].to_pylist()


def test_dictionary_categories():
    col = pa.array(["a", " A", "b", "zz"]).dictionary_encode()
    spec = ColumnSpec("c", str(col.type), role="categorical", categories=["a", "b"])
    res = repair(pa.table({"c": col}), Schema([spec]), duplicates="keep")
    assert res.table["c"].type == col.type
    assert res.table["c"].to_pylist() == ["a", "a", "b"]
    assert res.quarantine["_row"].to_pylist() == [3]


@pytest.mark.parametrize("policy", ["drop", "flag", "keep"])
def test_duplicates(policy):
    t = pa.table({"id": [1, 2, 2, 3, 1], "x": [0.5, 1.0, 1.0, 2.0, 9.0]})
    schema = Schema([ColumnSpec("id", "int64", role="id", unique=True), ColumnSpec("x", "double")])
    res = repair(t, schema, duplicates=policy)
    if policy == "drop":
        assert res.table["id"].to_pylist() == [1, 2, 3]
        q = dict(zip(res.quarantine["_row"].to_pylist(), res.quarantine["_reason"].to_pylist()))
        assert q == {2: "duplicate row", 4: "duplicate key in `id`"}
    elif policy == "flag":
        assert res.table["_duplicate"].to_pylist() == [False, False, True, False, True]
        assert res.quarantine.num_rows == 0
    else:
        assert res.table.num_rows == 5 and res.report.count("*", "duplicate_kept") == 1


def test_not_nullable_nulls_are_quarantined_and_missing_columns():
    t = pa.table({"a": [1.0, None, 3.0]})
    res = repair(t, Schema([ColumnSpec("a", "double", nullable=False)]))
    assert res.table["a"].to_pylist() == [1.0, 3.0]
    assert res.quarantine["_reason"].to_pylist() == ["null in non-nullable `a`"]
    assert not res.table.schema.field("a").nullable
    schema = Schema([ColumnSpec("a", "double"), ColumnSpec("b", "string")])
    with pytest.raises(SchemaError, match="Column `b` of the schema is missing"):
        repair(t, schema)
    added = repair(t, schema, missing_columns="null").table
    assert added["b"].null_count == 3 and added.column_names == ["a", "b"]


def test_bad_input_errors_name_the_column():
    t = pa.table({"a": pa.nulls(4, pa.float64()), "s": ["x", "y", "x", "y"]})
    schema = Schema([ColumnSpec("a", "double"), ColumnSpec("s", "string")])
    with pytest.raises(ValueError, match="Cannot impute column `a` by its mean: it has no finite value"):
        repair(t, schema, impute="mean")
    with pytest.raises(SchemaError, match="needs a numeric column; `s` is `string`"):
        repair(t, schema, impute={"s": "median"})
    with pytest.raises(ValueError, match="Impute strategy for column `a` must be one of"):
        repair(t, schema, impute={"a": "magic"})
    with pytest.raises(ValueError, match="out_of_range must be one of"):
        repair(t, schema, out_of_range="wrap")
    empty = repair(t.slice(0, 0), schema, impute="mode")
    assert empty.table.num_rows == 0 and empty.quarantine.num_rows == 0
    assert repair(t, schema, impute={"s": "mode"}, duplicates="keep").table["s"].to_pylist() == ["x", "y", "x", "y"]


messy_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.floats(-1e3, 1e3), st.sampled_from([math.nan, math.inf, -math.inf])),
        st.one_of(st.none(), st.sampled_from(["EWR", " ewr", "JFK", "XXX", "jfk"])),
        st.one_of(st.none(), st.sampled_from(["1", "2", "x", " 3 ", "4.5"])),
    ),
    max_size=60,
)


@given(messy_rows, st.sampled_from(["clip", "quarantine", "null", "keep"]),
       st.sampled_from(["quarantine", "null", "keep"]), st.sampled_from(["null", "quarantine", "keep"]),
       st.sampled_from(["drop", "flag", "keep"]))
def test_every_row_is_kept_or_quarantined(rows, oor, unseen, nonfinite, dups):
    cols = list(zip(*rows)) if rows else [[], [], []]
    t = pa.table({"x": pa.array(cols[0], pa.float64()), "c": pa.array(cols[1], pa.string()),
                  "n": pa.array(cols[2], pa.string())})
    schema = Schema([ColumnSpec("x", "double", min=-10.0, max=10.0, nullable=False),
                     ColumnSpec("c", "string", role="categorical", categories=["EWR", "JFK"]),
                     ColumnSpec("n", "int64")])
    res = repair(t, schema, out_of_range=oor, unseen=unseen, nonfinite=nonfinite, duplicates=dups, impute={"x": ("constant", 0.0)})
    assert res.table.num_rows + res.quarantine.num_rows == t.num_rows
    assert sorted(res.quarantine["_row"].to_pylist()) == res.quarantine["_row"].to_pylist()
    assert all(r for r in res.quarantine["_reason"].to_pylist())
    # the quarantined rows are the input rows, untouched
    if res.quarantine.num_rows:
        kept_raw = res.quarantine.drop_columns(["_row", "_reason"]).to_pylist()
        assert repr(kept_raw) == repr(t.take(res.quarantine["_row"]).to_pylist())  # NaN-safe comparison
    assert res.table.schema.field("n").type == pa.int64()
    if oor in ("clip", "quarantine", "null") and nonfinite != "keep":
        x = res.table["x"].to_numpy(zero_copy_only=False)
        assert np.all(np.abs(x[np.isfinite(x)]) <= 10.0)
    after = validate(res.table.drop_columns(["_duplicate"]) if dups == "flag" else res.table, schema)
    assert after.count("n", "type_mismatch") == 0
    if unseen != "keep":
        assert after.count("c", "unseen_category") == 0
    assert after.count("x", "null") == 0


def test_repair_of_inferred_schema_is_identity_on_clean_data():
    t = pa.table({"a": [1.0, 2.0, 3.0], "b": ["u", "v", "u"]})
    res = repair(t, infer_schema(t))
    assert res.table.equals(t.cast(res.table.schema)) and res.quarantine.num_rows == 0
    assert res.report.actions.num_rows == 0
    assert pc.all(pc.equal(res.table["a"], t["a"])).as_py()
