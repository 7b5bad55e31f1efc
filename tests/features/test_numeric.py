"""Scalers, power transforms, binning, missing indicators: parity with scikit-learn and references."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from sklearn import feature_selection as skfs
from sklearn import impute as skimpute
from sklearn import preprocessing as skp

import mlcore.features as mf
from mlcore.errors import ColumnNotFoundError, NotFittedError, SchemaError, ShapeError
from reference import feat_numeric as ref
from reference.feat_layouts import dense, table_layouts


def _data(n=3001, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.lognormal(size=n)
    b = rng.normal(3, 2, size=n)
    b[rng.random(n) < 0.05] = np.nan
    c = rng.integers(-50, 50, size=n)
    mask = rng.random(n) < 0.1
    cols = {"a": pa.array(a), "b": pa.array(b), "c": pa.array(c, mask=mask)}
    X = np.column_stack([a, b, np.where(mask, np.nan, c).astype(float)])
    return cols, X


SK_PAIRS = [
    (lambda: mf.StandardScaler(["a", "b", "c"]), lambda: skp.StandardScaler()),
    (lambda: mf.StandardScaler(["a", "b", "c"], with_mean=False), lambda: skp.StandardScaler(with_mean=False)),
    (lambda: mf.MinMaxScaler(["a", "b", "c"], feature_range=(-1, 2)), lambda: skp.MinMaxScaler(feature_range=(-1, 2))),
    (lambda: mf.RobustScaler(["a", "b", "c"]), lambda: skp.RobustScaler()),
    (lambda: mf.RobustScaler(["a", "b", "c"], quantile_range=(10, 90)), lambda: skp.RobustScaler(quantile_range=(10, 90))),
    (lambda: mf.PowerTransformer(["a", "b", "c"]), lambda: skp.PowerTransformer()),
    (lambda: mf.PowerTransformer(["a", "b", "c"], standardize=False), lambda: skp.PowerTransformer(standardize=False)),
]


@pytest.mark.parametrize("pair", range(len(SK_PAIRS)))
@pytest.mark.parametrize("layout", ["contiguous", "sliced", "chunked"])
def test_parity_with_sklearn(pair, layout):
    cols, X = _data()
    t = table_layouts(cols)[layout]
    mine, theirs = SK_PAIRS[pair][0](), SK_PAIRS[pair][1]()
    got = dense(mine.fit_transform(t))
    want = theirs.fit_transform(X)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    assert np.array_equal(np.isnan(got), np.isnan(want))


def test_box_cox_parity_and_positive_check():
    cols, X = _data()
    t = pa.table({"a": cols["a"]})
    got = dense(mf.PowerTransformer(["a"], method="box-cox").fit_transform(t))
    want = skp.PowerTransformer(method="box-cox").fit_transform(X[:, :1])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="strictly positive.*`b`"):
        mf.PowerTransformer(["b"], method="box-cox").fit(pa.table({"b": [-1.0, 2.0]}))


def test_yeo_johnson_matches_reference_formula():
    cols, X = _data()
    t = pa.table({"b": cols["b"]})
    pt = mf.PowerTransformer(["b"], standardize=False).fit(t)
    got = dense(pt.transform(t))[:, 0]
    np.testing.assert_allclose(got, ref.yeo_johnson(X[:, 1], pt.lambdas_[0]), rtol=1e-9, atol=1e-12)


def test_references_match_on_finite_data():
    cols, X = _data()
    t = pa.table(cols)
    np.testing.assert_allclose(dense(mf.StandardScaler(["b"]).fit_transform(t))[:, 0], ref.standard(X[:, 1]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dense(mf.MinMaxScaler(["c"]).fit_transform(t))[:, 0], ref.min_max(X[:, 2]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dense(mf.RobustScaler(["a"]).fit_transform(t))[:, 0], ref.robust(X[:, 0]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [2, 5, 13])
def test_kbins_parity(strategy, n_bins):
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.exponential(size=2000), rng.integers(0, 4, 2000).astype(float), np.full(2000, 7.0)])
    t = pa.table({"x": X[:, 0], "y": X[:, 1], "z": X[:, 2]})
    mine = mf.KBinsDiscretizer(["x", "y", "z"], n_bins=n_bins, strategy=strategy).fit(t)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn warns on the constant/narrow bins
        theirs = skp.KBinsDiscretizer(n_bins=n_bins, strategy=strategy, encode="ordinal").fit(X)
    for e1, e2 in zip(mine.bin_edges_, theirs.bin_edges_):
        np.testing.assert_allclose(e1, e2, rtol=1e-12)
    np.testing.assert_array_equal(dense(mine.transform(t)), theirs.transform(X))
    np.testing.assert_array_equal(dense(mine.transform(t))[:, 0], ref.bin_index(X[:, 0], mine.bin_edges_[0]))


def test_kbins_nan_and_inf_at_transform():
    kb = mf.KBinsDiscretizer(["x"], n_bins=3, strategy="uniform").fit(pa.table({"x": [0.0, 3.0, 6.0]}))
    out = kb.transform(pa.table({"x": pa.array([np.nan, -np.inf, np.inf, None, 2.0], type=pa.float64())}))
    assert out["x"].to_pylist()[1:3] == [0.0, 2.0]
    v = out["x"].to_numpy()
    assert np.isnan(v[0]) and np.isnan(v[3]) and v[4] == 1.0  # edges 0, 2, 4, 6: 2.0 opens bin 1


@pytest.mark.parametrize("features", ["missing-only", "all"])
def test_missing_indicator_parity(features):
    cols, X = _data()
    t = pa.table({**cols, "full": pa.array(np.arange(len(X), dtype=float))})
    Xf = np.column_stack([X, np.arange(len(X), dtype=float)])
    mi = mf.MissingIndicator(["a", "b", "c", "full"], features=features).fit(t)
    sk = skimpute.MissingIndicator(features=features).fit(Xf)
    np.testing.assert_array_equal(dense(mi.transform(t)), sk.transform(Xf).astype(float))
    strings = pa.table({"s": pa.array(["x", None, "y"])})
    got = mf.MissingIndicator(["s"]).fit_transform(strings)["s_missing"].to_pylist()
    assert got == list(ref.missing(["x", None, "y"]))


@pytest.mark.parametrize("threshold", [0.0, 0.5, 3.0])
def test_variance_threshold_parity(threshold):
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(0, s, 500) for s in (0.0, 0.5, 1.0, 2.0)])
    t = pa.table({f"x{j}": X[:, j] for j in range(4)})
    mine = mf.VarianceThreshold([f"x{j}" for j in range(4)], threshold=threshold).fit(t)
    theirs = skfs.VarianceThreshold(threshold=threshold).fit(X)
    np.testing.assert_allclose(mine.variances_, theirs.variances_, rtol=1e-9, atol=1e-12)
    assert mine.selected_ == [f"x{j}" for j in np.flatnonzero(theirs.get_support())]
    np.testing.assert_array_equal(dense(mine.transform(t)), theirs.transform(X))


def test_log_transform():
    t = pa.table({"x": pa.array([0.0, 1.0, -2.0, None, 9.0])})
    got = mf.LogTransformer(["x"], shift=1.0).fit_transform(t)["x"].to_numpy()
    with np.errstate(invalid="ignore"):
        want = np.log(np.array([1.0, 2.0, -1.0, np.nan, 10.0]))
    np.testing.assert_array_equal(got, want)


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [mf.StandardScaler, mf.MinMaxScaler, mf.RobustScaler, mf.PowerTransformer,
                                 mf.KBinsDiscretizer])
def test_bad_input_is_a_clear_error(cls):
    t = pa.table({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"], "inf": [1.0, np.inf, 2.0],
                  "null": pa.array([None, None, None], type=pa.float64())})
    with pytest.raises(ColumnNotFoundError, match="`nope`"):
        cls(["nope"]).fit(t)
    with pytest.raises(SchemaError, match="`s`.*|string"):
        cls(["s"]).fit(t)
    with pytest.raises(ValueError, match="infinite.*`inf`"):
        cls(["inf"]).fit(t)
    with pytest.raises(ValueError, match="no finite value.*`null`|`null`.*no finite value"):
        cls(["null"]).fit(t)
    with pytest.raises(ShapeError, match="0 rows"):
        cls(["x"]).fit(t.slice(0, 0))
    with pytest.raises(NotFittedError):
        cls(["x"]).transform(t)
    fitted = cls(["x"]).fit(t)
    assert fitted.transform(t.slice(0, 0)).num_rows == 0
    with pytest.raises(ColumnNotFoundError, match="`x`"):
        fitted.transform(t.drop_columns(["x"]))
    with pytest.raises(SchemaError, match="`x`"):
        fitted.transform(pa.table({"x": ["1", "2", "3"]}))
    allnull = fitted.transform(pa.table({"x": pa.array([None, None], type=pa.float64())}))
    assert np.isnan(allnull["x"].to_numpy()).all()


def test_options_are_keyword_only_and_validated():
    with pytest.raises(TypeError):
        mf.StandardScaler(["x"], False)
    with pytest.raises(ValueError, match="feature_range"):
        mf.MinMaxScaler(["x"], feature_range=(1, 0))
    with pytest.raises(ValueError, match="columns"):
        mf.StandardScaler([])
    with pytest.raises(ValueError, match="twice"):
        mf.StandardScaler(["x", "x"])
