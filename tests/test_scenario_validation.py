"""The validation layer's parts on their own: strict YAML, the budget, the cross-key checks."""

from __future__ import annotations

import pytest

from sim.budget import check, estimate
from sim.errors import ScenarioError
from sim.scenario import scenario_from_dict
from sim.strict_yaml import MAX_DEPTH, loads


# --------------------------------------------------------------------------- strict YAML
def test_plain_yaml_still_reads():
    assert loads("a: [1, {b: 2.5}]\nc: .inf\n", file="f.yaml") == {"a": [1, {"b": 2.5}], "c": float("inf")}


def test_depth_at_the_limit_reads_and_one_more_does_not():
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads(ok, file="f.yaml") is not None
    deeper = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(ScenarioError, match="nested deeper than"):
        loads(deeper, file="f.yaml")


def test_duplicate_key_inside_a_list_of_mappings_names_both_lines():
    text = "types:\n  - name: a\n    share: 1\n    share: 2\n"
    with pytest.raises(ScenarioError) as exc:
        loads(text, file="f.yaml")
    assert "line 4" in str(exc.value) and "first at line 3" in str(exc.value) and "f.yaml" in str(exc.value)


def test_anchor_on_a_scalar_is_refused():
    with pytest.raises(ScenarioError, match="anchors and aliases"):
        loads("a: &x 1\n", file="f.yaml")


def test_equal_values_under_different_keys_are_fine():
    assert loads("a: 1\nb: 1\n", file="f.yaml") == {"a": 1, "b": 1}


# --------------------------------------------------------------------------- budget
def test_estimate_grows_with_replications_and_horizon():
    sc = scenario_from_dict({"name": "x"})
    one = estimate(sc, replications=1)
    five = estimate(sc, replications=5)
    assert five.incidents == pytest.approx(5 * one.incidents)
    longer = estimate(sc.model_copy(update={"horizon_days": 14.0}), replications=1)
    assert longer.incidents == pytest.approx(2 * one.incidents)
    assert five.bytes > one.bytes and five.seconds > one.seconds


def test_the_default_scenario_fits_and_a_tiny_limit_refuses_it(monkeypatch):
    sc = scenario_from_dict({"name": "x"})
    assert check(sc).bytes < 1e9                                   # the default needs well under 1 GB
    monkeypatch.setenv("PATROLSIM_MAX_MEMORY_GB", "0.01")
    with pytest.raises(ScenarioError, match="PATROLSIM_MAX_MEMORY_GB"):
        check(sc)
    monkeypatch.delenv("PATROLSIM_MAX_MEMORY_GB")
    monkeypatch.setenv("PATROLSIM_MAX_RUN_HOURS", "0.000001")
    with pytest.raises(ScenarioError, match="hours of computing"):
        check(sc)


# --------------------------------------------------------------------------- cross-key checks
@pytest.mark.parametrize("data, key", [
    ({"horizon_days": 2, "warmup_days": 2}, "warmup_days"),
    ({"force": {"shift_hours": 5}}, "force.shift_hours"),
    ({"network": {"synthetic": {"area_km2": 0.2, "block_m": 300}}}, "network.synthetic.area_km2"),
], ids=["warmup", "shift", "area-vs-block"])
def test_cross_key_problems(data, key):
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict({"name": "x", **data}, source_file="town.yaml")
    assert exc.value.key == key and exc.value.file == "town.yaml" and exc.value.fix


@pytest.mark.parametrize("data", [
    {"force": {"shift_hours": 12}}, {"force": {"shift_hours": 6}},
    {"force": {"crew": {"foot": 2, "car": 2}, "mix": {"foot": 1.0}}},
    {"horizon_days": 2, "warmup_days": 1.9},
])
def test_cross_key_rules_allow_what_the_model_runs(data):
    scenario_from_dict({"name": "x", **data})


def test_control_character_is_one_line():
    with pytest.raises(ScenarioError, match="f.yaml: character #x007f"):
        loads("\x7f", file="f.yaml")
