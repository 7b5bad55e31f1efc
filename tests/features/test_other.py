"""Timestamp parts, crosses/ratios, correlation and mutual-information selection."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import mutual_info_score

import mlcore.features as mf
from mlcore.errors import SchemaError
from mlcore.features.selection import _quantile_bins, mutual_information
from reference import feat_time as ref_time
from reference.feat_layouts import dense, table_layouts

PARTS = ["hour", "minute", "dayofweek", "day", "month", "year", "dayofyear"]


def _stamps(n=500, seed=0):
    rng = np.random.default_rng(seed)
    secs = rng.integers(-3_000_000_000, 4_000_000_000, n)  # 1874 .. 2096, before and after 1970
    vals = [dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(s)) for s in secs]
    vals[3] = None
    return vals


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("layout", ["contiguous", "sliced", "chunked"])
def test_datetime_parts_match_python(unit, layout):
    vals = _stamps()
    if unit == "ns":  # ns timestamps only span 1677..2262
        vals = [v if v is None or 1700 < v.year < 2200 else None for v in vals]
    t = table_layouts({"t": pa.array(vals, type=pa.timestamp(unit))})[layout]
    out = mf.DateTimeParts(["t"], parts=PARTS, cyclical=False).fit_transform(t)
    want = ref_time.parts(vals, PARTS)
    for p in PARTS:
        np.testing.assert_array_equal(out[f"t_{p}"].to_numpy(), np.array(want[p]))


def test_datetime_parts_dates_tz_and_cyclical():
    days = [dt.date(2013, 1, 1), dt.date(2016, 2, 29), None, dt.date(1969, 12, 31)]
    t = pa.table({"d": pa.array(days, pa.date32()), "d64": pa.array(days, pa.date64())})
    out = mf.DateTimeParts(["d", "d64"], parts=["dayofweek", "month", "dayofyear"]).fit_transform(t)
    want = ref_time.parts(days, ["dayofweek", "month", "dayofyear"])
    for c in ("d", "d64"):
        np.testing.assert_array_equal(out[f"{c}_month"].to_numpy(), want["month"])
        np.testing.assert_array_equal(out[f"{c}_dayofyear"].to_numpy(), want["dayofyear"])
        np.testing.assert_allclose(out[f"{c}_month_sin"].to_numpy(), np.sin(2 * np.pi * (np.array(want["month"]) - 1) / 12))
        np.testing.assert_allclose(out[f"{c}_dayofweek_cos"].to_numpy(), np.cos(2 * np.pi * np.array(want["dayofweek"]) / 7))
    ts = pd.Series(pd.to_datetime(["2013-06-01 23:30", "2013-12-31 02:00"]).tz_localize("UTC"))
    t = pa.table({"t": pa.Array.from_pandas(ts).cast(pa.timestamp("s", tz="America/New_York"))})
    out = mf.DateTimeParts(["t"], parts=["hour", "day"], cyclical=False).fit_transform(t)
    local = ts.dt.tz_convert("America/New_York")
    assert out["t_hour"].to_pylist() == local.dt.hour.astype(float).tolist()
    assert out["t_day"].to_pylist() == local.dt.day.astype(float).tolist()
    with pytest.raises(SchemaError, match="`x`"):
        mf.DateTimeParts(["x"]).fit(pa.table({"x": [1.0]}))
    with pytest.raises(ValueError, match="parts"):
        mf.DateTimeParts(["x"], parts=["weekday"])


def test_combine_ops_and_zero_division():
    a = pa.array([6.0, 1.0, None, 4.0, 0.0])
    b = pa.array([3, 0, 2, -2, 0])
    t = pa.table({"a": a, "b": b})
    an = np.array([6.0, 1.0, np.nan, 4.0, 0.0])
    bn = np.array([3.0, 0.0, 2.0, -2.0, 0.0])
    for op, f in [("product", np.multiply), ("sum", np.add), ("difference", np.subtract)]:
        got = dense(mf.Combine(pairs=[("a", "b")], op=op).fit_transform(t))[:, 0]
        np.testing.assert_array_equal(got, f(an, bn))
    got = dense(mf.Combine(pairs=[("a", "b")], op="ratio").fit_transform(t))[:, 0]
    np.testing.assert_array_equal(got, [2.0, np.nan, np.nan, -2.0, np.nan])
    got = dense(mf.Combine(pairs=[("a", "b")], op="ratio", zero_division="inf").fit_transform(t))[:, 0]
    np.testing.assert_array_equal(got, [2.0, np.inf, np.nan, -2.0, np.nan])
    with pytest.raises(ValueError, match="pairs"):
        mf.Combine(pairs=[("a",)])


def test_correlation_filter_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    cols = {"x": x, "x2": 2 * x + rng.normal(0, 0.01, 1000), "y": rng.normal(size=1000), "nx": -x + rng.normal(0, 0.05, 1000)}
    t = pa.table(cols)
    cf = mf.CorrelationFilter(list(cols), threshold=0.9).fit(t)
    assert cf.selected_ == ["x", "y"]
    np.testing.assert_allclose(cf.correlation_, np.corrcoef(np.vstack(list(cols.values()))), rtol=1e-12)
    np.testing.assert_array_equal(dense(cf.transform(t)), np.column_stack([cols["x"], cols["y"]]))


def test_mutual_information_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 2000)
    x = y + rng.normal(0, 0.8, 2000)
    x[::50] = np.nan
    noise = rng.normal(size=2000)
    bins = _quantile_bins(x, 10)
    assert mutual_information(bins, y) == pytest.approx(mutual_info_score(bins, y), rel=1e-12)
    sel = mf.MutualInfoSelector(["x", "noise"], k=1).fit(pa.table({"x": x, "noise": noise}), y)
    assert sel.selected_ == ["x"]
    assert sel.scores_[0] == pytest.approx(mutual_info_score(bins, y), rel=1e-12)
    ycont = y + rng.normal(0, 0.1, 2000)
    selc = mf.MutualInfoSelector(["x", "noise"], threshold=0.05, target_type="continuous").fit(
        pa.table({"x": x, "noise": noise}), ycont)
    assert selc.selected_ == ["x"]
