"""The registry (sim.kinds): the scenario schema, the docs and the force are generated from it."""

from __future__ import annotations

import json
import subprocess
import sys
import typing

import pytest

from sim import kinds
from sim.errors import ScenarioError
from sim.scenario import AlertSpec, DispatchSpec, ForceSpec, Scenario, Speeds, scenario_from_dict
from tests.conftest import REPO_ROOT


def test_speed_keys_are_the_registry_s():
    want = [s.key for k in kinds.UNIT_KINDS for s in (k.response, k.patrol)]
    assert list(Speeds.model_fields) == want
    sp = Speeds()
    for k in kinds.UNIT_KINDS:
        assert getattr(sp, k.response.key) == k.response.default
        assert getattr(sp, k.patrol.key) == k.patrol.default


def test_force_defaults_and_kind_values_come_from_the_registry():
    f = ForceSpec()
    assert f.crew == {k.name: k.crew for k in kinds.UNIT_KINDS}
    assert f.mix == {k.name: k.mix for k in kinds.UNIT_KINDS}
    crew_keys = typing.get_args(typing.get_args(ForceSpec.model_fields["crew"].annotation)[0])
    assert crew_keys == kinds.KIND_NAMES
    assert DispatchSpec().backup_kinds == list(kinds.KIND_NAMES)
    for k in kinds.UNIT_KINDS:
        if k.max_travel is not None:
            assert getattr(DispatchSpec(), f"{k.name}_max_travel_s") == k.max_travel.default_s


def test_levels_are_ordered_once():
    assert kinds.LEVELS == ("green", "yellow", "orange", "red")
    a = AlertSpec()
    assert list(a.patrol_share) == list(kinds.LEVELS)
    assert [a.patrol_share[lv] for lv in kinds.LEVELS] == sorted(a.patrol_share.values())
    from sim import alert

    assert alert.LEVELS is kinds.LEVELS


def test_a_left_out_crew_keeps_the_registry_default():
    sc = scenario_from_dict({"name": "x", "force": {"crew": {"car": 3}}})
    assert sc.force.crew == {**{k.name: k.crew for k in kinds.UNIT_KINDS}, "car": 3}


def test_an_unknown_kind_is_a_one_line_error_naming_the_key():
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict({"name": "x", "force": {"mix": {"hovercraft": 1.0}}})
    assert "force.mix" in str(e.value)


def test_one_major_road_set():
    from sim import force
    from sim.network import build

    assert force.MAJOR_ROADS == build.MAJOR_CLASSES == kinds.MAJOR_ROAD_CLASSES


@pytest.mark.parametrize("bad, says", [
    ({"graph": "boat"}, "graph"),
    ({"patrol": kinds.Speed("x_patrol_kph", 5.0, "kph", doc="d")}, "both"),
    ({"name": "car"}, "twice"),
])
def test_registry_mistakes_fail_naming_the_entry(bad, says):
    from dataclasses import replace

    car = kinds.kind("car")
    entry = replace(car, name="x", travel="x", response=kinds.Speed("x_factor", 1.0, "road", doc="d"),
                    patrol=kinds.Speed("x_patrol_factor", 0.5, "road", doc="d"))
    entry = replace(entry, **bad)
    with pytest.raises(ValueError, match=says):
        kinds.check_registry(kinds.UNIT_KINDS + (entry,))


ADD_A_KIND = r"""
import json
from dataclasses import replace
import sim.kinds as K
horse = K.UnitKind(name="horse", graph="walk", travel="horse", crew=1, mix=0.0, doc="Mounted unit.",
                   response=K.Speed("horse_kph", 20.0, "kph", gt=0, doc="Horse on a call."),
                   patrol=K.Speed("horse_patrol_kph", 7.0, "kph", gt=0, doc="Horse on patrol."),
                   max_travel=K.MaxTravel(1200.0, "Horses answer only within this travel time."))
K.UNIT_KINDS = K.UNIT_KINDS + (horse,)
K.KIND_NAMES = tuple(k.name for k in K.UNIT_KINDS)
K.check_registry()
from sim.cli.schema_cmd import scenario_schema
from sim.scenario_docs import markdown_table
from sim.scenario import scenario_from_dict
sc = scenario_from_dict({"name": "x", "force": {"mix": {"car": 0.5, "horse": 0.5}},
                         "network": {"synthetic": {}, "speeds": {"horse_kph": 18}}})
print(json.dumps({"schema": scenario_schema(), "table": markdown_table(),
                  "crew": sc.force.crew, "horse_kph": sc.network.speeds.horse_kph,
                  "max": sc.dispatch.horse_max_travel_s}))
"""


def test_a_kind_added_to_the_registry_appears_in_the_schema_and_docs():
    """Adding one registry entry is all the schema needs (run in a fresh interpreter)."""
    out = subprocess.run([sys.executable, "-c", ADD_A_KIND], cwd=REPO_ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""}, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    defs = got["schema"]["$defs"]
    assert {"horse_kph", "horse_patrol_kph"} <= set(defs["Speeds"]["properties"])
    assert "horse_max_travel_s" in defs["DispatchSpec"]["properties"]
    assert "horse" in json.dumps(defs["ForceSpec"]["properties"]["mix"])
    row = next(r for r in got["table"].splitlines() if r.startswith("| `network.speeds.horse_kph` |"))
    assert "| `20.0` |" in row and row.endswith("| Horse on a call. |")
    assert "dispatch.horse_max_travel_s" in got["table"]
    assert got["crew"]["horse"] == 1 and got["horse_kph"] == 18 and got["max"] == 1200.0


def test_every_key_has_a_doc():
    from sim.scenario_docs import KEY_DOCS, key_paths

    missing = [p for p, _, _ in key_paths(Scenario) if p not in KEY_DOCS]
    assert not missing
