"""Outputs that cannot destroy anything (issue: "Data loss").

patrolsim replaces only a folder it wrote itself (the ``.patrolsim-results`` marker),
refuses every other existing path with one line and exit code 2, checks and locks the
target before it simulates, builds the run aside and renames it in, and keeps a scenario
name inside ``results/``. Every test drives the real command line on a small town.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from tests.conftest import small_town

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--quiet", "--replications", "1"]


def town(tmp_path: Path, name: str = "small-town", filename: str = "town.yaml", **overrides) -> str:
    p = tmp_path / filename
    p.write_text(yaml.safe_dump(small_town(name=name, **overrides), sort_keys=False), encoding="utf-8")
    return str(p)


def one_error(capsys, rc: int) -> str:
    """The one error line of a refused command (exit 2, no traceback, nothing else on stderr)."""
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("patrolsim: error: "), err
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary folders, lock files or moved-aside old results anywhere under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if ".partial" in p.name or p.name.endswith(".lock") or ".old-" in p.name)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


# --------------------------------------------------------------------------- run --out DIR
def test_run_never_replaces_a_folder_it_did_not_write(tmp_path, capsys):
    """``mkdir d; echo x > d/thesis.txt; patrolsim run --out d`` used to exit 0 with thesis.txt gone."""
    d = tmp_path / "d"
    d.mkdir()
    (d / "thesis.txt").write_text("three years of work\n")
    for extra in ([], ["--overwrite"]):   # --overwrite never replaces a folder patrolsim did not write
        line = one_error(capsys, main(["run", town(tmp_path), *QUICK, "--out", str(d), *extra]))
        assert str(d) in line and "--out" in line and "did not write" in line and "fix:" in line
        assert sorted(p.name for p in d.iterdir()) == ["thesis.txt"]
        assert (d / "thesis.txt").read_text() == "three years of work\n"
    assert leftovers(tmp_path) == []


def test_extra_files_in_an_old_results_folder_are_kept_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", town(tmp_path), *QUICK, "--out", str(out)]) == 0
    marker = json.loads((out / ".patrolsim-results").read_text())
    assert marker["command"] == "run" and "summary.json" in marker["files"]
    # a second run into its own folder replaces it (the marker lists every file in it)
    assert main(["run", town(tmp_path), *QUICK, "--out", str(out)]) == 0
    (out / "notes.txt").write_text("my notes\n")
    before = snapshot(out)
    line = one_error(capsys, main(["run", town(tmp_path), *QUICK, "--out", str(out)]))
    assert "notes.txt" in line and "--overwrite" in line
    assert snapshot(out) == before
    # asked for explicitly, the folder (a patrolsim one) is replaced
    assert main(["run", town(tmp_path), *QUICK, "--out", str(out), "--overwrite"]) == 0
    assert not (out / "notes.txt").exists() and (out / "summary.json").exists()
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- --out FILE
@pytest.mark.parametrize("command", ["run", "compare"])
def test_out_that_is_a_file_is_left_alone(tmp_path, capsys, command):
    """``run`` or ``compare --out FILE`` used to turn the file into a folder (the file kept only as .FILE.old-PID)."""
    f = tmp_path / "report.docx"
    f.write_bytes(b"my report")
    args = [town(tmp_path)] if command == "run" else [town(tmp_path), town(tmp_path, name="b", filename="b.yaml")]
    before = snapshot(tmp_path)
    rc = main([command, *args, "--quiet", "--replications", "2", "--workers", "1", "--out", str(f)])
    line = one_error(capsys, rc)
    assert str(f) in line and "is a file" in line
    assert f.read_bytes() == b"my report"
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_out_under_a_file(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("x")
    line = one_error(capsys, main(["run", town(tmp_path), *QUICK, "--out", str(f / "sub")]))
    assert "notes.txt" in line and "is a file" in line
    assert f.read_text() == "x" and leftovers(tmp_path) == []


def test_out_dot_is_refused_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    """``--out .`` used to fail with OSError and leave a ``.partial-`` folder behind."""
    monkeypatch.chdir(tmp_path)
    path = town(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = one_error(capsys, main(["run", path, *QUICK, "--out", "."]))
    assert "--out" in line and "current folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- scenario names
# names the scenario schema lets through (its pattern already refuses separators, spaces and control characters)
BAD_NAMES = {".": ".", "..": "..", "long": "x" * 5000, "hidden": ".hidden"}


@pytest.mark.parametrize("key", list(BAD_NAMES))
def test_a_scenario_name_never_escapes_results(tmp_path, capsys, monkeypatch, key):
    """``name: "."`` used to replace results/ itself, deleting every other run's results;
    ``..`` failed with OSError and left ``.partial-`` folders; 5,000 characters gave a traceback."""
    monkeypatch.chdir(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    other = work / "results" / "other-run"
    other.mkdir(parents=True)
    (other / "summary.json").write_text("{}")
    path = town(work, name=BAD_NAMES[key])
    before = snapshot(tmp_path)
    line = one_error(capsys, main(["run", path, *QUICK]))
    assert path in line and ": name:" in line and "fix:" in line and len(line) < 400
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path) == []
    assert not Path("/tmp/patrolsim-escape").exists()


def test_a_plain_name_still_goes_under_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", town(tmp_path, name="north-district_2"), *QUICK]) == 0
    assert (tmp_path / "results" / "north-district_2" / "summary.json").exists()


@pytest.mark.parametrize("name", ["a/b", "/etc", "a\\b", "a\nb", "a\x1b[2Jb", "", "  ", "..", "x" * 101])
def test_safe_name_refuses_anything_but_one_plain_folder_name(name):
    """The guard itself, for names that reach it other ways (compare's joined labels, a future schema)."""
    from sim.errors import InputError
    from sim.outputs import default_folder

    with pytest.raises(InputError) as info:
        default_folder(name, "compare", file="s.yaml")
    line = str(info.value)
    assert line.startswith("s.yaml: name: ") and "\n" not in line and "\x1b" not in line and len(line) < 300
    assert default_folder("a-b_c.1", "compare") == Path("results", "compare", "a-b_c.1")


# --------------------------------------------------------------------------- fit, analytic, schema
def test_fit_out_existing_folder_is_one_line_and_writes_nothing(tmp_path, capsys, shared_data):
    """``fit --out EXISTING_DIR`` used to fail with IsADirectoryError (after the whole fit) and leave a partial file."""
    calls = shared_data / "seattle_udistrict" / "spd_incident_response_2015_udistrict_jan_sep.csv"
    osm = shared_data / "seattle_udistrict" / "udistrict.osm.gz"
    out = tmp_path / "fitted"
    out.mkdir()
    rc = main(["fit", str(calls), "--network", str(osm), "--out", str(out), "--quiet", "--no-figures"])
    line = one_error(capsys, rc)
    assert str(out) in line and "is a folder" in line
    assert list(out.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["fitted"]


def test_schema_and_analytic_refuse_a_folder(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    one_error(capsys, main(["schema", "--out", str(d)]))
    larson = REPO / "scenarios" / "hypercube" / "larson_3units.yaml"
    one_error(capsys, main(["analytic", "hypercube", str(larson), "--out", str(d)]))
    assert list(d.iterdir()) == [] and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- sweep
def test_sweep_never_writes_into_a_folder_it_did_not_write(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    (d / "data.csv").write_text("a,b\n")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: s\nscenario: {town(tmp_path)}\nreplications: 1\ngrid:\n"
                     "  force.total_officers: [12, 16]\n")
    for extra in ([], ["--overwrite"], ["--resume"]):
        one_error(capsys, main(["sweep", str(sweep), "--workers", "1", "--quiet", "--out", str(d), *extra]))
        assert sorted(p.name for p in d.iterdir()) == ["data.csv"]
    assert main(["sweep", str(sweep), "--workers", "1", "--quiet", "--out", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / ".patrolsim-results").exists() and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- before simulating
def test_unwritable_out_fails_before_the_simulation(tmp_path, capsys):
    """An unwritable --out used to give PermissionError only after the whole simulation."""
    if os.geteuid() == 0:   # root writes anywhere a mode allows nothing: use a place no one can write
        target = Path("/proc/patrolsim-results")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        target = ro / "out"
    rc = main(["run", town(tmp_path), "--replications", "1", "--out", str(target)])   # not quiet
    line = one_error(capsys, rc)   # the only line: no banner, no progress, so nothing was simulated
    assert str(target) in line and "cannot be written" in line


def test_a_second_run_on_the_same_folder_fails_at_once(tmp_path, capsys):
    """Two ``run``s on the same --out at once both exited 0 and one result was dropped without a word."""
    out = tmp_path / "out"
    slow = town(tmp_path, filename="slow.yaml", horizon_days=400, demand={"incidents_per_day": 300})
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", slow, "--quiet", "--replications", "1",
                             "--out", str(out)], cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.partial-*")):
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "the first run never started writing"
            time.sleep(0.05)
        line = one_error(capsys, main(["run", town(tmp_path), *QUICK, "--out", str(out)]))
        assert "another patrolsim" in line and str(out) in line
        assert proc.poll() is None    # the first run goes on
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert not out.exists() and leftovers(tmp_path) == []


def test_leftovers_of_a_killed_run_are_cleared_by_the_next(tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / ".out.partial-deadbeef"
    stale.mkdir()
    (stale / "summary.json").write_text("{half")
    (tmp_path / ".out.lock").write_text("12345\n")   # a lock file nobody holds (its process was killed)
    assert main(["run", town(tmp_path), *QUICK, "--out", str(out)]) == 0
    assert (out / "summary.json").exists() and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- determinism to the byte
def test_same_scenario_and_seed_give_byte_identical_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    path = town(tmp_path)
    assert main(["run", path, "--quiet", "--out", str(a)]) == 0
    assert main(["run", path, "--quiet", "--out", str(b), "--workers", "2"]) == 0
    fa, fb = snapshot(a), snapshot(b)
    assert sorted(fa) == sorted(fb)
    assert {"summary.json", "incidents.parquet", "units.parquet", "scenario.resolved.yaml", "run.log.json",
            ".patrolsim-results"} <= set(fa)
    differ = [n for n in fa if fa[n] != fb[n]]
    assert differ == ["run.log.json"], differ
    assert "runtime_s" not in json.loads(fa["summary.json"])
    log = json.loads(fa["run.log.json"])
    assert log["runtime_s"] >= 0


def test_compare_folders_are_byte_identical_too(tmp_path):
    """compare's replications.parquet used to carry each replication's runtime_s."""
    a, b = tmp_path / "a", tmp_path / "b"
    files = [town(tmp_path), town(tmp_path, name="b", filename="b.yaml", force={"total_officers": 20})]
    for out in (a, b):
        assert main(["compare", *files, "--replications", "2", "--workers", "1", "--quiet", "--out", str(out)]) == 0
    fa, fb = snapshot(a), snapshot(b)
    assert sorted(fa) == sorted(fb) and "replications.parquet" in fa and "compare.png" in fa
    assert [n for n in fa if fa[n] != fb[n]] == ["run.log.json"]


@pytest.mark.parametrize("length", [250, 300])
def test_a_very_long_out_name_is_one_line(tmp_path, capsys, length):
    """A name the file system cannot hold (with patrolsim's temporary prefix and suffix, or alone)."""
    out = tmp_path / ("y" * length)
    line = one_error(capsys, main(["run", town(tmp_path), *QUICK, "--out", str(out)]))
    assert "--out" in line and "too long" in line and len(line) < 400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["town.yaml"]
