"""Multivariate drift: MMD against its definition, DeLong AUC against scikit-learn, calibration."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats as ss
from sklearn.metrics import roc_auc_score

from mlcore.monitor.multivariate import delong_auc, domain_classifier_test, mmd_test
from reference import drift_reference as ref


def _tables(n=300, shift=0.0, corr=0.0, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 3))
    b = rng.normal(size=(n, 3))
    b[:, 0] += shift
    b[:, 1] = corr * b[:, 2] + np.sqrt(1 - corr ** 2) * b[:, 1]
    return (pa.table({f"x{k}": a[:, k] for k in range(3)}), pa.table({f"x{k}": b[:, k] for k in range(3)}), a, b)


def test_mmd_statistic_matches_definition():
    t1, t2, a, b = _tables(n=120, shift=0.5)
    r = mmd_test(t1, t2, n_permutations=50, gamma=0.3)
    mu, sd = a.mean(0), a.std(0)
    expect = ref.mmd2_unbiased((a - mu) / sd, (b - mu) / sd, 0.3)
    assert r.statistic == pytest.approx(expect, rel=1e-10)


def test_mmd_detects_a_correlation_change_that_marginals_miss():
    t1, t2, _, _ = _tables(n=400, corr=0.9, seed=2)
    assert mmd_test(t1, t2, n_permutations=200).p_value < 0.01
    assert mmd_test(t1, t2, method="linear").statistic > 0


def test_mmd_permutation_pvalues_are_calibrated():
    ps = [mmd_test(*_tables(n=60, seed=s)[:2], n_permutations=99, seed=s).p_value for s in range(60)]
    assert ss.kstest(ps, "uniform").pvalue > 1e-3
    ps = [mmd_test(*_tables(n=400, seed=s)[:2], method="linear", seed=s).p_value for s in range(60)]
    assert ss.kstest(ps, "uniform").pvalue > 1e-3


def test_delong_matches_sklearn_and_classifier_finds_the_feature():
    rng = np.random.default_rng(0)
    pos, neg = np.round(rng.normal(1, 1, 200), 1), np.round(rng.normal(0, 1, 300), 1)
    auc, se = delong_auc(pos, neg)
    assert auc == pytest.approx(roc_auc_score(np.r_[np.ones(200), np.zeros(300)], np.r_[pos, neg]))
    assert 0 < se < 0.05
    t1, t2, _, _ = _tables(n=800, shift=0.6, seed=3)
    r = domain_classifier_test(t1, t2, n_folds=3)
    assert r.p_value < 1e-3 and r.details["importances"][0][0] == "x0"
    lo, hi = r.details["auc_ci"]
    assert lo < r.statistic < hi and r.effect_size == pytest.approx(r.statistic - 0.5)
    t1, t2, _, _ = _tables(n=800, seed=4)
    r = domain_classifier_test(t1, t2, n_folds=3)
    assert r.details["auc_ci"][0] < 0.5 + 1e-9 or r.p_value > 1e-3


def test_pca_reconstruction_catches_correlation_flip_and_is_calibrated():
    from mlcore.monitor import pca_reconstruction_test

    t1, t2, _, _ = _tables(n=1000, corr=0.0, seed=1)
    rng = np.random.default_rng(0)
    z = rng.normal(size=2000)
    ref = pa.table({"a": z[:1000], "b": z[:1000] + 0.2 * rng.normal(size=1000)})
    cur = pa.table({"a": z[1000:], "b": -z[1000:] + 0.2 * rng.normal(size=1000)})
    r = pca_reconstruction_test(ref, cur)
    assert r.p_value < 1e-10 and r.effect_size > 1 and r.details["components"] == 1
    ps = [pca_reconstruction_test(*_tables(n=300, seed=s)[:2], seed=s).p_value for s in range(60)]
    assert ss.kstest(ps, "uniform").pvalue > 1e-3
