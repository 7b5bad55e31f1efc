"""The dashboard's plot helpers and page, without a browser (the browser test renders the real one)."""

from __future__ import annotations

import doctest
import re

import pytest

import mlcore.maintain.dashboard as dash
import mlcore.maintain.demo as demo_mod


@pytest.mark.parametrize("mod", [dash, demo_mod])
def test_demo_docstring_examples(mod):
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_nice_ticks_cover_the_range_with_round_steps():
    t = dash._nice_ticks(0.613, 0.738)
    assert t[0] >= 0.613 - 1e-12 and t[-1] <= 0.738 + 1e-12 and len(t) >= 3
    steps = {round(b - a, 10) for a, b in zip(t, t[1:])}
    assert len(steps) == 1 and steps.pop() in (0.02, 0.025, 0.05)
    assert dash._nice_ticks(1.0, 1.0) == [1.0]


def test_line_chart_draws_points_band_intervals_and_failures():
    svg = dash.line_chart(["Aug", "Sep", "Oct"],
                          [{"label": "ece", "values": [0.04, 0.09, None], "low": [0.03, 0.08, None],
                            "high": [0.05, 0.10, None], "fail": [False, True, False]}],
                          title="ECE", ylabel="ece", band=(None, 0.06), markers=[(0, "v3")])
    pts = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(pts) == 2  # the missing month is not drawn
    assert svg.count("<circle") == 2 and 'stroke="#d62728"' in svg  # the failing point is marked
    assert 'fill="#2ca02c" fill-opacity' in svg  # the goal's range
    assert ">v3</text>" in svg and ">ece</text>" in svg and ">month</text>" in svg
    # an interval is drawn for every finite (low, high) pair: a vertical bar and two caps
    assert svg.count('stroke-width="1.2"') == 2
    # lower values are drawn lower (SVG y grows downwards)
    y = [float(p.split(",")[1]) for p in pts]
    assert y[0] > y[1]


def test_points_only_chart_has_no_line():
    svg = dash.line_chart(["champion", "a"], [{"label": "x", "values": [1.0, 2.0], "points_only": True}],
                          title="t", ylabel="y")
    assert "<polyline" not in svg and svg.count("<circle") == 2


def test_heatmap_cells_colour_and_flags():
    svg = dash.heatmap(["a", "b"], ["Sep", "Oct", "Nov"], [[0.1, 0.5, None], [0.0, 1.0, 0.2]],
                       [[False, True, False], [False, True, False]], title="h", value_label="v")
    cells = re.findall(r'<rect x="\d+" y="\d+" width="62" height="20" fill="(#[0-9a-f]{6})"', svg)
    assert len(cells) == 6
    assert cells[2] == "#eeeeee"  # no value
    assert cells[3] == "#ffffff" and cells[4] != "#ffffff"  # 0 is white, the maximum dark
    assert svg.count('stroke="#222"') == 2


def test_render_dashboard_is_self_contained_and_escapes_text():
    story = {"data": {"n_flights": 10, "n_cancelled": 1, "late_rate_by_month": {"Jan": 0.2, "Sep": 0.13}},
             "config": {"train_months": 1},
             "goal": {"name": "g<oal>", "description": "d", "metrics": [{"name": "roc_auc", "min": 0.65, "max": None,
                                                                         "range": "roc_auc >= 0.65"}]},
             "months": [], "decisions": [{"kind": "deployed", "version": 1, "at": "2013-08-31", "reason": "<b>x</b>",
                                          "evidence": {"metrics": {"roc_auc": 0.7}}}]}
    page = dash.render_dashboard(story)
    assert "g&lt;oal&gt;" in page and "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "<script" not in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'id="plot-late-rate"' in page


def test_dashboard_embeds_each_retraining_report():
    report = {"goal": "g", "model": "m", "metric": "log_loss", "before": {"log_loss": 0.5},
              "now": {"metric": "log_loss", "value": 0.45, "interval": [0.44, 0.46]}, "forecast": {},
              "comparison": {"challengers": [], "champion": None, "metric": "log_loss"}, "weights": {},
              "chosen": None, "promote": False, "reason": "no challenger <meets> the goal",
              "evaluation_window": {"rows": 10}}
    page = dash.render_dashboard({"months": [], "decisions": [], "retrain_reports": [
        {"at": "2013-09-30T23:59:59", "kind": "promotion_refused", "report": report}]})
    assert '<details class="report"><summary>2013-09-30: promotion_refused</summary>' in page
    assert "no challenger &lt;meets&gt; the goal" in page
