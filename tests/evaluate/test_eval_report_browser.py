"""The HTML report of a model trained on nycflights13, rendered in a real headless Chromium.

Chromium and its driver come from Debian's packages (scripts/system-deps.sh installs them). Where
they are missing the test is skipped, except under CI (CI=true) or MLCORE_REQUIRE_BROWSER=1,
where a missing browser is a failure.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from browser import ink, offline_chromium
from sklearn.linear_model import LogisticRegression

from mlcore.datasets import nycflights13
from mlcore.evaluate import gate, write_html, write_json
from mlcore.goals import Goal, MetricRange, Objective

FEATURES = ["dep_delay", "distance", "hour", "month"]
PLOTS = ("roc", "pr", "calibration", "slices", "drift", "fairness", "latency")


@pytest.fixture(scope="module")
def flights_report(tmp_path_factory):
    t = nycflights13("flights")
    t = t.filter(pc.and_(pc.is_valid(t.column("arr_delay")), pc.is_valid(t.column("dep_delay"))))
    rng = np.random.default_rng(0)

    def take(mask, n):
        idx = np.flatnonzero(mask)
        return t.take(pa.array(np.sort(rng.choice(idx, n, replace=False))))

    month = t.column("month").to_numpy()
    train = take(month <= 9, 20_000)
    test = take(month <= 9, 8_000)
    prod = take(month >= 11, 8_000)  # a later, colder period: a production-like sample

    def xy(tab):
        X = np.column_stack([tab.column(f).to_numpy().astype(np.float64) for f in FEATURES])
        y = (tab.column("arr_delay").to_numpy() > 15).astype(np.int64)
        return X, y

    Xtr, ytr = xy(train)
    Xte, yte = xy(test)
    Xpr, _ = xy(prod)
    model = LogisticRegression(max_iter=500).fit(Xtr, ytr)
    goal = Goal("on-time", [Objective("late", [
        MetricRange("roc_auc", min=0.80), MetricRange("latency_p99_us", max=50.0),
        MetricRange("psi", max=0.2, max_inclusive=False),
        MetricRange("demographic_parity_difference", max=0.1, params={"pos_label": 1}),
        MetricRange("expected_calibration_error", max=0.05)], task="binary")])
    result = gate(model, goal, Xte, yte, sensitive=test.column("origin").to_numpy(zero_copy_only=False),
                  segments={"carrier": test.column("carrier"), "distance": Xte[:, 1]},
                  reference=Xtr, production=Xpr, features=FEATURES, n_boot=100,
                  latency=dict(n_calls=300, warmup=30, batch_rounds=2))
    out = tmp_path_factory.mktemp("report")
    html = write_html(result, out / "report.html")
    write_json(result, out / "report.json")
    return result, html


def test_flights_report_content(flights_report):
    result, html = flights_report
    by = {m.metric: m for m in result.metrics}
    assert by["roc_auc"].value > 0.8  # departure delay predicts arrival delay well
    assert by["psi"].details["worst_feature"] == "month"  # the production sample is Nov-Dec
    assert not by["psi"].passed and not result.passed
    with open(html, encoding="utf-8") as f:
        text = f.read()
    for key in PLOTS:
        assert f'id="plot-{key}"' in text, key
    assert "may not go to production" in text and "psi" in text


def test_report_renders_in_headless_chromium(flights_report, tmp_path):
    from selenium.webdriver.common.by import By

    _, html = flights_report
    with offline_chromium(1400) as drv:
        drv.get("file://" + os.path.abspath(html))
        assert drv.execute_script("return document.readyState") == "complete"
        # nothing but the page itself was fetched
        assert drv.execute_script("return performance.getEntriesByType('resource').length") == 0
        page = drv.get_screenshot_as_png()
        (tmp_path / "page.png").write_bytes(page)
        std, inked = ink(page)
        assert std > 20 and inked > 0.02, (std, inked)
        for key in PLOTS:
            fig = drv.find_element(By.ID, f"plot-{key}")
            svg = fig.find_element(By.TAG_NAME, "svg")
            size = svg.size
            assert size["width"] > 200 and size["height"] > 60, (key, size)
            png = svg.screenshot_as_png
            std, inked = ink(png)
            # a drawn plot has axes, labels and a curve or bars: far from a blank rectangle
            assert std > 15 and inked > 0.03, (key, std, inked)
        # the curves are drawn inside the plot area, not only the frame
        roc = drv.find_element(By.CSS_SELECTOR, "#plot-roc polyline")
        assert len(roc.get_attribute("points").split()) > 20
