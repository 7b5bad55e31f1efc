"""Schema inference, editing and JSON round trip; the validation report and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

from mlcore.data import PROBLEMS, ColumnSpec, Schema, infer_schema, validate
from mlcore.data.schema import parse_type
from mlcore.errors import ArtifactError, ColumnNotFoundError, SchemaError


@pytest.fixture()
def table():
    return pa.table({
        "id": pa.array([1, 2, 3, 4], pa.int64()),
        "x": pa.array([1.5, None, -2.0, 3.0]),
        "c": pa.array(["a", "b", "a", None]),
        "d": pa.array(["u", "v", "u", "v"]).dictionary_encode(),
        "flag": pa.array([True, False, True, True]),
        "t": pa.array([0, 3600, 7200, 10800], pa.timestamp("s", tz="UTC")),
        "note": pa.array(["the quick brown fox", "jumps over the lazy", "dog and then some", "more words here ok"]),
        "y": pa.array([0, 1, 0, 1], pa.int8()),
        "w": pa.array([1.0, 1.0, 2.0, 0.5]),
    })


def test_infer_schema_roles_ranges_and_categories(table):
    s = infer_schema(table, target="y", weight="w", max_categories=10)
    assert [c.role for c in s] == ["id", "numeric", "categorical", "categorical", "categorical", "timestamp",
                                  "text", "target", "weight"]
    assert s["id"].unique and not s["id"].nullable
    assert (s["x"].min, s["x"].max, s["x"].nullable) == (-2.0, 3.0, True)
    assert s["c"].categories == ["a", "b"] and s["c"].nullable
    assert s["d"].categories == ["u", "v"] and s["d"].dtype == "dictionary<values=string, indices=int32, ordered=0>"
    assert s["flag"].categories == [False, True]
    assert s["t"].min == "1970-01-01T00:00:00+00:00" and s["t"].max == "1970-01-01T03:00:00+00:00"
    assert s["note"].categories is None
    assert validate(table, s).ok, validate(table, s).summary()


def test_schema_json_round_trip_and_edit(table, tmp_path):
    s = infer_schema(table)
    s.update("x", min=-1.0, max=math.inf, nullable=False)
    s["c"].categories.append("z")
    text = s.to_json(str(tmp_path / "schema.json"))
    assert json.loads(text)["format"] == "mlcore.data.schema"
    back = Schema.from_json(str(tmp_path / "schema.json"))
    assert back == s
    assert back["x"].max == math.inf and back["x"].type == pa.float64()
    assert back["t"].type == pa.timestamp("s", tz="UTC")
    assert Schema.from_json(text).to_arrow() == s.to_arrow()
    r = validate(table, back)
    assert r.count("x", "below_min") == 1 and r.count("x", "null") == 1


def test_schema_load_refuses_bad_files():
    with pytest.raises(ArtifactError, match="Not an mlcore schema"):
        Schema.from_json('{"format": "other"}')
    with pytest.raises(ArtifactError, match="Unsupported schema version 9"):
        Schema.from_json('{"format": "mlcore.data.schema", "version": 9, "columns": []}')
    with pytest.raises(ArtifactError, match="Unknown keys"):
        Schema.from_json('{"format": "mlcore.data.schema", "version": 1, "columns": [{"name": "a", "dtype": "int64", "code": "x"}]}')
    with pytest.raises(SchemaError, match="Unknown Arrow type 'object'"):
        Schema.from_json('{"format": "mlcore.data.schema", "version": 1, "columns": [{"name": "a", "dtype": "object"}]}')
    with pytest.raises(ArtifactError, match="not valid JSON"):
        Schema.from_json("{nope")


def test_spec_checks():
    with pytest.raises(SchemaError, match="Unknown role 'label' at column `a`"):
        ColumnSpec("a", "int64", role="label")
    with pytest.raises(SchemaError, match="min 5 is greater than max 1 at column `a`"):
        ColumnSpec("a", "int64", min=5, max=1)
    s = Schema([ColumnSpec("a", "int64")])
    with pytest.raises(SchemaError, match="already in the schema"):
        s.add(ColumnSpec("a", "double"))
    with pytest.raises(ColumnNotFoundError, match="`b` is not in the schema"):
        s["b"]
    with pytest.raises(SchemaError, match="Unknown column attributes"):
        s.update("a", colour="red")
    for name in ("int8", "uint64", "double", "large_string", "date32[day]", "timestamp[ns]", "duration[ms]",
                 "dictionary<values=string, indices=int8, ordered=1>"):
        assert str(parse_type(name)) == name


def test_report_lists_every_problem_with_examples():
    schema = Schema([
        ColumnSpec("id", "int64", role="id", unique=True, nullable=False),
        ColumnSpec("x", "double", min=0.0, max=10.0, nullable=False),
        ColumnSpec("c", "string", role="categorical", categories=["EWR", "JFK"]),
        ColumnSpec("n", "int64"),
        ColumnSpec("k", "double"),
        ColumnSpec("gone", "double"),
    ])
    t = pa.table({
        "id": [1, 2, 2, 4, 5, 5],
        "x": [1.0, float("nan"), 11.0, -1.0, float("inf"), float("inf")],
        "c": ["EWR", "LGA", "JFK", "lga", None, None],
        "n": ["1", "2", "x", "4", "5", "5"],
        "k": [7.0] * 6,
        "extra": [None] * 6,
    })
    r = validate(t, schema)
    got = {(row["column"], row["problem"]): row for row in r.problems.to_pylist()}
    assert got[("id", "duplicate")]["count"] == 2 and got[("id", "duplicate")]["rows"] == [2, 5]
    assert got[("x", "nan")]["rows"] == [1]
    assert got[("x", "posinf")]["count"] == 2
    assert got[("x", "above_max")]["examples"] == ["11.0"]
    assert got[("x", "below_min")]["rows"] == [3]
    assert got[("c", "unseen_category")]["examples"] == ["'LGA'", "'lga'"]
    assert got[("n", "type_mismatch")]["examples"] == ["'x'"]
    assert got[("k", "constant")]["examples"] == ["7.0"]
    assert got[("gone", "missing_column")]["count"] == 6
    assert got[("extra", "unexpected_column")]["count"] == 6
    assert got[("extra", "all_null")]["count"] == 6
    assert got[("*", "duplicate_row")]["rows"] == [5] and got[("*", "duplicate_row")]["examples"] == ["row 5 = row 4"]
    assert set(r.problems["problem"].to_pylist()) <= set(PROBLEMS)
    text = r.summary()
    assert "`c`: unseen_category x 2" in text and "'LGA'" in text and "rows [1, 3]" in text
    assert r.columns.column("nulls").to_pylist()[2] == 2
    assert not r.ok


def test_type_mismatch_of_a_whole_column_names_it():
    schema = Schema([ColumnSpec("t", "timestamp[s]", role="timestamp"), ColumnSpec("s", "string", role="categorical")])
    t = pa.table({"t": ["2013-01-01", None, "nope"], "s": [1, 2, 3]})
    r = validate(t, schema)
    rows = {(x["column"], x["problem"]): x for x in r.problems.to_pylist()}
    assert rows[("t", "type_mismatch")]["count"] == 2
    assert rows[("t", "type_mismatch")]["detail"] == "expected `timestamp[s]`, got `string`"
    assert rows[("s", "type_mismatch")]["examples"][:2] == ["1", "2"]


def test_empty_table_and_all_null_columns():
    schema = Schema([ColumnSpec("x", "double"), ColumnSpec("c", "string", role="categorical", categories=["a"])])
    empty = pa.table({"x": pa.array([], pa.float64()), "c": pa.array([], pa.string())})
    r = validate(empty, schema)
    assert r.problems["problem"].to_pylist() == ["empty_table"]
    assert r.columns.column("rows").to_pylist() == [0, 0]
    nulls = pa.table({"x": pa.nulls(5, pa.float64()), "c": pa.nulls(5, pa.string())})
    r = validate(nulls, schema)
    assert r.count("x", "all_null") == 5 and r.count("c", "all_null") == 5
    assert r.count("*", "duplicate_row") == 4
    s = infer_schema(nulls)
    assert s["x"].min is None and s["c"].categories == []


def test_validate_accepts_pandas_and_numpy_and_threads():
    import pandas as pd

    df = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10)})
    s = infer_schema(df)
    s.update("a", max=5.0)
    assert validate(df, s).count("a", "above_max") == 4
    assert validate({"a": np.arange(10.0), "b": np.arange(10)}, s, n_threads=2).count("a", "above_max") == 4
    with pytest.raises(TypeError, match="schema must be an mlcore.data.Schema"):
        validate(df, {"a": "double"})


def test_duplicate_column_names_are_an_error():
    t = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])
    with pytest.raises(SchemaError, match=r"repeated: \['a'\]"):
        validate(t, Schema([ColumnSpec("a", "int64")]))


def test_columns_of_unreadable_types_are_reported_not_crashed_on():
    t = pa.table({"a": [1, 1, 1], "l": pa.array([[1], [1], [2]])})
    r = validate(t, Schema([ColumnSpec("a", "int64")]))
    assert r.count("l", "unexpected_column") == 3
    assert r.count("*", "duplicate_row") == 1  # rows 0 and 1; row 2 differs only in the list
    r = validate(t, Schema([ColumnSpec("a", "int64"), ColumnSpec("l", "string")]))
    assert r.count("l", "type_mismatch") == 3
