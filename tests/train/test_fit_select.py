"""mlcore.train.fit and select_model on Arrow tables."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

from mlcore.errors import ColumnNotFoundError, SchemaError
from mlcore.train import compile_model, fit, select_model
from mlcore.train.progress import Progress


def _table(n=300, seed=0, classification=True):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.integers(0, 10, size=n)
    c = rng.normal(size=n)
    z = a + 0.3 * b - 1.5 + rng.normal(size=n) * 0.5
    y = np.where(z > 0, "yes", "no") if classification else z
    return pa.table({"a": a, "b": pa.array(b, pa.int32()), "c": c, "y": y,
                     "t": pa.array(rng.permutation(n), pa.int64())})


def test_fit_on_arrow_matches_numpy_fit():
    t = _table()
    est = fit(LogisticRegression(), t, target="y", features=["a", "b", "c"])
    X = np.column_stack([t["a"].to_numpy(), t["b"].to_numpy().astype(float), t["c"].to_numpy()])
    ref = LogisticRegression().fit(X, t["y"].to_numpy(zero_copy_only=False))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    assert list(est.feature_names_in_) == ["a", "b", "c"] and est.classes_.tolist() == ["no", "yes"]
    # The compiled model reads the table by name, extra columns and all.
    model = compile_model(est)
    assert model.predict(t).tolist() == ref.predict(X).tolist()


def test_fit_chunked_and_nulls():
    t = _table(classification=False)
    chunked = pa.concat_tables([t.slice(0, 100), t.slice(100, 57), t.slice(157)])
    e1 = fit(LinearRegression(), t, target="y", features=["a", "b", "c"])
    e2 = fit(LinearRegression(), chunked, target="y", features=["a", "b", "c"])
    np.testing.assert_array_equal(e1.coef_, e2.coef_)
    with_null = t.set_column(0, "a", pa.array([None] + t["a"].to_pylist()[1:], pa.float64()))
    with pytest.raises(ValueError, match="NaN"):  # scikit-learn's own message: nulls arrive as NaN
        fit(LinearRegression(), with_null, target="y", features=["a", "b", "c"])


def test_fit_errors():
    t = _table()
    with pytest.raises(ColumnNotFoundError, match="`zz` not found"):
        fit(LinearRegression(), t, target="y", features=["a", "zz"])
    with pytest.raises(SchemaError, match="at column `y`"):
        fit(LinearRegression(), t, target="a", features=["y"])
    with pytest.raises(SchemaError, match="also listed"):
        fit(LinearRegression(), t, target="a", features=["a", "b"])
    null_target = t.set_column(3, "y", pa.array([None] * t.num_rows, pa.string()))
    with pytest.raises(SchemaError, match="Target column `y` has 300 null"):
        fit(LogisticRegression(), null_target, target="y", features=["a"])


def test_select_model_cv_keeps_every_score_and_matches_sklearn():
    t = _table()
    res = select_model(
        {"logreg": (LogisticRegression(max_iter=200), {"C": [0.01, 1.0]}),
         "tree": (DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]})},
        t, target="y", features=["a", "b", "c"], metric="accuracy", cv=4, progress=False,
    )
    assert len(res.candidates) == 4 and [c.rank for c in res.candidates] == [1, 2, 3, 4]
    means = [c.mean_score for c in res.candidates]
    assert means == sorted(means, reverse=True)
    X = np.column_stack([t["a"].to_numpy(), t["b"].to_numpy().astype(float), t["c"].to_numpy()])
    y = t["y"].to_numpy(zero_copy_only=False)
    for c in res.candidates:
        est = LogisticRegression(max_iter=200) if c.name == "logreg" else DecisionTreeClassifier(random_state=0)
        want = cross_val_score(est.set_params(**c.params), X, y, cv=4, scoring="accuracy")
        np.testing.assert_allclose(c.fold_scores, want, rtol=1e-12)
    assert res.best_estimator_ is not None and list(res.best_estimator_.feature_names_in_) == ["a", "b", "c"]
    table = res.to_table()
    assert table.num_rows == 4 and table.column("rank").to_pylist() == [1, 2, 3, 4]
    assert "mean_accuracy" in table.column_names


def test_select_model_time_split_uses_latest_rows():
    t = _table(classification=False)
    res = select_model([(Ridge(), {"alpha": [0.1, 10.0]}), LinearRegression()], t, target="y",
                       features=["a", "b", "c"], time_column="t", validation_fraction=0.25,
                       metric="neg_mean_squared_error", progress=False)
    assert res.validation.startswith("time split (225 train / 75 validation")
    order = np.argsort(t["t"].to_numpy(), kind="stable")
    X = np.column_stack([t["a"].to_numpy(), t["b"].to_numpy().astype(float), t["c"].to_numpy()])
    y = t["y"].to_numpy()
    tr, va = order[:225], order[225:]
    for c in res.candidates:
        est = (Ridge() if c.name == "Ridge" else LinearRegression()).set_params(**c.params).fit(X[tr], y[tr])
        assert c.fold_scores == [pytest.approx(-np.mean((est.predict(X[va]) - y[va]) ** 2), rel=1e-10)]


def test_select_model_expanding_time_splits():
    from sklearn.model_selection import TimeSeriesSplit

    t = _table(classification=False)
    res = select_model([LinearRegression()], t, target="y", features=["a", "b", "c"], time_column="t",
                       time_splits=3, metric="r2", progress=False)
    assert res.validation == "3 expanding-window time splits" and len(res.best.fold_scores) == 3
    order = np.argsort(t["t"].to_numpy(), kind="stable")
    X = np.column_stack([t["a"].to_numpy(), t["b"].to_numpy().astype(float), t["c"].to_numpy()])[order]
    y = t["y"].to_numpy()[order]
    for score, (tr, va) in zip(res.best.fold_scores, TimeSeriesSplit(3).split(X)):
        assert score == pytest.approx(LinearRegression().fit(X[tr], y[tr]).score(X[va], y[va]), rel=1e-10)


def test_select_model_records_failures_and_rejects_bad_grids():
    t = _table()
    res = select_model([(LogisticRegression(), {"C": [1.0, -1.0]})], t, target="y", features=["a"], cv=3,
                       progress=False)
    assert res.candidates[-1].error is not None and np.isnan(res.candidates[-1].mean_score)
    assert res.candidates[0].params == {"C": 1.0}
    with pytest.raises(SchemaError, match="no parameter"):
        select_model([(LogisticRegression(), {"depth": [1]})], t, target="y", cv=3, progress=False)
    with pytest.raises(ValueError, match="Unknown metric"):
        select_model([LogisticRegression()], t, target="y", features=["a"], metric="nope", progress=False)


def test_progress_printer():
    buf = io.StringIO()
    p = Progress(3, enabled=True, stream=buf)
    for i in range(3):
        p.step(f"fit {i}")
    p.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("[3/3] fit 2") and "elapsed" in lines[-1]
    quiet = io.StringIO()
    Progress(2, stream=quiet).step("x")  # not a terminal, not asked: silent
    assert quiet.getvalue() == ""


def test_fit_and_select_lightgbm_when_installed():
    lgb = pytest.importorskip("lightgbm")
    t = _table(n=400)
    est = fit(lgb.LGBMClassifier(n_estimators=20, verbose=-1), t, target="y", features=["a", "b", "c"])
    assert est.booster_.feature_name() == ["a", "b", "c"]
    X = np.column_stack([t["a"].to_numpy(), t["b"].to_numpy().astype(float), t["c"].to_numpy()])
    ref = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, t["y"].to_numpy(zero_copy_only=False))
    import pandas as pd

    df = pd.DataFrame(X, columns=["a", "b", "c"])  # fitted with names: LightGBM wants them back
    np.testing.assert_allclose(est.predict_proba(df), ref.predict_proba(X), rtol=1e-12)
    res = select_model({"lgbm": (lgb.LGBMClassifier(verbose=-1), {"n_estimators": [5, 20]}),
                        "logreg": LogisticRegression()}, t, target="y", features=["a", "b", "c"],
                       metric="roc_auc", cv=3, progress=False)
    assert {c.name for c in res.candidates} == {"lgbm", "logreg"} and len(res.candidates) == 3
    assert all(0.5 < c.mean_score <= 1.0 for c in res.candidates)
