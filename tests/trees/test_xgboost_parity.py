"""XGBoost: exact routing (leaf ids from ``pred_leaf``) and output parity on random and adversarial data."""

import json

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from mlcore.train.trees import convert_tree_model
from reference.tree_reference import adversarial_rows

# Shrinking refits models for minutes: report the failing example as found.
FAST = (Phase.explicit, Phase.reuse, Phase.generate)

xgb = pytest.importorskip("xgboost")


def _splits(bst):
    doc = json.loads(bytes(bst.save_raw("json")))
    out = []
    for t in doc["learner"]["gradient_booster"]["model"]["trees"]:
        for f, c, lc in zip(t["split_indices"], t["split_conditions"], t["left_children"]):
            if lc >= 0:
                out.append((f, c))
    return out, doc


def _leaf_sum_reference(bst, doc, X, m):
    """base + the float64 sum of the leaf values XGBoost itself routes each row to."""
    trees = doc["learner"]["gradient_booster"]["model"]["trees"]
    info = doc["learner"]["gradient_booster"]["model"]["tree_info"]
    leaves = bst.predict(xgb.DMatrix(X), pred_leaf=True).reshape(len(X), -1).astype(np.int64)
    out = np.tile(m.to_arrays()[1]["base"], (len(X), 1))
    for t, tree in enumerate(trees):
        vals = np.asarray(tree["split_conditions"], dtype=np.float32).astype(np.float64)
        out[:, info[t]] += vals[leaves[:, t]]
    return out


def _probe(rng, X, splits):
    sp = X.copy()
    mask = rng.random(sp.shape) < 0.3
    # XGBoost refuses inf and values that overflow float32
    sp[mask] = rng.choice(np.array([np.nan, 0.0, -0.0, 1e-40, 3e38, -3e38]), size=mask.sum())
    return np.vstack([X, sp, X.astype(np.float32).astype(np.float64), adversarial_rows(X, splits)])


@settings(max_examples=12, deadline=None, phases=FAST)
@given(
    seed=st.integers(0, 2**31 - 1),
    objective=st.sampled_from(["reg:squarederror", "binary:logistic", "multi:softprob", "count:poisson"]),
    max_depth=st.integers(0, 6),
    n_trees=st.integers(1, 12),
    nan_frac=st.sampled_from([0.0, 0.2]),
    num_parallel_tree=st.sampled_from([1, 1, 2]),
)
def test_xgboost_parity_hypothesis(seed, objective, max_depth, n_trees, nan_frac, num_parallel_tree):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    X[rng.random(X.shape) < nan_frac] = np.nan
    s = np.nan_to_num(X[:, 0]) + np.isnan(X[:, 1]) + 0.3 * rng.normal(size=300)
    if objective == "binary:logistic":
        y = (s > 0).astype(int)
    elif objective == "multi:softprob":
        y = np.digitize(s, [-0.5, 0.5])
    elif objective == "count:poisson":
        y = rng.poisson(np.exp(np.clip(s, -2, 2)))
    else:
        y = s
    params = {"objective": objective, "max_depth": max_depth, "seed": seed % 1000, "nthread": 1,
              "num_parallel_tree": num_parallel_tree, "subsample": 0.8 if num_parallel_tree > 1 else 1.0}
    if max_depth == 0:
        params["grow_policy"] = "lossguide"
        params["max_leaves"] = 6
    if objective == "multi:softprob":
        params["num_class"] = 3
    bst = xgb.train(params, xgb.DMatrix(X, y), n_trees)
    splits, doc = _splits(bst)
    probe = _probe(rng, X, splits)
    m = convert_tree_model(bst)
    raw = m.raw_score(np.asfortranarray(probe))
    # exact: the same leaves as XGBoost, summed in float64
    np.testing.assert_allclose(raw, _leaf_sum_reference(bst, doc, probe, m), rtol=0, atol=1e-12)
    # and the outputs XGBoost returns (it sums in float32)
    d = xgb.DMatrix(probe)
    margin = bst.predict(d, output_margin=True).reshape(raw.shape)
    np.testing.assert_allclose(raw, margin, rtol=2e-6, atol=2e-6)
    pred = bst.predict(d)
    if m.task == "binary":
        np.testing.assert_allclose(m.predict_proba(probe)[:, 1], pred, atol=1e-6)
    elif m.task == "multiclass":
        np.testing.assert_allclose(m.predict_proba(probe), pred, atol=1e-6)
    else:
        np.testing.assert_allclose(m.predict(probe), pred, rtol=2e-6, atol=1e-6)


def test_xgb_classifier_wrapper_labels_and_leaf_only():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3))
    y = rng.integers(0, 3, 400)
    clf = xgb.XGBClassifier(n_estimators=6, max_depth=3, n_jobs=1).fit(X, y)
    m = convert_tree_model(clf)
    np.testing.assert_array_equal(m.predict(X), clf.predict(X))
    np.testing.assert_allclose(m.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    # a stump-free model: gamma so large that no split pays off -> leaf-only trees
    reg = xgb.XGBRegressor(n_estimators=3, gamma=1e9, n_jobs=1).fit(X, rng.normal(size=400))
    mr = convert_tree_model(reg)
    assert mr._arrays["vsrc"].size == 0
    np.testing.assert_allclose(mr.predict(X), reg.predict(X), rtol=1e-6)


def test_xgboost_categorical_split_is_refused():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"c": pd.Categorical(rng.integers(0, 5, 200)), "x": rng.normal(size=200)})
    bst = xgb.train({"max_depth": 3, "max_cat_to_onehot": 1}, xgb.DMatrix(df, rng.normal(size=200),
                    enable_categorical=True), 3)
    with pytest.raises(ValueError, match="categorical"):
        convert_tree_model(bst)
