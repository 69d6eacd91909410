"""``patrolsim network info`` bounding box and centre; ``patrolsim network plot`` pictures."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim.cli import main
from tests.report.browser import is_blank


@pytest.fixture(scope="module")
def default_city():
    from sim.network import load_city
    from sim.scenario_file import load_scenario

    return load_city(load_scenario(None), quiet=True)


def test_info_prints_bounding_box_and_centre(capsys, repo_root, default_city):
    assert main(["network", "info", str(repo_root / "scenarios" / "default.yaml")]) == 0
    out = capsys.readouterr().out
    m = re.search(r"south ([-\d.]+), west ([-\d.]+), north ([-\d.]+), east ([-\d.]+)", out)
    south, west, north, east = map(float, m.groups())
    g = default_city.places
    assert south == pytest.approx(g.lat.min(), abs=1e-6) and north == pytest.approx(g.lat.max(), abs=1e-6)
    assert west == pytest.approx(g.lon.min(), abs=1e-6) and east == pytest.approx(g.lon.max(), abs=1e-6)
    c = re.search(r"centre \(lat, lon\): ([-\d.]+), ([-\d.]+)", out)
    assert float(c.group(1)) == pytest.approx((south + north) / 2, abs=1e-6)
    assert float(c.group(2)) == pytest.approx((west + east) / 2, abs=1e-6)


def test_plot_png_is_a_picture(tmp_path, repo_root):
    from matplotlib.image import imread

    out = tmp_path / "town.png"
    assert main(["network", "plot", str(repo_root / "scenarios" / "default.yaml"), "--out", str(out)]) == 0
    png = out.read_bytes()
    assert not is_blank(png)
    assert imread(out).shape[1] >= 800


def test_plot_svg_has_stations_coordinates_and_no_osm_credit_for_a_synthetic_town(tmp_path, repo_root,
                                                                                  default_city):
    out = tmp_path / "town.svg"
    assert main(["network", "plot", str(repo_root / "scenarios" / "default.yaml"), "--out", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    for name in default_city.station_name:
        assert name in svg
    lats = [float(x) for x in re.findall(r"([\d.]+)°N", svg)]
    assert len(lats) >= 3
    g = default_city.places
    assert all(g.lat.min() - 0.01 <= v <= g.lat.max() + 0.01 for v in lats)
    assert "City exit (checkpoint)" in svg and "Longitude (degrees)" in svg
    assert "OpenStreetMap" not in svg


def test_plot_of_an_osm_file_credits_openstreetmap(tmp_path, test_data, monkeypatch):
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "tiny.svg"
    assert main(["network", "plot", str(test_data / "tiny_town.osm"), "--out", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors" in svg
    lons = [float(x) for x in re.findall(r"([\d.]+)°W", svg)]
    assert lons and np.all(np.abs(np.array(lons) - 122.30) < 0.01)


@pytest.mark.parametrize("name", ["town.jpg", "town", "missing-folder/town.png"])
def test_plot_bad_out_is_one_line_and_exit_2(tmp_path, repo_root, capsys, name):
    out = tmp_path / name
    assert main(["network", "plot", str(repo_root / "scenarios" / "default.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "fix:" in err[0]
    assert not out.exists()
