"""Results do not depend on the number of threads, chunk boundaries or the input layout."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from helpers import layouts, quiet_fit
from mlcore.train import compile_model
from mlcore.train._common import PARALLEL_MIN_ROWS


def _data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10, size=p)
    y = rng.integers(0, 3, size=n)
    return X, y


def test_linear_bitwise_equal_across_threads_and_layouts():
    n = PARALLEL_MIN_ROWS + 1234  # large enough for the parallel kernel
    X, y = _data(n, 7)
    est = LogisticRegression(max_iter=200).fit(X[:2000], y[:2000])
    model = compile_model(est)
    table = pa.table({f"x{j}": X[:, j] for j in range(7)})
    one = model.predict_proba(table, n_threads=1)
    two = model.predict_proba(table, n_threads=2)
    np.testing.assert_array_equal(one, two)
    for name, data in layouts(X, seed=5).items():
        np.testing.assert_array_equal(model.predict_proba(data, n_threads=2), one, err_msg=name)
        np.testing.assert_array_equal(model.decision_function(data, n_threads=1),
                                      model.decision_function(table, n_threads=1), err_msg=name)
    np.testing.assert_allclose(one, est.predict_proba(X), rtol=1e-6, atol=1e-12)
    # one row = the same bits as the batch
    for i in (0, 17, n - 1):
        np.testing.assert_array_equal(model.predict_proba_row(X[i]), one[i])


def test_mlp_bitwise_equal_across_threads_and_layouts():
    n = PARALLEL_MIN_ROWS + 99
    X, y = _data(n, 5, seed=1)
    est = quiet_fit(MLPClassifier(hidden_layer_sizes=(8, 4), max_iter=20, random_state=0), X[:1000], y[:1000])
    model = compile_model(est)
    table = pa.table({f"x{j}": X[:, j] for j in range(5)})
    one = model.predict_proba(table, n_threads=1)
    np.testing.assert_array_equal(model.predict_proba(table, n_threads=2), one)
    for name, data in layouts(X, seed=6).items():
        np.testing.assert_array_equal(model.predict_proba(data, n_threads=2), one, err_msg=name)
    np.testing.assert_allclose(one, est.predict_proba(X), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(model.predict_proba_row(X[5]), one[5])
