"""Linear-time MMD: statistic by definition, block-permutation p-values (exact null), calibration, power."""

from __future__ import annotations

import collections

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats as ss
from reference import monitor_mmd_linear as ref

from mlcore._kernels import drift_mmd as M
from mlcore.monitor import mmd_test


def _tables(n, shift=0.0, seed=0, d=3):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    b[:, 0] += shift
    return pa.table({f"x{k}": a[:, k] for k in range(d)}), pa.table({f"x{k}": b[:, k] for k in range(d)})


def test_block_sums_give_the_linear_statistic_by_definition():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(41, 4)), rng.normal(size=(36, 4))  # unequal sizes: min(n1, n2) // 2 blocks
    sums = np.empty((18, 3))
    M.linear_blocks(x, y, 0.2, sums)
    h = sums[:, 0] - sums[:, 2]
    assert h.mean() == pytest.approx(ref.linear_mmd2(x.tolist(), y.tolist(), 0.2), rel=1e-12)
    assert h.mean() == pytest.approx(M.mmd2_linear(x, y, 0.2)[0], rel=1e-12)


def test_a_relabelled_block_is_a_difference_of_two_matchings_uniformly():
    rng = np.random.default_rng(2)
    pts = rng.normal(size=(4, 2))
    sums = np.empty((1, 3))
    M.linear_blocks(pts[:2], pts[2:], 0.7, sums)
    s = sums[0]
    want = sorted(s[a] - s[b] for a in range(3) for b in range(3) if a != b)
    got = sorted(ref.relabelled_h(pts.tolist(), 0.7))  # all 24 orders: each ordered pair 4 times
    np.testing.assert_allclose(got, np.repeat(want, 4), rtol=1e-12)
    # the kernel's draws: only those six values, each with probability 1/6
    null = np.empty(12_000)
    M.linear_permutations(sums, 12345, null)
    counts = collections.Counter(np.round(null, 12).tolist())
    assert set(counts) <= set(np.round(want, 12).tolist()) and len(counts) == 6
    assert ss.chisquare(list(counts.values())).pvalue > 1e-3
    again = np.empty(12_000)
    M.linear_permutations(sums, 12345, again)
    np.testing.assert_array_equal(null, again)  # seeded: same draws, whatever the threads


def test_linear_permutation_pvalues_are_calibrated_under_no_drift():
    ps = np.array([mmd_test(*_tables(60, seed=s), method="linear", seed=s, n_permutations=99, gamma=0.3).p_value
                   for s in range(400)])
    assert ps.min() >= 1 / 100 and ps.max() <= 1.0
    for q in (0.05, 0.1, 0.5):  # rejection rate within 4 binomial standard errors of the level
        assert abs((ps <= q).mean() - q) <= 4 * np.sqrt(q * (1 - q) / ps.size), q
    assert ss.kstest(ps, "uniform").pvalue > 1e-3


def test_linear_permutation_test_has_power_and_reports_both_pvalues():
    r = mmd_test(*_tables(3000, shift=0.5, seed=3), method="linear", n_permutations=500)
    assert r.p_value == pytest.approx(1 / 501) and r.method.startswith("block permutation")
    assert r.details["normal_p_value"] < 0.01 and r.details["blocks"] == 1500
    quiet = mmd_test(*_tables(3000, seed=4), method="linear", n_permutations=500)
    assert quiet.p_value > 0.05
    normal = mmd_test(*_tables(3000, shift=0.5, seed=3), method="linear", n_permutations=0)
    assert normal.method == "normal approximation" and normal.p_value == r.details["normal_p_value"]
