"""LightGBM boosters: parity with ``Booster.predict`` on random, adversarial and special inputs."""

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from mlcore.train.trees import convert_tree_model
from reference.tree_reference import adversarial_rows, lightgbm_splits, walk_arrays

# Shrinking refits models for minutes: report the failing example as found.
FAST = (Phase.explicit, Phase.reuse, Phase.generate)

lgb = pytest.importorskip("lightgbm")

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-36, -1e-36, 1e-35, -1e-35, 1e300, -1e300])


def _data(rng, n, nf, n_cat, nan_frac):
    X = rng.normal(size=(n, nf))
    for j in range(n_cat):
        X[:, j] = rng.integers(0, 12, n)
    X[rng.random(X.shape) < nan_frac] = np.nan
    # exact zeros matter for the Zero missing type
    X[rng.random(X.shape) < 0.05] = 0.0
    return X


def _target(rng, X, objective, n_class):
    Z = np.nan_to_num(X)
    s = Z[:, 0] + 0.5 * Z[:, 1] * (Z[:, -1] > 0) + (Z[:, 0] % 3 == 1) + 0.3 * rng.normal(size=len(X))
    if objective == "binary":
        return (s > np.median(s)).astype(int)
    if objective == "multiclass":
        return np.digitize(s, np.quantile(s, np.linspace(0, 1, n_class + 1)[1:-1]))
    if objective == "poisson":
        return rng.poisson(np.exp(np.clip(s, -3, 2)))
    return s


def _probe(rng, X, model_text, nf, n_cat):
    """Random rows, specials sprinkled everywhere, f32-rounded rows, adversarial thresholds, bad categories."""
    sp = X.copy()
    mask = rng.random(sp.shape) < 0.3
    sp[mask] = rng.choice(SPECIALS, size=mask.sum())
    cats = X[: min(200, len(X))].copy()
    if n_cat:
        cats[:, :n_cat] = rng.choice(np.array([-5.0, -1.0, -0.5, -0.0, 0.5, 1.7, 11.0, 12.0, 40.0, 1e10,
                                               2.0**31, np.nan, np.inf, -np.inf]), size=(len(cats), n_cat))
    adv = adversarial_rows(X, lightgbm_splits(model_text), lightgbm=True)
    f32 = X.astype(np.float32).astype(np.float64)
    return np.vstack([X, sp, cats, f32, adv])


def _check(bst, X, *, tol=1e-9):
    m = convert_tree_model(bst)
    Xf = np.asfortranarray(X)
    raw = m.raw_score(Xf)
    ref = bst.predict(X, raw_score=True).reshape(raw.shape)
    np.testing.assert_allclose(raw, ref, rtol=0, atol=tol)
    got = m.predict_proba(Xf) if m.task in ("binary", "multiclass") else m.predict(Xf)
    want = bst.predict(X)
    if m.task == "binary":
        got = got[:, 1]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    return m


@settings(max_examples=12, deadline=None, phases=FAST)
@given(
    seed=st.integers(0, 2**31 - 1),
    objective=st.sampled_from(["regression", "binary", "multiclass", "poisson"]),
    missing=st.sampled_from(["nan", "zero", "none"]),
    n_cat=st.integers(0, 2),
    num_leaves=st.integers(2, 24),
    n_trees=st.integers(1, 12),
    nan_frac=st.sampled_from([0.0, 0.1, 0.4]),
)
def test_lightgbm_parity_hypothesis(seed, objective, missing, n_cat, num_leaves, n_trees, nan_frac):
    rng = np.random.default_rng(seed)
    nf = 5
    X = _data(rng, 400, nf, n_cat, nan_frac)
    n_class = 3
    y = _target(rng, X, objective, n_class)
    params = {"objective": objective, "num_leaves": num_leaves, "min_data_in_leaf": 3, "verbose": -1,
              "min_data_per_group": 3, "cat_smooth": 1.0, "max_cat_to_onehot": int(rng.integers(1, 8)),
              "seed": seed % 1000, "num_threads": 1}
    if objective == "multiclass":
        params["num_class"] = n_class
    if missing == "zero":
        params["zero_as_missing"] = True
    elif missing == "none":
        params["use_missing"] = False
    ds = lgb.Dataset(X, y, categorical_feature=list(range(n_cat)) if n_cat else "auto", free_raw_data=False)
    bst = lgb.train(params, ds, num_boost_round=n_trees)
    probe = _probe(rng, X, bst.model_to_string(), nf, n_cat)
    m = _check(bst, probe)
    # the batch kernel against the obvious row-by-row walk of the same arrays
    manifest, arrays = m.to_arrays()
    small = probe[rng.choice(len(probe), size=60, replace=False)]
    np.testing.assert_array_equal(m.raw_score(np.asfortranarray(small)), walk_arrays(manifest, arrays, small))


def test_leaf_only_trees():
    X = np.random.default_rng(0).normal(size=(50, 3))
    y = np.full(50, 2.5)
    bst = lgb.train({"verbose": -1, "min_data_in_leaf": 100}, lgb.Dataset(X, y), num_boost_round=3)
    m = _check(bst, np.vstack([X, SPECIALS.reshape(-1, 1).repeat(3, axis=1)]))
    assert m.n_trees >= 1 and m._arrays["vsrc"].size == 0  # no split anywhere


def test_all_missing_modes_with_default_directions_both_ways():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 4))
    # NaN carries signal, so the learned default directions differ between features
    nanmask = rng.random(X.shape) < 0.3
    y = X[:, 0] + 3 * nanmask[:, 1] - 3 * nanmask[:, 2] + 2 * (np.abs(X[:, 3]) < 0.1)
    X[nanmask] = np.nan
    X[:, 3][rng.random(3000) < 0.2] = 0.0
    for extra in ({}, {"zero_as_missing": True}, {"use_missing": False}):
        bst = lgb.train({"verbose": -1, "num_leaves": 31, **extra}, lgb.Dataset(X, y), num_boost_round=20)
        text = bst.model_to_string()
        dts = [int(v) for line in text.splitlines() if line.startswith("decision_type=")
               for v in line.split("=")[1].split()]
        kinds = {(d >> 2) & 3 for d in dts}
        expected = {2: {"nan"}, 1: {"zero"}, 0: {"none"}}
        assert kinds, "the model should have splits"
        if extra.get("zero_as_missing"):
            assert 1 in kinds
        elif extra.get("use_missing") is False:
            assert kinds == {0}
        else:
            assert 2 in kinds and any(d & 2 for d in dts) and any(not d & 2 for d in dts), expected
        probe = _probe(rng, X, text, 4, 0)
        _check(bst, probe)


def test_categorical_bitsets_wide():
    rng = np.random.default_rng(5)
    n = 4000
    X = np.column_stack([rng.integers(0, 70, n).astype(float), rng.normal(size=n)])
    good = rng.random(70) < 0.5
    y = good[X[:, 0].astype(int)] * 2.0 + X[:, 1]
    X[rng.random(n) < 0.05, 0] = np.nan
    bst = lgb.train({"verbose": -1, "num_leaves": 15, "max_cat_to_onehot": 4, "min_data_per_group": 5,
                     "cat_l2": 0.1, "cat_smooth": 0.1}, lgb.Dataset(X, y, categorical_feature=[0]),
                    num_boost_round=10)
    assert "cat_threshold=" in bst.model_to_string()
    probe = np.vstack([X, _probe(rng, X, bst.model_to_string(), 2, 1)])
    _check(bst, probe)


def test_sklearn_wrapper_classes_and_feature_names():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    y = np.where(X["a"] > 0, "yes", "no")
    clf = lgb.LGBMClassifier(n_estimators=8, num_leaves=7, verbose=-1).fit(X, y)
    m = convert_tree_model(clf)
    assert list(m.feature_names_in_) == ["a", "b", "c"]
    # columns are read by name, whatever their order in the input
    shuffled = X[["c", "a", "b"]]
    np.testing.assert_array_equal(m.predict(shuffled), clf.predict(X))
    np.testing.assert_allclose(m.predict_proba(X), clf.predict_proba(X), atol=1e-12)


@pytest.mark.slow
def test_lightgbm_large_model_parity():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(20000, 50))
    X[:, :6][rng.random((20000, 6)) < 0.1] = np.nan
    y = (np.nansum(X[:, :10], axis=1) > 0).astype(int)
    bst = lgb.train({"objective": "binary", "num_leaves": 31, "verbose": -1}, lgb.Dataset(X, y),
                    num_boost_round=500)
    _check(bst, _probe(rng, X[:3000], bst.model_to_string(), 50, 0))
