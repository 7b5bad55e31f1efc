"""Profiles: one pass, exact sums, exact associative merge, sketch bound, save/load."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pytest

from mlcore.errors import ArtifactError, ShapeError
from mlcore.monitor import Profile, profile


def _data(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_t(3, size=n) * 1e3
    x[::97] = np.nan
    x[5], x[6], x[7] = np.inf, -np.inf, -0.0
    x[8] = 5e-324  # subnormal
    x[9] = -1.7e308
    mask = np.zeros(n, bool)
    mask[::13] = True
    cats = rng.choice(["a", "b", "c"], n)
    return x, mask, cats


def _table(x, mask, cats):
    return pa.table({"x": pa.array(x, mask=mask), "c": pa.array(cats)})


def test_counts_moments_and_histogram_are_exact():
    x, mask, cats = _data()
    p = profile(_table(x, mask, cats))
    c = p["x"]
    valid = x[~mask]
    fin = valid[np.isfinite(valid)]
    assert c.n_null == mask.sum() and c.n_nan == np.isnan(valid).sum() and c.n_inf == 2
    assert c.n_finite == fin.size
    exact_sum = sum(Fraction(float(v)) for v in fin)
    exact_sq = sum(Fraction(float(v)) ** 2 for v in fin)
    assert c.sum == float(exact_sum)
    assert c.mean == float(exact_sum / fin.size)
    assert c.variance == math.inf  # -1.7e308 squared: the exact variance is beyond the float range
    keep = np.abs(fin) < 1e300
    exact_sum2 = sum(Fraction(float(v)) for v in fin[keep])
    exact_sq2 = sum(Fraction(float(v)) ** 2 for v in fin[keep])
    c2 = profile(pa.table({"x": fin[keep]}))["x"]
    assert c2.variance == float((exact_sq2 - exact_sum2 ** 2 / keep.sum()) / (keep.sum() - 1))
    assert c.min == fin.min() and c.max == fin.max()
    assert np.array_equal(c.hist, np.bincount(np.digitize(fin, c.edges), minlength=c.edges.size + 1))
    assert p["c"].categories == {k: int(np.sum(cats[~np.zeros(len(cats), bool)] == k)) for k in "abc"}


def test_sketch_quantiles_within_the_stated_bound():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.lognormal(size=3000), -rng.lognormal(2, size=2000), np.zeros(10)])
    c = profile(pa.table({"x": x}), sketch_alpha=0.01)["x"]
    s = np.sort(x)
    for q in np.linspace(0, 1, 41):
        true = s[int(math.floor(q * (s.size - 1)))]
        assert abs(c.quantile(q) - true) <= 0.01 * abs(true) + 1e-300


@pytest.mark.parametrize("seed", range(3))
def test_merge_is_exact_associative_and_order_independent(seed):
    x, mask, cats = _data(seed=seed)
    t = _table(x, mask, cats)
    whole = profile(t)
    edges = whole.edges
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, len(x)), 5, replace=False))
    parts = [t.slice(a, b - a) for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(x)])]
    profs = [profile(pt, edges=edges) for pt in parts]
    left = profs[0]
    for q in profs[1:]:
        left = left.merge(q)
    right = profs[-1]
    for q in reversed(profs[:-1]):
        right = q.merge(right)
    shuffled = [profs[i] for i in rng.permutation(len(profs))]
    mixed = shuffled[0]
    for q in shuffled[1:]:
        mixed = q.merge(mixed)
    assert left == whole and right == whole and mixed == whole
    # a chunked column (odd offsets) profiles the same as the whole column
    chunked = pa.table({"x": pa.chunked_array([c.column("x").combine_chunks() for c in parts]),
                        "c": pa.chunked_array([c.column("c").combine_chunks() for c in parts])})
    assert profile(chunked, edges=edges) == whole


def test_signed_zero_min_is_order_independent():
    a = profile(pa.table({"x": [0.0, 1.0]}), edges={"x": [0.5]})
    b = profile(pa.table({"x": [-0.0, 1.0]}), edges={"x": [0.5]})
    assert np.signbit(a.merge(b)["x"].min) and np.signbit(b.merge(a)["x"].min)


def test_empty_all_null_and_errors():
    p = profile(pa.table({"x": pa.array([None, None], pa.float64())}), edges={"x": [0.0]})
    assert p["x"].n_null == 2 and math.isnan(p["x"].mean) and math.isnan(p["x"].quantile(0.5))
    e = profile(pa.table({"x": pa.array([], pa.float64())}), edges={"x": [0.0]})
    assert e["x"].n_rows == 0
    with pytest.raises(ShapeError, match="edges"):
        profile(pa.table({"x": [1.0]}), edges={"x": [0.0]}).merge(profile(pa.table({"x": [1.0]}), edges={"x": [1.0]}))
    with pytest.raises(ValueError, match="increasing"):
        profile(pa.table({"x": [1.0]}), edges={"x": [1.0, 0.0]})


def test_save_load_roundtrip(tmp_path):
    x, mask, cats = _data()
    p = profile(_table(x, mask, cats))
    p.save(tmp_path / "p")
    q = Profile.load(tmp_path / "p")
    assert q == p and q["x"].variance == p["x"].variance
    import json

    meta = json.loads((tmp_path / "p" / "profile.json").read_text())
    meta["columns"][0]["kind"] = "pickle"
    (tmp_path / "p" / "profile.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="kind"):
        Profile.load(tmp_path / "p")


def test_drift_from_profiles_equals_drift_from_data():
    from mlcore.monitor import profile_drift, psi
    from mlcore.monitor.categorical import categorical_results, category_counts

    rng = np.random.default_rng(8)
    x, y = rng.normal(size=4000), rng.normal(0.3, size=3000)
    cx, cy = rng.choice(["a", "b", "c"], 4000), rng.choice(["a", "b", "d"], 3000)
    ref = profile(pa.table({"x": x, "c": cx}))
    cur = profile(pa.table({"x": y, "c": cy}), edges=ref.edges)
    res = profile_drift(ref, cur)
    assert res["x"][0].statistic == pytest.approx(psi(x, y).statistic, rel=1e-12)
    direct = categorical_results(category_counts(pa.array(cx)), category_counts(pa.array(cy)),
                                 tests=("chi2", "g_test", "total_variation", "linf", "psi", "jensen_shannon"))
    assert [r.statistic for r in res["c"]] == pytest.approx([r.statistic for r in direct])
    with pytest.raises(ShapeError, match="edges"):
        profile_drift(ref, profile(pa.table({"x": y, "c": cy})))
