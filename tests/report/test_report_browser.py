"""report.html in a real headless Chromium: no console error, every section and figure shown, not blank.

Chromium is Debian's ``chromium`` with ``chromium-driver``, driven by selenium. Under CI
(CI=true) these tests fail when the browser is missing instead of being skipped.
"""

from __future__ import annotations

import pytest

from tests.report.browser import is_blank, png_pixels, severe_console_entries
from tests.report.page_parts import FIGURES, SECTIONS

BROWSER_WINDOW = (1400, 1000)      # the ``browser`` and ``opened`` fixtures are tests/report/conftest.py's


@pytest.fixture(scope="module")
def page_file(reported_run):
    return reported_run / "report.html"


def test_no_console_errors(opened):
    severe = severe_console_entries(opened)
    assert severe == [], severe


def test_loads_nothing_from_outside(opened):
    """Every resource the page fetched is inline data: it works with the network off."""
    names = opened.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(n.startswith("data:") for n in names), names


def test_sections_and_figures_are_shown(opened):
    from selenium.webdriver.common.by import By

    for s in SECTIONS:
        el = opened.find_element(By.ID, s)
        assert el.is_displayed(), s
    for f in FIGURES:
        el = opened.find_element(By.ID, f)
        assert el.size["width"] > 300 and el.size["height"] > 150, (f, el.size)
    nav = [a.text for a in opened.find_elements(By.CSS_SELECTOR, "nav a")]
    assert "Maps" in nav and "Do the lines hold?" in nav


def test_every_map_image_decoded(opened):
    """Each base64 PNG was decoded by the browser (a broken data URI has naturalWidth 0)."""
    sizes = opened.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(sizes) >= 5
    assert all(c and w > 300 and h > 300 for c, w, h in sizes), sizes


def test_verdict_is_readable_text(opened, reported_run):
    import json

    from selenium.webdriver.common.by import By

    summary = json.loads((reported_run / "summary.json").read_text(encoding="utf-8"))
    text = opened.find_element(By.ID, "verdict-text").text
    assert text.startswith("YES" if summary["lines_hold"] else "NO")
    assert "95% CI" in text


def test_screenshots_are_not_blank(opened):
    from selenium.webdriver.common.by import By

    top = opened.get_screenshot_as_png()
    assert not is_blank(top)
    assert png_pixels(top).shape[1] >= 1000
    maps = opened.find_element(By.ID, "fig-map-compliance").screenshot_as_png
    px = png_pixels(maps)[..., :3]
    assert not is_blank(maps)
    # the choropleth is coloured, not only grey streets on white: some pixels are clearly green or red
    sat = px.max(axis=2) - px.min(axis=2)
    assert (sat > 0.3).mean() > 0.05


def test_console_error_check_catches_an_error(browser):
    """The console check is live: a page that logs an error is seen as failing."""
    browser.get("data:text/html,<p>x</p><script>console.error('broken figure')</script>")
    severe = severe_console_entries(browser)
    assert any("broken figure" in e["message"] for e in severe)


def test_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch, tmp_path):
    from tests.report import browser as b

    monkeypatch.setattr(b, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not skipped"):
        b.require_browser()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        b.require_browser()
