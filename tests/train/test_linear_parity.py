"""Compiled linear models against scikit-learn and the plain-Python reference, on every layout."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.svm import LinearSVC, LinearSVR

from helpers import layouts, quiet_fit
from mlcore.train import compile_model
from reference.linear_models import ref_labels, ref_proba, ref_scores

RTOL = 1e-6
ATOL = 1e-6


@st.composite
def problems(draw, classification: bool):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(8, 120))
    p = draw(st.integers(1, 12))
    scales = 10.0 ** rng.uniform(-2, 2, size=p)
    X = rng.normal(size=(n, p)) * scales + rng.normal(size=p) * scales
    w = rng.normal(size=p) / scales
    if classification:
        k = draw(st.integers(2, 4))
        z = X @ (rng.normal(size=(p, k)) / scales[:, None]) + rng.normal(size=(n, k))
        y = np.argmax(z, axis=1)
        y[:k] = np.arange(k)  # every class present
        labels = draw(st.sampled_from(["int", "str", "shifted"]))
        if labels == "str":
            y = np.array(["a", "b", "c", "d"], dtype=object)[y]
        elif labels == "shifted":
            y = y * 3 - 2
    else:
        y = X @ w + rng.normal(size=n) * 0.1
        if draw(st.booleans()):
            y = np.column_stack([y, -2 * y + rng.normal(size=n)])
    return X, y


def _check_layouts(model, est, X, methods):
    for name, data in layouts(X).items():
        for method in methods:
            want = getattr(est, method)(X)
            got = getattr(model, method)(data)
            assert got.shape == want.shape, (name, method)
            if method == "predict" and model.kind == "linear_classifier":
                assert got.dtype == want.dtype and (got == want).all(), (name, method)
            else:
                np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=f"{name} {method}")


REGRESSORS = {
    "LinearRegression": lambda d: LinearRegression(fit_intercept=d(st.booleans())),
    "Ridge": lambda d: Ridge(alpha=d(st.floats(1e-3, 1e3)), fit_intercept=d(st.booleans())),
    "Lasso": lambda d: Lasso(alpha=d(st.floats(1e-3, 1.0)), fit_intercept=d(st.booleans()), max_iter=200),
    "ElasticNet": lambda d: ElasticNet(alpha=d(st.floats(1e-3, 1.0)), l1_ratio=d(st.floats(0.0, 1.0)),
                                       max_iter=200),
    "SGDRegressor": lambda d: SGDRegressor(loss=d(st.sampled_from(["squared_error", "huber", "epsilon_insensitive"])),
                                           penalty=d(st.sampled_from(["l2", "l1", "elasticnet", None])),
                                           max_iter=20, random_state=0),
    "LinearSVR": lambda d: LinearSVR(C=d(st.floats(0.01, 10.0)), epsilon=d(st.floats(0.0, 1.0)), max_iter=200,
                                     random_state=0),
}

CLASSIFIERS = {
    "LogisticRegression": lambda d: LogisticRegression(C=d(st.floats(1e-3, 1e3)), fit_intercept=d(st.booleans()),
                                                       max_iter=50),
    "SGDClassifier": lambda d: SGDClassifier(
        loss=d(st.sampled_from(["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"])),
        penalty=d(st.sampled_from(["l2", "l1", None])), max_iter=20, random_state=0),
    "LinearSVC": lambda d: LinearSVC(C=d(st.floats(0.01, 10.0)), fit_intercept=d(st.booleans()), max_iter=200,
                                     random_state=0),
}


@pytest.mark.parametrize("name", sorted(REGRESSORS))
@settings(max_examples=12)
@given(data=st.data())
def test_regressor_parity(name, data):
    X, y = data.draw(problems(classification=False))
    if name in ("SGDRegressor", "LinearSVR") and y.ndim == 2:
        y = y[:, 0]  # single-target estimators
    if name == "SGDRegressor":  # unscaled data makes SGD diverge (scikit-learn raises): scale it
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    est = quiet_fit(REGRESSORS[name](data.draw), X, y)
    model = compile_model(est)
    assert model.kind == "linear_regressor" and model.n_features_in_ == X.shape[1]
    _check_layouts(model, est, X, ["predict"])
    # The plain-Python reference agrees too.
    coef = np.atleast_2d(est.coef_)
    ref = np.array(ref_scores(X.tolist(), coef.tolist(), np.broadcast_to(est.intercept_, (coef.shape[0],)).tolist()))
    np.testing.assert_allclose(model.predict(X).reshape(ref.shape), ref, rtol=RTOL, atol=ATOL)
    # One row: a vector and a dict give the batch result.
    i = data.draw(st.integers(0, X.shape[0] - 1))
    row = model.predict_row(X[i])
    np.testing.assert_allclose(row, est.predict(X[i:i + 1])[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.predict_row({f"x{j}": v for j, v in enumerate(X[i])}), row, rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
@settings(max_examples=12)
@given(data=st.data())
def test_classifier_parity(name, data):
    X, y = data.draw(problems(classification=True))
    if name == "SGDClassifier":
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    est = quiet_fit(CLASSIFIERS[name](data.draw), X, y)
    model = compile_model(est)
    assert model.kind == "linear_classifier"
    methods = ["predict", "decision_function"]
    if hasattr(est, "predict_proba"):
        methods.append("predict_proba")
    else:
        assert not hasattr(model, "predict_proba")
    _check_layouts(model, est, X, methods)
    scores = ref_scores(X.tolist(), est.coef_.tolist(), np.broadcast_to(est.intercept_, (est.coef_.shape[0],)).tolist())
    assert model.predict(X).tolist() == ref_labels(scores, est.classes_.tolist())
    if "predict_proba" in methods:
        np.testing.assert_allclose(model.predict_proba(X), ref_proba(scores, model._proba), rtol=RTOL, atol=1e-12)
    i = data.draw(st.integers(0, X.shape[0] - 1))
    assert model.predict_row(X[i]) == est.predict(X[i:i + 1])[0]
    np.testing.assert_allclose(model.decision_function_row(X[i]), est.decision_function(X[i:i + 1])[0],
                               rtol=RTOL, atol=ATOL)
    if "predict_proba" in methods:
        np.testing.assert_allclose(model.predict_proba_row(X[i]), est.predict_proba(X[i:i + 1])[0],
                                   rtol=RTOL, atol=ATOL)


def test_logistic_multinomial_softmax_exact_formula():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 6))
    y = rng.integers(0, 5, size=300)
    est = LogisticRegression(max_iter=500).fit(X, y)
    model = compile_model(est)
    got = model.predict_proba(X)
    np.testing.assert_allclose(got, est.predict_proba(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-14)


def test_sgd_ovr_all_zero_probabilities_become_uniform():
    # Scores far below -1 make every modified-Huber probability 0: scikit-learn then returns 1/K.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 3))
    y = rng.integers(0, 3, size=60)
    est = quiet_fit(SGDClassifier(loss="modified_huber", max_iter=5, random_state=0), X, y)
    est.coef_[:] *= 1e-3
    est.intercept_[:] = -50.0
    model = compile_model(est)
    want = est.predict_proba(X)
    assert np.allclose(want, 1 / 3)
    np.testing.assert_allclose(model.predict_proba(X), want, rtol=0, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32",
                                   "uint64", "bool"])
def test_column_dtypes_read_in_place(dtype):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(700, 4)) * 50
    y = X @ np.array([1.0, -2.0, 0.5, 3.0]) + 1.0
    est = LinearRegression().fit(X, y)
    model = compile_model(est)
    Xt = (X > 0) if dtype == "bool" else X.astype(dtype)
    table = pa.table({f"x{j}": Xt[:, j] for j in range(4)})
    want = est.predict(Xt.astype(np.float64))
    if dtype == "bool":
        with pytest.warns(Warning, match="bit-packed"):
            got = model.predict(table)
    else:
        got = model.predict(table)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)
    if dtype != "bool":  # the same dtype in a Fortran-ordered matrix
        np.testing.assert_allclose(model.predict(np.asfortranarray(Xt)), want, rtol=1e-12, atol=1e-9)


def test_feature_names_select_columns_by_name():
    import pandas as pd

    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    est = LogisticRegression().fit(df, (X[:, 0] > 0).astype(int))
    model = compile_model(est)
    assert model.feature_names_in_ == ["a", "b", "c"]
    shuffled = pa.table({"extra": np.zeros(50), "c": X[:, 2], "a": X[:, 0], "b": X[:, 1]})
    np.testing.assert_allclose(model.predict_proba(shuffled), est.predict_proba(df), rtol=1e-12)
    row = {"c": X[7, 2], "b": X[7, 1], "a": X[7, 0], "unused": "ignored"}
    np.testing.assert_allclose(model.predict_proba_row(row), est.predict_proba(df.iloc[7:8])[0], rtol=1e-12)


def test_empty_input():
    est = LinearRegression().fit(np.eye(3), [1.0, 2.0, 3.0])
    model = compile_model(est)
    assert model.predict(np.zeros((0, 3))).shape == (0,)
    assert model.predict(pa.table({f"x{j}": pa.array([], pa.float64()) for j in range(3)})).shape == (0,)


def test_standard_scaler_folds_into_the_weights():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(7)
    X = rng.normal(size=(400, 6)) * [1, 10, 100, 0.1, 5, 2] + [0, 50, -20, 1, 3, 0]
    y = rng.integers(0, 3, size=400)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    scaler, est = pipe[0], pipe[-1]
    folded = compile_model(est).fold_affine(1.0 / scaler.scale_, -scaler.mean_ / scaler.scale_)
    np.testing.assert_allclose(folded.predict_proba(X), pipe.predict_proba(X), rtol=1e-9, atol=1e-12)
    assert (folded.predict(X) == pipe.predict(X)).all()


@pytest.mark.parametrize("k", [2, 4])
def test_c_function_pointer_matches_the_python_path(k):
    cffi = pytest.importorskip("cffi")
    from mlcore._kernels.linear_cfunc import C_SIGNATURE

    rng = np.random.default_rng(8)
    X = rng.normal(size=(100, 7))
    est = LogisticRegression().fit(X, rng.integers(0, k, size=100))
    model = compile_model(est)
    ffi = cffi.FFI()
    for method in ("predict_proba", "decision_function", "predict"):
        address, packed, op, width = model.row_cfunc(method)
        fn = ffi.cast(C_SIGNATURE, address)
        out = np.empty(width)
        scratch = np.empty(model.n_outputs_)
        for i in (0, 50, 99):
            x = np.ascontiguousarray(X[i])
            r = fn(ffi.from_buffer("double[]", packed), 7, model.n_outputs_, ffi.from_buffer("double[]", x), op,
                   ffi.from_buffer("double[]", out), ffi.from_buffer("double[]", scratch))
            assert r == out[0]
            if method == "predict_proba":
                np.testing.assert_array_equal(out, model.predict_proba_row(x))
            elif method == "decision_function":
                np.testing.assert_array_equal(out.reshape(-1)[: model.n_outputs_],
                                              np.atleast_1d(model.decision_function_row(x)))
            else:
                assert est.classes_[int(out[0])] == est.predict(X[i:i + 1])[0]
        x = np.full(7, np.nan)
        assert np.isnan(fn(ffi.from_buffer("double[]", packed), 7, model.n_outputs_, ffi.from_buffer("double[]", x),
                           op, ffi.from_buffer("double[]", out), ffi.from_buffer("double[]", scratch)))
