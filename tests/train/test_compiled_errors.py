"""Bad input gives a clear error naming what is wrong; never a silently different prediction."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from mlcore.errors import ColumnNotFoundError, CopyWarning, NotFittedError, SchemaError, ShapeError
from mlcore.train import compile_model


@pytest.fixture(scope="module")
def named():
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    df = pd.DataFrame(X, columns=list("abcde"))
    return compile_model(LogisticRegression().fit(df, (X[:, 0] > 0).astype(int))), X


@pytest.fixture(scope="module")
def unnamed():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 5))
    return compile_model(LinearRegression().fit(X, X[:, 1])), X


def test_missing_column_is_named(named):
    model, X = named
    t = pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "e": X[:, 4]})
    with pytest.raises(ColumnNotFoundError, match=r"`d` not found"):
        model.predict(t)
    with pytest.raises(ColumnNotFoundError, match=r"\['d'\] not found in the row"):
        model.predict_row({"a": 1.0, "b": 1.0, "c": 1.0, "e": 1.0})


def test_wrong_type_is_named(named):
    model, X = named
    cols = {k: X[:, j] for j, k in enumerate("abcde")}
    cols["c"] = pa.array([str(v) for v in X[:, 2]])
    with pytest.raises(SchemaError, match=r"got `string` - at column `c`"):
        model.predict(pa.table(cols))
    cols["c"] = pa.array(X[:, 2].astype("datetime64[s]").astype("datetime64[ns]"))
    with pytest.raises(SchemaError, match=r"at column `c`"):
        model.predict(pa.table(cols))
    with pytest.raises(SchemaError, match=r"Expected a number for feature `b`, got str"):
        model.predict_row({"a": 1.0, "b": "x", "c": 1.0, "d": 1.0, "e": 1.0})
    with pytest.raises(SchemaError, match="dtype `<U"):
        model.predict_row(np.array(["1"] * 5))


def test_wrong_number_of_features(unnamed):
    model, X = unnamed
    with pytest.raises(ShapeError, match="X has 7 features, but the LinearRegression model expects 5"):
        model.predict(np.zeros((3, 7)))
    with pytest.raises(ShapeError, match="X has 4 features, but the LinearRegression model expects 5"):
        model.predict(pa.table({f"x{j}": np.zeros(3) for j in range(4)}))
    with pytest.raises(ShapeError, match="X has 6 features, but the LinearRegression model expects 5"):
        model.predict_row(np.zeros(6))
    with pytest.raises(ShapeError, match="2-D"):
        model.predict(np.zeros(5))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("layout", ["arrow", "numpy_c", "numpy_f", "row"])
def test_nonfinite_values_rejected(unnamed, bad, layout):
    model, X = unnamed
    Xb = X.copy()
    Xb[17, 3] = bad
    if layout == "row":
        with pytest.raises(SchemaError, match=r"Feature `x3` is"):
            model.predict_row(Xb[17])
        return
    data = {"arrow": lambda: pa.table({f"x{j}": Xb[:, j] for j in range(5)}),
            "numpy_c": lambda: np.ascontiguousarray(Xb), "numpy_f": lambda: np.asfortranarray(Xb)}[layout]()
    with pytest.raises(SchemaError, match=r"Column `x3` holds .* at row 17"):
        model.predict(data)


def test_nonfinite_rejected_even_when_the_weight_is_zero():
    X = np.random.default_rng(2).normal(size=(20, 3))
    est = LinearRegression().fit(X, X[:, 0])
    est.coef_[2] = 0.0  # NaN * 0 must still be caught
    model = compile_model(est)
    Xb = X.copy()
    Xb[4, 2] = np.inf
    with pytest.raises(SchemaError, match=r"`x2` holds inf at row 4"):
        model.predict(Xb)
    with pytest.raises(SchemaError, match=r"`x2` is inf"):
        model.predict_row(Xb[4])


def test_probabilities_never_hide_nan(named):
    model, X = named
    row = X[0].copy()
    row[1] = np.inf  # sigmoid(±inf) is finite: the error must come from the input check
    with pytest.raises(SchemaError, match="Feature `b` is inf"):
        model.predict_proba_row(row)
    t = pa.table({k: (np.where(np.arange(40) == 3, np.inf, X[:, j]) if k == "b" else X[:, j])
                  for j, k in enumerate("abcde")})
    with pytest.raises(SchemaError, match="Column `b` holds inf at row 3"):
        model.predict_proba(t)


def test_nulls_rejected(named):
    model, X = named
    cols = {k: pa.array(X[:, j]) for j, k in enumerate("abcde")}
    cols["e"] = pa.array(list(X[:-1, 4]) + [None])
    with pytest.raises(SchemaError, match=r"Column `e` has 1 null value"):
        model.predict(pa.table(cols))
    with pytest.raises(SchemaError, match=r"Feature `a` is None"):
        model.predict_row({"a": None, "b": 1.0, "c": 1.0, "d": 1.0, "e": 1.0})


def test_overflow_on_finite_input_matches_sklearn():
    X = np.array([[1e300, 1e300], [1.0, 2.0]])
    est = LinearRegression().fit(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), [0.0, 1.0, 5.0])
    est.coef_[:] = [1e10, 1e10]
    model = compile_model(est)
    with np.errstate(over="ignore"):
        want = est.predict(X)
    assert np.isinf(want[0])
    np.testing.assert_array_equal(model.predict(X), want)
    assert model.predict_row(X[0]) == want[0]


def test_unsupported_estimators():
    with pytest.raises(SchemaError, match="Unsupported estimator .*StandardScaler"):
        compile_model(StandardScaler().fit(np.eye(2)))

    class MyLR(LogisticRegression):
        pass

    with pytest.raises(SchemaError, match="subclasses excluded"):
        compile_model(MyLR().fit(np.eye(2), [0, 1]))
    with pytest.raises(NotFittedError, match="LinearSVC instance is not fitted"):
        compile_model(LinearSVC())


def test_tree_models_route_to_the_trees_module():
    from sklearn.tree import DecisionTreeRegressor

    est = DecisionTreeRegressor(max_depth=2).fit(np.eye(3), [0.0, 1.0, 2.0])
    try:
        import mlcore.train.trees  # noqa: F401
    except ImportError:
        with pytest.raises(SchemaError, match="DecisionTreeRegressor is a tree ensemble"):
            compile_model(est)
    else:
        model = compile_model(est)
        np.testing.assert_allclose(model.predict(np.eye(3)), est.predict(np.eye(3)))


def test_sparsified_coef_refused():
    X = np.random.default_rng(3).normal(size=(30, 4))
    est = SGDClassifier(max_iter=50, random_state=0).fit(X, X[:, 0] > 0).sparsify()
    with pytest.raises(SchemaError, match="densify"):
        compile_model(est)


def test_no_predict_proba_where_sklearn_has_none():
    X = np.random.default_rng(4).normal(size=(30, 2))
    for est in (SGDClassifier(loss="hinge", max_iter=50, random_state=0), LinearSVC()):
        model = compile_model(est.fit(X, X[:, 0] > 0))
        assert not hasattr(model, "predict_proba") and not hasattr(model, "predict_proba_row")
        with pytest.raises(AttributeError, match="no predict_proba"):
            model.predict_proba(X)


def test_copy_warnings_for_layouts_that_must_copy(unnamed):
    model, X = unnamed
    with pytest.warns(CopyWarning, match="C-ordered float32"):
        model.predict(np.ascontiguousarray(X, dtype=np.float32))
    with pytest.warns(CopyWarning, match="strided"):
        model.predict(np.asfortranarray(np.hstack([X, X]))[:, ::2])


def test_row_input_types(unnamed):
    model, X = unnamed
    with pytest.raises(TypeError, match="dict of feature values or a 1-D NumPy vector"):
        model.predict_row([1.0] * 5)
    with pytest.raises(ShapeError, match="1-D"):
        model.predict_row(np.zeros((1, 5)))
    # A float32 or strided vector takes the slow path and gives the same result.
    want = model.predict_row(X[3])
    assert model.predict_row(X[3].astype(np.float32)) == pytest.approx(want, rel=1e-6)
    assert model.predict_row(np.asfortranarray(X)[3]) == want


def test_bad_thread_count(unnamed):
    model, X = unnamed
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_threads"):
            model.predict(X, n_threads=bad)
