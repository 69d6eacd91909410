"""report.html from a results folder: complete, self-contained, true to summary.json, deterministic.

These read the page as text (the browser tests open it in Chromium); each figure is found
by its id, and the numbers in the verdict are checked against summary.json.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import warnings

import pytest

from sim.cli import main
from sim.report.figures import hour_figure
from tests.report.browser import is_blank
from tests.report.page_parts import FIGURES, SECTIONS


@pytest.fixture(scope="module")
def page(reported_run) -> str:
    return (reported_run / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def summary(reported_run) -> dict:
    return json.loads((reported_run / "summary.json").read_text(encoding="utf-8"))


def _figure(page: str, fig_id: str) -> str:
    m = re.search(rf'<figure class="fig" id="{fig_id}">(.*?)</figure>', page, re.S)
    assert m, f"figure {fig_id} missing"
    return m.group(1)


def test_every_section_and_figure_is_there(page):
    for s in SECTIONS:
        assert f'<section id="{s}">' in page, s
    for f in FIGURES:
        body = _figure(page, f)
        assert "<svg" in body or 'src="data:image/png;base64,' in body, f
        assert "<figcaption>" in body


def test_page_needs_nothing_from_outside(page):
    """No CDN, no tiles, no stylesheet or script by address: it opens offline."""
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "<link" not in page and "@import" not in page
    assert not re.search(r"url\((?!#)", page)   # only in-page SVG references like url(#clip)
    for uri in re.findall(r'src="([^"]+)"', page):
        assert uri.startswith("data:image/png;base64,"), uri[:40]


def test_inline_maps_are_real_pictures(page):
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(uris) >= 5
    for b64 in uris:
        png = base64.b64decode(b64)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert not is_blank(png)


def test_verdict_and_table_match_summary(page, summary):
    verdict = re.search(r'<div class="verdict (\w+)" id="verdict-text">(.*?)</div>', page, re.S)
    holds = summary["lines_hold"]
    assert verdict.group(1) == ("hold" if holds else "fail")
    assert verdict.group(2).startswith("YES" if holds else "NO")
    r = summary["metrics"]["response_within_line"]
    lo, hi = r["ci95"]
    assert f"{100 * r['mean']:.1f}%" in verdict.group(2)
    assert f"{100 * lo:.1f}% – {100 * hi:.1f}%" in verdict.group(2)
    table = re.search(r'<table id="headline-table">(.*?)</table>', page, re.S).group(1)
    b = summary["metrics"]["backup_within_line"]
    assert f"<td>{100 * b['mean']:.1f}%</td>" in table
    assert "Target" in table and "Verdict" in table


def test_charts_carry_titles_labels_legends_and_lines(page, summary):
    r_s, b_s = summary["lines"]["response_s"], summary["lines"]["backup_s"]
    target = f"Target {100 * summary['lines']['target_compliance']:.0f}%"
    rt = _figure(page, "fig-response-times")
    assert f"Response line {r_s:.0f} s" in rt and f"Backup line {b_s:.0f} s" in rt
    assert "(s)" in rt and "Response-time distribution" in rt
    for fid in ("fig-by-hour", "fig-by-level"):
        body = _figure(page, fid)
        assert target in body and "95% CI" in body and "(%)" in body, fid
    assert "Hour of day of the call (h)" in _figure(page, "fig-by-hour")
    util = _figure(page, "fig-utilisation")
    assert "Busy share of on-duty time (%)" in util and "car (mean" in util
    # every inline SVG chart has a title and labelled axes
    for fid in ("fig-by-hour", "fig-by-level", "fig-response-times", "fig-utilisation", "fig-encirclement",
                "fig-visibility-hour"):
        assert len(re.findall(r'<g id="[^"]*legend_\d+', _figure(page, fid))) >= 1, fid


def test_worst_cells_are_the_lowest_in_summary(page, summary):
    cells = summary["by_grid_cell"]
    t = summary["lines"]["target_compliance"]
    below = sorted((v["response_within_line"]["mean"], k) for k, v in cells.items()
                   if v["response_within_line"]["mean"] is not None and v["response_within_line"]["mean"] < t)
    if not below:
        assert "Every grid cell reaches" in page
        return
    table = re.search(r'<table id="worst-cells">(.*?)</table>', page, re.S).group(1)
    first_row = re.search(r"<tbody><tr><td>([^<]+)</td>", table).group(1)
    assert first_row == below[0][1]


def test_report_command_is_deterministic_and_matches_run_report(reported_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(reported_run, copy)
    (copy / "report.html").unlink()
    assert main(["report", str(copy), "--quiet"]) == 0
    first = (copy / "report.html").read_bytes()
    assert main(["report", str(copy), "--quiet"]) == 0
    assert (copy / "report.html").read_bytes() == first
    assert first == (reported_run / "report.html").read_bytes()
    # no temporary files left; the one hidden file is the results marker, which now lists the report
    assert [p.name for p in copy.iterdir() if p.name.startswith(".")] == [".patrolsim-results"]
    assert "report.html" in json.loads((copy / ".patrolsim-results").read_text())["files"]


def test_one_replication_report_gives_no_warning(tmp_path):
    """One replication has no confidence intervals (null in summary.json): the report of such a run
    drew its hour figure from an all-NaN row and printed numpy's "All-NaN slice" RuntimeWarning.
    Any warning while reporting now fails this test; the y axis still shows every hour's point."""
    out = tmp_path / "one"
    args = ["--replications", "1", "--set", "horizon_days=2", "--set", "warmup_days=0.5"]
    assert main(["run", *args, "--out", str(out), "--quiet"]) == 0
    by_hour = json.loads((out / "summary.json").read_text())["by_hour"]
    assert all(h["response_within_line"]["ci95"] == [None, None] for h in by_hour.values()
               if h.get("response_within_line")), "expected a run without CIs"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["report", str(out), "--quiet"]) == 0
        fig = hour_figure(json.loads((out / "summary.json").read_text()))
    assert (out / "report.html").stat().st_size > 0
    means = [100 * h["response_within_line"]["mean"] for h in by_hour.values()
             if (h.get("response_within_line") or {}).get("mean") is not None]
    assert fig.axes[0].get_ylim()[0] <= min(means)


def test_missing_scenario_file_still_gives_a_report_that_says_why(reported_run, tmp_path):
    copy = tmp_path / "no-scenario"
    shutil.copytree(reported_run, copy)
    (copy / "scenario.resolved.yaml").unlink()
    (copy / "report.html").unlink()
    assert main(["report", str(copy), "--quiet"]) == 0
    page = (copy / "report.html").read_text(encoding="utf-8")
    assert "scenario.resolved.yaml is missing, so the maps are not drawn" in page
    assert 'id="fig-by-hour"' in page and 'id="fig-map-beats"' not in page


@pytest.mark.parametrize("damage", ["no-folder", "empty-folder", "bad-json", "no-metrics", "bad-parquet"])
def test_bad_results_folder_is_one_line_and_exit_2(reported_run, tmp_path, capsys, damage):
    folder = tmp_path / damage
    if damage != "no-folder":
        shutil.copytree(reported_run, folder)
        (folder / "report.html").unlink()
    if damage == "empty-folder":
        for p in folder.iterdir():
            p.unlink()
    elif damage == "bad-json":
        (folder / "summary.json").write_text("{not json", encoding="utf-8")
    elif damage == "no-metrics":
        (folder / "summary.json").write_text(json.dumps({"lines": {}, "replications": 1}), encoding="utf-8")
    elif damage == "bad-parquet":
        (folder / "units.parquet").write_bytes(b"not parquet")
    capsys.readouterr()
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("patrolsim: error: ") and "fix:" in err[0]
    assert str(folder.name) in err[0]
    assert not (folder / "report.html").exists()


def test_osm_run_report_credits_openstreetmap(tmp_path, test_data, monkeypatch):
    """A run on an OpenStreetMap extract: the page and every map carry the ODbL attribution."""
    import yaml

    from sim.report import run_maps
    from sim.report.basemap import OSM_ATTRIBUTION
    from sim.report.results_folder import read_results

    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path / "cache"))
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "tiny-osm", "horizon_days": 1, "warmup_days": 0.1, "replications": 2,
        "network": {"osm": {"file": str(test_data / "tiny_town.osm"), "n_stations": 2}},
        "demand": {"incidents_per_day": 30}, "force": {"total_officers": 20}}), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--report", "--quiet"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"Street data {OSM_ATTRIBUTION}" in page
    res = read_results(out)
    fig = run_maps.beats_map(res.city, res.deployment)
    assert any(t.get_text() == OSM_ATTRIBUTION for t in fig.axes[0].texts)
