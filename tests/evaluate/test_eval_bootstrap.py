"""Bootstrap: each resample equals the metric recomputed with the resample's counts as weights."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlcore._kernels import metric_bootstrap as mb
from mlcore.evaluate import bootstrap as B
from mlcore.evaluate._inputs import MetricInputError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    n = 600
    y = rng.integers(0, 2, n)
    s = np.round(np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), 2)
    y3 = rng.integers(0, 3, n)
    p3 = np.where(rng.random(n) < 0.6, y3, rng.integers(0, 3, n))
    P = rng.dirichlet([1.0, 1.0, 2.0], n)
    yr = rng.normal(size=n)
    pr = yr + rng.normal(size=n) * 0.4
    return dict(n=n, y=y, s=s, y3=y3, p3=p3, P=P, yr=yr, pr=pr, w=rng.random(n) + 0.1)


def _counts(seed, b, n):
    return np.array([mb.poisson_count(np.uint64(seed), b, i) for i in range(n)], dtype=np.float64)


def _args(name, d):
    spec = B.metric_spec(name)
    if spec.needs == "label":
        multi = any(k in name for k in ("macro", "weighted", "micro", "accuracy"))
        return (d["y3"], d["p3"]) if multi else (d["y"], (d["s"] > 0.5).astype(np.int64))
    if spec.needs == "score":
        return d["y"], d["s"]
    if spec.needs == "proba":
        return (d["y3"], d["P"]) if "ovr" in name else (d["y"], d["s"])
    return d["yr"], d["pr"]


@pytest.mark.parametrize("name", sorted(B.METRICS))
def test_each_resample_is_the_weighted_metric(data, name):
    args = _args(name, data)
    seed = 11
    samples = B.bootstrap_samples(name, *args, sample_weight=data["w"], n_boot=4, seed=seed)
    for b in range(4):
        c = _counts(seed, b, data["n"])
        expected = B.compute_metric(name, *args, sample_weight=c * data["w"])
        assert samples[b] == pytest.approx(expected, rel=1e-9, abs=1e-9), (name, b)


def test_poisson_counts_are_poisson_one():
    c = _counts(5, 0, 100_000)
    k = np.arange(8)
    observed = np.array([np.sum(c == v) for v in k] + [np.sum(c >= 8)])
    expected = np.r_[stats.poisson.pmf(k, 1.0), stats.poisson.sf(7, 1.0)] * c.size
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # resamples differ from each other, and the same (seed, b, i) gives the same count
    assert not np.array_equal(c[:1000], _counts(5, 1, 1000))
    assert np.array_equal(c[:1000], _counts(5, 0, 1000))


def test_interval_covers_and_is_reproducible(data):
    a = B.bootstrap_metric("roc_auc", data["y"], data["s"], n_boot=300, seed=2)
    b = B.bootstrap_metric("roc_auc", data["y"], data["s"], n_boot=300, seed=2)
    assert a == b
    assert a.low < a.value < a.high
    assert 0.005 < a.high - a.low < 0.2
    assert a.n_valid == 300


def test_coverage_of_the_mean_error():
    # calibration check: the 90% interval of the MAE covers the population value about 90% of the time
    rng = np.random.default_rng(0)
    hits = 0
    trials = 60
    for t in range(trials):
        e = rng.exponential(size=400)
        ci = B.bootstrap_metric("mae", e, np.zeros_like(e), n_boot=200, confidence=0.9, seed=t)
        hits += ci.low <= 1.0 <= ci.high
    assert 0.75 <= hits / trials <= 0.99


def test_unknown_metric_and_bad_parameters():
    with pytest.raises(MetricInputError, match=r"Unknown metric 'roc_acu'.*did you mean 'roc_auc'"):
        B.metric_spec("roc_acu")
    with pytest.raises(MetricInputError, match="n_boot=0"):
        B.bootstrap_samples("mae", [1.0], [1.0], n_boot=0)
    with pytest.raises(MetricInputError, match="confidence=1.5"):
        B.bootstrap_metric("mae", [1.0], [1.0], confidence=1.5)
    assert B.metric_spec("auc").name == "roc_auc"
