"""End to end on nycflights13: fit on Arrow, select by a time split, compile, predict from the
chunked int64 Arrow columns in place, against scikit-learn on the same values."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.neural_network import MLPRegressor

from helpers import quiet_fit
from mlcore.datasets import nycflights13
from mlcore.train import compile_model, fit, select_model

FEATURES = ["month", "day", "sched_dep_time", "dep_delay", "distance", "hour"]


@pytest.fixture(scope="module")
def flights():
    t = nycflights13("flights").slice(0, 60_000)
    t = t.filter(pc.and_(pc.is_valid(t["dep_delay"]), pc.is_valid(t["arr_delay"])))
    late = pc.greater(t["arr_delay"], 15)
    return t.append_column("late", late)


def _matrix(t):
    return np.column_stack([t[c].to_numpy().astype(np.float64) for c in FEATURES])


def test_classifier_on_flights(flights):
    assert flights["dep_delay"].num_chunks > 1 and flights["dep_delay"].type == pa.int64()
    est = fit(LogisticRegression(max_iter=300), flights, target="late", features=FEATURES)
    model = compile_model(est)
    import pandas as pd

    df = pd.DataFrame(_matrix(flights), columns=FEATURES)
    np.testing.assert_allclose(model.predict_proba(flights), est.predict_proba(df), rtol=1e-6, atol=1e-9)
    assert (model.predict(flights) == est.predict(df)).all()
    row = {c: flights[c][123].as_py() for c in FEATURES}
    np.testing.assert_allclose(model.predict_proba_row(row), est.predict_proba(df.iloc[123:124])[0], rtol=1e-9)


def test_selection_by_time_then_compile(flights):
    flights = flights.slice(0, 15_000)
    res = select_model(
        {"logreg": (LogisticRegression(max_iter=300), {"C": [0.01, 1.0]}),
         "sgd": (SGDClassifier(loss="log_loss", random_state=0), {"alpha": [1e-4]})},
        flights, target="late", features=FEATURES, time_column="time_hour", validation_fraction=0.2,
        metric="roc_auc", progress=False,
    )
    assert len(res.candidates) == 3 and res.best_score_ > 0.8  # dep_delay predicts arrival delay well
    assert all(c.error is None for c in res.candidates), [c.error for c in res.candidates]
    model = compile_model(res.best_estimator_)
    X = _matrix(flights)
    import pandas as pd

    df = pd.DataFrame(X, columns=FEATURES)
    np.testing.assert_allclose(model.predict_proba(flights), res.best_estimator_.predict_proba(df),
                               rtol=1e-6, atol=1e-9)


def test_regressors_on_flights(flights):
    X = _matrix(flights)
    y = flights["arr_delay"].to_numpy().astype(np.float64)
    for est in (Ridge(alpha=1.0), MLPRegressor(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0)):
        est = quiet_fit(est, (X - X.mean(0)) / X.std(0), y)
        # Standardised features, unstandardised input: fold the scaler into a linear model; the MLP
        # gets standardised columns.
        model = compile_model(est)
        Z = (X - X.mean(0)) / X.std(0)
        if isinstance(est, Ridge):
            folded = model.fold_affine(1 / X.std(0), -X.mean(0) / X.std(0))
            np.testing.assert_allclose(folded.predict(flights.select(FEATURES)), est.predict(Z), rtol=1e-6,
                                       atol=1e-6)
        else:
            zt = pa.table({c: Z[:, j] for j, c in enumerate(FEATURES)})
            np.testing.assert_allclose(model.predict(zt), est.predict(Z), rtol=1e-6, atol=1e-6)
