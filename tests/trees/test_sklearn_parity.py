"""scikit-learn tree models: parity on random data and hyper-parameters, NaN, adversarial thresholds."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from sklearn import ensemble, tree

from mlcore.train.trees import convert_tree_model
from reference.tree_reference import adversarial_rows, walk_arrays

# Shrinking refits models for minutes: report the failing example as found.
FAST = (Phase.explicit, Phase.reuse, Phase.generate)


def _tree_splits(estimators):
    out = []
    for e in estimators:
        t = e.tree_
        for f, thr, lc in zip(t.feature, t.threshold, t.children_left):
            if lc >= 0:
                out.append((f, thr))
    return out


def _data(rng, n, nf, nan_frac):
    X = rng.normal(size=(n, nf))
    X[:, 0] = np.round(X[:, 0], 1)  # ties and repeated values put thresholds between close floats
    nanmask = rng.random(X.shape) < nan_frac
    X[nanmask] = np.nan
    s = np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) ** 2 + nanmask[:, 2] + 0.2 * rng.normal(size=n)
    return X, s


def _compare(model, ours, X, methods):
    Xf = np.asfortranarray(X)
    for meth in methods:
        with np.errstate(all="ignore"):  # sklearn's finiteness check sums +inf and -inf
            want = getattr(model, meth)(X)
        got = getattr(ours, meth)(Xf)
        if meth == "predict" and hasattr(model, "classes_") or (meth == "predict" and ours.task == "anomaly"):
            np.testing.assert_array_equal(got, want, err_msg=meth)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=meth)


def _probe(rng, X, estimators):
    f32 = X.astype(np.float32).astype(np.float64)
    adv = adversarial_rows(np.nan_to_num(X), _tree_splits(estimators), seed=int(rng.integers(1000)))
    return np.vstack([X, f32, adv])


MODELS = {
    "dt_reg": lambda p: tree.DecisionTreeRegressor(max_depth=p["depth"], random_state=p["seed"]),
    "dt_clf": lambda p: tree.DecisionTreeClassifier(max_depth=p["depth"], random_state=p["seed"]),
    "rf_reg": lambda p: ensemble.RandomForestRegressor(n_estimators=p["n"], max_depth=p["depth"], random_state=p["seed"]),
    "rf_clf": lambda p: ensemble.RandomForestClassifier(n_estimators=p["n"], max_depth=p["depth"],
                                                        random_state=p["seed"]),
    "et_reg": lambda p: ensemble.ExtraTreesRegressor(n_estimators=p["n"], max_depth=p["depth"], random_state=p["seed"]),
    "et_clf": lambda p: ensemble.ExtraTreesClassifier(n_estimators=p["n"], max_depth=p["depth"], random_state=p["seed"]),
    "gb_reg": lambda p: ensemble.GradientBoostingRegressor(n_estimators=p["n"], max_depth=p["depth"],
                                                           learning_rate=p["lr"], random_state=p["seed"]),
    "gb_clf": lambda p: ensemble.GradientBoostingClassifier(n_estimators=p["n"], max_depth=p["depth"],
                                                            learning_rate=p["lr"], random_state=p["seed"]),
}
NAN_OK = {"dt_reg", "dt_clf", "rf_reg", "rf_clf", "et_reg", "et_clf"}


@settings(max_examples=16, deadline=None, phases=FAST)
@given(
    name=st.sampled_from(sorted(MODELS)),
    seed=st.integers(0, 2**20),
    depth=st.one_of(st.none(), st.integers(1, 8)),
    n=st.integers(1, 8),
    lr=st.sampled_from([0.1, 0.37, 1.0]),
    n_classes=st.sampled_from([2, 3]),
    nan=st.booleans(),
)
def test_sklearn_tree_models_hypothesis(name, seed, depth, n, lr, n_classes, nan):
    rng = np.random.default_rng(seed)
    nan_frac = 0.15 if (nan and name in NAN_OK) else 0.0
    X, s = _data(rng, 250, 4, nan_frac)
    model = MODELS[name]({"depth": depth, "seed": seed, "n": n, "lr": lr})
    is_clf = name.endswith("clf")
    y = np.digitize(s, np.quantile(s, np.linspace(0, 1, n_classes + 1)[1:-1])) if is_clf else s
    if is_clf and n_classes == 3 and seed % 2:
        y = np.array(["a", "b", "c"])[y]  # string labels
    model.fit(X, y)
    ours = convert_tree_model(model)
    ests = np.ravel(model.estimators_).tolist() if hasattr(model, "estimators_") else [model]
    probe = _probe(rng, X, ests)
    if nan_frac:
        probe[rng.random(probe.shape) < 0.1] = np.nan
    methods = ["predict"]
    if is_clf:
        methods.append("predict_proba")
    if name.startswith("gb") and is_clf:
        methods.append("decision_function")
    _compare(model, ours, probe, methods)
    manifest, arrays = ours.to_arrays()
    sub = probe[:40]
    np.testing.assert_array_equal(ours.raw_score(np.asfortranarray(sub)), walk_arrays(manifest, arrays, sub))


@settings(max_examples=10, deadline=None, phases=FAST)
@given(seed=st.integers(0, 2**20), n_cat=st.integers(0, 2), clf=st.integers(0, 2),
       max_leaf_nodes=st.integers(2, 31), max_iter=st.integers(1, 15), nan=st.booleans())
def test_hist_gradient_boosting_hypothesis(seed, n_cat, clf, max_leaf_nodes, max_iter, nan):
    rng = np.random.default_rng(seed)
    n = 600
    X = rng.normal(size=(n, 4))
    for j in range(n_cat):
        X[:, j] = rng.integers(0, 9, n)
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    s = np.nan_to_num(X[:, 0]) % 3 + np.nan_to_num(X[:, 1]) + np.isnan(X[:, 2]) + 0.2 * rng.normal(size=n)
    cat = list(range(n_cat)) if n_cat else None
    common = dict(max_leaf_nodes=max_leaf_nodes, max_iter=max_iter, categorical_features=cat, random_state=0,
                  early_stopping=False)
    if clf == 0:
        model = ensemble.HistGradientBoostingRegressor(**common)
        y = s
    else:
        model = ensemble.HistGradientBoostingClassifier(**common)
        y = (s > np.median(s)).astype(int) if clf == 1 else np.digitize(s, np.quantile(s, [0.33, 0.66]))
    model.fit(X, y)
    ours = convert_tree_model(model)
    probe = X.copy()
    if n_cat:
        # unknown, negative, fractional and huge categories follow sklearn's rules
        bad = rng.choice(np.array([-3.0, -0.5, 0.5, 2.5, 9.0, 50.0, 300.0, np.nan]), size=(n // 2, n_cat))
        probe = np.vstack([probe, np.column_stack([bad, X[: n // 2, n_cat:]])])
    sp = probe.copy()
    sp[:, n_cat:][rng.random(sp[:, n_cat:].shape) < 0.2] = np.inf  # sklearn refuses inf in categorical columns
    probe = np.vstack([probe, sp, -sp])
    methods = ["predict"] + (["predict_proba", "decision_function"] if clf else [])
    _compare(model, ours, probe, methods)


def test_hgb_poisson_and_point_categories():
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.choice([0.25, 1.5, 7.0, 100.0], 800), rng.normal(size=800)])
    y = rng.poisson(np.exp(0.3 * X[:, 1] + (X[:, 0] == 7.0)))
    m = ensemble.HistGradientBoostingRegressor(loss="poisson", max_iter=10, categorical_features=[0]).fit(X, y)
    ours = convert_tree_model(m)
    probe = np.vstack([X, np.column_stack([[0.25, 0.2500001, 1.5, 7.0, 6.9999, 100.0, -1.0, np.nan, 3.0],
                                           np.zeros(9)])])
    _compare(m, ours, probe, ["predict"])


@settings(max_examples=8, deadline=None, phases=FAST)
@given(seed=st.integers(0, 2**20), max_features=st.sampled_from([1.0, 0.5]),
       max_samples=st.sampled_from(["auto", 30, 1.0]), nan=st.booleans())
def test_isolation_forest_hypothesis(seed, max_features, max_samples, nan):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 5))
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    model = ensemble.IsolationForest(n_estimators=15, max_features=max_features, max_samples=max_samples,
                                     random_state=seed).fit(X)
    ours = convert_tree_model(model)
    probe = np.vstack([X, adversarial_rows(np.nan_to_num(X), _tree_splits(model.estimators_)[:200])])
    _compare(model, ours, probe, ["score_samples", "decision_function", "predict"])


def test_float32_and_float64_thresholds_route_like_sklearn():
    # values that differ only below float32 resolution straddle a float64 threshold
    x = np.array([1.0, 1.0 + 2**-30, 1.0 + 2**-22, 1.0 + 2**-21, 2.0]).reshape(-1, 1)
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    m = tree.DecisionTreeRegressor().fit(x, y)
    ours = convert_tree_model(m)
    probe = adversarial_rows(x, _tree_splits([m]))
    np.testing.assert_array_equal(ours.predict(probe), m.predict(probe))
    np.testing.assert_array_equal(ours.predict(np.asfortranarray(probe.astype(np.float32))),
                                  m.predict(probe.astype(np.float32)))


def test_unsupported_models_and_options_are_refused():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(TypeError, match="LinearRegression"):
        from sklearn.linear_model import LinearRegression

        convert_tree_model(LinearRegression().fit(X, X[:, 0]))
    with pytest.raises(ValueError, match="multi-output"):
        convert_tree_model(tree.DecisionTreeRegressor().fit(X, X))
    with pytest.raises(ValueError, match="not fitted"):
        convert_tree_model(tree.DecisionTreeRegressor())
    with pytest.raises(ValueError, match="init"):
        convert_tree_model(ensemble.GradientBoostingRegressor(n_estimators=2, init=tree.DecisionTreeRegressor())
                           .fit(X, X[:, 0]))
    with pytest.raises(TypeError, match="does not support"):
        convert_tree_model(object())


@pytest.mark.slow
def test_random_forest_depth10_parity():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 20))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    rf = ensemble.RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0).fit(X, y)
    ours = convert_tree_model(rf)
    probe = np.vstack([X, adversarial_rows(X, _tree_splits(rf.estimators_)[:3000])])
    _compare(rf, ours, probe, ["predict", "predict_proba"])


def test_leaf_only_sklearn_trees():
    X = np.random.default_rng(0).normal(size=(30, 3))
    for model in (tree.DecisionTreeRegressor().fit(X, np.full(30, 1.5)),
                  ensemble.RandomForestClassifier(n_estimators=3, random_state=0).fit(X, np.zeros(30, int) + 4),
                  ensemble.GradientBoostingRegressor(n_estimators=3).fit(X, np.full(30, -2.0))):
        ours = convert_tree_model(model)
        assert ours._arrays["vsrc"].size == 0
        methods = ["predict"] + (["predict_proba"] if hasattr(model, "classes_") else [])
        _compare(model, ours, X, methods)
        np.testing.assert_allclose(ours.predict_row(X[0]), ours.raw_score(X[:1])[0])
