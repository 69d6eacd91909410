"""Every input that crashed the model or was accepted silently (issue 11's lists) is refused up front.

Each case: exit code 2, exactly one ``patrolsim: error:`` line on stderr naming the file and
the key, with a fix; no traceback; no results folder. Before the validation layer each of
these either raised (KeyError in the beat split, OverflowError, RecursionError, ...) or ran
to exit 0 with a wrong answer (``.inf`` passing every "> 0" check, the last duplicate key
winning, ``true`` read as 1, hot spots off the map ignored).
"""

from __future__ import annotations

import pytest
import yaml

from sim.cli import main

SHORT = ["--replications", "1", "--set", "horizon_days=0.2", "--set", "warmup_days=0"]
DEFAULT_MULTIPLIERS = "{green: 1.0, yellow: 1.0, orange: 1.0, red: 1.0}"
PROFILE_23 = ",".join(["1"] * 23)


def one_error(capsys, argv: list[str], out) -> str:
    """Run in-process expecting bad input; the single error line."""
    try:
        rc = main(argv)
    except SystemExit as exc:          # argparse's own errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("patrolsim: error: ")]
    assert len(errors) == 1 and len([x for x in err.splitlines() if x.strip()]) == 1, err
    assert "(fix: " in errors[0], errors[0]
    assert not out.exists()
    return errors[0]


def run_sets(tmp_path, capsys, *sets: str) -> str:
    out = tmp_path / "results" / "out"
    argv = ["run", "--quiet", *SHORT, "--out", str(out)]
    for s in sets:
        argv += ["--set", s]
    return one_error(capsys, argv, out)


# (id, --set overrides, key the error names). Each crashed or was accepted silently before.
SET_CASES = [
    ("horizon-equals-warmup", ["horizon_days=1", "warmup_days=1"], "warmup_days"),
    ("shift-hours-7", ["force.shift_hours=7"], "force.shift_hours"),
    ("crew-of-unknown-kind", ["force.crew={bicycle: 1, foot: 2, tank: 4}"], "force.crew.tank"),
    ("total-officers-100000", ["force.total_officers=100000"], "force.total_officers"),
    ("area-0.01", ["network.synthetic.area_km2=0.01"], "network.synthetic.area_km2"),
    ("area-too-small-for-blocks", ["network.synthetic.area_km2=0.1"], "network.synthetic.area_km2"),
    ("incidents-inf", ["demand.incidents_per_day=.inf"], "demand.incidents_per_day"),
    ("incidents-nan", ["demand.incidents_per_day=.nan"], "demand.incidents_per_day"),
    ("incidents-1e300", ["demand.incidents_per_day=1.0e300"], "demand.incidents_per_day"),
    ("incidents-1e7", ["demand.incidents_per_day=1.0e7"], "demand.incidents_per_day"),
    ("hour-profile-inf", [f"demand.hour_profile=[.inf,{PROFILE_23}]"], "demand.hour_profile[0]"),
    ("hour-profile-1e308", [f"demand.hour_profile=[1.0e308,{PROFILE_23}]"], "demand.hour_profile[0]"),
    ("day-profile-inf", ["demand.day_profile=[1,1,1,.inf,1,1,1]"], "demand.day_profile[3]"),
    ("type-share-inf", ["demand.types=[{name: a, share: .inf}]"], "demand.types[0].share"),
    ("on-scene-inf", ["demand.types=[{name: a, share: 1, on_scene_mean_s: .inf}]"],
     "demand.types[0].on_scene_mean_s"),
    ("area-1e30", ["network.synthetic.area_km2=1.0e30"], "network.synthetic.area_km2"),
    ("area-inf", ["network.synthetic.area_km2=.inf"], "network.synthetic.area_km2"),
    ("green-multiplier-1e6", [f"alert.demand_multiplier={DEFAULT_MULTIPLIERS.replace('green: 1.0', 'green: 1.0e6')}"],
     "alert.demand_multiplier.green"),
    ("synthetic-seed-negative", ["network.synthetic.seed=-1"], "network.synthetic.seed"),
    ("name-5000-characters", ["name=" + "n" * 5000], "name"),
    ("call-handling-inf", ["demand.call_handling_mean_s=.inf"], "demand.call_handling_mean_s"),
    ("response-line-inf", ["lines.response_s=.inf"], "lines.response_s"),
    ("backup-line-inf", ["lines.backup_s=.inf"], "lines.backup_s"),
    ("turnout-inf", ["force.turnout_s=.inf"], "force.turnout_s"),
    ("encirclement-radius-inf", ["encirclement.radius_m=.inf"], "encirclement.radius_m"),
    ("hotspot-radius-inf", ["demand.hotspots=[{name: m, lat: 30.977, lon: 104.282, radius_m: .inf}]"],
     "demand.hotspots[0].radius_m"),
    ("snap-distance-inf", ["network.max_snap_m=.inf"], "network.max_snap_m"),
    ("car-speed-factor-inf", ["network.speeds.emergency_speed_factor=.inf"], "network.speeds.emergency_speed_factor"),
    ("bicycle-speed-inf", ["network.speeds.bicycle_kph=.inf"], "network.speeds.bicycle_kph"),
    ("foot-speed-inf", ["network.speeds.foot_kph=.inf"], "network.speeds.foot_kph"),
    ("foot-patrol-speed-inf", ["network.speeds.foot_patrol_kph=.inf"], "network.speeds.foot_patrol_kph"),
    ("foot-max-travel-inf", ["dispatch.foot_max_travel_s=.inf"], "dispatch.foot_max_travel_s"),
    ("horizon-true", ["horizon_days=true"], "horizon_days"),
    ("teams-true", ["force.teams=true"], "force.teams"),
    ("mix-share-true", ["force.mix={car: true}"], "force.mix"),
    ("hotspot-off-the-map", ["demand.hotspots=[{name: Harbour, lat: 0.0, lon: 0.0}]"], "demand.hotspots[0]"),
    ("out-of-service-by-hour-23", [f"availability.out_of_service_by_hour=[{PROFILE_23}]"],
     "availability.out_of_service_by_hour"),
    ("out-of-service-by-hour-negative", [f"availability.out_of_service_by_hour=[-1,{PROFILE_23}]"],
     "availability.out_of_service_by_hour[0]"),
    ("out-of-service-by-hour-inf", [f"availability.out_of_service_by_hour=[{PROFILE_23},.inf]"],
     "availability.out_of_service_by_hour[23]"),
    ("out-of-service-by-hour-all-zero", [f"availability.out_of_service_by_hour=[{','.join(['0'] * 24)}]"],
     "availability.out_of_service_by_hour"),
    ("officer-initiated-by-hour-true", [f"availability.officer_initiated_by_hour=[true,{PROFILE_23}]"],
     "availability.officer_initiated_by_hour"),
    ("memory-budget", ["demand.incidents_per_day=100000", "horizon_days=3000", "warmup_days=0"], "horizon_days"),
]


@pytest.mark.parametrize("sets, key", [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES])
def test_bad_value_is_one_line_naming_the_key(tmp_path, capsys, sets, key):
    line = run_sets(tmp_path, capsys, *sets)
    assert "default.yaml" in line
    assert f": {key}: " in line, line


def test_crew_without_a_car_entry_keeps_the_registry_crew(tmp_path, capsys):
    """Issue item: `force.crew` without a car entry was a KeyError; a kind left out now keeps its
    default crew (sim.kinds), so the run goes through."""
    out = tmp_path / "out"
    assert main(["run", "--quiet", *SHORT, "--set", "force.crew={bicycle: 1, foot: 2}", "--out", str(out)]) == 0
    assert (out / "summary.json").is_file()


def test_hotspot_error_names_the_hotspot(tmp_path, capsys):
    line = run_sets(tmp_path, capsys, "demand.hotspots=[{name: Harbour, lat: 0.0, lon: 0.0}]")
    assert "Harbour" in line and "outside the network" in line


def test_memory_budget_says_how_much_and_the_fix(tmp_path, capsys):
    line = run_sets(tmp_path, capsys, "demand.incidents_per_day=100000", "horizon_days=30")
    assert "GB" in line and "replications" in line and "PATROLSIM_MAX_MEMORY_GB" in line


def test_replications_from_the_command_line_count_in_the_budget(tmp_path, capsys):
    out = tmp_path / "out"
    line = one_error(capsys, ["run", "--quiet", "--replications", "100000", "--set", "horizon_days=30",
                              "--out", str(out)], out)
    assert ": replications: " in line and "GB" in line


# --------------------------------------------------------------------------- files
def scenario_file(tmp_path, text: str) -> str:
    path = tmp_path / "town.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


FILE_CASES = [
    ("duplicate-section", "name: town\nforce: {total_officers: 100}\nforce: {teams: 3}\n", "line 3", "force"),
    ("duplicate-key", "name: town\nlines:\n  response_s: 300\n  response_s: 200\n", "line 4", "response_s"),
    ("alias", "name: town\nforce: &f {total_officers: 100}\nalert: *f\n", "line 2", "alias"),
    ("alias-bomb", "name: town\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n", "line 2", "alias"),
    ("5000-nested", "name: town\nforce: " + "[" * 5000 + "]" * 5000 + "\n", "line 2", "nested"),
    ("teams-true", "name: town\nforce:\n  teams: true\n", "force.teams", "number"),
]


@pytest.mark.parametrize("text, where, what", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_strict_yaml(tmp_path, capsys, text, where, what):
    path = scenario_file(tmp_path, text)
    out = tmp_path / "out"
    line = one_error(capsys, ["run", path, "--quiet", *SHORT, "--out", str(out)], out)
    assert path in line and where in line and what in line


def test_file_over_the_size_limit(tmp_path, capsys, monkeypatch):
    import sim.strict_yaml as strict

    monkeypatch.setattr(strict, "MAX_FILE_BYTES", 1000)
    path = scenario_file(tmp_path, "name: town\ndescription: " + "x" * 2000 + "\n")
    out = tmp_path / "out"
    line = one_error(capsys, ["run", path, "--quiet", *SHORT, "--out", str(out)], out)
    assert path in line and "MB" in line


TWO_NODES = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="47.65" lon="-122.30"/>
  <node id="2" lat="47.651" lon="-122.30"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
</osm>
"""


@pytest.mark.parametrize("kind", ["empty", "folder", "two-nodes"])
def test_osm_file_that_cannot_make_a_network(tmp_path, capsys, kind):
    target = tmp_path / "town.osm"
    if kind == "empty":
        target.write_bytes(b"")
    elif kind == "folder":
        target.mkdir()
    else:
        target.write_text(TWO_NODES, encoding="utf-8")
    path = scenario_file(tmp_path, yaml.safe_dump({"name": "town", "network": {"osm": {"file": "town.osm"}}}))
    out = tmp_path / "out"
    line = one_error(capsys, ["run", path, "--quiet", *SHORT, "--out", str(out)], out)
    assert path in line and "network.osm.file" in line


@pytest.mark.parametrize("option, value", [("--min", "nan"), ("--max", "inf")])
def test_hold_bounds_must_be_finite(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as exc:
        main(["hold", option, value, "--out", str(tmp_path / "hold")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and option in err and "finite" in err


# --------------------------------------------------------------------------- sweep files and hypercube problems
SWEEP_HEAD = "name: s\nreplications: 1\nset: {horizon_days: 0.2, warmup_days: 0}\n"
SWEEP_CASES = [
    ("grid-inf", "grid:\n  lines.response_s: [300, .inf]\n", "grid.lines.response_s"),
    ("grid-nan", "grid:\n  demand.call_handling_mean_s: [.nan]\n", "grid.demand.call_handling_mean_s"),
    ("points-inf", "points:\n  - {force.turnout_s: .inf}\n", "points[0].force.turnout_s"),
    ("sample-range-inf", "sample:\n  n: 3\n  ranges: {lines.response_s: [300, .inf]}\n", "sample.ranges"),
    ("grid-true", "grid:\n  horizon_days: [true]\n", "grid.horizon_days"),
    ("duplicate-grid", "grid:\n  alert.level: [red]\ngrid:\n  alert.level: [green]\n", "line 6"),
]


@pytest.mark.parametrize("body, key", [c[1:] for c in SWEEP_CASES], ids=[c[0] for c in SWEEP_CASES])
def test_bad_sweep_file(tmp_path, capsys, body, key):
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP_HEAD + body, encoding="utf-8")
    out = tmp_path / "out"
    line = one_error(capsys, ["sweep", str(path), "--out", str(out)], out)
    assert str(path) in line and key in line


PROBLEM_CASES = [
    ("rates-sum-to-capacity", "service_rate: 1.0\nunits: [u1]\natoms:\n  - {id: a, rate: 0.7, preference: [u1]}\n"
                              "  - {id: b, rate: 0.2, preference: [u1]}\n  - {id: c, rate: 0.1, preference: [u1]}\n",
     "queue"),
    ("rate-inf", "service_rate: 1.0\nunits: [u1, u2]\natoms:\n  - {id: a, rate: .inf, preference: [u1, u2]}\n",
     "atoms[0].rate"),
    ("service-rate-true", "service_rate: true\nqueue: loss\nunits: [u1]\natoms:\n  - {id: a, rate: 1, preference: [u1]}\n",
     "service_rate"),
    ("duplicate-key", "service_rate: 1.0\nservice_rate: 2.0\nunits: [u1]\natoms:\n  - {id: a, rate: 0.1, preference: [u1]}\n",
     "line 2"),
]


@pytest.mark.parametrize("text, key", [c[1:] for c in PROBLEM_CASES], ids=[c[0] for c in PROBLEM_CASES])
def test_bad_hypercube_problem(tmp_path, capsys, text, key):
    path = tmp_path / "problem.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out.json"
    line = one_error(capsys, ["analytic", "hypercube", str(path), "--out", str(out)], out)
    assert str(path) in line and key in line


def test_fitted_file_with_duplicate_keys(tmp_path, capsys):
    fitted = tmp_path / "fitted.yaml"
    fitted.write_text("incidents_per_day: 10\nincidents_per_day: 20\n", encoding="utf-8")
    line = run_sets(tmp_path, capsys, f"demand.fitted={fitted}")
    assert str(fitted) in line and "line 2" in line and "duplicate" in line
