"""Categorical tests against scipy; multiple-testing adjustments against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats as ss

from mlcore.errors import SchemaError
from mlcore.monitor import (adjust_pvalues, categorical_jensen_shannon, categorical_psi, chi2_test,
                            fisher_test, g_test, linf_distance, total_variation)
from mlcore.monitor.categorical import category_counts


def _cats(seed=0, n1=3000, n2=2500, shift=0.0, k=5):
    rng = np.random.default_rng(seed)
    p = np.ones(k) / k
    q = p.copy()
    q[0] += shift
    q /= q.sum()
    labels = np.array([f"c{i}" for i in range(k)])
    return labels[rng.choice(k, n1, p=p)], labels[rng.choice(k, n2, p=q)]


def _table(x, y):
    cats = sorted(set(x) | set(y))
    return np.array([[np.sum(x == c) for c in cats], [np.sum(y == c) for c in cats]])


@pytest.mark.parametrize("k,shift", [(5, 0.0), (5, 0.1), (2, 0.05), (3, 0.3)])
def test_chi2_and_g_match_chi2_contingency(k, shift):
    x, y = _cats(k=k, shift=shift)
    obs = _table(x, y)
    for fn, lam in ((chi2_test, None), (g_test, "log-likelihood")):
        r = fn(pa.array(x), pa.array(y))
        s = ss.chi2_contingency(obs, lambda_=lam)
        assert r.statistic == pytest.approx(s.statistic, rel=1e-10)
        assert r.p_value == pytest.approx(s.pvalue, rel=1e-9)
        assert r.details["dof"] == s.dof


def test_fisher_matches_scipy_and_needs_two_categories():
    x, y = _cats(k=2, shift=0.1, n1=200, n2=150)
    r = fisher_test(pa.array(x), pa.array(y))
    s = ss.fisher_exact(_table(x, y))
    assert (r.statistic, r.p_value) == (pytest.approx(s.statistic), pytest.approx(s.pvalue))
    x3, y3 = _cats(k=3)
    r = fisher_test(pa.array(x3), pa.array(y3))
    assert r.p_value is None and "2 categories" in r.threshold_kind


def test_distances_and_unseen_categories_and_nulls():
    x = pa.array(["a", "a", "b", None, "c"])
    y = pa.array(["a", "b", "b", "d", None, None]).dictionary_encode()
    r = total_variation(x, y)
    p = np.array([2, 1, 1, 0]) / 4
    q = np.array([1, 2, 0, 1]) / 4
    assert r.statistic == pytest.approx(0.5 * np.abs(p - q).sum())
    assert r.details["unseen"] == ["d"] and r.n_ref == 4 and r.n_cur == 4
    assert linf_distance(x, y).statistic == pytest.approx(np.abs(p - q).max())
    pe, qe = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    assert categorical_psi(x, y).statistic == pytest.approx(np.sum((qe - pe) * np.log(qe / pe)))
    from scipy.spatial.distance import jensenshannon

    assert categorical_jensen_shannon(x, y).statistic == pytest.approx(jensenshannon(p, q, base=2) ** 2)
    assert category_counts(x).n_null == 1


def test_bootstrap_threshold_is_calibrated_roughly():
    # Under no drift the bootstrap p-value of TV should reject about alpha of the time.
    rej = 0
    for s in range(200):
        x, y = _cats(seed=s, n1=400, n2=300)
        rej += total_variation(pa.array(x), pa.array(y), n_boot=200, seed=s).p_value <= 0.1
    assert ss.binomtest(rej, 200, 0.1).pvalue > 0.001


def test_bool_and_empty_and_float_rejected():
    r = chi2_test(pa.array([True, False, True]), pa.array([None, None], type=pa.bool_()))
    assert r.p_value is None and math.isnan(r.statistic)
    with pytest.raises(SchemaError, match="float"):
        chi2_test(pa.array([1.0, 2.0]), pa.array([1.0]))


def _holm_ref(p):
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def _bh_ref(p):
    m = len(p)
    order = np.argsort(p)[::-1]
    adj = np.empty(m)
    running = 1.0
    for rank_from_top, i in enumerate(order):
        rank = m - rank_from_top
        running = min(running, p[i] * m / rank)
        adj[i] = running
    return adj


def test_adjustments_against_definitions():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.uniform(size=15) ** 3
        assert np.allclose(adjust_pvalues(p, "holm"), _holm_ref(p))
        assert np.allclose(adjust_pvalues(p, "bh"), _bh_ref(p))
        assert np.allclose(adjust_pvalues(p, "bonferroni"), np.minimum(1, 15 * p))
    out = adjust_pvalues([0.01, None, float("nan"), 0.02], "bonferroni")
    assert out[0] == 0.02 and math.isnan(out[1]) and math.isnan(out[2]) and out[3] == 0.04
    with pytest.raises(ValueError, match="correction"):
        adjust_pvalues([0.1], "sidak")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_pvalues([1.5], "holm")
