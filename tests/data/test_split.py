"""Random, stratified, grouped and time splits: partitions, proportions, seeds, no leakage."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.model_selection import train_test_split

from mlcore.data import split, split_indices
from mlcore.errors import ColumnNotFoundError, SchemaError


def _table(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return pa.table({
        "i": np.arange(n),
        "y": rng.choice(["a", "b", "c"], n, p=[0.7, 0.2, 0.1]),
        "g": rng.integers(0, 60, n),
        "t": rng.integers(0, 200, n),
    })


def _is_partition(parts, n):
    allrows = np.concatenate(parts)
    return len(allrows) == n and len(np.unique(allrows)) == n and all(np.all(np.diff(p) > 0) for p in parts)


@pytest.mark.parametrize("sizes", [(0.8, 0.2), (0.6, 0.2, 0.2), (0.5, 0.5)])
def test_random_split(sizes):
    t = _table()
    parts = split_indices(t, sizes=sizes, seed=1)
    assert _is_partition(parts, t.num_rows)
    assert [len(p) for p in parts] == [round(s * 1000) for s in sizes]
    again = split_indices(t, sizes=sizes, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
    other = split_indices(t, sizes=sizes, seed=2)
    assert not np.array_equal(parts[0], other[0])
    tables = split(t, sizes=sizes, seed=1)
    assert tables[0]["i"].to_pylist() == parts[0].tolist()


def test_stratified_split_keeps_class_proportions_like_sklearn():
    t = _table()
    train, test = split_indices(t, method="stratified", stratify="y", sizes=(0.75, 0.25), seed=0)
    assert _is_partition([train, test], t.num_rows)
    y = np.asarray(t["y"].to_pylist())
    _, sk_test = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y, random_state=0)
    for c in "abc":
        total = int((y == c).sum())
        assert abs(int((y[test] == c).sum()) - total * 0.25) <= 1
        assert abs(int((y[test] == c).sum()) - int((y[sk_test] == c).sum())) <= 1


@given(st.lists(st.one_of(st.sampled_from("abcd"), st.none()), max_size=120),
       st.sampled_from([(0.8, 0.2), (0.5, 0.3, 0.2)]), st.integers(0, 5))
def test_stratified_property(labels, sizes, seed):
    t = pa.table({"y": pa.array(labels, pa.string())})
    parts = split_indices(t, method="stratified", stratify="y", sizes=sizes, seed=seed)
    assert _is_partition(parts, len(labels)) if labels else all(len(p) == 0 for p in parts)
    for c in set(labels):
        total = sum(1 for v in labels if v == c)
        for p, s in zip(parts, sizes):
            assert abs(sum(1 for r in p if labels[r] == c) - total * s) < 1


@pytest.mark.parametrize("sizes", [(0.8, 0.2), (0.6, 0.2, 0.2)])
def test_group_split_never_splits_a_group(sizes):
    t = _table()
    parts = split_indices(t, method="group", group="g", sizes=sizes, seed=3)
    assert _is_partition(parts, t.num_rows)
    g = np.asarray(t["g"])
    sets = [set(g[p]) for p in parts]
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            assert not sets[a] & sets[b]
    biggest = np.bincount(g).max()
    for p, s in zip(parts, sizes):
        assert abs(len(p) - s * len(g)) <= 2 * biggest


def test_group_split_needs_enough_groups():
    t = pa.table({"g": [1, 1, 1]})
    with pytest.raises(ValueError, match="has 1 groups"):
        split(t, method="group", group="g")


def test_time_split_has_no_leakage_and_keeps_ties_together():
    t = _table()
    parts = split_indices(t, method="time", time="t", sizes=(0.6, 0.2, 0.2))
    assert _is_partition(parts, t.num_rows)
    tt = np.asarray(t["t"])
    assert tt[parts[0]].max() < tt[parts[1]].min() and tt[parts[1]].max() < tt[parts[2]].min()
    for p, s in zip(parts, (0.6, 0.2, 0.2)):
        assert abs(len(p) - s * len(tt)) <= 2 * np.bincount(tt).max()
    ts = pa.table({"t": pa.array([3, 1, 2, 5], pa.timestamp("s")), "v": [0, 1, 2, 3]})
    train, test = split(ts, method="time", time="t", sizes=(0.5, 0.5))
    assert train["v"].to_pylist() == [1, 2] and test["v"].to_pylist() == [0, 3]


def test_split_bad_input():
    t = _table(20)
    with pytest.raises(ValueError, match="sum to 1"):
        split(t, sizes=(0.5, 0.6))
    with pytest.raises(ValueError, match="method must be one of"):
        split(t, method="kfold")
    with pytest.raises(ValueError, match="needs stratify="):
        split(t, method="stratified")
    with pytest.raises(ColumnNotFoundError, match="`label` not found"):
        split(t, method="stratified", stratify="label")
    nulls = pa.table({"t": pa.array([1, None, 3])})
    with pytest.raises(SchemaError, match="Column `t` has 1 null times"):
        split(nulls, method="time", time="t")
    with pytest.raises(SchemaError, match="must be a timestamp, date or number"):
        split(pa.table({"t": ["a", "b"]}), method="time", time="t")
    empty = t.slice(0, 0)
    for method, kw in (("random", {}), ("stratified", {"stratify": "y"}), ("group", {"group": "g"}), ("time", {"time": "t"})):
        parts = split(empty, method=method, **kw)
        assert [p.num_rows for p in parts] == [0, 0]
