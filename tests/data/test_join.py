"""Key joins against pandas.merge, as-of joins against the reference scan and pandas.merge_asof."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlcore.data import join, join_asof
from mlcore.errors import ColumnNotFoundError, SchemaError, ShapeError
from reference.data_validate import ref_asof


def _tables(seed, n_left=300, n_right=25, null_keys=False):
    rng = np.random.default_rng(seed)
    left = pa.table({
        "k1": pa.array(rng.choice(["a", "b", "c", "d"], n_left)),
        "k2": pa.array(rng.integers(0, 10, n_left)),
        "v": pa.array(rng.normal(size=n_left)),
    })
    keys = sorted({(a, b) for a in "abc" for b in range(10)})
    pick = rng.choice(len(keys), n_right, replace=False)
    right = pa.table({
        "k1": pa.array([keys[i][0] for i in pick]),
        "k2": pa.array(np.array([keys[i][1] for i in pick], dtype=np.int32)),
        "w": pa.array(rng.normal(size=n_right)),
        "v": pa.array(rng.integers(0, 5, n_right)),
    })
    if null_keys:
        left = left.set_column(0, "k1", pa.array([None if i % 7 == 0 else x for i, x in enumerate(left["k1"].to_pylist())]))
    return left, right


@pytest.mark.parametrize("how", ["left", "inner", "outer", "right"])
@pytest.mark.parametrize("seed", [0, 1])
def test_join_matches_pandas_merge(how, seed):
    left, right = _tables(seed)
    got = join(left, right, on=["k1", "k2"], how=how, validate="m:1")
    lp, rp = left.to_pandas(), right.to_pandas()
    rp["k2"] = rp["k2"].astype("int64")
    want = lp.merge(rp, on=["k1", "k2"], how=how, suffixes=("", "_right"))
    assert got.num_rows == len(want)
    key = ["k1", "k2", "v", "w"]
    g = got.to_pandas().sort_values(key, na_position="last").reset_index(drop=True)
    w = want.sort_values(key, na_position="last").reset_index(drop=True)
    pd.testing.assert_frame_equal(g[["k1", "k2", "v", "w", "v_right"]], w[["k1", "k2", "v", "w", "v_right"]],
                                  check_dtype=False)
    if how in ("left", "inner"):
        # left order kept
        lv = left["v"].to_pylist()
        pos = {v: i for i, v in enumerate(lv)}
        order = [pos[v] for v in got["v"].to_pylist()]
        assert order == sorted(order)


def test_null_keys_match_nothing():
    left, right = _tables(3, null_keys=True)
    got = join(left, right, on=["k1", "k2"], how="left")
    assert got.num_rows == left.num_rows
    nulls = [i for i, x in enumerate(left["k1"].to_pylist()) if x is None]
    assert all(got["w"][i].as_py() is None for i in nulls)
    inner = join(left, right, on=["k1", "k2"], how="inner")
    assert None not in inner["k1"].to_pylist()


def test_join_validate_and_key_errors():
    left, right = _tables(4)
    dup = pa.concat_tables([right, right.slice(0, 1)])
    with pytest.raises(ShapeError, match=r"right keys \['k1', 'k2'\] must be unique.*occurs 2 times"):
        join(left, dup, on=["k1", "k2"], validate="m:1")
    with pytest.raises(ShapeError, match="left keys"):
        join(left, right, on=["k1", "k2"], validate="1:1")
    bad = right.set_column(1, "k2", right["k2"].cast(pa.string()))
    with pytest.raises(SchemaError, match=r"Cannot join key `k2` of type `int64` with key `k2` of type `string`"):
        join(left, bad, on=["k1", "k2"])
    with pytest.raises(ColumnNotFoundError, match="`k3` not found"):
        join(left, right, on=["k3"])
    with pytest.raises(ValueError, match="how must be one of"):
        join(left, right, on="k1", how="cross")
    renamed = right.rename_columns(["key1", "key2", "w", "v"])
    got = join(left, renamed, left_on=["k1", "k2"], right_on=["key1", "key2"])
    assert got.num_rows == left.num_rows and "w" in got.column_names


def test_join_empty_tables():
    left, right = _tables(5)
    got = join(left.slice(0, 0), right, on=["k1", "k2"])
    assert got.num_rows == 0 and "w" in got.column_names
    got = join(left, right.slice(0, 0), on=["k1", "k2"])
    assert got.num_rows == left.num_rows and got["w"].null_count == left.num_rows


times = st.lists(st.one_of(st.integers(0, 50), st.none()), min_size=0, max_size=40)
keys = st.lists(st.one_of(st.sampled_from(["a", "b", "c"]), st.none()), min_size=0, max_size=40)


@given(times, keys, times, keys, st.one_of(st.none(), st.integers(0, 10)), st.booleans(), st.booleans())
def test_asof_matches_reference(lt, lk, rt, rk, tol, forward, exact):
    n, m = min(len(lt), len(lk)), min(len(rt), len(rk))
    lt, lk, rt, rk = lt[:n], lk[:n], rt[:m], rk[:m]
    left = pa.table({"t": pa.array(lt, pa.int64()), "k": pa.array(lk, pa.string())})
    right = pa.table({"t": pa.array(rt, pa.int64()), "k": pa.array(rk, pa.string()),
                      "row": pa.array(np.arange(m, dtype=np.int64))})
    got = join_asof(left, right, on="t", by="k", tolerance=tol, direction="forward" if forward else "backward",
                    allow_exact_matches=exact)
    want = ref_asof(lt, lk, rt, rk, tolerance=tol, forward=forward, allow_exact=exact)
    assert got["row"].to_pylist() == want
    assert got.select(["t", "k"]).equals(left)


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=60, unique=True),
       st.lists(st.integers(0, 10_000), min_size=1, max_size=60), st.integers(0, 3))
def test_asof_matches_pandas_merge_asof(rtimes, ltimes, seed):
    rng = np.random.default_rng(seed)
    right = pd.DataFrame({"t": rtimes, "k": rng.choice(["x", "y"], len(rtimes)), "q": rng.normal(size=len(rtimes))})
    left = pd.DataFrame({"t": ltimes, "k": rng.choice(["x", "y"], len(ltimes))})
    left["i"] = np.arange(len(left))
    # pandas needs sorted input; times are unique per group so ties cannot differ
    right = right.drop_duplicates(["k", "t"])
    want = pd.merge_asof(left.sort_values("t"), right.sort_values("t"), on="t", by="k").sort_values("i")
    got = join_asof(pa.Table.from_pandas(left, preserve_index=False), pa.Table.from_pandas(right, preserve_index=False),
                    on="t", by="k")
    np.testing.assert_array_equal(got["q"].to_numpy(zero_copy_only=False), want["q"].to_numpy(dtype=float))


def test_asof_timestamps_with_timedelta_tolerance():
    hour = 3600
    left = pa.table({"time": pa.array([5 * hour + 59 * 60, 9 * hour, 2 * hour], pa.timestamp("s", tz="UTC")),
                     "origin": ["EWR", "EWR", "JFK"]})
    right = pa.table({"time": pa.array([5 * hour, 6 * hour, 1 * hour, 2 * hour], pa.timestamp("s", tz="UTC")),
                      "origin": ["EWR", "EWR", "JFK", "EWR"], "temp": [39.0, 40.0, 41.0, 42.0]})
    got = join_asof(left, right, on="time", by="origin", tolerance=dt.timedelta(hours=2))
    assert got["temp"].to_pylist() == [39.0, None, 41.0]
    got = join_asof(left, right, on="time", by="origin", tolerance=dt.timedelta(hours=4))
    assert got["temp"].to_pylist() == [39.0, 40.0, 41.0]


def test_asof_errors():
    left = pa.table({"t": [1, 2], "k": ["a", "b"]})
    right = pa.table({"t": ["1", "2"], "k": ["a", "b"], "v": [1, 2]})
    with pytest.raises(SchemaError, match="Cannot join key `t` of type `int64` with key `t` of type `string`"):
        join_asof(left, right, on="t", by="k")
    with pytest.raises(ValueError, match="direction"):
        join_asof(left, left, on="t", direction="nearest")
    with pytest.raises(ValueError, match="tolerance"):
        join_asof(left, left, on="t", tolerance=-1)
    s = pa.table({"t": ["x"]})
    with pytest.raises(SchemaError, match="As-of column `t` must be"):
        join_asof(s, s, on="t")
