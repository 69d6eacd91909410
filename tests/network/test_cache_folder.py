"""A network cache folder that cannot be written: an error before any work when the user set it,
caching off (said once) when it is the default folder.

Before: ``NotADirectoryError``/``PermissionError`` tracebacks, raised only after the
graphs had been built (over a minute for the Seattle extract). Real OS errors are
made with a path under a regular file (root can write into a chmod-0o500 folder,
so that variant is skipped when running as root).
"""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from sim.cli import main
from sim.network import cache
from sim.network import osm as osm_io


@pytest.fixture(autouse=True)
def _fresh_checks(monkeypatch):
    monkeypatch.setattr(cache, "_checked", {}, raising=False)


@pytest.fixture
def osm_scenario(tmp_path, test_data):
    shutil.copy(test_data / "tiny_town.osm", tmp_path / "town.osm")
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump({"name": "osm-town", "horizon_days": 0.3, "warmup_days": 0.05,
                                    "replications": 1, "network": {"osm": {"file": "town.osm"}},
                                    "demand": {"incidents_per_day": 20},
                                    "force": {"total_officers": 12, "teams": 2}}))
    return path


def _no_osm_read(monkeypatch):
    def fail(*a, **kw):
        raise AssertionError("the OSM file was read before the cache folder was checked")
    monkeypatch.setattr(osm_io, "read_osm_file", fail)


def test_explicit_folder_under_a_file_is_one_line_before_any_work(tmp_path, osm_scenario, monkeypatch, capsys):
    (tmp_path / "file.txt").write_text("x")
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path / "file.txt" / "cache"))
    _no_osm_read(monkeypatch)
    out = tmp_path / "res"
    rc = main(["run", str(osm_scenario), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "PATROLSIM_CACHE_DIR" in err and "file.txt" in err and "fix: set PATROLSIM_CACHE_DIR" in err, err
    assert not out.exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into a chmod-0o500 folder; the under-a-file tests cover the OS error")
def test_explicit_read_only_folder_is_one_line(tmp_path, osm_scenario, monkeypatch, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(ro))
        rc = main(["run", str(osm_scenario), "--out", str(tmp_path / "res"), "--quiet"])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and "PATROLSIM_CACHE_DIR" in err and len(err.splitlines()) == 1, err
    finally:
        ro.chmod(0o700)


def test_unwritable_default_folder_runs_without_a_cache(tmp_path, osm_scenario, monkeypatch, capsys):
    work = tmp_path / "install"
    work.mkdir()
    (work / "networks").write_text("not a folder")        # networks/cache cannot be created
    monkeypatch.chdir(work)
    monkeypatch.delenv("PATROLSIM_CACHE_DIR", raising=False)
    out = tmp_path / "res"
    assert main(["run", str(osm_scenario), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    notes = [ln for ln in err.splitlines() if "running without a cache" in ln]
    assert len(notes) == 1 and "networks" in notes[0], err
    assert "(not cached)" in err and (out / "summary.json").is_file()
    assert (work / "networks").read_text() == "not a folder"
    monkeypatch.setattr(cache, "_checked", {}, raising=False)
    assert main(["run", str(osm_scenario), "--out", str(tmp_path / "res2"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""                  # --quiet: not said


def test_writable_folder_still_caches(tmp_path, osm_scenario, monkeypatch):
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path / "a" / "b"))
    assert main(["run", str(osm_scenario), "--out", str(tmp_path / "res"), "--quiet"]) == 0
    assert len(list((tmp_path / "a" / "b").glob("*.npz"))) == 1
    assert not list((tmp_path / "a" / "b").glob("*.probe"))
