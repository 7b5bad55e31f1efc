"""Property tests (Hypothesis): the walk against scipy and the references on small tied samples
with NaN and ±inf; profiles merge exactly whatever the split."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyarrow as pa
import scipy.stats as ss
from hypothesis import given
from hypothesis import strategies as st

from mlcore.monitor import ad_test, cvm_test, ks_test, profile
from reference import drift_reference as ref

VALUES = st.sampled_from([-2.0, -1.0, -0.5, 0.0, -0.0, 0.25, 1.0, 3.0, float("nan"), float("inf"), -float("inf")])
SAMPLE = st.lists(VALUES, min_size=0, max_size=30)


@given(SAMPLE, SAMPLE, st.integers(0, 5))
def test_walk_matches_scipy_on_tied_samples(x, y, offset):
    xa = np.array(x, dtype=np.float64)
    ya = np.array(y, dtype=np.float64)
    # a slice at an arbitrary offset of a longer Arrow array
    arr = pa.array(np.r_[np.zeros(offset), xa]).slice(offset)
    xs, ys = xa[~np.isnan(xa)], ya[~np.isnan(ya)]
    r = ks_test(arr, ya)
    if xs.size < 2 or ys.size < 2:
        assert r.p_value is None
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns when its exact path falls back to asymp
        s = ss.ks_2samp(xs, ys)
    assert r.statistic == s.statistic
    assert math.isclose(r.p_value, s.pvalue, rel_tol=1e-9, abs_tol=1e-12)
    # in exact mode scipy (and mlcore) report D rounded to h / lcm(n1, n2)
    assert math.isclose(r.statistic, ref.ks_d(xs, ys), abs_tol=1e-15)
    fin = np.isfinite(xs).all() and np.isfinite(ys).all()
    if fin:
        assert cvm_test(xa, ya).statistic == ref.cvm_t(xs, ys)
        if np.unique(np.r_[xs, ys]).size > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sa = ss.anderson_ksamp([xs, ys], variant="midrank")
            assert math.isclose(ad_test(xa, ya).statistic, sa.statistic, rel_tol=1e-9, abs_tol=1e-9)


@given(st.lists(VALUES, min_size=0, max_size=60), st.lists(st.integers(0, 60), max_size=4),
       st.lists(st.booleans(), min_size=60, max_size=60))
def test_profile_merge_equals_whole(values, cuts, nulls):
    x = np.array(values, dtype=np.float64)
    mask = np.array(nulls[:x.size], dtype=bool)
    t = pa.table({"x": pa.array(x, mask=mask)})
    edges = {"x": [-1.0, 0.0, 1.0]}
    whole = profile(t, edges=edges)
    bounds = sorted({min(c, x.size) for c in cuts} | {0, x.size}) if x.size else [0, 0]
    parts = [profile(t.slice(a, b - a), edges=edges) for a, b in zip(bounds[:-1], bounds[1:])]
    merged = parts[0]
    for p in parts[1:]:
        merged = p.merge(merged)
    assert merged == whole
