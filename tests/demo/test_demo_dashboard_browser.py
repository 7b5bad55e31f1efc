"""The demo's dashboard rendered in a real headless Chromium: every plot is drawn (not blank).

Chromium and its driver come from Debian's packages (scripts/system-deps.sh installs them). Where
they are missing the test is skipped, except under CI (CI=true) or MLCORE_REQUIRE_BROWSER=1,
where a missing browser is a failure (the same rule as the evaluation report's browser test).
"""

from __future__ import annotations

import io
import os
import shutil

import numpy as np
import pytest

PLOTS = ("late-rate", "metric-roc_auc", "metric-log_loss", "metric-expected_calibration_error",
         "late-rate-predicted", "estimate", "drift", "psi", "prediction-drift")


def _browser_paths():
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    required = os.environ.get("CI", "").lower() == "true" or os.environ.get("MLCORE_REQUIRE_BROWSER") == "1"
    missing = [n for n, p in (("chromium", chrome), ("chromedriver", driver)) if p is None]
    try:
        import selenium  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError as exc:
        missing.append(f"python package ({exc.name})")
    if missing:
        msg = f"{', '.join(missing)} not installed: run scripts/system-deps.sh and pip install -e '.[test]'"
        if required:
            pytest.fail(msg)
        pytest.skip(msg)
    return chrome, driver


def _ink(png: bytes) -> tuple[float, float]:
    """(pixel standard deviation, share of non-white pixels) of a screenshot, in grey levels."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return float(img.std()), float((img < 235).mean())


def test_demo_dashboard_renders_in_headless_chromium(demo_run, tmp_path):
    chrome, driver_path = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    page = demo_run["out"] / "dashboard.html"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,1000", "--hide-scrollbars",
                # no network at all: the dashboard must not need any
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    try:
        drv.set_page_load_timeout(60)
        drv.get("file://" + os.path.abspath(page))
        assert drv.execute_script("return document.readyState") == "complete"
        # nothing but the page itself was fetched: no script, font, image or stylesheet from anywhere
        assert drv.execute_script("return performance.getEntriesByType('resource').length") == 0
        shot = drv.get_screenshot_as_png()
        (tmp_path / "dashboard.png").write_bytes(shot)
        std, inked = _ink(shot)
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
            std, inked = _ink(png)
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
        std, inked = _ink(blank.screenshot_as_png)
        assert not (std > 15 and inked > 0.03), ("an empty frame passed the check", std, inked)
        # the metric plots draw one point per month, inside the plot area
        line = drv.find_element(By.CSS_SELECTOR, "#plot-metric-roc_auc polyline")
        n_points = len(line.get_attribute("points").split())
        assert n_points == 1 + len(demo_run["story"]["months"]), n_points
    finally:
        drv.quit()
