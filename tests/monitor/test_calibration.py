"""Calibration: with no drift, p-values are uniform and false alarms happen at the level asked for.

Many features are tested in one call (one compiled walk), so that hundreds of replicates stay fast.
Checks use a KS test of the p-values against U(0, 1) and exact binomial bounds on alarm counts,
each at a level (1e-3) that a correct implementation fails once in a thousand runs; the seeds are
fixed, so a run is reproducible.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats as ss

from mlcore.monitor import DriftMonitor, numeric_tests
from mlcore.monitor.categorical import categorical_results, category_counts

N_FEATURES = 400


def _null_tables(n1, n2, seed, dist="normal"):
    rng = np.random.default_rng(seed)
    draw = {"normal": rng.normal, "exponential": rng.exponential}[dist]
    ref = pa.table({f"f{i}": draw(size=n1) for i in range(N_FEATURES)})
    cur = pa.table({f"f{i}": draw(size=n2) for i in range(N_FEATURES)})
    return ref, cur


@pytest.mark.parametrize("n1,n2,dist", [(300, 300, "normal"), (400, 250, "exponential"), (12000, 11000, "normal")])
def test_numeric_pvalues_are_uniform_under_no_drift(n1, n2, dist):
    features = N_FEATURES if n1 < 10000 else 60
    ref, cur = _null_tables(n1, n2, seed=n1 + n2, dist=dist)
    cols = ref.column_names[:features]
    res = numeric_tests(ref, cur, cols, tests=("ks", "cvm", "psi"))
    for k, test in enumerate(("ks", "cvm", "psi")):
        p = np.array([r[k].p_value for r in res])
        assert np.all((p >= 0) & (p <= 1))
        if test == "ks" and n1 <= 10000:
            # exact KS p-values of a lattice statistic are discrete: check the level, not uniformity
            assert ss.binomtest(int(np.sum(p <= 0.05)), p.size, 0.05).pvalue > 1e-3 or np.mean(p <= 0.05) < 0.05
            continue
        assert ss.kstest(p, "uniform").pvalue > 1e-3, test


def test_categorical_pvalues_are_uniform_under_no_drift():
    rng = np.random.default_rng(7)
    probs = np.array([0.4, 0.3, 0.2, 0.1])
    cats = np.array(list("abcd"))
    ps = {"chi2": [], "g_test": [], "psi": []}
    for _ in range(300):
        ref = category_counts(pa.array(cats[rng.choice(4, 800, p=probs)]))
        cur = category_counts(pa.array(cats[rng.choice(4, 600, p=probs)]))
        for r in categorical_results(ref, cur, tests=tuple(ps)):
            ps[r.test].append(r.p_value)
    for test, p in ps.items():
        assert ss.kstest(p, "uniform").pvalue > 1e-3, test


@pytest.mark.parametrize("correction", ["none", "bonferroni", "holm", "bh"])
def test_false_alarm_rate_across_features_and_windows(correction):
    """20 undrifted features checked in 100 windows: per-feature alarms at alpha without correction;
    with Bonferroni/Holm/BH (all FWER <= alpha when every null holds), windows with any alarm <= alpha."""
    alpha = 0.05
    rng = np.random.default_rng(11)
    n = 500
    ref = pa.table({f"f{i}": rng.normal(size=n) for i in range(20)})
    monitor = DriftMonitor(alpha=alpha, correction=correction, effect_floor=0.0).fit(ref)
    windows = 100
    any_alarm = 0
    feature_alarms = 0
    for w in range(windows):
        cur = pa.table({f"f{i}": rng.normal(size=n) for i in range(20)})
        rep = monitor.check(cur)
        any_alarm += rep.drifted
        feature_alarms += rep.n_drifted
    if correction == "none":
        assert ss.binomtest(feature_alarms, windows * 20, alpha).pvalue > 1e-3
    else:
        # the family-wise rate must not exceed alpha (one-sided exact binomial bound)
        assert ss.binomtest(any_alarm, windows, alpha, alternative="greater").pvalue > 1e-3


@pytest.mark.slow
def test_false_alarm_rate_is_the_level_at_large_n():
    alpha = 0.05
    rng = np.random.default_rng(12)
    n = 50_000
    ref = pa.table({f"f{i}": rng.normal(size=n) for i in range(20)})
    monitor = DriftMonitor(alpha=alpha, correction="none", effect_floor=0.0).fit(ref)
    alarms = sum(monitor.check(pa.table({f"f{i}": rng.normal(size=n) for i in range(20)})).n_drifted
                 for _ in range(30))
    assert ss.binomtest(alarms, 600, alpha).pvalue > 1e-3
