"""A real headless Chromium driven by selenium, for tests that open the HTML pages patrolsim writes.

Chromium and chromedriver come from the Debian packages ``chromium`` and
``chromium-driver`` (``.ci/run`` installs them when missing). Under CI (CI=true)
a missing browser fails the test; elsewhere the test is skipped with the reason, so a
user's fresh clone still passes the README's test command.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OPTIONS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_browser() -> None:
    """Fail under CI, skip elsewhere, when selenium, Chromium or chromedriver is missing."""
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install selenium)")
    for p in (CHROMIUM, CHROMEDRIVER):
        if not p.exists():
            missing.append(str(p))
    if missing:
        msg = ("browser tests need " + ", ".join(missing)
               + " (apt-get install -y chromium chromium-driver; pip install selenium)")
        if _in_ci():
            pytest.fail(msg + " and CI=true, so they are not skipped")
        pytest.skip(msg)


def start_browser(*, width: int = 1400, height: int = 1000):
    """A fresh headless Chromium (own profile in a temporary folder) that records console messages."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="patrolsim-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in OPTIONS:
        opts.add_argument(a)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.set_page_load_timeout(60)
    driver._patrolsim_profile = profile  # removed by close_browser
    return driver


def close_browser(driver) -> None:
    profile = getattr(driver, "_patrolsim_profile", None)
    try:
        driver.quit()
    finally:
        if profile:
            shutil.rmtree(profile, ignore_errors=True)


def severe_console_entries(driver) -> list[dict]:
    """Console messages at SEVERE level (errors, failed loads) since the last call."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def png_pixels(png: bytes) -> np.ndarray:
    """An RGB(A) float array of a PNG (matplotlib's reader; it needs no extra package)."""
    from matplotlib.image import imread

    return imread(io.BytesIO(png), format="png")


def is_blank(png: bytes, *, min_std: float = 0.02) -> bool:
    """True when the picture is (nearly) one colour: a page that failed to draw."""
    px = png_pixels(png)[..., :3]
    return float(px.std()) < min_std


def save_screenshot(page: Path, out: Path, *, window=(1600, 1560), width_px: int = 1100) -> Path:
    """A small PNG of the top of a page (for docs/img): shot in Chromium, scaled, 256 colours."""
    from PIL import Image

    driver = start_browser(width=window[0], height=window[1])
    try:
        driver.get(Path(page).resolve().as_uri())
        png = driver.get_screenshot_as_png()
    finally:
        close_browser(driver)
    im = Image.open(io.BytesIO(png)).convert("RGB")
    im = im.resize((width_px, round(im.size[1] * width_px / im.size[0])), Image.LANCZOS)
    im.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(out, optimize=True)
    return Path(out)


if __name__ == "__main__":  # python -m tests.report.browser results/default/report.html docs/img/report.png
    import sys

    print(save_screenshot(Path(sys.argv[1]), Path(sys.argv[2])))
