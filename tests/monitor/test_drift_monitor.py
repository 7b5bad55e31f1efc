"""The dataset-level verdict: significance AND effect size, both reported; save/load; bad input."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats as ss

from mlcore.errors import ArtifactError, NotFittedError, SchemaError
from mlcore.monitor import DriftMonitor


def _frames(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    ref = pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y", "z"], n),
                    "i": rng.integers(0, 5, n)})
    cur = pa.table({"a": rng.normal(0.3, size=n), "b": rng.normal(size=n),
                    "c": rng.choice(["x", "y", "z"], n, p=[0.6, 0.2, 0.2]), "i": rng.integers(0, 5, n)})
    return ref, cur


def test_verdict_flags_the_drifted_features_and_reports_both_numbers():
    ref, cur = _frames()
    rep = DriftMonitor(extra_tests=("ks", "psi", "g_test")).fit(ref).check(cur)
    assert rep.drifted_columns == ["a", "c"] and rep.drifted and rep.n_drifted == 2
    t = rep.to_table()
    assert t.column("effect_floor").to_pylist() == [0.01, 0.01, 0.01, 0.01]
    a = rep.features[0]
    assert a.test == "cvm" and a.effect_size == pytest.approx(0.3, abs=0.06)
    assert a.p_value == pytest.approx(ss.cramervonmises_2samp(ref["a"].to_numpy(), cur["a"].to_numpy()).pvalue)
    assert {r.test for r in a.results} == {"cvm", "wasserstein", "ks", "psi"}
    assert rep.ranked()[0].column in ("a", "c")
    json.dumps(rep.to_dict())


def test_tiny_effect_on_huge_sample_is_significant_but_not_drift():
    rng = np.random.default_rng(1)
    n = 400_000
    ref = pa.table({"a": rng.normal(size=n)})
    cur = pa.table({"a": rng.normal(0.008, size=n)})
    f = DriftMonitor(effect_floor=0.02).fit(ref).check(cur).features[0]
    assert f.significant and not f.drifted
    assert f.effect_size < 0.02


def test_type_change_empty_and_all_null():
    ref, cur = _frames()
    m = DriftMonitor().fit(ref)
    with pytest.raises(SchemaError, match="changed type"):
        m.check(cur.set_column(1, "b", pa.array(np.array(["q"] * len(cur)))))
    rep = m.check(ref.slice(0, 0))
    assert not rep.drifted and all(f.p_value is None for f in rep.features)
    nulls = cur.set_column(0, "a", pa.nulls(len(cur), pa.float64()))
    f = m.check(nulls).features[0]
    assert f.p_value is None and not f.drifted and f.quality["null"] == len(cur)
    with pytest.raises(NotFittedError):
        DriftMonitor().check(cur)


def test_nan_never_counts_as_drift_but_is_reported():
    ref, cur = _frames()
    a = ref["a"].to_numpy().copy()
    a[::3] = np.nan
    f = DriftMonitor().fit(ref).check(ref.set_column(0, "a", pa.array(a))).features[0]
    assert f.quality["nan"] == math.ceil(len(a) / 3)
    assert not f.drifted


def test_save_load_roundtrip(tmp_path):
    ref, cur = _frames()
    m = DriftMonitor(correction="bh").fit(ref)
    m.save(tmp_path / "m")
    m2 = DriftMonitor.load(tmp_path / "m")
    r1, r2 = m.check(cur).to_dict(), m2.check(cur).to_dict()
    assert r1 == r2
    with open(tmp_path / "m" / "monitor.json") as fh:
        state = json.load(fh)
    state["format"] = "something/else"
    with open(tmp_path / "m" / "monitor.json", "w") as fh:
        json.dump(state, fh)
    with pytest.raises(ArtifactError, match="format"):
        DriftMonitor.load(tmp_path / "m")
    np.save(tmp_path / "m" / "reference.npy", np.array(["x"], dtype=object), allow_pickle=True)
    state["format"] = "mlcore.monitor.DriftMonitor/1"
    with open(tmp_path / "m" / "monitor.json", "w") as fh:
        json.dump(state, fh)
    with pytest.raises(ValueError):
        DriftMonitor.load(tmp_path / "m")  # object arrays are refused: allow_pickle=False
    assert os.path.exists(tmp_path / "m" / "monitor.json")


def test_segments_trace_the_drift_and_type_changes_are_reported():
    from mlcore.monitor import SegmentedDriftMonitor

    rng = np.random.default_rng(5)
    seg = np.repeat(["eu", "us", "apac"], 2000)
    ref = pa.table({"region": seg, "a": rng.normal(size=6000), "n": rng.integers(0, 9, 6000)})
    a = rng.normal(size=6000)
    a[2000:4000] += 0.5
    cur = pa.table({"region": np.r_[seg[:5990], ["new"] * 10], "a": a, "n": rng.integers(0, 9, 6000)})
    sm = SegmentedDriftMonitor("region").fit(ref)
    reps = sm.check(cur)
    assert {k: r.drifted_columns for k, r in reps.items()} == {"eu": [], "us": ["a"], "apac": []}
    assert sm.unmatched_ == ["new"]
    assert SegmentedDriftMonitor.overall(reps) == [("us", "a")]
    m = DriftMonitor().fit(ref.drop_columns(["region"]))
    f = m.check(cur.drop_columns(["region"]).set_column(1, "n", cur["n"].cast(pa.int32()))).features[1]
    assert f.quality["type_changed_to"] == "int32"
