"""Profiles over a Ray Dataset equal the single-machine profile, bit for bit (local Ray, 2 CPUs)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mlcore.monitor import profile, profile_ray
from mlcore.monitor.profile_ray import _bucket_interval


def _table(n=20_000, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * 1e3
    x[::97] = np.nan
    x[5] = np.inf
    x[6] = -np.inf
    x[10:40] = 0.0
    x[40] = -0.0
    disc = rng.integers(-3, 4, size=n).astype(np.float64)  # repeated quantiles: deduplicated edges
    heavy = rng.standard_cauchy(size=n)
    ints = pa.array(rng.integers(0, 1000, size=n), mask=rng.random(n) < 0.05)
    cat = pa.array(rng.choice(["a", "b", "c", None], size=n))
    return pa.table({"x": x, "disc": disc, "heavy": heavy, "ints": ints, "cat": cat,
                     "pos": rng.exponential(size=n) + 1e-300})


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside Ray's own modules
def test_ray_profile_equals_single_machine(ray_local):
    t = _table()
    want = profile(t)
    ds = ray_local.data.from_arrow(t).repartition(5)
    got = profile_ray(ds)
    assert got == want  # counts, exact sums, min/max, exact quantile edges, histograms, sketches
    assert all(np.array_equal(got[c].edges, want[c].edges) for c in ("x", "disc", "heavy", "ints", "pos"))
    assert got["disc"].edges.size < 9  # discrete: duplicated edges removed, as single-machine
    # with the reference's edges (a current batch): one pass, still equal; profile() dispatches
    cur = t.slice(3_000, 9_001)
    ds_cur = ray_local.data.from_arrow(cur).repartition(3)
    assert profile(ds_cur, ["x", "cat"], edges=want.edges) == profile(cur, ["x", "cat"], edges=want.edges)


def test_bucket_interval_holds_the_rank():
    # the sketch bucket found for a rank holds the value of that rank (the driver's gather relies on it)
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(size=3000) * 50, np.zeros(20), -np.logspace(-300, 300, 50), np.logspace(-300, 300, 50)]
    p = profile(pa.table({"x": x}), edges={"x": np.zeros(0)})["x"]
    s = np.sort(x)
    for r in range(0, s.size, 7):
        lo, hi = _bucket_interval(p, r)
        assert lo <= s[r] <= hi, (r, s[r], lo, hi)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_ray_profile_exact_even_when_a_sketch_bucket_misses(ray_local, monkeypatch):
    # force every gathered range to miss its rank: the driver must fall back to the whole column
    import importlib

    pr = importlib.import_module("mlcore.monitor.profile_ray")  # the package exports a function of that name

    monkeypatch.setattr(pr, "_bucket_interval", lambda c, rank: (5e300, 6e300))
    t = _table(n=3000, seed=9).select(["x", "disc"])
    assert profile_ray(ray_local.data.from_arrow(t).repartition(2)) == profile(t)
