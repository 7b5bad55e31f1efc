"""Fused predictor inputs at the edges: all-null and empty columns, other temporal types and zones,
bool and small-int columns, models that read no feature, and the row path of each."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pytest
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeRegressor

from mlcore.features import (
    DateTimeParts,
    FeaturePlan,
    MissingIndicator,
    OneHotEncoder,
    OrdinalEncoder,
    Passthrough,
    StandardScaler,
    as_matrix,
)
from mlcore.train import compile_model, compile_predictor


def _table(rng, n):
    day = rng.integers(15000, 16000, n).astype(np.int32)
    ms = rng.integers(1_300_000_000_000, 1_400_000_000_000, n)
    return pa.table({
        "d32": pa.array(day, type=pa.date32()),
        "tms": pa.array(ms, type=pa.timestamp("ms", tz="America/New_York")),
        "tns": pa.array(ms * 1_000_000, type=pa.timestamp("ns")),
        "flag": pa.array(rng.random(n) < 0.5),
        "small": pa.array(rng.integers(-5, 5, n).astype(np.int8)),
        "f32": pa.array(rng.normal(size=n).astype(np.float32)),
        "c": pa.array(rng.choice(["a", "b", "c"], n)),
    })


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    t = _table(rng, 2000)
    plan = FeaturePlan([
        DateTimeParts(["d32", "tms", "tns"], parts=["hour", "dayofweek", "day", "month", "year", "dayofyear", "minute"]),
        Passthrough(["flag", "small", "f32"]), StandardScaler(["f32"]),
        OneHotEncoder(["c"], handle_unknown="ignore"), OrdinalEncoder(["c"], handle_unknown="ignore"),
        MissingIndicator(["c", "f32"], features="all"),
    ], verbose_feature_names=True).fit(t)
    X = as_matrix(plan.transform(t))
    y = X @ rng.normal(size=X.shape[1])
    tree = DecisionTreeRegressor(max_depth=12, random_state=0).fit(X, y)
    return plan, tree, compile_predictor(plan, compile_model(tree))


def test_temporal_bool_small_int_match(setup):
    plan, tree, f = setup
    t = _table(np.random.default_rng(1), 700)
    np.testing.assert_allclose(f.predict(t), tree.predict(as_matrix(plan.transform(t))), rtol=0, atol=1e-12)
    for k, row in enumerate(t.slice(0, 20).to_pylist()):
        assert f.predict_row(row) == pytest.approx(f.predict(t)[k], abs=1e-12)


def test_all_null_and_empty(setup):
    plan, tree, f = setup
    n = 50
    t = _table(np.random.default_rng(2), n)
    nulls = pa.table({c: pa.nulls(n, t.schema.field(c).type) for c in t.column_names})
    np.testing.assert_allclose(f.predict(nulls), tree.predict(as_matrix(plan.transform(nulls))), atol=1e-12)
    row = {c: None for c in t.column_names}
    assert f.predict_row(row) == pytest.approx(f.predict(nulls)[0], abs=1e-12)
    assert f.predict(t.slice(0, 0)).shape == (0,)


def test_model_that_reads_no_feature():
    t = pa.table({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    plan = FeaturePlan([Passthrough(["x"]), OneHotEncoder(["c"], handle_unknown="ignore")]).fit(t)
    X = as_matrix(plan.transform(t))
    tree = DecisionTreeRegressor().fit(X, [2.0, 2.0, 2.0])  # a leaf-only tree
    f = compile_predictor(plan, compile_model(tree))
    assert f.used_features == [] and f.input_columns == []
    np.testing.assert_array_equal(f.predict(t), [2.0, 2.0, 2.0])
    assert f.predict_row({}) == 2.0
    ridge = Ridge().fit(X, [1.0, 1.0, 1.0])  # all weights zero
    g = compile_predictor(plan, compile_model(ridge))
    np.testing.assert_allclose(g.predict(t), ridge.predict(X))
    assert g.predict_row({}) == pytest.approx(ridge.predict(X[:1])[0])


def test_naive_and_aware_datetimes_in_rows(setup):
    _, _, f = setup
    t = _table(np.random.default_rng(3), 4)
    row = t.to_pylist()[0]
    assert isinstance(row["tms"], dt.datetime) and row["tms"].tzinfo is not None
    assert isinstance(row["d32"], dt.date)
    assert f.predict_row(row) == pytest.approx(f.predict(t)[0], abs=1e-12)


def test_sliced_chunked_with_nulls_everywhere(setup):
    plan, tree, f = setup
    rng = np.random.default_rng(5)
    t = _table(rng, 400)
    cols = {}
    for name in t.column_names:
        mask = pa.array(rng.random(400) < 0.1)
        cols[name] = pa.compute.if_else(mask, pa.nulls(400, t.schema.field(name).type), t[name])
    t = pa.table(cols)
    ref = tree.predict(as_matrix(plan.transform(t)))
    sliced = t.slice(3)
    chunked = pa.concat_tables([t.slice(0, 77), t.slice(77, 200), t.slice(277)])
    np.testing.assert_allclose(f.predict(sliced), ref[3:], rtol=0, atol=1e-12)
    np.testing.assert_allclose(f.predict(chunked), ref, rtol=0, atol=1e-12)
    for k in (0, 5, 9):
        assert f.predict_row(t.slice(k, 1).to_pylist()[0]) == pytest.approx(ref[k], abs=1e-12)
