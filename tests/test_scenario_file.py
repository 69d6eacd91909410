"""Scenario files: reading YAML, --set overrides, and the resolved scenario written with every run."""

from __future__ import annotations

import pytest
import yaml

from sim.errors import ScenarioError
from sim.scenario import scenario_from_dict
from sim.scenario_file import (PACKAGE_DEFAULT, apply_overrides, load_scenario, parse_override,
                               read_yaml, resolved_yaml)


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- read_yaml
def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        read_yaml(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value) and "not found" in str(info.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        read_yaml(tmp_path)
    assert "folder" in str(info.value)


def test_yaml_syntax_error_names_line(tmp_path):
    p = _write(tmp_path / "bad.yaml", "name: x\nforce:\n  total_officers: [1, 2\n")
    with pytest.raises(ScenarioError) as info:
        read_yaml(p)
    text = str(info.value)
    assert "\n" not in text
    assert "bad.yaml" in text and "line" in text


def test_empty_file(tmp_path):
    p = _write(tmp_path / "empty.yaml", "# only a comment\n")
    with pytest.raises(ScenarioError) as info:
        read_yaml(p)
    assert "empty" in str(info.value)


def test_not_utf8(tmp_path):
    p = tmp_path / "latin.yaml"
    p.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ScenarioError) as info:
        read_yaml(p)
    assert "UTF-8" in str(info.value)


def test_top_level_list_is_rejected(tmp_path):
    p = _write(tmp_path / "list.yaml", "- a\n- b\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    assert "list.yaml" in str(info.value) and "mapping" in str(info.value)


# --------------------------------------------------------------------------- overrides
def test_parse_override_reads_values_as_yaml():
    assert parse_override("force.total_officers=300") == (["force", "total_officers"], 300)
    assert parse_override("horizon_days=0.5") == (["horizon_days"], 0.5)
    assert parse_override("alert.level=red") == (["alert", "level"], "red")
    assert parse_override("force.mix={car: 1}") == (["force", "mix"], {"car": 1})
    assert parse_override("description=") == (["description"], "")


@pytest.mark.parametrize("text", ["force.total_officers", "=3", "force..x=3", ".x=1"])
def test_parse_override_rejects_malformed(text):
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert "\n" not in str(info.value)


def test_apply_overrides_creates_sections_and_does_not_touch_the_input():
    data = {"name": "a", "force": {"teams": 4}}
    out = apply_overrides(data, ["force.total_officers=10", "lines.response_s=240"], file="a.yaml")
    assert out == {"name": "a", "force": {"teams": 4, "total_officers": 10}, "lines": {"response_s": 240}}
    assert data == {"name": "a", "force": {"teams": 4}}


def test_apply_override_into_a_value_is_an_error():
    with pytest.raises(ScenarioError) as info:
        apply_overrides({"name": "a", "seed": 3}, ["seed.inner=1"], file="a.yaml")
    assert info.value.file == "a.yaml"
    assert info.value.key == "seed.inner"


def test_override_typo_names_the_file_and_key(tmp_path):
    p = _write(tmp_path / "s.yaml", "name: s\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p, overrides=["force.total_oficers=300"])
    assert info.value.key == "force.total_oficers"
    assert str(p) in str(info.value)
    assert "total_officers" in info.value.fix


# --------------------------------------------------------------------------- load_scenario
def test_load_scenario_applies_overrides(tmp_path):
    p = _write(tmp_path / "s.yaml", "name: s\nforce:\n  total_officers: 50\n")
    sc = load_scenario(p, overrides=["force.total_officers=60", "alert.level=red"])
    assert sc.force.total_officers == 60
    assert sc.alert.level == "red"
    assert sc.source_file == str(p)


def test_the_default_scenario_loads_from_the_package(monkeypatch, tmp_path):
    # away from the repository, the copy shipped inside the package is used
    monkeypatch.chdir(tmp_path)
    sc = load_scenario(None)
    assert sc.name == "default"
    assert sc.network.synthetic is not None
    assert sc.source_file == str(PACKAGE_DEFAULT)


def test_shipped_scenarios_validate(repo_root):
    for path in sorted((repo_root / "scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        assert sc.name, path


def test_repository_default_equals_the_packaged_default(repo_root):
    ours = yaml.safe_load((repo_root / "scenarios" / "default.yaml").read_text(encoding="utf-8"))
    packaged = yaml.safe_load(PACKAGE_DEFAULT.read_text(encoding="utf-8"))
    assert ours == packaged


# --------------------------------------------------------------------------- resolved scenario
def test_resolved_yaml_round_trips_with_seed_and_versions(tmp_path, small_town_dict):
    src = _write(tmp_path / "town.yaml", yaml.safe_dump(small_town_dict()))
    sc = load_scenario(src)
    text = resolved_yaml(sc, seed=99, replications=3)
    data = yaml.safe_load(text)
    assert data["seed"] == 99 and data["replications"] == 3
    again = scenario_from_dict(data)
    assert again.model_copy(update={"seed": sc.seed, "replications": sc.replications}) == \
        sc.model_copy(update={"source_file": None})
    # provenance (package and dependency versions) is kept as comments
    assert "# provenance" in text
    for name in ("patrolsim", "numpy", "simpy", "osmnx"):
        assert f"#     {name}:" in text, name


def test_resolved_yaml_makes_the_osm_path_absolute(tmp_path):
    (tmp_path / "maps").mkdir()
    src = _write(tmp_path / "city.yaml", "name: city\nnetwork:\n  osm:\n    file: maps/town.osm\n")
    sc = load_scenario(src)
    data = yaml.safe_load(resolved_yaml(sc, seed=1, replications=1))
    assert data["network"]["osm"]["file"] == str((tmp_path / "maps" / "town.osm").resolve())


# --------------------------------------------------------------------------- list items in key paths
def test_parse_override_reads_list_indices():
    assert parse_override("network.osm.stations[0].lat=47.66") == (["network", "osm", "stations", 0, "lat"], 47.66)
    assert parse_override("demand.types[2].share=0.1") == (["demand", "types", 2, "share"], 0.1)
    assert parse_override("a.m[1][2]=3") == (["a", "m", 1, 2], 3)


@pytest.mark.parametrize("text", ["demand.types[x].share=1", "demand.types[-1].share=1", "demand.types[.share=1",
                                  "demand.[0]=1", "demand.types[0]x=1"])
def test_parse_override_rejects_malformed_indices(text):
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert "\n" not in str(info.value) and info.value.fix


def test_set_an_item_of_a_list_in_the_file():
    data = {"name": "a", "network": {"osm": {"file": "x.osm", "stations": [{"name": "A", "lat": 1, "lon": 2},
                                                                          {"name": "B", "lat": 3, "lon": 4}]}}}
    out = apply_overrides(data, ["network.osm.stations[1].lat=47.66"], file="a.yaml")
    assert out["network"]["osm"]["stations"][1] == {"name": "B", "lat": 47.66, "lon": 4}
    assert data["network"]["osm"]["stations"][1]["lat"] == 3   # the input is not touched


def test_set_an_item_of_a_default_list(tmp_path):
    # the file keeps the built-in incident types; the override still reaches the third one
    p = _write(tmp_path / "s.yaml", "name: s\n")
    sc = load_scenario(p, overrides=["demand.types[2].share=0.05"])
    assert sc.demand.types[2].name == "traffic" and sc.demand.types[2].share == 0.05
    assert [t.share for t in sc.demand.types][:2] == [0.1, 0.3]


def test_index_out_of_range_names_the_index_and_the_length(tmp_path):
    p = _write(tmp_path / "s.yaml", "name: s\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p, overrides=["demand.types[7].share=0.1"])
    e = info.value
    assert str(e) == (f"{p}: demand.types[7]: index out of range (the list has 5 items) "
                      "(fix: use an index from 0 to 4)")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p, overrides=["demand.hotspots[0].multiplier=3"])
    assert info.value.key == "demand.hotspots[0]" and "empty" in info.value.detail


def test_index_into_a_value_that_is_not_a_list(tmp_path):
    p = _write(tmp_path / "s.yaml", "name: s\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p, overrides=["force.total_officers[0]=3"])
    assert info.value.key == "force.total_officers" and "not a list" in info.value.detail


def test_unknown_key_inside_a_list_item_is_named_with_its_index(tmp_path):
    p = _write(tmp_path / "s.yaml", "name: s\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p, overrides=["demand.types[0].shar=0.1"])
    assert info.value.key == "demand.types[0].shar" and "share" in info.value.fix


def test_cli_set_on_a_list_item(tmp_path, capsys):
    from sim.cli import main

    assert main(["run", "--set", "demand.types[9].share=0.1", "--quiet", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "demand.types[9]: index out of range (the list has 5 items)" in err and "unknown key" not in err
