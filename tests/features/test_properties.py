"""Hypothesis: every transform gives the same output for contiguous, sliced and chunked layouts of
the same rows, handles empty and all-null input, and its saved state rebuilds an identical
transform. Also the deliberate public surface of mlcore.features."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlcore.features as mf
from reference.feat_layouts import dense, table_layouts

floats = st.one_of(st.none(), st.just(float("nan")), st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
cats = st.one_of(st.none(), st.sampled_from(["a", "b", "cc", "dé", ""]))


def _numeric_transforms():
    return [mf.StandardScaler(["x"]), mf.MinMaxScaler(["x"]), mf.RobustScaler(["x"]),
            mf.PowerTransformer(["x"]), mf.KBinsDiscretizer(["x"], n_bins=3),
            mf.KBinsDiscretizer(["x"], n_bins=4, strategy="uniform"), mf.Passthrough(["x"]),
            mf.LogTransformer(["x"], shift=2e6), mf.MissingIndicator(["x"], features="all"),
            mf.VarianceThreshold(["x"])]


def _cat_transforms():
    return [mf.OneHotEncoder(["c"], handle_unknown="ignore"),
            mf.OneHotEncoder(["c"], handle_unknown="infrequent", min_frequency=2),
            mf.OrdinalEncoder(["c"], handle_unknown="ignore"), mf.FrequencyEncoder(["c"]),
            mf.TargetEncoder(["c"], smooth=1.0), mf.MissingIndicator(["c"], features="all")]


def _roundtrip(t):
    meta, arrays = t.state()
    return type(t).from_state(t.get_params(), meta, arrays)


def _check_layouts(transform_factory, column, values, y=None):
    tables = table_layouts({column: values})
    base = transform_factory()
    try:
        base.fit(tables["contiguous"], y)
    except ValueError as exc:  # no finite value to fit on: the error must name the column
        assert f"`{column}`" in str(exc)
        return
    want = dense(base.transform(tables["contiguous"]))
    for name, t in tables.items():
        np.testing.assert_array_equal(dense(base.transform(t)), want, err_msg=name)
        fitted = transform_factory().fit(t, y)
        # sums over chunks run in another order: equal to the last bits, not bit for bit
        np.testing.assert_allclose(dense(fitted.transform(tables["contiguous"])), want, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    np.testing.assert_array_equal(dense(_roundtrip(base).transform(tables["sliced"])), want)
    empty = base.transform(tables["contiguous"].slice(0, 0))
    assert empty.num_rows == 0 and empty.column_names == base.feature_names_out_


@given(st.lists(floats, min_size=1, max_size=40), st.integers(0, 9))
def test_numeric_layouts(values, which):
    arr = pa.array(values, type=pa.float64())
    _check_layouts(lambda: _numeric_transforms()[which], "x", arr)


@given(st.lists(cats, min_size=1, max_size=40), st.integers(0, 5))
def test_categorical_layouts(values, which):
    arr = pa.array(values, type=pa.string())
    y = np.arange(len(values), dtype=float)
    _check_layouts(lambda: _cat_transforms()[which], "c", arr, y)


@pytest.mark.parametrize("which", range(10))
def test_numeric_all_null(which):
    t = pa.table({"x": pa.array([None] * 5, pa.float64())})
    tr = _numeric_transforms()[which]
    if isinstance(tr, (mf.Passthrough, mf.LogTransformer, mf.MissingIndicator, mf.VarianceThreshold)):
        out = dense(tr.fit_transform(t))
        assert out.shape[0] == 5 and (np.isnan(out).all() or (out == 1.0).all() or out.shape[1] == 0)
    else:
        with pytest.raises(ValueError, match="`x`.*no finite value|no finite value.*`x`"):
            tr.fit(t)


@pytest.mark.parametrize("which", range(6))
def test_categorical_all_null_is_one_category(which):
    t = pa.table({"c": pa.array([None] * 4, pa.string())})
    tr = _cat_transforms()[which].fit(t, np.arange(4.0))
    out = dense(tr.transform(pa.table({"c": pa.array([None, "new"], pa.string())})))
    assert out.shape[0] == 2 and not np.isnan(out[1]).any()


EXPECTED_ALL = {
    "FeaturePlan", "KINDS", "as_matrix", "CSRMatrix", "StandardScaler", "MinMaxScaler", "RobustScaler",
    "Passthrough", "LogTransformer", "PowerTransformer", "KBinsDiscretizer", "OneHotEncoder",
    "OrdinalEncoder", "FrequencyEncoder", "TargetEncoder", "MissingIndicator", "DateTimeParts", "Combine", "CategoryCross",
    "VarianceThreshold", "CorrelationFilter", "MutualInfoSelector", "HashingVectorizer", "CountVectorizer",
    "TfidfVectorizer",
}


def test_all_is_deliberate():
    assert set(mf.__all__) == EXPECTED_ALL
    for name in mf.__all__:
        assert getattr(mf, name) is not None
    # every transform class is a saved kind, and every kind is exported
    assert {cls.__name__ for cls in mf.KINDS.values()} == EXPECTED_ALL - {"FeaturePlan", "KINDS", "as_matrix", "CSRMatrix"}
