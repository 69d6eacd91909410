"""Bad input through the command line: one line naming file, key and fix; exit code 2; no traceback;
no half-written results folder (and an older result in the same place left as it was)."""

from __future__ import annotations

import concurrent.futures as cf
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.cli import main

SHORT = ["--replications", "1", "--set", "horizon_days=0.2", "--set", "warmup_days=0"]


def write(path, data) -> str:
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def bad_run(capsys, tmp_path, *args: str, quiet: bool = True) -> str:
    """Run ``patrolsim run`` expecting bad input; return the one error line."""
    out = tmp_path / "results" / "out"
    argv = ["run", *args, *SHORT, "--out", str(out)] + (["--quiet"] if quiet else [])
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("patrolsim: error: ")]
    assert len(errors) == 1, err
    if quiet:
        assert lines == errors, err
    assert not out.exists()
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").iterdir())
    return errors[0]


def osm_scenario(tmp_path, name: str = "osm-town", **osm) -> str:
    return write(tmp_path / f"{name}.yaml", {"name": name, "network": {"osm": osm}})


# --------------------------------------------------------------------------- scenario files
def test_typo_in_a_scenario_file(tmp_path, capsys):
    path = write(tmp_path / "town.yaml", {"name": "town", "force": {"total_oficers": 300}})
    line = bad_run(capsys, tmp_path, path, quiet=False)
    assert path in line
    assert "force.total_oficers" in line
    assert "did you mean 'total_officers'" in line


def test_wrong_type_in_a_scenario_file(tmp_path, capsys):
    path = write(tmp_path / "town.yaml", {"name": "town", "force": {"total_officers": "plenty"}})
    line = bad_run(capsys, tmp_path, path, quiet=False)
    assert path in line and "force.total_officers" in line and "'plenty'" in line and "fix:" in line


def test_typo_in_a_set_override(tmp_path, capsys):
    line = bad_run(capsys, tmp_path, "--set", "force.total_oficers=300", quiet=False)
    assert "force.total_oficers" in line and "total_officers" in line
    assert "default.yaml" in line                               # the file the override applies to


def test_value_not_allowed(tmp_path, capsys):
    line = bad_run(capsys, tmp_path, "--set", "alert.level=purple")
    assert "alert.level" in line and "'purple'" in line


def test_missing_scenario_file(tmp_path, capsys):
    line = bad_run(capsys, tmp_path, str(tmp_path / "nowhere.yaml"))
    assert "nowhere.yaml" in line and "not found" in line


def test_yaml_syntax_error(tmp_path, capsys):
    path = write(tmp_path / "broken.yaml", "name: broken\nforce: [1, 2\n")
    line = bad_run(capsys, tmp_path, path)
    assert path in line and "line" in line


def test_empty_scenario_file(tmp_path, capsys):
    path = write(tmp_path / "empty.yaml", "")
    assert path in bad_run(capsys, tmp_path, path)


def test_an_older_result_survives_bad_input(tmp_path, capsys):
    out = tmp_path / "kept"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    assert main(["run", "--quiet", "--set", "force.total_oficers=1", "--out", str(out)]) == 2
    capsys.readouterr()
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]


# --------------------------------------------------------------------------- OpenStreetMap files
def test_missing_osm_file(tmp_path, capsys):
    path = osm_scenario(tmp_path, file="maps/nowhere.osm")
    line = bad_run(capsys, tmp_path, path)
    assert "nowhere.osm" in line and "network.osm.file" in line and "not found" in line and "fix:" in line
    assert line.split(": ")[2].endswith(Path(path).name), line   # the file that holds the key comes first


def test_missing_fitted_demand_file_names_the_scenario(tmp_path, capsys):
    scenario = tmp_path / "town.yaml"
    scenario.write_text("name: t\nhorizon_days: 0.2\nwarmup_days: 0\nreplications: 1\n"
                        "demand: {fitted: nowhere.yaml}\n", encoding="utf-8")
    assert main(["run", str(scenario), "--quiet", "--out", str(tmp_path / "out")]) == 2
    line = capsys.readouterr().err.strip()
    assert line.count("\n") == 0 and "town.yaml: demand.fitted:" in line and "nowhere.yaml" in line, line


CORRUPT = [
    ("truncated.osm", b'<?xml version="1.0"?>\n<osm version="0.6">\n  <node id="1" lat="1" lon="1"/>\n  <way'),
    ("garbage.osm.gz", b"this is not gzip"),
    ("garbage.osm.bz2", b"this is not bzip2"),
]


@pytest.mark.parametrize("name, content", CORRUPT, ids=[c[0] for c in CORRUPT])
def test_corrupt_osm_file(tmp_path, capsys, name, content):
    (tmp_path / name).write_bytes(content)
    path = osm_scenario(tmp_path, file=name)
    line = bad_run(capsys, tmp_path, path)
    assert str(tmp_path / name) in line and "fix:" in line


@pytest.mark.parametrize("name, content", CORRUPT[:1], ids=[CORRUPT[0][0]])
def test_corrupt_osm_file_names_the_key(tmp_path, capsys, name, content):
    (tmp_path / name).write_bytes(content)
    line = bad_run(capsys, tmp_path, osm_scenario(tmp_path, file=name))
    assert "network.osm.file" in line


def test_osm_file_with_no_drivable_roads(tmp_path, capsys, test_data):
    path = osm_scenario(tmp_path, file=str(test_data / "footway_only.osm"))
    line = bad_run(capsys, tmp_path, path)
    assert "footway_only.osm" in line and "network.osm" in line and "no drivable roads" in line
    assert "fix:" in line


def test_station_off_the_network(tmp_path, capsys, test_data):
    # the tiny town is at 47.650 N; a station 5 km north is far off its roads
    path = osm_scenario(tmp_path, file=str(test_data / "tiny_town.osm"),
                        stations=[{"name": "Lakeside", "lat": 47.695, "lon": -122.300}])
    line = bad_run(capsys, tmp_path, path)
    assert path in line and "network.osm.stations[0]" in line and "Lakeside" in line
    assert "max_snap_m" in line


def test_bureau_off_the_network(tmp_path, capsys, test_data):
    path = osm_scenario(tmp_path, file=str(test_data / "tiny_town.osm"),
                        bureau={"name": "HQ", "lat": 47.695, "lon": -122.300})
    line = bad_run(capsys, tmp_path, path)
    assert "network.osm.bureau" in line


def test_bbox_that_is_not_a_box(tmp_path, capsys):
    path = osm_scenario(tmp_path, bbox=[47.7, -122.3, 47.6, -122.2])
    line = bad_run(capsys, tmp_path, path)
    assert path in line and "network.osm" in line and "south < north" in line


def test_bbox_with_nothing_of_the_file_in_it(tmp_path, capsys, test_data):
    # the tiny town lies at 47.65 N, 122.30 W; this box is in the Pacific
    path = osm_scenario(tmp_path, file=str(test_data / "tiny_town.osm"), bbox=[0.0, -160.0, 0.01, -159.99])
    line = bad_run(capsys, tmp_path, path)
    assert "tiny_town.osm" in line and "network.osm.bbox" in line and "fix:" in line


def test_bbox_with_nothing_in_it(tmp_path, capsys, monkeypatch):
    """osmnx raises InsufficientResponseError for a box without roads; no network is used here."""
    import osmnx
    from osmnx._errors import InsufficientResponseError

    def empty(*args, **kwargs):
        raise InsufficientResponseError("No data elements in server response")

    monkeypatch.setattr(osmnx, "graph_from_bbox", empty)
    path = osm_scenario(tmp_path, bbox=[0.0, -160.0, 0.01, -159.99])      # open Pacific
    line = bad_run(capsys, tmp_path, path)
    assert "network.osm.bbox" in line and "no roads" in line and "fix:" in line


# --------------------------------------------------------------------------- offline downloads (real, no mocks)
def _online() -> bool:
    """Whether OpenStreetMap's servers resolve; a hanging resolver counts as offline (checked for 5 s)."""
    with cf.ThreadPoolExecutor(1) as pool:
        fut = pool.submit(socket.getaddrinfo, "nominatim.openstreetmap.org", 443)
        try:
            fut.result(timeout=5)
            return True
        except Exception:
            return False


def _offline_run(tmp_path, repo_root, osm: dict, timeout_s: float):
    if _online():
        pytest.skip("this machine reaches OpenStreetMap: the offline message cannot be produced")
    scenario = write(tmp_path / "download.yaml", {"name": "download", "network": {"osm": osm}})
    out = tmp_path / "out"
    try:
        proc = subprocess.run([sys.executable, "-m", "sim", "run", scenario, *SHORT, "--out", str(out)],
                              cwd=repo_root, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        pytest.fail(f"offline download of {osm} did not fail within {timeout_s:.0f} s")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("patrolsim: error: ")]
    assert len(errors) == 1, proc.stderr
    assert not out.exists()
    return scenario, errors[0]


def test_offline_place_download_says_so_and_how_to_pass_a_file(tmp_path, repo_root):
    scenario, line = _offline_run(tmp_path, repo_root, {"place": "Piedmont, California, USA"}, timeout_s=60)
    assert scenario in line
    assert "network.osm.place" in line
    assert "offline" in line
    assert "network.osm.file" in line                             # the fix: pass an .osm file


@pytest.mark.slow
def test_offline_bbox_download_fails_fast(tmp_path, repo_root):
    # with the pause off the command fails in a few seconds (mostly imports); 25 s is a generous bound
    _, line = _offline_run(tmp_path, repo_root, {"bbox": [47.64, -122.33, 47.65, -122.32]}, timeout_s=25)
    assert "network.osm.bbox" in line and "offline" in line


# --------------------------------------------------------------------------- a force too small
def test_force_too_small_for_one_unit(tmp_path, capsys):
    out = tmp_path / "tiny-force"
    rc = main(["run", "--quiet", *SHORT, "--set", "force.total_officers=4", "--set", "force.teams=2",
               "--set", "network.synthetic.area_km2=2", "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if rc == 2:     # rejected as bad input: one line naming the key
        assert "force" in err and len(err.strip().splitlines()) == 1
        assert not out.exists()
    else:           # or run with nobody to send: every incident unserved
        assert rc == 0 and (out / "summary.json").exists()
