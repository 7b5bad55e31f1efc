"""The compiled Birnbaum-Tingey sum behind the asymptotic two-sample KS p-value, against an exact
rational reference and against scipy (whose C smirnov sums it in double-double arithmetic)."""

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as ss
from reference.monitor_smirnov import smirnov_sf_exact

from mlcore._kernels import drift_smirnov
from mlcore.monitor.univariate import kstwo_sf


def _sf(n, x):
    logs = np.empty(int(math.floor(n * (1.0 - x))) + 1)
    return math.exp(drift_smirnov.smirnov_log_sf(float(n), x, logs))


@pytest.mark.parametrize("n,k", [(141, 20), (150, 31), (200, 25), (257, 64), (300, 150)])
def test_smirnov_sum_matches_exact_rationals(n, k):
    x = Fraction(k, n) + Fraction(1, 7 * n)  # off the lattice, as a real D usually is
    exact = float(smirnov_sf_exact(n, x))
    assert _sf(n, float(x)) == pytest.approx(exact, rel=1e-12)


# the band scipy's kstwo.sf sends to smirnov: 2.2 <= n x^2 < 370 with x < 0.5
BAND = [(n, nd2) for n in (141, 1_000, 20_001, 250_000, 500_000) for nd2 in (2.2, 3.0, 7.5, 30.0, 120.0, 369.0)
        if nd2 / n < 0.25]


@pytest.mark.parametrize("n,nd2", BAND)
def test_smirnov_sum_matches_scipy(n, nd2):
    x = math.sqrt(nd2 / n)
    ref = sp.smirnov(n, x)
    if ref < 1e-290:  # subnormal territory: both are 0 for any decision
        assert _sf(n, x) < 1e-280
    else:
        assert _sf(n, x) == pytest.approx(ref, rel=1e-11)


@pytest.mark.parametrize("n", [100, 141, 5_000, 500_000])
def test_kstwo_sf_follows_scipy_on_every_branch(n):
    # d across scipy's branches: t <= 1, Pelz-Good/1 - cdf, the smirnov band, >= 370, x >= 0.5
    for d in [0.3 / n, 0.8 / n, 0.5 / math.sqrt(n), 1.4 / math.sqrt(n), 2.0 / math.sqrt(n),
              5.0 / math.sqrt(n), 19.5 / math.sqrt(n), 25.0 / math.sqrt(n), 0.6, 1.0 - 0.5 / n]:
        if d >= 1:
            continue
        assert kstwo_sf(d, float(n)) == pytest.approx(float(ss.kstwo.sf(d, n)), rel=1e-11, abs=1e-300), d


def test_two_sample_asymptotic_pvalue_in_the_costly_band_matches_ks_2samp():
    from mlcore.monitor import ks_test

    rng = np.random.default_rng(11)
    x, y = rng.normal(size=60_000), rng.normal(0.03, 1, size=40_000)
    r, s = ks_test(x, y, method="asymp"), ss.ks_2samp(x, y, method="asymp")
    n_eff = round(60_000 * 40_000 / 100_000)
    assert 2.2 <= n_eff * s.statistic ** 2 < 370  # the branch the kernel replaces
    assert r.statistic == s.statistic
    assert r.p_value == pytest.approx(s.pvalue, rel=1e-11)
