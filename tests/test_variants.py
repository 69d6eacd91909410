"""Scenario variants: ``base: FILE`` chains, deep merge, errors, origins in the resolved scenario,
and the commands that read scenarios (run, compare, sweep, hold) accepting variants."""

from __future__ import annotations

import json

import pytest
import yaml

from sim.cli import main
from sim.errors import InputError, ScenarioError
from sim.scenario import scenario_from_dict
from sim.scenario_file import load_scenario, read_scenario_data, resolved_yaml


def _write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def town(tmp_path, small_town_dict):
    """A base scenario file (the small town) with a hot spot list and a crew mapping."""
    data = small_town_dict()
    data["demand"]["hotspots"] = [{"name": "market", "lat": 30.98, "lon": 104.28, "multiplier": 4},
                                  {"name": "station", "lat": 30.975, "lon": 104.285}]
    data["force"]["crew"] = {"car": 2, "bicycle": 1, "foot": 2}
    return _write(tmp_path / "town.yaml", yaml.safe_dump(data, sort_keys=False))


# --------------------------------------------------------------------------- merging
def test_variant_changes_only_what_it_names(tmp_path, town):
    v = _write(tmp_path / "v.yaml", "base: town.yaml\nname: v\nforce:\n  crew: {car: 3}\n  total_officers: 20\n")
    base, sc = load_scenario(town), load_scenario(v)
    assert sc.name == "v" and sc.force.total_officers == 20
    # mappings merge key by key: crew.car changes, crew.bicycle and crew.foot stay
    assert {k: sc.force.crew[k] for k in ("car", "bicycle", "foot")} == {"car": 3, "bicycle": 1, "foot": 2}
    assert sc.force.teams == base.force.teams == 2
    assert sc.demand == base.demand and sc.network == base.network
    assert sc.source_file == str(v)


def test_a_list_in_the_variant_replaces_the_base_list(tmp_path, town):
    v = _write(tmp_path / "v.yaml",
               "base: town.yaml\nname: v\ndemand:\n  hotspots:\n    - {name: fair, lat: 30.97, lon: 104.27}\n")
    sc = load_scenario(v)
    assert [h.name for h in sc.demand.hotspots] == ["fair"]
    assert sc.demand.incidents_per_day == load_scenario(town).demand.incidents_per_day


def test_chains_resolve_in_order_and_null_replaces(tmp_path, town):
    _write(tmp_path / "sub" / "b.yaml", "base: ../town.yaml\nname: b\nforce: {total_officers: 30}\n"
                                        "dispatch: {foot_max_travel_s: 300}\n")
    c = _write(tmp_path / "c.yaml",
               "base: sub/b.yaml\nname: c\nforce: {teams: 3}\ndispatch: {foot_max_travel_s: null}\n")
    sc = load_scenario(c)
    assert (sc.name, sc.force.total_officers, sc.force.teams) == ("c", 30, 3)
    assert sc.dispatch.foot_max_travel_s is None          # null in the variant wins over the base's 300
    _, origins = read_scenario_data(c)
    assert origins[("force", "total_officers")] == "sub/b.yaml"
    assert origins[("force", "teams")] == "c.yaml"
    assert origins[("seed",)] == "town.yaml"


def test_relative_paths_of_a_base_keep_pointing_at_the_same_file(tmp_path):
    _write(tmp_path / "city" / "base.yaml", "name: base\nnetwork:\n  osm:\n    file: maps/town.osm\n")
    v = _write(tmp_path / "variants" / "v.yaml", "base: ../city/base.yaml\nname: v\n")
    sc = load_scenario(v)
    assert sc.resolve_path(sc.network.osm.file).resolve() == (tmp_path / "city" / "maps" / "town.osm").resolve()


# --------------------------------------------------------------------------- errors
def test_missing_base_is_one_line_naming_the_file_and_key(tmp_path):
    v = _write(tmp_path / "v.yaml", "base: nowhere.yaml\nname: v\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(v)
    e = info.value
    assert (e.file, e.key) == (str(v), "base") and "nowhere.yaml" in e.detail and "not found" in e.detail
    assert "\n" not in str(e) and "relative to this file" in e.fix


@pytest.mark.parametrize("files", [
    {"a.yaml": "base: a.yaml\nname: a\n"},
    {"a.yaml": "base: b.yaml\nname: a\n", "b.yaml": "base: c.yaml\nname: b\n", "c.yaml": "base: a.yaml\nname: c\n"},
])
def test_a_cycle_of_bases_is_one_line(tmp_path, files):
    for name, text in files.items():
        _write(tmp_path / name, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.yaml")
    e = info.value
    assert e.key == "base" and "loops back" in e.detail and "a.yaml -> " in e.detail and "\n" not in str(e)


@pytest.mark.parametrize("value", ["''", "3", "[a.yaml]"])
def test_base_must_name_a_file(tmp_path, value):
    v = _write(tmp_path / "v.yaml", f"base: {value}\nname: v\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(v)
    assert info.value.key == "base"


def test_a_bad_key_in_a_base_is_blamed_on_the_base(tmp_path):
    b = _write(tmp_path / "b.yaml", "name: b\nforce: {total_oficers: 3}\n")
    v = _write(tmp_path / "v.yaml", "base: b.yaml\nname: v\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(v)
    assert info.value.file == str(b) and info.value.key == "force.total_oficers"
    # ... but a bad --set on the variant is blamed on the variant
    _write(tmp_path / "b.yaml", "name: b\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(v, overrides=["force.total_oficers=3"])
    assert info.value.file == str(v)


def test_cli_exit_code_2_for_a_cycle(tmp_path, capsys):
    _write(tmp_path / "a.yaml", "base: b.yaml\nname: a\n")
    _write(tmp_path / "b.yaml", "base: a.yaml\nname: b\n")
    assert main(["run", str(tmp_path / "a.yaml"), "--quiet", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "base" in err and "loops back" in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the resolved scenario
def test_resolved_scenario_says_where_each_key_came_from_and_loads_again(tmp_path, town):
    v = _write(tmp_path / "v.yaml", "base: town.yaml\nname: v\nforce: {total_officers: 20}\n")
    sc = load_scenario(v, overrides=["alert.level=red", "demand.hotspots[1].multiplier=2"])
    text = resolved_yaml(sc, seed=5, replications=2)
    lines = {}
    for ln in text.splitlines():
        if not ln.startswith("#"):
            lines.setdefault(ln.split(":")[0].strip(), ln)  # the first key of that name (top level first)
    assert lines["total_officers"].endswith("# from v.yaml")
    assert lines["teams"].endswith("# from town.yaml")
    assert lines["level"].endswith("# set for this run")
    assert lines["hotspots"].endswith("# set for this run")
    assert lines["seed"].endswith("# set for this run")            # 5, not the file's 11
    assert lines["replications"].endswith("# from town.yaml")      # 2, as in the file
    assert lines["shift_hours"].endswith("# default")
    again = scenario_from_dict(yaml.safe_load(text))
    assert again == sc.model_copy(update={"seed": 5, "replications": 2, "source_file": None})
    assert again.demand.hotspots[1].multiplier == 2


def test_run_writes_the_origins_of_a_variant(tmp_path, town):
    v = _write(tmp_path / "v.yaml", "base: town.yaml\nname: v\nforce: {total_officers: 20}\n")
    out = tmp_path / "out"
    assert main(["run", str(v), "--quiet", "--out", str(out), "--replications", "1"]) == 0
    text = (out / "scenario.resolved.yaml").read_text(encoding="utf-8")
    assert "# from town.yaml" in text and "# from v.yaml" in text
    assert load_scenario(out / "scenario.resolved.yaml").force.total_officers == 20


# --------------------------------------------------------------------------- shipped variants
def test_shipped_doctrine_and_compare_scenarios_are_variants(repo_root):
    sc_dir = repo_root / "scenarios"
    doctrine = yaml.safe_load((sc_dir / "guanghan_doctrine.yaml").read_text(encoding="utf-8"))
    assert doctrine["base"] == "default.yaml" and set(doctrine["network"]) == {"speeds"}
    default, doc = load_scenario(sc_dir / "default.yaml"), load_scenario(sc_dir / "guanghan_doctrine.yaml")
    # the town is the default's; the doctrine only adds its motorbikes' speed
    assert doc.network.synthetic == default.network.synthetic
    assert doc.network.speeds.emergency_speed_factor == default.network.speeds.emergency_speed_factor
    assert doc.force.total_officers == default.force.total_officers and doc.force.mix["motorbike"] > 0
    assert doc.dispatch.policy == "own_beat_first" and doc.beats.areas == "stations"
    a, b = load_scenario(sc_dir / "compare" / "force-200.yaml"), load_scenario(sc_dir / "compare" / "force-300.yaml")
    assert (a.force.total_officers, b.force.total_officers) == (200, 300)
    assert a.model_copy(update={"name": "x", "description": "", "source_file": None, "force": b.force}) == \
        b.model_copy(update={"name": "x", "description": "", "source_file": None})


# --------------------------------------------------------------------------- sweep and hold read variants
def test_a_sweep_of_a_variant_with_list_keys(tmp_path, town):
    _write(tmp_path / "v.yaml", "base: town.yaml\nname: v\nforce: {total_officers: 20}\n")
    sweep = _write(tmp_path / "s.yaml", "name: s\nscenario: v.yaml\nset:\n  demand.hotspots[0].multiplier: 3\n"
                                        "grid:\n  demand.types[2].share: [0.1, 0.4]\n")
    from sim.experiment.sweep_file import load_sweep

    plan = load_sweep(sweep)
    assert plan.base["force"]["total_officers"] == 20 and plan.base["force"]["teams"] == 2
    assert plan.base["demand"]["hotspots"][0]["multiplier"] == 3
    assert [p.params for p in plan.points] == [{"demand.types[2].share": 0.1}, {"demand.types[2].share": 0.4}]
    assert [p.scenario_data["demand"]["types"][2]["share"] for p in plan.points] == [0.1, 0.4]


def test_sweep_list_index_out_of_range_names_the_index_and_length(tmp_path, town):
    sweep = _write(tmp_path / "s.yaml", "name: s\nscenario: town.yaml\ngrid:\n  demand.types[7].share: [0.1]\n")
    from sim.experiment.sweep_file import load_sweep

    with pytest.raises(InputError) as info:
        load_sweep(sweep)
    e = info.value
    assert e.file == str(sweep) and e.key == "grid.demand.types[7].share"
    assert "the list has 5 items" in e.detail and e.fix == "use an index from 0 to 4"


def test_hold_varies_a_list_item_of_a_variant(tmp_path, town):
    from sim.experiment.hold import hold_config

    v = _write(tmp_path / "v.yaml", "base: town.yaml\nname: v\n")
    base = load_scenario(v).to_dict()
    cfg = hold_config(base, "demand.hotspots[0].multiplier", vmin=1, vmax=8)
    assert cfg.path("green") == "demand.hotspots[0].multiplier" and not cfg.integer
    assert cfg.overrides(base, "red", 2.5) == {"alert.level": "red", "demand.hotspots[0].multiplier": 2.5}
    with pytest.raises(InputError) as info:
        hold_config(base, "demand.hotspots[2].multiplier")
    assert "the list has 2 items" in str(info.value) and "use an index from 0 to 1" in str(info.value)


def test_compare_reads_variants(tmp_path, town, capsys):
    a = _write(tmp_path / "a.yaml", "base: town.yaml\nname: a\n")
    b = _write(tmp_path / "b.yaml", "base: a.yaml\nname: b\nforce: {total_officers: 24}\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--quiet", "--workers", "1", "--replications", "2",
                 "--out", str(out)]) == 0
    comp = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert comp["scenarios"] == ["a", "b"]
    assert "# from town.yaml" in (out / "b.resolved.yaml").read_text(encoding="utf-8")


def test_hold_command_on_a_variant_varies_a_list_item(tmp_path, town, capsys):
    v = _write(tmp_path / "v.yaml", "base: town.yaml\nname: v\n")
    out = tmp_path / "hold"
    assert main(["hold", str(v), "--vary", "demand.types[0].share", "--levels", "green", "--min", "0.05",
                 "--max", "0.8", "--step", "0.25", "--min-replications", "2", "--max-replications", "2",
                 "--workers", "1", "--out", str(out)]) == 0
    report = json.loads((out / "hold.json").read_text(encoding="utf-8"))
    assert report["vary"] == "demand.types[0].share"
    assert all(0.05 <= p["value"] <= 0.8 for lv in report["levels"] for p in lv["probes"])
    assert "# from town.yaml" in (out / "scenario.resolved.yaml").read_text(encoding="utf-8")


def test_resolved_scenario_without_a_file_has_no_origin_notes(small_town_dict):
    sc = scenario_from_dict(small_town_dict())
    text = resolved_yaml(sc, seed=1, replications=1)
    body = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert body and not any("#" in ln for ln in body)
    assert scenario_from_dict(yaml.safe_load(text)).force == sc.force
