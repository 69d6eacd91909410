"""Sweep files: validation (one-line errors before any work), grid, points and Latin hypercube designs."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.errors import InputError
from sim.experiment.sweep_file import load_sweep


def test_grid_is_full_factorial_with_validated_values(write_sweep):
    f = write_sweep("name: g\nreplications: 2\ngrid:\n  alert.level: [green, red]\n"
                    "  force.total_officers: [12, 24, 36]\n")
    plan = load_sweep(f)
    assert plan.param_names == ["alert.level", "force.total_officers"]
    assert len(plan.points) == 6 and plan.replications == 2
    assert [p.params for p in plan.points[:3]] == [
        {"alert.level": "green", "force.total_officers": n} for n in (12, 24, 36)]
    assert all(p.scenario_data["alert"]["level"] == p.params["alert.level"] for p in plan.points)
    assert len({p.key for p in plan.points}) == 6
    # every point shares the seed: common random numbers across the sweep
    assert {p.scenario_data["seed"] for p in plan.points} == {plan.seed}


def test_points_record_the_value_used_even_when_a_point_omits_a_key(write_sweep):
    f = write_sweep("name: p\npoints:\n  - {alert.level: red}\n  - {alert.level: green, force.total_officers: 30}\n")
    plan = load_sweep(f)
    assert plan.points[0].params == {"alert.level": "red", "force.total_officers": 16}
    assert plan.points[1].params == {"alert.level": "green", "force.total_officers": 30}


def test_nested_key_of_a_per_level_mapping(write_sweep):
    f = write_sweep("name: s\ngrid:\n  alert.patrol_share.red: [0.85, 0.95]\n")
    plan = load_sweep(f)
    assert [p.scenario_data["alert"]["patrol_share"]["red"] for p in plan.points] == [0.85, 0.95]
    assert plan.points[0].scenario_data["alert"]["patrol_share"]["green"] == 0.2  # the rest is kept


def test_latin_hypercube_is_stratified_and_reproducible(write_sweep):
    body = ("name: lhs\nsample:\n  n: 8\n  seed: 3\n  ranges: {force.total_officers: [10, 41], "
            "alert.patrol_share.red: [0.8, 1.0]}\n  choices: {alert.level: [green, red]}\n")
    a = load_sweep(write_sweep(body, "a.yaml"))
    b = load_sweep(write_sweep(body, "b.yaml"))
    assert [p.params for p in a.points] == [p.params for p in b.points]
    officers = sorted(p.params["force.total_officers"] for p in a.points)
    assert all(isinstance(v, int) and 10 <= v <= 41 for v in officers)
    # one value in each eighth of the range
    assert sorted({(v - 10) * 8 // 32 for v in officers}) == list(range(8))
    shares = [p.params["alert.patrol_share.red"] for p in a.points]
    assert all(0.8 <= s <= 1.0 for s in shares)
    assert {p.params["alert.level"] for p in a.points} == {"green", "red"}


def test_fixed_set_and_cli_overrides_apply_to_every_point(write_sweep):
    f = write_sweep("name: f\nset:\n  horizon_days: 0.5\ngrid:\n  alert.level: [green, red]\n")
    plan = load_sweep(f, overrides=["warmup_days=0.01"], replications=5, seed=9)
    assert plan.replications == 5 and plan.seed == 9
    for p in plan.points:
        assert p.scenario_data["horizon_days"] == 0.5
        assert p.scenario_data["warmup_days"] == 0.01
        assert p.scenario_data["seed"] == 9


@pytest.mark.parametrize("body, key, words", [
    ("name: x\ngrid:\n  force.total_oficers: [1, 2]\n", "grid.force.total_oficers", "total_officers"),
    ("name: x\ngrid:\n  alert.level: [green, purple]\n", "grid.alert.level", "purple"),
    ("name: x\ngrid:\n  force.total_officers: [100, -5]\n", "grid.force.total_officers", "-5"),
    ("name: x\npoints:\n  - {force.total_officers: 10}\n  - {forse.total_officers: 10}\n", "points[1].forse",
     "unknown key"),
    ("name: x\ngird:\n  alert.level: [red]\n", "gird", "did you mean 'grid'"),
    ("name: x\n", None, "exactly one of grid, points or sample"),
    ("name: x\ngrid:\n  alert.level: []\n", "grid.alert.level", "at least 1"),
    ("name: x\nsample:\n  n: 4\n  ranges: {force.total_officers: [50, 10]}\n", "sample", "low < high"),
    ("name: x\ngrid:\n  force.total_officers.cars: [1]\n", "grid.force.total_officers.cars", "not a section"),
])
def test_bad_sweep_files_fail_with_one_line_naming_file_and_key(write_sweep, body, key, words):
    f = write_sweep(body)
    with pytest.raises(InputError) as err:
        load_sweep(f)
    text = err.value.one_line()
    assert str(f) in text
    if key:
        assert key in text
    assert words in text
    assert "\n" not in text


def test_cli_exits_2_before_any_work(write_sweep, tmp_path, capsys):
    f = write_sweep("name: x\ngrid:\n  force.total_oficers: [10, 20]\n")
    out = tmp_path / "never"
    assert main(["sweep", str(f), "--workers", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("patrolsim: error: ") and "grid.force.total_oficers" in err
    assert not out.exists()


def test_missing_scenario_file_is_named(write_sweep):
    f = write_sweep("name: x\nscenario: nowhere/none.yaml\ngrid:\n  alert.level: [red]\n")
    with pytest.raises(InputError, match="none.yaml"):
        load_sweep(f)


def test_example_sweep_file_loads(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    plan = load_sweep(repo_root / "scenarios" / "sweeps" / "staffing-by-level.yaml")
    assert plan.name == "staffing-by-level" and len(plan.points) == 8 and plan.replications == 4
