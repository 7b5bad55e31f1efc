"""Numeric drift tests: parity with scipy.stats and with the obvious references."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats as ss

from mlcore.monitor import (ad_test, cvm_test, hellinger, jensen_shannon, kl_divergence, ks_test,
                            numeric_tests, psi, wasserstein_distance)
from mlcore.monitor.univariate import bin_counts, quantile_edges
from reference import drift_reference as ref

CASES = [
    # (n1, n2, rounding, shift)
    (50, 50, None, 0.3),
    (300, 217, None, 0.3),
    (2000, 2000, 1, 0.1),
    (200, 150, 1, 0.3),
    (15, 12, None, 0.5),
    (20000, 15001, None, 0.05),
    (12000, 12000, None, 0.0),
]


def _data(n1, n2, rnd, shift, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=n1), rng.normal(shift, size=n2)
    if rnd is not None:
        x, y = np.round(x, rnd), np.round(y, rnd)
    return x, y


@pytest.mark.parametrize("n1,n2,rnd,shift", CASES)
def test_ks_matches_scipy(n1, n2, rnd, shift):
    x, y = _data(n1, n2, rnd, shift)
    r, s = ks_test(x, y), ss.ks_2samp(x, y)
    assert r.statistic == s.statistic  # bit-equal D
    assert r.p_value == pytest.approx(s.pvalue, rel=1e-8, abs=1e-300)
    assert r.statistic == pytest.approx(ref.ks_d(x, y), abs=1e-15)
    for method in ("exact", "asymp"):
        if method == "exact" and n1 != n2 and n1 * n2 > 1e7:
            continue
        r, s = ks_test(x, y, method=method), ss.ks_2samp(x, y, method=method)
        assert r.statistic == s.statistic
        assert r.p_value == pytest.approx(s.pvalue, rel=1e-8, abs=1e-300)


def test_ks_exact_equal_n_large_is_bit_identical():
    x, y = _data(100_000, 100_000, None, 0.01, seed=3)
    r, s = ks_test(x, y, method="exact"), ss.ks_2samp(x, y, method="exact")
    assert (r.statistic, r.p_value) == (s.statistic, s.pvalue)


@pytest.mark.parametrize("n1,n2,rnd,shift", CASES)
def test_cvm_matches_scipy_and_exact_reference(n1, n2, rnd, shift):
    x, y = _data(n1, n2, rnd, shift)
    r, s = cvm_test(x, y), ss.cramervonmises_2samp(x, y)
    assert r.statistic == pytest.approx(s.statistic, rel=1e-9)
    assert r.p_value == pytest.approx(s.pvalue, rel=1e-7, abs=1e-12)
    if n1 * n2 < 1e6:
        assert r.statistic == ref.cvm_t(x, y)  # exact rationals, correctly rounded both sides


def test_cvm_is_exact_where_float_sums_cancel():
    # trap 2 of the kernel notes: at large n, T = U/(kN) - (4k-1)/(6N) cancels ~7 digits.
    x, y = _data(300_000, 300_000, None, 0.0, seed=5)
    r = cvm_test(x, y)
    s = ss.cramervonmises_2samp(x, y)
    assert r.statistic == pytest.approx(s.statistic, rel=1e-7)


@pytest.mark.parametrize("n1,n2,rnd,shift", CASES)
def test_ad_matches_scipy(n1, n2, rnd, shift):
    x, y = _data(n1, n2, rnd, shift)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns when it caps or floors the p-value
        s = ss.anderson_ksamp([x, y], variant="midrank")
    r = ad_test(x, y)
    assert r.statistic == pytest.approx(s.statistic, rel=1e-11, abs=1e-12)
    assert r.p_value == pytest.approx(s.pvalue, rel=1e-9)
    if n1 + n2 <= 700:
        from mlcore.monitor.univariate import _ad_sigma

        a2kn = ref.ad_midrank_a2kn(x, y)
        assert r.statistic == pytest.approx((a2kn - 1) / _ad_sigma(n1, n2), rel=1e-11)


@pytest.mark.parametrize("n1,n2,rnd,shift", CASES)
def test_wasserstein_matches_scipy(n1, n2, rnd, shift):
    x, y = _data(n1, n2, rnd, shift)
    r = wasserstein_distance(x, y)
    assert r.statistic == pytest.approx(ss.wasserstein_distance(x, y), rel=1e-12)
    assert r.statistic == pytest.approx(ref.wasserstein(x, y), rel=1e-12)


def test_histogram_distances_against_reference():
    x, y = _data(5000, 4000, 1, 0.2)
    xs = np.sort(x)
    e = quantile_edges(xs, 10)
    assert np.all(np.diff(e) > 0)  # deduplicated
    pc, qc = bin_counts(xs, e), bin_counts(np.sort(y), e)
    # direct binning with [e_k, e_k+1): digitize right=False
    assert np.array_equal(pc, np.bincount(np.digitize(x, e), minlength=e.size + 1))
    r = psi(x, y)
    assert r.statistic == pytest.approx(ref.psi(pc, qc), rel=1e-12)
    p, q = pc / pc.sum(), qc / qc.sum()
    from scipy.spatial.distance import jensenshannon

    assert jensen_shannon(x, y).statistic == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-9)
    assert hellinger(x, y).statistic == pytest.approx(
        np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)), rel=1e-9)
    pe, qe = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert kl_divergence(x, y).statistic == pytest.approx(np.sum(qe * np.log(qe / pe)), rel=1e-12)
    for r in (psi(x, y), jensen_shannon(x, y), hellinger(x, y), kl_divergence(x, y)):
        assert r.threshold > 0 and r.p_value < 0.05 and r.binning and r.exceeds


def test_psi_null_threshold_is_the_chi2_quantile():
    x, y = _data(10_000, 8_000, None, 0.0, seed=9)
    r = psi(x, y, alpha=0.01)
    bins = len(r.details["ref_counts"])
    assert r.threshold == pytest.approx(ss.chi2.isf(0.01, bins - 1) * (1 / 10_000 + 1 / 8_000))
    assert r.log_base == math.e


def test_nan_null_inf_and_arrow_layouts():
    rng = np.random.default_rng(4)
    x = rng.normal(size=3001)
    y = rng.normal(0.1, size=2503)
    x[::37] = np.nan
    x[5] = -np.nan  # a NaN with its sign bit set
    y[7] = np.inf
    y[8] = -np.inf
    mask = np.zeros(y.size, bool)
    mask[::11] = True
    # Arrow nulls over garbage values, a slice at an odd offset, and several chunks
    arr_y = pa.array(np.where(mask, 1e300, y), mask=mask)
    big = pa.concat_arrays([pa.array(rng.normal(size=13)), arr_y])
    sliced = big.slice(13)
    chunked = pa.chunked_array([sliced.slice(0, 1000), sliced.slice(1000, 3), sliced.slice(1003)])
    xs, ys = x[~np.isnan(x)], y[~mask]
    s = ss.ks_2samp(xs, ys)
    for cur in (sliced, chunked):
        r = ks_test(pa.array(x), cur)
        assert r.statistic == s.statistic and r.p_value == pytest.approx(s.pvalue, rel=1e-8)
        assert r.n_ref == xs.size and r.n_cur == ys.size
        assert cvm_test(pa.array(x), cur).statistic == pytest.approx(
            ss.cramervonmises_2samp(xs, ys).statistic, rel=1e-9)
    assert math.isinf(wasserstein_distance(x, y).statistic)


def test_empty_all_null_and_constant():
    r = ks_test(pa.array([None, None], type=pa.float64()), pa.array([1.0, 2.0]))
    assert math.isnan(r.statistic) and r.p_value is None and "too few" in r.threshold_kind
    r = ks_test(np.array([], dtype=float), np.array([1.0, 2.0]))
    assert r.n_ref == 0 and r.p_value is None
    c = np.ones(50)
    r = ks_test(c, c)
    assert r.statistic == 0.0 and r.p_value == 1.0
    assert ad_test(c, c).p_value == 1.0
    assert psi(c, c).statistic == 0.0


def test_many_columns_in_one_call():
    rng = np.random.default_rng(2)
    cols = {f"f{i}": rng.normal(size=2000) for i in range(5)}
    cur = {f"f{i}": rng.normal(0.5 * (i == 3), size=1500) for i in range(5)}
    res = numeric_tests(pa.table(cols), pa.table(cur), list(cols), tests=("ks", "cvm"))
    for i, rs in enumerate(res):
        s = ss.ks_2samp(cols[f"f{i}"], cur[f"f{i}"])
        assert rs[0].statistic == s.statistic and rs[0].p_value == pytest.approx(s.pvalue, rel=1e-8)
    assert res[3][1].p_value < 1e-6


def _check_fast(cases):
    from mlcore.monitor.univariate import ks_pvalue

    for n_eff, d in cases:
        p_fast, _, meth = ks_pvalue(d, 2 * n_eff, 2 * n_eff, "fast")
        p_ref = ss.kstwo.sf(d, n_eff)
        assert meth == "asymp-limit"
        # conservative (never below scipy), close where decisions are made
        bound = 1.015 if p_ref >= 1e-4 else 1.1
        assert p_ref <= p_fast <= p_ref * bound, (n_eff, d, p_fast, p_ref)


def test_ks_fast_mode_is_the_kolmogorov_limit_close_to_scipy():
    _check_fast([(500_000, 0.001), (500_000, 0.0015), (10_000, 0.012), (10_000, 0.02)])
    from mlcore.monitor.univariate import ks_pvalue

    assert ks_pvalue(0.1, 100, 100, "fast") == ks_pvalue(0.1, 100, 100, "auto")


@pytest.mark.slow
def test_ks_fast_mode_grid():
    _check_fast([(n, d) for n in (10_000, 100_000, 500_000) for d in np.array([1.0, 1.5, 2.0, 3.0, 4.0, 5.5]) / np.sqrt(n)])
