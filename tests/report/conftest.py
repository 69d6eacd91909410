"""What the report tests share: one small run with its report, and the headless browser.

The run is the embedded default scenario (the synthetic county town) with 2 replications of
two days: the same town, force and figures a user's first report has, in about two seconds.

The browser is a real headless Chromium (``tests/report/browser.py``), one per test module
that asks for it: ``browser`` starts it (failing under CI, skipping elsewhere when it is
missing) with the module's ``BROWSER_WINDOW`` size, and ``opened`` is that browser with the
module's ``page_file`` fixture (an HTML file) loaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from tests.report.browser import close_browser, require_browser, start_browser

#: The window of a module that does not set ``BROWSER_WINDOW`` (width, height in pixels).
DEFAULT_WINDOW = (1400, 1000)

SHORT_RUN = ["--replications", "2", "--set", "horizon_days=2", "--set", "warmup_days=0.5"]


@pytest.fixture(scope="session")
def reported_run(tmp_path_factory):
    """A results folder written by ``patrolsim run --report`` (report.html included)."""
    out = tmp_path_factory.mktemp("report") / "default-run"
    assert main(["run", *SHORT_RUN, "--out", str(out), "--report", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def browser(request):
    """A headless Chromium for one test module, closed (and its profile removed) after it."""
    require_browser()
    width, height = getattr(request.module, "BROWSER_WINDOW", DEFAULT_WINDOW)
    driver = start_browser(width=width, height=height)
    yield driver
    close_browser(driver)


@pytest.fixture(scope="module")
def opened(browser, page_file: Path):
    """The module's browser with its ``page_file`` loaded."""
    browser.get(Path(page_file).resolve().as_uri())
    browser.execute_script("return document.readyState")
    return browser
