"""The demo's dashboard rendered in a real headless Chromium: every plot is drawn (not blank).

The browser comes from tests/browser.py (skipped where Chromium is missing, failed under CI).
"""

from __future__ import annotations

import os

from browser import ink, offline_chromium

PLOTS = ("late-rate", "metric-roc_auc", "metric-log_loss", "metric-expected_calibration_error",
         "late-rate-predicted", "estimate", "drift", "psi", "prediction-drift")


def test_demo_dashboard_renders_in_headless_chromium(demo_run, tmp_path):
    from selenium.webdriver.common.by import By

    page = demo_run["out"] / "dashboard.html"
    with offline_chromium(1300) as drv:
        drv.get("file://" + os.path.abspath(page))
        assert drv.execute_script("return document.readyState") == "complete"
        # nothing but the page itself was fetched: no script, font, image or stylesheet from anywhere
        assert drv.execute_script("return performance.getEntriesByType('resource').length") == 0
        shot = drv.get_screenshot_as_png()
        (tmp_path / "dashboard.png").write_bytes(shot)
        std, inked = ink(shot)
        assert std > 20 and inked > 0.02, (std, inked)
        comparisons = [f.get_attribute("id")[len("plot-"):] for f in
                       drv.find_elements(By.CSS_SELECTOR, "figure[id^='plot-comparison-']")]
        n_retrain = sum(d["kind"] in ("promoted", "promotion_refused") for d in demo_run["story"]["decisions"])
        assert len(comparisons) == n_retrain > 0
        for key in PLOTS + tuple(comparisons):
            fig = drv.find_element(By.ID, f"plot-{key}")
            svg = fig.find_element(By.TAG_NAME, "svg")
            drv.execute_script("arguments[0].scrollIntoView({block: 'center'});", svg)
            size = svg.size
            assert size["width"] > 300 and size["height"] > 150, (key, size)
            png = svg.screenshot_as_png
            (tmp_path / f"{key}.png").write_bytes(png)
            std, inked = ink(png)
            # a drawn plot (axes, ticks, labels, lines or cells) is far from a blank rectangle
            assert std > 15 and inked > 0.03, (key, std, inked)
            # ... and has axis labels and tick values as text, not only shapes
            texts = [t.text for t in svg.find_elements(By.TAG_NAME, "text") if t.text.strip()]
            assert len(texts) >= 6, (key, texts)
        # control: the same check on an empty figure fails, so the check above can tell
        drv.execute_script("document.body.insertAdjacentHTML('beforeend', '<svg id=\"blank-control\" "
                           "width=\"520\" height=\"300\"><rect width=\"520\" height=\"300\" fill=\"#fff\"/>"
                           "<rect x=\"58\" y=\"30\" width=\"446\" height=\"212\" fill=\"#fbfbfb\" "
                           "stroke=\"#999\"/></svg>');")
        blank = drv.find_element(By.ID, "blank-control")
        drv.execute_script("arguments[0].scrollIntoView({block: 'center'});", blank)
        std, inked = ink(blank.screenshot_as_png)
        assert not (std > 15 and inked > 0.03), ("an empty frame passed the check", std, inked)
        # the metric plots draw one point per month, inside the plot area
        line = drv.find_element(By.CSS_SELECTOR, "#plot-metric-roc_auc polyline")
        n_points = len(line.get_attribute("points").split())
        assert n_points == 1 + len(demo_run["story"]["months"]), n_points
