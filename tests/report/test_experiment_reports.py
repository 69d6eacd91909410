"""report.html of compare, sweep and hold: real small commands, the files, the figures' parts, a real browser.

Each command runs for real on a small synthetic town (a replication takes a fraction of a
second) and must leave report.html plus PNG and SVG figures in its results folder (a sweep
also summary.csv), all recorded in the folder's marker. The SVGs are read for their titles,
axis labels with units, legends and target lines (matplotlib keeps SVG text as text), and
each page is opened in headless Chromium: no console error, figures shown, not blank.
Under CI (CI=true) the browser tests fail instead of being skipped when Chromium is missing.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml

from sim.cli import main

from tests.report.browser import is_blank, severe_console_entries

GRID = "name: town-grid\nreplications: 2\ngrid:\n  alert.level: [green, red]\n  force.total_officers: [12, 24]\n"


def _town(folder, name: str, officers: int):
    from tests.conftest import small_town

    data = small_town(name=name, horizon_days=1.0, demand={"incidents_per_day": 120}, alert={"level": "green"},
                      replications=3, force={"total_officers": officers, "teams": 2})
    p = folder / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """One real compare, sweep and hold results folder, written by the commands."""
    tmp = tmp_path_factory.mktemp("experiments")
    a, b = _town(tmp, "force-12", 12), _town(tmp, "force-24", 24)
    out = {"compare": tmp / "cmp", "sweep": tmp / "swp", "hold": tmp / "hold"}
    assert main(["compare", str(a), str(b), "--replications", "3", "--workers", "1", "--out", str(out["compare"]),
                 "--quiet"]) == 0
    sweep = tmp / "sweep.yaml"
    sweep.write_text(f"scenario: {a}\n{GRID}", encoding="utf-8")
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(out["sweep"]), "--quiet"]) == 0
    assert main(["hold", str(a), "--levels", "green,red", "--min", "8", "--max", "80", "--step", "8",
                 "--max-replications", "4", "--workers", "1", "--out", str(out["hold"]), "--quiet"]) == 0
    return out


FILES = {
    "compare": ["compare-levels.png", "compare-levels.svg", "compare-differences.png", "compare-differences.svg"],
    "sweep": ["summary.csv", "sweep-force-total-officers.png", "sweep-force-total-officers.svg"],
    "hold": ["hold-needed.png", "hold-needed.svg", "hold-probes.png", "hold-probes.svg"],
}


@pytest.mark.parametrize("kind", ["compare", "sweep", "hold"])
def test_report_and_memo_figures_are_written_and_owned(folders, kind):
    folder = folders[kind]
    marker = json.loads((folder / ".patrolsim-results").read_text())
    assert marker["command"] == kind
    for name in ["report.html", *FILES[kind]]:
        assert (folder / name).stat().st_size > 500, name
        assert name in marker["files"], name  # a later run may replace the folder without --overwrite
    for name in FILES[kind]:
        if name.endswith(".png"):
            assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if name.endswith(".svg"):
            assert "<svg" in (folder / name).read_text()
    page = (folder / "report.html").read_text()
    assert "<svg" in page and 'src="http' not in page and "<link" not in page  # inline, nothing fetched


def _svg(folder, name):
    return (folder / name).read_text()


def test_compare_figures_show_each_level_against_the_target_and_the_differences(folders):
    folder = folders["compare"]
    levels = _svg(folder, "compare-levels.svg")
    for text in ("First unit within response line", "Backup within backup line", "Response time, median",
                 "% of incidents", "seconds", "target 90%", "mean, 95% CI", "force-12", "force-24"):
        assert text in levels, text
    diffs = _svg(folder, "compare-differences.svg")
    for text in ("Paired differences from force-12", "difference (percentage points)", "difference (seconds)",
                 "force-24 - force-12", "no difference"):
        assert text in diffs, text
    page = (folder / "report.html").read_text()
    comp = json.loads((folder / "comparison.json").read_text())
    assert 'id="levels-table"' in page and 'id="differences-table"' in page
    # the table's own levels are the comparison's: e.g. the baseline's first-unit compliance, as a percentage
    assert f"{100 * comp['metrics']['force-12']['response_within_line']['mean']:.1f}%" in page
    assert "Utilisation of units on duty" in page  # human labels from the metric table


def test_sweep_figure_and_summary_csv(folders):
    folder = folders["sweep"]
    svg = _svg(folder, "sweep-force-total-officers.svg")
    for text in ("First unit within response line", "Backup within backup line", "force.total_officers (officers)",
                 "% of incidents within the line", "green level", "red level", "target 90%", "alert level"):
        assert text in svg, text
    csv = pd.read_csv(folder / "summary.csv")
    rows = pd.read_parquet(folder / "results.parquet")
    assert len(csv) == 4 and list(csv["replications"]) == [2, 2, 2, 2]
    assert {"alert.level", "force.total_officers", "response_within_line_mean", "response_within_line_ci95_low",
            "backup_within_line_ci95_high", "lines_hold"} <= set(csv.columns)
    # each point's mean is the mean of its rows
    for r in csv.to_dict("records"):
        g = rows[rows["point_id"] == r["point_id"]]
        assert r["response_within_line_mean"] == pytest.approx(g["response_within_line"].mean())
    # more officers reach more incidents in time at the green level
    green = csv[csv["alert.level"] == "green"].set_index("force.total_officers")
    assert green.loc[24, "response_within_line_mean"] > green.loc[12, "response_within_line_mean"]


def test_hold_figure_shows_the_bracket_per_level(folders):
    folder = folders["hold"]
    report = json.loads((folder / "hold.json").read_text())
    svg = _svg(folder, "hold-needed.svg")
    for text in ("Smallest value of force.total_officers at which both lines reach 90%", "force.total_officers (officers)",
                 "green level", "red level", "probe: both lines hold", "probe: a line fails"):
        assert text in svg, text
    page = (folder / "report.html").read_text()
    for lv in report["levels"]:
        if lv["status"] == "found":
            fails = max(p["value"] for p in lv["probes"] if not p["holds"])
            v = lv["smallest_value"]
            assert f"between {fails} and {v} officers ({v} holds, {fails} fails)" in page
            assert "bracket of the answer" in svg
    probes = _svg(folder, "hold-probes.svg")
    assert "target 90%" in probes and "% of incidents within the line" in probes


@pytest.mark.parametrize("kind", ["compare", "sweep", "hold"])
def test_patrolsim_report_detects_the_folder_kind(folders, kind, tmp_path, capsys):
    copy = tmp_path / kind
    shutil.copytree(folders[kind], copy)
    for name in ["report.html", *FILES[kind]]:
        (copy / name).unlink()
    assert main(["report", str(copy)]) == 0
    assert "report.html" in capsys.readouterr().err
    for name in ["report.html", *FILES[kind]]:
        assert (copy / name).exists(), name
    # without the marker, the kind is read from the files
    (copy / ".patrolsim-results").unlink()
    (copy / "report.html").unlink()
    assert main(["report", str(copy), "--quiet"]) == 0
    assert f"patrolsim {kind}" in (copy / "report.html").read_text()


@pytest.mark.parametrize("kind", ["compare", "sweep", "hold"])
def test_opens_in_a_real_browser(folders, browser, kind):
    from selenium.webdriver.common.by import By

    browser.get((folders[kind] / "report.html").resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert severe_console_entries(browser) == []
    names = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(n.startswith("data:") for n in names), names
    figs = browser.find_elements(By.CSS_SELECTOR, "figure.fig")
    assert len(figs) >= 1
    for f in figs:
        assert f.size["width"] > 300 and f.size["height"] > 150, f.size
    assert not is_blank(browser.get_screenshot_as_png())
    assert browser.title.startswith(f"patrolsim {kind}")


def test_sweep_axis_labels_name_the_unit_of_the_varied_key():
    from sim.report.sweep_report import _axis_label

    assert _axis_label("force.total_officers") == "force.total_officers (officers)"
    assert _axis_label("alert.patrol_share.red") == "alert.patrol_share.red (share of officers on patrol)"
    assert _axis_label("force.turnout_s") == "force.turnout_s (seconds)"
    assert _axis_label("alert.level").startswith("alert level")
