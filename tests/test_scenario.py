"""Scenario validation: defaults, frozen models, and one-line errors naming the key and a fix."""

from __future__ import annotations

import pytest

from sim.errors import InputError, ScenarioError
from sim.scenario import ALERT_LEVELS, Scenario, scenario_from_dict


def _error(data: dict, file: str = "town.yaml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source_file=file)
    return info.value


def _one_line(err: InputError) -> str:
    text = str(err)
    assert "\n" not in text
    assert text == err.one_line()
    return text


# --------------------------------------------------------------------------- valid input
def test_name_alone_gives_the_documented_defaults():
    sc = scenario_from_dict({"name": "minimal"})
    assert sc.network.synthetic is not None and sc.network.osm is None
    assert sc.network.synthetic.area_km2 == pytest.approx(17.4)
    assert sc.lines.response_s == 300 and sc.lines.backup_s == 600
    assert sc.alert.level == "green"
    assert set(sc.alert.patrol_share) == set(ALERT_LEVELS)
    assert sc.horizon_days > sc.warmup_days >= 0
    assert sum(t.share for t in sc.demand.types) == pytest.approx(1.0)
    assert len(sc.demand.hour_profile) == 24 and len(sc.demand.day_profile) == 7


def test_scenario_is_frozen():
    sc = scenario_from_dict({"name": "frozen"})
    with pytest.raises(Exception):
        sc.seed = 3  # type: ignore[misc]
    with pytest.raises(Exception):
        sc.force.total_officers = 3  # type: ignore[misc]


def test_to_dict_round_trips_and_omits_source_file(small_town_dict):
    sc = scenario_from_dict(small_town_dict(), source_file="somewhere/town.yaml")
    data = sc.to_dict()
    assert "source_file" not in data
    again = scenario_from_dict(data, source_file="somewhere/town.yaml")
    assert again == sc
    assert again.to_dict() == data


def test_relative_paths_resolve_against_the_scenario_folder(tmp_path):
    sc = scenario_from_dict({"name": "paths"}, source_file=str(tmp_path / "sub" / "s.yaml"))
    assert sc.source_dir == (tmp_path / "sub").resolve()
    assert sc.resolve_path("maps/town.osm") == (tmp_path / "sub").resolve() / "maps" / "town.osm"
    absolute = tmp_path / "elsewhere.osm"
    assert sc.resolve_path(str(absolute)) == absolute


def test_osm_network_with_a_file_or_a_place_or_a_bbox_validates():
    box = [47.6, -122.4, 47.7, -122.3]
    # a bbox alone downloads it; with a file it crops the file
    for osm in ({"file": "a.osm"}, {"place": "Somewhere"}, {"bbox": box}, {"file": "a.osm", "bbox": box}):
        sc = scenario_from_dict({"name": "osm", "network": {"osm": osm}})
        assert sc.network.osm is not None and sc.network.synthetic is None


def test_stations_as_places_validate():
    sc = scenario_from_dict({"name": "st", "network": {"osm": {
        "file": "a.osm", "stations": [{"name": "North", "lat": 47.66, "lon": -122.31}]}}})
    assert sc.network.osm.stations[0].name == "North"


# --------------------------------------------------------------------------- typos and wrong types
def test_typo_names_the_key_path_and_suggests_the_fix():
    err = _error({"name": "t", "force": {"total_oficers": 300}})
    text = _one_line(err)
    assert err.file == "town.yaml"
    assert err.key == "force.total_oficers"
    assert "unknown key" in text
    assert "total_officers" in err.fix
    assert text.startswith("town.yaml: force.total_oficers:")


def test_typo_inside_a_list_names_the_index():
    err = _error({"name": "t", "demand": {"types": [{"name": "a", "share": 1, "prio": 2}]}})
    assert err.key == "demand.types[0].prio"
    assert "priority" in err.fix


def test_unknown_top_level_key_lists_the_valid_keys():
    err = _error({"name": "t", "zzzz_unrelated": 1})
    assert err.key == "zzzz_unrelated"
    # no close match: the fix lists what is allowed here (at least these keys exist)
    for key in ("horizon_days", "network", "force"):
        assert key in err.fix


@pytest.mark.parametrize("data, key, got", [
    ({"horizon_days": "abc"}, "horizon_days", "'abc'"),
    ({"horizon_days": -1}, "horizon_days", "-1"),
    ({"replications": 0}, "replications", "0"),
    ({"force": {"total_officers": "many"}}, "force.total_officers", "'many'"),
    ({"lines": {"response_s": 0}}, "lines.response_s", "0"),
    ({"alert": {"level": "purple"}}, "alert.level", "'purple'"),
    ({"force": {"mix": {"tank": 1.0}}}, "force.mix", "'tank'"),
    ({"network": {"osm": {"file": "a.osm", "stations": [{"name": "s", "lat": 100, "lon": 0}]}}},
     "network.osm.stations[0].lat", "100"),
])
def test_wrong_type_or_range_names_key_and_value(data, key, got):
    err = _error({"name": "t", **data})
    text = _one_line(err)
    assert err.key.startswith(key)
    assert got in text
    assert err.fix


def test_missing_name_says_add_it():
    err = _error({"description": "no name"})
    assert err.key == "name"
    assert "add" in err.fix


def test_bad_name_characters_are_rejected():
    err = _error({"name": "my scenario!"})
    assert err.key == "name"


def test_several_problems_are_counted_in_the_one_line():
    err = _error({"name": "t", "horizon_days": -1, "warmup_days": -1})
    assert "more problem" in _one_line(err)


@pytest.mark.parametrize("data, key, words", [
    ({"network": {"synthetic": {}, "osm": {"file": "a.osm"}}}, "network", "osm"),
    ({"network": {"osm": {"file": "a.osm", "place": "b"}}}, "network.osm", "place"),
    ({"network": {"osm": {}}}, "network.osm", "file"),
    ({"network": {"osm": {"place": "b", "bbox": [1, 2, 3, 4]}}}, "network.osm", "bbox"),
    ({"network": {"osm": {"bbox": [2, 0, 1, 1]}}}, "network.osm", "south < north"),
    ({"demand": {"hour_profile": [1.0] * 23}}, "demand", "24"),
    ({"demand": {"day_profile": [1.0] * 6}}, "demand", "7"),
    ({"demand": {"hour_profile": [0.0] * 24}}, "demand", "positive"),
    ({"demand": {"types": []}}, "demand", "at least one"),
    ({"demand": {"types": [{"name": "a", "share": 1}, {"name": "a", "share": 2}]}}, "demand", "unique"),
    ({"alert": {"patrol_share": {"green": 0.2}}}, "alert", "yellow"),
    ({"force": {"mix": {"car": 0.0}}}, "force", "positive"),
])
def test_cross_field_rules(data, key, words):
    err = _error({"name": "t", **data})
    text = _one_line(err)
    assert err.key.startswith(key)
    assert words in text


def test_source_file_is_not_a_user_key():
    err = _error({"name": "t", "source_file": "x.yaml"})
    assert err.key == "source_file"


def test_not_a_mapping():
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict([1, 2], source_file="list.yaml")  # type: ignore[arg-type]
    assert info.value.file == "list.yaml"
    assert "mapping" in str(info.value)


def test_scenario_error_is_a_value_error():
    err = _error({"name": "t", "seed": -5})
    assert isinstance(err, ValueError)
    assert isinstance(err, InputError)


def test_extra_keys_are_forbidden_in_every_section():
    """A typo can never be silently ignored, whatever section it is in."""
    for section in ("network", "demand", "force", "alert", "lines", "dispatch"):
        err = _error({"name": "t", section: {"not_a_real_key_xyz": 1}})
        assert err.key == f"{section}.not_a_real_key_xyz", section


def test_model_is_the_scenario_class():
    assert isinstance(scenario_from_dict({"name": "k"}), Scenario)
