"""Headless Chromium for the tests that render a page (the evaluation report, the demo dashboard).

Chromium and its driver come from Debian's packages (scripts/system-deps.sh installs them). Where
they are missing the test is skipped, except under CI (CI=true) or MLCORE_REQUIRE_BROWSER=1, where
a missing browser is a failure.
"""

from __future__ import annotations

import io
import os
import shutil
from contextlib import contextmanager

import numpy as np
import pytest


def browser_paths() -> tuple[str, str]:
    """(chromium, chromedriver) paths, or skip (fail under CI) naming what is missing."""
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


@contextmanager
def offline_chromium(width: int):
    """A headless Chromium driver with no network at all (a page must need none), quit on exit."""
    chrome, driver_path = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},1000", "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    try:
        drv.set_page_load_timeout(60)
        yield drv
    finally:
        drv.quit()


def ink(png: bytes) -> tuple[float, float]:
    """(pixel standard deviation, share of non-white pixels) of a screenshot, in grey levels."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return float(img.std()), float((img < 235).mean())
