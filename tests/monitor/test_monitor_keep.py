"""DriftMonitor(keep="table") (column-streaming check) and keep="sorted" give the same reports."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from mlcore.monitor import DriftMonitor


def _tables(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    ref, cur = {}, {}
    for k in range(12):  # 240k values a side: the threaded path
        a, b = rng.normal(size=n), rng.normal(0.05 * (k % 3), size=n)
        if k == 1:
            a[::13] = np.nan
            b[::7] = np.inf
        ref[f"x{k}"], cur[f"x{k}"] = a, b
    ref["i"] = pa.array(rng.integers(0, 5, n), mask=rng.random(n) < 0.1)
    cur["i"] = pa.array(rng.integers(0, 6, n))
    ref["c"], cur["c"] = rng.choice(["u", "v"], n), rng.choice(["u", "v", "w"], n)
    ref["empty"] = pa.array([None] * n, pa.float64())
    cur["empty"] = pa.array([None] * n, pa.float64())
    return pa.table(ref), pa.table(cur)


def _same(a, b):
    return json.dumps(a.to_dict(), default=str, sort_keys=True) == json.dumps(b.to_dict(), default=str, sort_keys=True)


@pytest.mark.parametrize("tests", [(), ("ks", "ad", "psi", "jensen_shannon")])
def test_table_and_sorted_references_give_identical_reports(tmp_path, tests):
    ref, cur = _tables()
    lean = DriftMonitor(extra_tests=tests).fit(ref)
    kept = DriftMonitor(extra_tests=tests, keep="sorted").fit(ref)
    assert lean.reference_ is None and kept.reference_ is not None
    r1, r2 = lean.check(cur), kept.check(cur)
    assert _same(r1, r2)
    assert _same(lean.check(cur.slice(5, 3000)), kept.check(cur.slice(5, 3000)))  # unthreaded path
    lean.save(tmp_path / "lean")
    kept.save(tmp_path / "kept")
    for f in ("monitor.json", "reference.npy"):
        assert (tmp_path / "lean" / f).read_bytes() == (tmp_path / "kept" / f).read_bytes()
    loaded = DriftMonitor.load(tmp_path / "lean")
    assert loaded.keep == "sorted" and _same(loaded.check(cur), r1)
    shifted = {f"x{k}" for k in range(12) if k % 3}
    assert set(r1.drifted_columns) == shifted | {"i", "c"}


def test_keep_is_validated():
    with pytest.raises(ValueError, match="keep must be 'table' or 'sorted', got 'copy'"):
        DriftMonitor(keep="copy")
