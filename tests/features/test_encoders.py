"""Categorical encoders: parity with scikit-learn (incl. handle_unknown and infrequent) and references."""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pytest
from sklearn import preprocessing as skp

import mlcore.features as mf
from mlcore.errors import SchemaError
from reference import feat_encoders as ref
from reference.feat_layouts import dense, table_layouts

CATS = np.array(["a", "b", "c", "d", "e", "ff", "gé"])
PROBS = np.array([0.3, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02])


def _cats(n=3000, seed=0, with_null=True):
    rng = np.random.default_rng(seed)
    c = rng.choice(CATS, n, p=PROBS).astype(object)
    if with_null:
        c[::97] = None
    X = c.reshape(-1, 1).copy()
    X[X == None] = np.nan  # noqa: E711 - scikit-learn's missing marker for object columns
    return c, X


def _sk_onehot(**kw):
    return skp.OneHotEncoder(sparse_output=False, **kw)


@pytest.mark.parametrize("layout", ["contiguous", "sliced", "chunked"])
@pytest.mark.parametrize("arrow_type", ["string", "large_string", "dictionary"])
def test_one_hot_parity(layout, arrow_type):
    c, X = _cats()
    arr = pa.array(list(c), type=pa.large_string() if arrow_type == "large_string" else pa.string())
    if arrow_type == "dictionary":
        arr = arr.dictionary_encode()
    t = table_layouts({"c": arr})[layout]
    mine = mf.OneHotEncoder(["c"]).fit(t)
    theirs = _sk_onehot().fit(X)
    np.testing.assert_array_equal(dense(mine.transform(t)), theirs.transform(X))
    assert mine.categories_[0][:-1] == list(theirs.categories_[0][:-1]) and mine.categories_[0][-1] is None
    np.testing.assert_array_equal(dense(mine.transform(t)), ref.one_hot(list(c), list(c)))


@pytest.mark.parametrize("kw", [dict(min_frequency=100), dict(min_frequency=0.04), dict(max_categories=3),
                                dict(min_frequency=200, max_categories=5)])
def test_one_hot_infrequent_parity(kw):
    c, X = _cats()
    t = pa.table({"c": list(c)})
    mine = mf.OneHotEncoder(["c"], handle_unknown="infrequent", **kw).fit(t)
    theirs = _sk_onehot(handle_unknown="infrequent_if_exist", **kw).fit(X)
    np.testing.assert_array_equal(dense(mine.transform(t)), theirs.transform(X))
    new = pa.table({"c": ["a", "zzz", None, "gé"]})
    Xn = np.array([["a"], ["zzz"], [np.nan], ["gé"]], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # sklearn warns about unknown categories
        want = theirs.transform(Xn)
    np.testing.assert_array_equal(dense(mine.transform(new)), want)
    assert [n.replace("c_", "x0_", 1) for n in mine.feature_names_out_[:-1]] == \
        [n for n in theirs.get_feature_names_out()[:-1] if not n.endswith("_nan")] + \
        (["x0_null"] if "x0_nan" in theirs.get_feature_names_out() else [])


def test_one_hot_ignore_and_error():
    c, X = _cats(with_null=False)
    t = pa.table({"c": list(c)})
    mine = mf.OneHotEncoder(["c"], handle_unknown="ignore").fit(t)
    theirs = _sk_onehot(handle_unknown="ignore").fit(X)
    new = pa.table({"c": ["b", "zzz", None]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        want = theirs.transform(np.array([["b"], ["zzz"], [np.nan]], dtype=object))
    np.testing.assert_array_equal(dense(mine.transform(new)), want)
    strict = mf.OneHotEncoder(["c"]).fit(t)
    with pytest.raises(ValueError, match=r"column `c` has category 'zzz' at row 1"):
        strict.transform(new)
    with pytest.raises(ValueError, match=r"column `c` has category null at row 0"):
        strict.transform(pa.table({"c": pa.array([None, "a"], pa.string())}))


@pytest.mark.parametrize("kw,skw", [
    (dict(handle_unknown="ignore", unknown_value=-1.0), dict(handle_unknown="use_encoded_value", unknown_value=-1)),
    (dict(handle_unknown="infrequent", unknown_value=-1.0, max_categories=4),
     dict(handle_unknown="use_encoded_value", unknown_value=-1, max_categories=4)),
    (dict(handle_unknown="infrequent", min_frequency=150), dict(handle_unknown="use_encoded_value", unknown_value=-1, min_frequency=150)),
])
def test_ordinal_parity(kw, skw):
    c, X = _cats()
    t = pa.table({"c": list(c)})
    mine = mf.OrdinalEncoder(["c"], **kw).fit(t)
    theirs = skp.OrdinalEncoder(**skw).fit(X)
    np.testing.assert_array_equal(dense(mine.transform(t)), theirs.transform(X))
    if kw["handle_unknown"] == "ignore":
        got = mine.transform(pa.table({"c": ["zzz"]}))["c"].to_pylist()
        assert got == [-1.0]


def test_integer_categories_sort_by_value():
    t = pa.table({"k": pa.array([10, 2, 2, 33, None])})
    X = np.array([[10], [2], [2], [33], [np.nan]])
    mine = mf.OneHotEncoder(["k"]).fit(t)
    assert mine.categories_ == [["2", "10", "33", None]]
    np.testing.assert_array_equal(dense(mine.transform(t)), _sk_onehot().fit_transform(X))


def test_frequency_encoder_reference():
    c, _ = _cats()
    t = pa.table({"c": list(c)})
    enc = mf.FrequencyEncoder(["c"]).fit(t)
    new = list(c[:50]) + ["zzz", None]
    got = dense(enc.transform(pa.table({"c": pa.array(new, pa.string())})))[:, 0]
    np.testing.assert_allclose(got, ref.frequency(list(c), new), rtol=1e-15)
    counts = mf.FrequencyEncoder(["c"], normalize=False, unknown_value=-5).fit(t)
    assert counts.transform(pa.table({"c": ["a", "zzz"]}))["c"].to_pylist() == [float((c == "a").sum()), -5.0]


@pytest.mark.parametrize("smooth", ["auto", 0.0, 10.0])
@pytest.mark.parametrize("shuffle", [False, True])
def test_target_encoder_crossfit_parity(smooth, shuffle):
    c, X = _cats()
    rng = np.random.default_rng(3)
    y = rng.normal(size=len(c)) + (c == "a") * 2.0
    t = pa.table({"c": list(c)})
    mine = mf.TargetEncoder(["c"], smooth=smooth, shuffle=shuffle, random_state=0 if shuffle else None)
    got = dense(mine.fit_transform(t, y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # shuffle/random_state deprecated in sklearn 1.9
        theirs = skp.TargetEncoder(smooth=smooth, target_type="continuous", shuffle=shuffle,
                                   random_state=0 if shuffle else None)
        want = theirs.fit_transform(X, y)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    new = pa.table({"c": ["a", "zzz", None]})
    Xn = np.array([["a"], ["zzz"], [np.nan]], dtype=object)
    np.testing.assert_allclose(dense(mine.transform(new)), theirs.transform(Xn), rtol=1e-12)
    assert mine.target_mean_ == pytest.approx(theirs.target_mean_, rel=1e-12)


def test_target_encoder_reference_and_binary():
    c, _ = _cats(n=400, with_null=False)
    y = (np.arange(400) % 3 == 0).astype(float)
    t = pa.table({"c": list(c)})
    enc = mf.TargetEncoder(["c"], smooth=5.0).fit(t, y)
    means, m = ref.target_means(list(c), y, 5.0)
    np.testing.assert_allclose(dense(enc.transform(t))[:, 0], [means[v] for v in c], rtol=1e-12)
    assert enc.transform(pa.table({"c": ["nope"]}))["c"].to_pylist() == [pytest.approx(m)]
    yb = np.where(y == 1, "yes", "no")
    bin_enc = mf.TargetEncoder(["c"], smooth=5.0, target_type="binary").fit(t, (yb == "yes").astype(float))
    np.testing.assert_allclose(dense(bin_enc.transform(t)), dense(enc.transform(t)))
    with pytest.raises(ValueError, match="needs the target"):
        mf.TargetEncoder(["c"]).fit(t)
    with pytest.raises(ValueError, match="finite"):
        mf.TargetEncoder(["c"]).fit(t, np.full(400, np.nan))


def test_encoders_reject_other_types():
    t = pa.table({"f": [1.5, 2.5]})
    for cls in (mf.OneHotEncoder, mf.OrdinalEncoder, mf.FrequencyEncoder):
        with pytest.raises(SchemaError, match="`f`"):
            cls(["f"]).fit(t)


def test_policy_validation():
    with pytest.raises(ValueError, match="handle_unknown"):
        mf.OneHotEncoder(["c"], handle_unknown="infrequent_if_exist")
    with pytest.raises(ValueError, match="infrequent"):
        mf.OneHotEncoder(["c"], min_frequency=3)


def test_category_cross_matches_one_hot_of_joined_strings():
    rng = np.random.default_rng(5)
    a = rng.choice(["EWR", "JFK", "LGA"], 500).astype(object)
    b = rng.choice(["ATL", "BOS", "ORD", "SFO"], 500).astype(object)
    a[::41] = None
    t = pa.table({"a": list(a), "b": list(b)})
    cross = mf.CategoryCross(pairs=[("a", "b")], handle_unknown="ignore").fit(t)
    joined = np.array([None if x is None else f"{x}*{y}" for x, y in zip(a, b)], dtype=object)
    X = joined.reshape(-1, 1).copy()
    X[X == None] = np.nan  # noqa: E711
    want = _sk_onehot(handle_unknown="ignore").fit(X)
    np.testing.assert_array_equal(dense(cross.transform(t)), want.transform(X))
    assert cross.feature_names_out_[:2] == ["a*b_EWR*ATL", "a*b_EWR*BOS"]
    sp = mf.CategoryCross(pairs=[("a", "b")], handle_unknown="ignore", sparse_output=True).fit(t)
    np.testing.assert_array_equal(sp.transform(t).to_scipy().toarray(), dense(cross.transform(t)))
    new = pa.table({"a": ["EWR", "XXX"], "b": ["ATL", "ATL"]})
    assert dense(cross.transform(new)).sum(axis=1).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="pairs"):
        mf.CategoryCross(pairs=[("a", "a")])
