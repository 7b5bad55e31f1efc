"""Fused predictor parity: fused predictions equal the unfused path ``model.predict(plan.transform(t))``
and the source framework (scikit-learn, LightGBM) on the plan's output, for batches (sliced, chunked,
dictionary-encoded input, any thread count) and single rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcore.errors import ColumnNotFoundError, SchemaError, ShapeError
from mlcore.features import (
    CategoryCross,
    Combine,
    DateTimeParts,
    FeaturePlan,
    FrequencyEncoder,
    KBinsDiscretizer,
    LogTransformer,
    MinMaxScaler,
    MissingIndicator,
    OneHotEncoder,
    OrdinalEncoder,
    Passthrough,
    PowerTransformer,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
    VarianceThreshold,
    as_matrix,
)
from mlcore.train import FusedPredictor, compile_model, compile_predictor

lgb = pytest.importorskip("lightgbm")

CATS = ["AA", "B6", "DL", "EV", "UA", "9E"]
T0 = np.datetime64("2013-01-01T00:00:00", "s")


def make_table(rng, n, *, nulls=True, unseen=False):
    x = rng.normal(10.0, 3.0, n)
    z = rng.lognormal(0.0, 1.0, n)
    i = rng.integers(0, 100, n)
    pool = CATS + (["ZZ"] if unseen else [])
    c = rng.choice(pool, n).astype(object)
    d = rng.choice(["JFK", "LGA", "EWR"], n).astype(object)
    secs = rng.integers(0, 365 * 86400, n)
    ts = (T0 + secs.astype("timedelta64[s]")).astype("datetime64[s]")
    xm = np.zeros(n, bool)
    cm = np.zeros(n, bool)
    if nulls:
        x[rng.random(n) < 0.05] = np.nan
        xm = rng.random(n) < 0.05
        cm = rng.random(n) < 0.05
    return pa.table({
        "x": pa.array(x, mask=xm),
        "z": z,
        "i": pa.array(i),
        "c": pa.array(c, type=pa.string(), mask=cm),
        "d": pa.array(d, type=pa.string()),
        "ts": pa.array(ts, type=pa.timestamp("s", tz="UTC")),
        "unused": rng.normal(size=n),
    })


def tree_plan():
    return FeaturePlan([
        StandardScaler(["x"]), RobustScaler(["z"]), MinMaxScaler(["i"]), Passthrough(["unused"]),
        OneHotEncoder(["c", "d"], handle_unknown="ignore"), OrdinalEncoder(["c"], handle_unknown="ignore"),
        TargetEncoder(["d"]), FrequencyEncoder(["c"]), MissingIndicator(["x", "c"], features="all"),
        DateTimeParts(["ts"], parts=["hour", "month", "dayofweek", "dayofyear"]),
        KBinsDiscretizer(["z"], n_bins=4), LogTransformer(["z"]), PowerTransformer(["z"]),
        Combine(pairs=[("x", "i")], op="ratio"), CategoryCross(pairs=[("c", "d")], handle_unknown="ignore"),
        VarianceThreshold(["i"]),
    ], verbose_feature_names=True)


@pytest.fixture(scope="module")
def train():
    rng = np.random.default_rng(0)
    t = make_table(rng, 3000)
    y_reg = np.nan_to_num(t["x"].to_numpy(zero_copy_only=False)) * 0.1 + t["i"].to_numpy() * 0.01 \
        + rng.normal(size=3000)
    y_cls = (y_reg > np.median(y_reg)).astype(int)
    y_multi = np.digitize(y_reg, np.quantile(y_reg, [0.33, 0.66]))
    return t, y_reg, y_cls, y_multi


@pytest.fixture(scope="module")
def tree_setup(train):
    t, y_reg, y_cls, y_multi = train
    plan = tree_plan()
    X = np.ascontiguousarray(as_matrix(plan.fit_transform(t, y_reg)))
    unused_col = plan.feature_names_out_.index("4_passthrough__unused")
    X[:, unused_col] = 0.0  # the model never splits on it: the fused predictor never computes it
    models = {
        "lgb_binary": lgb.LGBMClassifier(n_estimators=30, num_leaves=15, verbose=-1).fit(X, y_cls),
        "lgb_multi": lgb.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1).fit(X, y_multi),
        "lgb_reg": lgb.LGBMRegressor(n_estimators=20, num_leaves=15, verbose=-1).fit(X, y_reg),
    }
    from sklearn.ensemble import RandomForestRegressor

    models["rf_reg"] = RandomForestRegressor(n_estimators=5, max_depth=6, random_state=0).fit(X, y_reg)
    fused = {k: compile_predictor(plan, compile_model(m)) for k, m in models.items()}
    return plan, models, fused


def linear_plan():
    return FeaturePlan([
        StandardScaler(["x"]), RobustScaler(["z"]), MinMaxScaler(["i"]), Passthrough(["unused"]),
        OneHotEncoder(["c"], handle_unknown="ignore"), TargetEncoder(["d"]),
        DateTimeParts(["ts"], parts=["hour", "month"]), LogTransformer(["z"]), PowerTransformer(["z"]),
    ], verbose_feature_names=True)


@pytest.fixture(scope="module")
def linear_setup():
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(1)
    t = make_table(rng, 2000, nulls=False)
    y = t["x"].to_numpy() * 0.3 + rng.normal(size=2000)
    plan = linear_plan()
    X = np.ascontiguousarray(as_matrix(plan.fit_transform(t, y)))
    X[:, plan.feature_names_out_.index("4_passthrough__unused")] = 0.0
    yc = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    models = {
        "ridge": Ridge(alpha=1.0).fit(X, y),
        "logreg": LogisticRegression(max_iter=2000).fit(X, yc),
        "mlp": MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0),
    }
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models["mlp"].fit(X, yc)
    fused = {k: compile_predictor(plan, compile_model(m)) for k, m in models.items()}
    return plan, models, fused


def _source_matrix(plan, t):
    return np.ascontiguousarray(as_matrix(plan.transform(t)))


@pytest.mark.parametrize("name", ["lgb_binary", "lgb_multi", "lgb_reg", "rf_reg"])
def test_trees_match_unfused_and_source(tree_setup, name):
    plan, models, fused = tree_setup
    f = fused[name]
    t = make_table(np.random.default_rng(7), 1500, unseen=True)
    X = _source_matrix(plan, t)
    unfused = f.model.predict(plan.transform(t))
    got = f.predict(t)
    est = models[name]
    if name in ("lgb_binary", "lgb_multi"):
        np.testing.assert_array_equal(got, unfused)
        np.testing.assert_array_equal(got, est.predict(X))
        np.testing.assert_allclose(f.predict_proba(t), est.predict_proba(X), rtol=0, atol=1e-9)
    else:
        np.testing.assert_allclose(got, unfused, rtol=0, atol=1e-12)
        np.testing.assert_allclose(got, est.predict(X), rtol=1e-9, atol=1e-9)
    # one row at a time, as dicts and as vectors
    rows = t.slice(0, 40).to_pylist()
    for k, row in enumerate(rows):
        if name.startswith("lgb_") and name != "lgb_reg":
            np.testing.assert_allclose(f.predict_proba_row(row), est.predict_proba(X[k:k + 1])[0], atol=1e-9)
            assert f.predict_row(row) == got[k]
        else:
            assert f.predict_row(row) == pytest.approx(got[k], abs=1e-9)


def test_only_used_features_are_computed(tree_setup):
    plan, _, fused = tree_setup
    f = fused["lgb_binary"]
    assert "4_passthrough__unused" not in f.used_features
    assert "unused" not in f.input_columns
    assert len(f.used_features) < plan.n_features_out_
    # The column behind the unused output can be absent: it is never read.
    t = make_table(np.random.default_rng(3), 200).drop_columns(["unused"])
    with pytest.raises(ColumnNotFoundError):
        plan.transform(t)
    full = make_table(np.random.default_rng(3), 200)
    np.testing.assert_array_equal(f.predict(t), f.model.predict(plan.transform(full)))
    assert "not fused" in f.explain() or "every used feature is fused" in f.explain()


def test_fallback_step_is_named(tree_setup):
    plan, _, fused = tree_setup
    for f in fused.values():
        if any(n.startswith("15_category_cross") for n in f.used_features):
            assert "CategoryCross" in f.explain() and "not fused" in f.explain()
            assert "one-row Arrow table" in f.explain()
            t = make_table(np.random.default_rng(0), 3)
            assert f.predict_row(t.to_pylist()[2]) == f.predict(t)[2]
            return
    pytest.skip("no model split on the category cross")


@pytest.mark.parametrize("name", ["ridge", "logreg", "mlp"])
def test_linear_and_mlp_match(linear_setup, name):
    plan, models, fused = linear_setup
    f = fused[name]
    t = make_table(np.random.default_rng(8), 1200, nulls=False, unseen=True)
    X = _source_matrix(plan, t)
    est = models[name]
    if name == "ridge":
        assert "x" in f.explain() and "folded" in f.explain()
        np.testing.assert_allclose(f.predict(t), est.predict(X), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(f.predict(t), f.model.predict(plan.transform(t)), rtol=1e-9, atol=1e-9)
    else:
        np.testing.assert_array_equal(f.predict(t), est.predict(X))
        np.testing.assert_allclose(f.predict_proba(t), est.predict_proba(X), rtol=1e-9, atol=1e-9)
    for k, row in enumerate(t.slice(0, 30).to_pylist()):
        if name == "ridge":
            assert f.predict_row(row) == pytest.approx(est.predict(X[k:k + 1])[0], abs=1e-9)
        else:
            assert f.predict_row(row) == est.predict(X[k:k + 1])[0]
            np.testing.assert_allclose(f.predict_proba_row(row), est.predict_proba(X[k:k + 1])[0], atol=1e-9)


def test_vector_row(linear_setup):
    _, _, fused = linear_setup
    f = fused["ridge"]
    t = make_table(np.random.default_rng(9), 5, nulls=False)
    row = t.to_pylist()[2]
    vec = np.array([row[c] for c in f.input_columns], dtype=object)
    assert f.predict_row(vec) == pytest.approx(f.predict_row(row), abs=0)
    with pytest.raises(ShapeError):
        f.predict_row(vec[:-1])


def _layouts(t, offset, n_chunks):
    """The same rows as a slice at ``offset`` of a bigger table, and as ``n_chunks`` chunks."""
    pad = make_table(np.random.default_rng(99), offset)
    big = pa.concat_tables([pad, t]).combine_chunks()
    sliced = big.slice(offset, t.num_rows)
    bounds = np.linspace(0, t.num_rows, n_chunks + 1).astype(int)
    chunked = pa.concat_tables([t.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])]) \
        if t.num_rows else t
    return sliced, chunked


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 300), seed=st.integers(0, 2**31 - 1), offset=st.integers(1, 13),
       n_chunks=st.integers(1, 4), nulls=st.booleans(), dict_c=st.booleans())
def test_random_layouts_match_unfused(tree_setup, n, seed, offset, n_chunks, nulls, dict_c):
    plan, _, fused = tree_setup
    rng = np.random.default_rng(seed)
    t = make_table(rng, n, nulls=nulls, unseen=True)
    if n:
        x = t["x"].to_numpy(zero_copy_only=False).copy()
        x[rng.random(n) < 0.05] = np.inf
        x[rng.random(n) < 0.05] = -np.inf
        t = t.set_column(0, "x", pa.array(x, mask=np.asarray(t["x"].is_null())))
    sliced, chunked = _layouts(t, offset, n_chunks)
    if dict_c:
        chunked = chunked.set_column(3, "c", chunked["c"].dictionary_encode())
    for k, f in fused.items():
        try:
            ref = f.model.raw_score(plan.transform(t))
        except SchemaError:  # the model refuses a value (a forest and ±inf): so does the fused path
            for data in (t, sliced, chunked):
                with pytest.raises(SchemaError, match="finite"):
                    f.raw_score(data)
            continue
        for data in (t, sliced, chunked):
            np.testing.assert_allclose(f.raw_score(data), ref, rtol=0, atol=1e-12)
        if n:
            row = t.slice(n - 1, 1).to_pylist()[0]
            np.testing.assert_allclose(f._row_raw_trees(row), ref[-1], rtol=0, atol=1e-12)


def test_thread_count_and_parallel_path(tree_setup):
    plan, _, fused = tree_setup
    t = make_table(np.random.default_rng(5), 70_000, unseen=True)
    f = fused["lgb_multi"]
    one = f.predict_proba(t, n_threads=1)
    two = f.predict_proba(t, n_threads=2)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, f.model.predict_proba(plan.transform(t)), rtol=0, atol=1e-12)


def test_int_and_dictionary_categories():
    rng = np.random.default_rng(4)
    n = 500
    t = pa.table({"code": rng.integers(0, 6, n), "x": rng.normal(size=n)})
    plan = FeaturePlan([OneHotEncoder(["code"], handle_unknown="ignore"), OrdinalEncoder(["code"], handle_unknown="ignore"),
                        Passthrough(["x"])], verbose_feature_names=True).fit(t)
    X = as_matrix(plan.transform(t))
    y = (t["code"].to_numpy() % 2 == 0) * 1.0 + t["x"].to_numpy()
    from sklearn.tree import DecisionTreeRegressor

    est = DecisionTreeRegressor(max_depth=6, random_state=0).fit(X, y)
    f = compile_predictor(plan, compile_model(est))
    t2 = pa.table({"code": pa.array(np.r_[rng.integers(0, 8, n - 1), 2]), "x": rng.normal(size=n)})
    np.testing.assert_allclose(f.predict(t2), est.predict(as_matrix(plan.transform(t2))), atol=1e-12)
    assert f.predict_row({"code": 2, "x": t2["x"][n - 1].as_py()}) == pytest.approx(f.predict(t2)[-1])


def test_errors(tree_setup, linear_setup):
    tplan, _, tfused = tree_setup
    lplan, _, lfused = linear_setup
    f = lfused["ridge"]
    t = make_table(np.random.default_rng(2), 50, nulls=False)
    with pytest.raises(ColumnNotFoundError, match="`x`"):
        f.predict(t.drop_columns(["x"]))
    bad = t.set_column(0, "x", pa.array(np.r_[np.nan, t["x"].to_numpy()[1:]]))
    with pytest.raises(SchemaError, match="`x`"):
        f.predict(bad)
    with pytest.raises(SchemaError, match="`x`"):
        f.predict_row(bad.to_pylist()[0])
    with pytest.raises(SchemaError, match="at column `x`"):
        f.predict(t.set_column(0, "x", pa.array(["a"] * 50)))
    with pytest.raises(ColumnNotFoundError):
        f.predict_row({"z": 1.0})
    # handle_unknown='error': the same error as the plan's, naming the column and the category
    strict = FeaturePlan([OneHotEncoder(["c"]), Passthrough(["x"])]).fit(t)
    from sklearn.linear_model import Ridge

    model = compile_model(Ridge().fit(as_matrix(strict.transform(t)), np.arange(50.0)))
    sf = compile_predictor(strict, model)
    t_bad = t.set_column(3, "c", pa.array(["QQ"] * 50))
    with pytest.raises(ValueError, match="column `c` has category 'QQ'"):
        strict.transform(t_bad)
    with pytest.raises(ValueError, match="column `c` has category 'QQ'"):
        sf.predict(t_bad)
    with pytest.raises(ValueError, match="column `c` has category 'QQ'"):
        sf.predict_row({"c": "QQ", "x": 1.0})
    # a model fitted on another plan's output
    other = FeaturePlan([Passthrough(["x", "z"])]).fit(t)
    with pytest.raises(ShapeError, match="plan outputs 2"):
        compile_predictor(other, model)
    with pytest.raises(SchemaError, match="compiled model"):
        compile_predictor(strict, Ridge())


def test_sparse_step_used_is_refused():
    from sklearn.linear_model import Ridge

    t = pa.table({"c": ["a", "b", "a", "c"], "x": [1.0, 2.0, 3.0, 4.0]})
    plan = FeaturePlan([Passthrough(["x"]), OneHotEncoder(["c"], sparse_output=True, handle_unknown="ignore")]).fit(t)
    X = plan.transform(t).to_scipy().toarray()
    model = compile_model(Ridge().fit(X, [1.0, 2.0, 3.0, 5.0]))
    with pytest.raises(SchemaError, match="sparse output"):
        compile_predictor(plan, model)


def test_save_load(tree_setup, tmp_path):
    plan, _, fused = tree_setup
    f = fused["lgb_binary"]
    f.save(tmp_path / "p")
    g = FusedPredictor.load(tmp_path / "p")
    t = make_table(np.random.default_rng(11), 300, unseen=True)
    np.testing.assert_array_equal(g.predict_proba(t), f.predict_proba(t))
    assert g.used_features == f.used_features
    raw = (tmp_path / "p" / "model.npz").read_bytes()
    (tmp_path / "p" / "model.npz").write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    from mlcore.errors import ArtifactError

    with pytest.raises(ArtifactError, match="SHA-256"):
        FusedPredictor.load(tmp_path / "p")


def test_temporal_row_values(tree_setup):
    plan, _, fused = tree_setup
    f = fused["lgb_reg"]
    t = make_table(np.random.default_rng(12), 3)
    row = t.to_pylist()[1]
    base = f.predict_row(row)
    naive = dict(row, ts=row["ts"].replace(tzinfo=None))
    assert f.predict_row(naive) == base
    as_np = dict(row, ts=np.datetime64(row["ts"].replace(tzinfo=None), "us"))
    assert f.predict_row(as_np) == base
    with pytest.raises(SchemaError, match="`ts`"):
        f.predict_row(dict(row, ts="2013-01-01"))
    assert isinstance(dt.datetime.now(), dt.datetime)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(0, 200), seed=st.integers(0, 2**31 - 1), offset=st.integers(1, 13),
       n_chunks=st.integers(1, 3), bad=st.sampled_from(["none", "nan", "null", "inf"]))
def test_random_layouts_linear(linear_setup, n, seed, offset, n_chunks, bad):
    plan, _, fused = linear_setup
    rng = np.random.default_rng(seed)
    t = make_table(rng, n, nulls=False, unseen=True)
    if n and bad != "none":
        x = t["x"].to_numpy().copy()
        k = int(rng.integers(0, n))
        mask = None
        if bad == "null":
            mask = np.zeros(n, bool)
            mask[k] = True
        else:
            x[k] = np.nan if bad == "nan" else np.inf
        t = t.set_column(0, "x", pa.array(x, mask=mask))
    sliced, chunked = _layouts(t, offset, n_chunks)
    for name in ("ridge", "logreg"):
        f = fused[name]
        method = "predict" if name == "ridge" else "predict_proba"
        try:
            ref = getattr(f.model, method)(plan.transform(t))
        except SchemaError:
            for data in (t, sliced, chunked):
                with pytest.raises(SchemaError, match="`x`"):
                    getattr(f, method)(data)
            continue
        for data in (t, sliced, chunked):
            np.testing.assert_allclose(getattr(f, method)(data), ref, rtol=1e-9, atol=1e-9)


def test_save_load_linear_refolds(linear_setup, tmp_path):
    _, _, fused = linear_setup
    f = fused["logreg"]
    f.save(tmp_path / "lin")
    g = FusedPredictor.load(tmp_path / "lin")
    t = make_table(np.random.default_rng(13), 300, nulls=False, unseen=True)
    np.testing.assert_array_equal(g.predict_proba(t), f.predict_proba(t))
    assert g.explain() == f.explain()
    (tmp_path / "lin" / "fused.json").write_text('{"format": "something else", "version": 1}')
    from mlcore.errors import ArtifactError

    with pytest.raises(ArtifactError, match="not a fused predictor"):
        FusedPredictor.load(tmp_path / "lin")
