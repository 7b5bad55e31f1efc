"""TreeEnsemble contract: input layouts, thread counts, Arrow nulls/slices/chunks, persistence, errors."""

import json

import numpy as np
import pyarrow as pa
import pytest
from sklearn import ensemble

from mlcore.errors import ArtifactError, ColumnNotFoundError, SchemaError, ShapeError
from mlcore.train.trees import KINDS, TreeEnsemble, convert_tree_model

lgb = pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def lgb_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6))
    X[:, 5] = rng.integers(0, 8, 3000)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) + (np.nan_to_num(X[:, 5]) % 2) + np.isnan(X[:, 1])
    bst = lgb.train({"verbose": -1, "num_leaves": 31, "num_threads": 1}, lgb.Dataset(X, y, categorical_feature=[5]),
                    num_boost_round=40)
    return bst, X


def _table(X, names=None):
    names = names or [f"x{j}" for j in range(X.shape[1])]
    return pa.table({n: pa.array(X[:, j], from_pandas=False) for j, n in enumerate(names)})


def test_layouts_give_identical_results(lgb_model):
    bst, X = lgb_model
    m = convert_tree_model(bst)
    ref = bst.predict(X, raw_score=True)
    want = m.raw_score(np.asfortranarray(X))[:, 0]
    np.testing.assert_allclose(want, ref, atol=1e-12, rtol=0)
    np.testing.assert_array_equal(m.raw_score(np.ascontiguousarray(X))[:, 0], want)
    np.testing.assert_array_equal(m.raw_score(X[::2])[:, 0], want[::2])  # strided view
    t = _table(X)
    np.testing.assert_array_equal(m.raw_score(t)[:, 0], want)
    # slice at an offset that is not a multiple of 8, and uneven chunks per column
    sl = t.slice(13, 2011)
    np.testing.assert_array_equal(m.raw_score(sl)[:, 0], want[13:13 + 2011])
    chunked = pa.table({
        name: pa.chunked_array([col.slice(0, 100 + 7 * j), col.slice(100 + 7 * j)])
        for j, (name, col) in enumerate(zip(t.column_names, [c.combine_chunks() for c in t.columns]))
    })
    np.testing.assert_array_equal(m.raw_score(chunked)[:, 0], want)
    # pandas input
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(m.raw_score(pd.DataFrame(X, columns=t.column_names))[:, 0], want)


def test_thread_count_does_not_change_results(lgb_model):
    bst, X = lgb_model
    m = convert_tree_model(bst)
    big = np.asfortranarray(np.tile(X, (3, 1)))  # above the parallel threshold
    one = m.raw_score(big, n_threads=1)
    two = m.raw_score(big, n_threads=2)
    np.testing.assert_array_equal(one, two)
    with pytest.raises(ValueError, match="n_threads"):
        m.raw_score(big, n_threads=0)


def test_arrow_nulls_read_as_missing_and_other_dtypes(lgb_model):
    bst, X = lgb_model
    m = convert_tree_model(bst)
    Xs = X[:500]
    cols = {}
    for j in range(6):
        v = Xs[:, j]
        cols[f"x{j}"] = pa.array(np.where(np.isnan(v), 0.0, v), mask=np.isnan(v))  # nulls, not NaN
    ref = bst.predict(Xs, raw_score=True)
    np.testing.assert_allclose(m.raw_score(pa.table(cols))[:, 0], ref, atol=1e-12, rtol=0)
    # float32 and integer columns are read (integers cast once)
    ints = np.nan_to_num(Xs[:, 5]).astype(np.int32)
    cols["x5"] = pa.array(ints)
    Xi = Xs.copy()
    Xi[:, 5] = ints
    np.testing.assert_allclose(m.raw_score(pa.table(cols))[:, 0], bst.predict(Xi, raw_score=True), atol=1e-12)
    X32 = Xs.astype(np.float32)
    np.testing.assert_allclose(m.raw_score(np.asfortranarray(X32))[:, 0],
                               bst.predict(X32.astype(np.float64), raw_score=True), atol=1e-12)
    all_null = dict(cols)
    all_null["x0"] = pa.nulls(500, pa.float64())
    Xn = Xi.copy()
    Xn[:, 0] = np.nan
    np.testing.assert_allclose(m.raw_score(pa.table(all_null))[:, 0], bst.predict(Xn, raw_score=True), atol=1e-12)


def test_empty_input(lgb_model):
    bst, X = lgb_model
    m = convert_tree_model(bst)
    assert m.predict(np.asfortranarray(X[:0])).shape == (0,)
    assert m.predict(_table(X[:0])).shape == (0,)


def test_single_row_path_matches_batch(lgb_model):
    bst, X = lgb_model
    m = convert_tree_model(bst)
    batch = m.raw_score(np.asfortranarray(X[:200]))
    rows = np.array([m.predict_row(x) for x in X[:200]])
    np.testing.assert_allclose(rows, batch, atol=1e-12, rtol=0)
    with pytest.raises(ShapeError, match="6 features"):
        m.predict_row(X[0, :3])


def test_round_trip_through_json_and_npy(tmp_path, lgb_model):
    bst, X = lgb_model
    m = convert_tree_model(bst)
    manifest, arrays = m.to_arrays()
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    for k, v in arrays.items():
        np.save(tmp_path / f"{k}.npy", v)
    loaded = TreeEnsemble.from_arrays(json.loads((tmp_path / "m.json").read_text()),
                                      {k: np.load(tmp_path / f"{k}.npy", allow_pickle=False) for k in arrays})
    assert loaded.kind in KINDS
    np.testing.assert_array_equal(loaded.raw_score(np.asfortranarray(X)), m.raw_score(np.asfortranarray(X)))


def test_from_arrays_refuses_bad_artifacts(lgb_model):
    bst, _ = lgb_model
    manifest, arrays = convert_tree_model(bst).to_arrays()
    with pytest.raises(ArtifactError, match="Unknown model kind"):
        TreeEnsemble.from_arrays({**manifest, "kind": "pickle"}, arrays)
    with pytest.raises(ArtifactError, match="post"):
        TreeEnsemble.from_arrays({**manifest, "post": "eval"}, arrays)
    with pytest.raises(ArtifactError, match="float64"):
        TreeEnsemble.from_arrays(manifest, {**arrays, "thr": np.zeros(arrays["thr"].size, np.float32)})
    bad = dict(arrays)
    bad["child_base"] = arrays["child_base"].copy()
    bad["child_base"][0] = 10**9
    with pytest.raises(ArtifactError, match="child_base"):
        TreeEnsemble.from_arrays(manifest, bad)
    with pytest.raises(ArtifactError, match="missing"):
        TreeEnsemble.from_arrays(manifest, {k: v for k, v in arrays.items() if k != "val"})
    with pytest.raises(ArtifactError, match="vsrc"):
        TreeEnsemble.from_arrays({**manifest, "n_features": 2}, arrays)


def test_bad_inputs_are_named(lgb_model):
    bst, X = lgb_model
    m = convert_tree_model(bst)
    with pytest.raises(ShapeError, match="5 features, but the model expects 6"):
        m.predict(np.asfortranarray(X[:, :5]))
    t = _table(X[:10])
    with pytest.raises(SchemaError, match="x2"):
        m.predict(t.set_column(2, "x2", pa.array([str(i) for i in range(10)])))
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    Xd = pd.DataFrame(rng.normal(size=(100, 2)), columns=["speed", "delay"])
    rf = ensemble.RandomForestRegressor(n_estimators=3, random_state=0).fit(Xd, Xd["speed"])
    mr = convert_tree_model(rf)
    with pytest.raises(ColumnNotFoundError, match="delay"):
        mr.predict(pa.table({"speed": [1.0], "other": [2.0]}))
    with pytest.raises(AttributeError, match="predict_proba"):
        mr.predict_proba(Xd)
    with pytest.raises(AttributeError, match="decision_function"):
        mr.decision_function(Xd)


def test_single_row_path_multi_output_models():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.digitize(np.nan_to_num(X[:, 0]), [-0.5, 0.5])
    rf = ensemble.RandomForestClassifier(n_estimators=7, max_depth=6, random_state=0).fit(X, y)
    bst = lgb.train({"objective": "multiclass", "num_class": 3, "verbose": -1, "num_leaves": 7},
                    lgb.Dataset(X, y), num_boost_round=5)
    for model in (rf, bst):
        m = convert_tree_model(model)
        batch = m.raw_score(np.asfortranarray(X))
        rows = np.array([m.predict_row(x) for x in X])
        np.testing.assert_allclose(rows, batch, atol=1e-12, rtol=0)


def test_single_row_dict_input_and_threads():
    import threading

    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    gb = ensemble.GradientBoostingRegressor(n_estimators=10, random_state=0).fit(X, X["a"] * X["b"])
    m = convert_tree_model(gb)
    want = gb.predict(X)
    assert m.predict_row({"c": X["c"][5], "a": X["a"][5], "b": X["b"][5]})[0] == pytest.approx(want[5], abs=1e-12)
    with pytest.raises(ColumnNotFoundError, match="b"):
        m.predict_row({"a": 1.0, "c": 2.0})
    # every thread has its own buffers: concurrent calls give each row its own answer
    rows = X.to_numpy()
    results = {}

    def work(k):
        results[k] = np.array([m.predict_row(rows[i])[0] for i in range(k, 300, 4)])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        np.testing.assert_allclose(results[k], want[k::4], atol=1e-12, rtol=0)


def test_values_the_source_refuses_are_refused():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    gb = ensemble.GradientBoostingRegressor(n_estimators=5, random_state=0).fit(X, X["a"] + X["b"] * X["c"])
    m = convert_tree_model(gb)
    assert set(m._used) == {0, 1, 2}  # values are checked in the columns the model reads
    bad = X.copy()
    bad.loc[7, "b"] = np.nan
    with pytest.raises(ValueError):
        gb.predict(bad)  # the source refuses it too
    with pytest.raises(SchemaError, match="column `b`.*GradientBoostingRegressor does not accept missing"):
        m.predict(bad)
    with pytest.raises(SchemaError, match="column `c`"):
        m.predict_row({"a": 0.0, "b": 1.0, "c": np.nan})
    nulls = pa.table({"a": pa.array([0.1, None]), "b": pa.array([1.0, 2.0]), "c": pa.array([1.0, 2.0])})
    with pytest.raises(SchemaError, match="column `a`"):
        m.predict(nulls)
    rf = ensemble.RandomForestRegressor(n_estimators=3, random_state=0).fit(X, X["c"])
    inf = X.copy()
    inf.loc[3, "c"] = np.inf
    with pytest.raises(SchemaError, match="infinite"):
        convert_tree_model(rf).predict(inf)
    # NaN is fine where the source takes it
    assert np.isfinite(convert_tree_model(rf).predict(bad)).all()
