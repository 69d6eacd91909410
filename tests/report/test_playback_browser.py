"""The playback of one shift in a real headless Chromium: it draws, it moves, its controls work.

The page is the one ``patrolsim playback`` writes for the default town (the real 8-hour
shift, so its size is the size a teacher gets). Frames per second are measured with the
page's own requestAnimationFrame counter (``window.playback.frames``) over about 2 s of
play and printed (run with ``-s`` to see it); only "the loop runs" is asserted, since
speed claims belong in bench/.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from sim.cli import main
from tests.report.browser import is_blank, png_pixels, severe_console_entries

MAX_BYTES = 5_000_000
BROWSER_WINDOW = (1300, 900)       # the ``browser`` and ``opened`` fixtures are tests/report/conftest.py's


@pytest.fixture(scope="module")
def playback(tmp_path_factory):
    out = tmp_path_factory.mktemp("playback") / "playback.html"
    assert main(["playback", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def page_file(playback):
    return playback


def _shot(driver) -> np.ndarray:
    return png_pixels(driver.get_screenshot_as_png())[..., :3]


def test_one_shift_is_under_5_mb_and_has_its_trace(playback):
    size = playback.stat().st_size
    print(f"\nplayback.html of one 8-hour shift of the default town: {size / 1e6:.2f} MB")
    assert 50_000 < size < MAX_BYTES
    assert (playback.parent / "trace.parquet").stat().st_size > 10_000


def test_no_console_errors_and_nothing_from_outside(opened):
    assert severe_console_entries(opened) == []
    names = opened.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(n.startswith("data:") for n in names), names


def test_not_blank_and_the_legend_is_shown(opened):
    from selenium.webdriver.common.by import By

    assert not is_blank(opened.get_screenshot_as_png())
    legend = opened.find_element(By.ID, "legend").text
    for word in ("patrolling", "to incident", "on scene", "returning", "standby", "backup arrived"):
        assert word in legend, word


def test_picture_changes_while_playing(opened):
    opened.execute_script("const p = window.playback; p.seek(3600); p.speed = 600; p.playing = true;")
    time.sleep(0.3)
    a = _shot(opened)
    t_a = opened.execute_script("return window.playback.t")
    time.sleep(0.6)
    b = _shot(opened)
    t_b = opened.execute_script("return window.playback.t")
    assert t_b > t_a
    assert np.abs(a - b).sum(axis=2).max() > 0.3, "the picture did not change while playing"


def test_pause_stops_and_slider_moves_the_picture(opened):
    from selenium.webdriver.common.by import By

    play = opened.find_element(By.ID, "play")
    if opened.execute_script("return window.playback.playing"):
        play.click()
    t0 = opened.execute_script("return window.playback.t")
    time.sleep(0.3)
    assert opened.execute_script("return window.playback.t") == t0
    clock_before = opened.find_element(By.ID, "clock").text
    before = _shot(opened)
    opened.execute_script("const s = document.getElementById('slider'); s.value = 5 * 3600;"
                          "s.dispatchEvent(new Event('input'));")
    time.sleep(0.2)
    after = _shot(opened)
    assert opened.find_element(By.ID, "clock").text != clock_before
    assert abs(opened.execute_script("return window.playback.t") - 5 * 3600) < 1
    changed = (np.abs(before - after).sum(axis=2) > 0.3).sum()
    assert changed > 200, changed
    play.click()
    assert opened.execute_script("return window.playback.playing")


def test_frames_per_second(opened):
    """Measured, printed, not asserted beyond "the animation loop runs"."""
    opened.execute_script("const p = window.playback; p.seek(0); p.speed = 120; p.playing = true;")
    f0 = opened.execute_script("return [window.playback.frames, performance.now()]")
    time.sleep(2.0)
    f1 = opened.execute_script("return [window.playback.frames, performance.now()]")
    fps = (f1[0] - f0[0]) / ((f1[1] - f0[1]) / 1000.0)
    print(f"\nplayback frames per second in headless Chromium: {fps:.1f}")
    assert f1[0] > f0[0]
    assert severe_console_entries(opened) == []
