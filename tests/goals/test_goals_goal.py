"""Goals: ranges, multi-model goals, TOML and JSON round trips, clear errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlcore.goals as goals
from mlcore.goals import Goal, GoalError, MetricRange, Objective

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def lending():
    return Goal(
        "lending",
        [
            Objective("click", [
                MetricRange("roc_auc", min=0.80),
                MetricRange("latency_p99_us", max=50.0),
                MetricRange("psi", max=0.2, max_inclusive=False),
                MetricRange("demographic_parity_difference", max=0.1, params={"sensitive": "origin"}),
            ], task="binary", description="who clicks on the offer"),
            Objective("default", ["roc_auc >= 0.75", "expected_calibration_error <= 0.05",
                                  MetricRange("f1", min=0.3, params={"pos_label": 1, "average": "binary"},
                                              label="f1 of defaulters")],
                      task="binary"),
        ],
        description='Lend to people who click "yes" and repay',
    )


def test_public_surface():
    assert set(goals.__all__) == {"Goal", "Objective", "MetricRange", "Check", "GoalError", "TASKS"}


def test_round_trip_toml_and_json(tmp_path):
    g = lending()
    text = g.to_toml()
    assert tomllib.loads(text)["models"]["click"]["metrics"][0] == {"metric": "roc_auc", "min": 0.8}
    assert Goal.from_toml(text) == g
    assert Goal.from_json(g.to_json()) == g
    for name in ("goal.toml", "goal.json"):
        g.save(tmp_path / name)
        assert Goal.load(tmp_path / name) == g
    assert g.models == ["click", "default"]
    assert g.objective("default").metric("f1 of defaulters").params == {"pos_label": 1, "average": "binary"}


def test_hand_written_toml():
    g = Goal.from_toml("""
name = "churn"
[models.m]
task = "binary"
[[models.m.metrics]]
metric = "roc_auc"
min = 0.8
[[models.m.metrics]]
metric = "psi"
max = 0.2
max_inclusive = false
params = { features = ["a", "b"] }
""")
    psi = g.objective().metric("psi[features=['a', 'b']]")
    assert psi.check(0.2).passed is False and psi.check(0.19).passed
    assert g.objective("m").metrics[0].check(0.8).passed


def test_checks_and_shortfall():
    auc = MetricRange("roc_auc", min=0.8)
    assert auc.check(0.80).passed
    c = auc.check(0.74)
    assert not c.passed and c.shortfall == pytest.approx(0.06) and c.bound == "min"
    lat = MetricRange.parse("latency_p99_us <= 50")
    assert lat.check(62.5).shortfall == 12.5 and lat.check(62.5).bound == "max"
    both = MetricRange.parse("mae in [0.1, 2)")
    assert both.check(0.1).passed and not both.check(2.0).passed and both.check(2.0).shortfall == 0.0
    assert both.describe() == "0.1 <= mae < 2"
    nan = auc.check(float("nan"))
    assert not nan.passed and math.isnan(nan.shortfall)


@settings(max_examples=50)
@given(lo=st.one_of(st.none(), st.floats(-1e6, 1e6)), width=st.floats(0, 1e6), hi_set=st.booleans(),
       lo_inc=st.booleans(), hi_inc=st.booleans(),
       label=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8))
def test_range_round_trip_property(lo, width, hi_set, lo_inc, hi_inc, label):
    hi = (lo if lo is not None else 0.0) + width if hi_set or lo is None else None
    m = MetricRange("m", min=lo, max=hi, min_inclusive=lo_inc, max_inclusive=hi_inc, label=label,
                    params={"k": label, "n": 3, "x": [1.5, True]})
    g = Goal.single("g", [m])
    assert Goal.from_toml(g.to_toml()) == g


def test_errors_name_model_metric_and_value():
    with pytest.raises(GoalError, match="has no acceptance range"):
        MetricRange("roc_auc")
    with pytest.raises(GoalError, match="min 0.9 > max 0.1"):
        MetricRange("mae", min=0.9, max=0.1)
    with pytest.raises(GoalError, match=r"`min` of metric 'roc_auc' must be a number, got 'high'"):
        MetricRange("roc_auc", min="high")
    with pytest.raises(GoalError, match="cannot read the range"):
        MetricRange.parse("roc_auc about 0.8")
    with pytest.raises(GoalError, match=r"model 'click' has no metric 'f2'"):
        lending().objective("click").metric("f2")
    with pytest.raises(GoalError, match=r"spans models \['click', 'default'\]"):
        lending().objective()
    with pytest.raises(GoalError, match="unknown key"):
        Goal.from_toml('name="x"\n[models.m]\n[[models.m.metrics]]\nmetric="auc"\nminimum=0.8\n')
    with pytest.raises(GoalError, match="does not parse"):
        Goal.from_toml("name = ")
    with pytest.raises(GoalError, match="more than once"):
        Objective("m", ["auc >= 0.8", "auc >= 0.7"])
    with pytest.raises(GoalError, match="task 'ranking'"):
        Objective("m", ["auc >= 0.8"], task="ranking")


def test_objective_check_for_monitoring_and_maintenance():
    o = lending().objective("click")
    res = o.check({"roc_auc": 0.78, "latency_p99_us": 40.0, "psi": 0.05})
    assert not res["roc_auc"].passed and res["roc_auc"].shortfall == pytest.approx(0.02)
    assert res["latency_p99_us"].passed and res["psi"].passed
    dpd = "demographic_parity_difference[sensitive=origin]"
    assert not res[dpd].passed and math.isnan(res[dpd].shortfall)  # not measured: fails
    with pytest.raises(GoalError, match=r"has no metric \['auc'\]"):
        o.check({"auc": 0.9})
