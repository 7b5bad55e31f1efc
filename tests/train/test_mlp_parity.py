"""Compiled MLPs against scikit-learn and the plain-Python forward pass."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neural_network import MLPClassifier, MLPRegressor

from helpers import layouts, quiet_fit
from mlcore.errors import SchemaError
from mlcore.train import compile_model
from reference.linear_models import ref_mlp

RTOL = 1e-6
ATOL = 1e-6


@st.composite
def mlps(draw, classifier: bool):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(10, 80))
    p = draw(st.integers(1, 8))
    X = rng.normal(size=(n, p)) * 10.0 ** rng.uniform(-1, 1, size=p)
    layers = tuple(draw(st.lists(st.integers(1, 12), min_size=1, max_size=3)))
    activation = draw(st.sampled_from(["identity", "logistic", "tanh", "relu"]))
    params = dict(hidden_layer_sizes=layers, activation=activation, max_iter=draw(st.integers(1, 30)),
                  alpha=draw(st.floats(1e-5, 1.0)), random_state=int(rng.integers(0, 1000)),
                  solver=draw(st.sampled_from(["adam", "sgd", "lbfgs"])))
    if classifier:
        k = draw(st.integers(2, 4))
        y = rng.integers(0, k, size=n)
        y[:k] = np.arange(k)
        if draw(st.booleans()):
            y = np.array(["no", "yes", "maybe", "other"], dtype=object)[y]
        est = MLPClassifier(**params)
    else:
        y = X @ rng.normal(size=p) + rng.normal(size=n)
        loss = draw(st.sampled_from(["squared_error", "poisson"]))
        if loss == "poisson":
            y = np.exp(np.clip(y, -3, 3) / 3)
        elif draw(st.booleans()):
            y = np.column_stack([y, y ** 2 / 10])
        est = MLPRegressor(loss=loss, **params)
    return quiet_fit(est, X, y), X


def _ref(est, X):
    out = ref_mlp(X.tolist(), [c.tolist() for c in est.coefs_], [b.tolist() for b in est.intercepts_],
                  est.activation, est.out_activation_)
    return np.array(out)


@settings(max_examples=25)
@given(mlps(classifier=False))
def test_mlp_regressor_parity(case):
    est, X = case
    model = compile_model(est)
    assert model.kind == "mlp_regressor" and model.out_activation_ == est.out_activation_
    with np.errstate(over="ignore"):  # exp (Poisson) may overflow to inf: mlcore must give inf too
        want = est.predict(X)
    for name, data in layouts(X).items():
        got = model.predict(data)
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=name)
    np.testing.assert_allclose(model.predict(X).reshape(len(X), -1), _ref(est, X), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.predict_row(X[0]), want[0], rtol=RTOL, atol=ATOL)
    assert not hasattr(model, "predict_proba")


@settings(max_examples=25)
@given(mlps(classifier=True))
def test_mlp_classifier_parity(case):
    est, X = case
    model = compile_model(est)
    assert model.kind == "mlp_classifier"
    want_p = est.predict_proba(X)
    want = est.predict(X)
    for name, data in layouts(X).items():
        np.testing.assert_allclose(model.predict_proba(data), want_p, rtol=RTOL, atol=ATOL, err_msg=name)
        got = model.predict(data)
        assert got.dtype == want.dtype and (got == want).all(), name
    ref = _ref(est, X)
    ref_p = np.column_stack([1 - ref[:, 0], ref[:, 0]]) if ref.shape[1] == 1 else ref
    np.testing.assert_allclose(model.predict_proba(X), ref_p, rtol=RTOL, atol=ATOL)
    for i in (0, len(X) - 1):
        assert model.predict_row(X[i]) == want[i]
        np.testing.assert_allclose(model.predict_proba_row(X[i]), want_p[i], rtol=RTOL, atol=ATOL)


def test_mlp_rejects_multilabel():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    Y = (rng.normal(size=(30, 2)) > 0).astype(int)
    est = quiet_fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0), X, Y)
    with pytest.raises(SchemaError, match="multilabel"):
        compile_model(est)


def test_mlp_nan_rejected_with_column_name():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    est = quiet_fit(MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0), X, X[:, 0])
    model = compile_model(est)
    t = pa.table({"x0": X[:, 0], "x1": np.where(np.arange(30) == 11, np.nan, X[:, 1]), "x2": X[:, 2]})
    with pytest.raises(SchemaError, match=r"Column `x1` holds nan at row 11"):
        model.predict(t)
    with pytest.raises(SchemaError, match=r"Feature `x2` is inf"):
        model.predict_row(np.array([0.0, 1.0, np.inf]))


def test_mlp_output_overflow_matches_sklearn():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 2))
    est = quiet_fit(MLPRegressor(loss="poisson", hidden_layer_sizes=(2,), activation="identity", max_iter=5,
                                 random_state=0), X, np.exp(X[:, 0]))
    est.coefs_[-1][:] = 5000.0  # exp of large finite scores overflows to inf
    with np.errstate(over="ignore"):
        want = est.predict(X)
    assert np.isinf(want).any()
    got = compile_model(est).predict(X)  # finite inputs: no error, the same inf
    np.testing.assert_allclose(got, want, rtol=1e-6)
