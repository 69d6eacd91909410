"""Counts that add up: the doctrine's patrol share is a floor, and every officer and unit count a run
reports (the terminal header, summary.json and staffing.parquet) is the same count.

Before: leftover officers of an incomplete crew vanished (green put 19.2% of the default force on
patrol), ``run`` said "6 of 30 officers on patrol" while the units held 5, and the header's officers
on duty disagreed with staffing.parquet.
"""

from __future__ import annotations

import functools
import json
import math
import re

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.force import crews_per_kind, deploy
from sim.kinds import KIND_NAMES, LEVELS
from sim.scenario import scenario_from_dict

FULL_CREW = {"car": 2, "bicycle": 1, "foot": 2, "motorbike": 1}


@settings(max_examples=300, deadline=None)
@given(officers=st.integers(0, 400),
       mix=st.dictionaries(st.sampled_from(KIND_NAMES), st.floats(0.05, 1.0), min_size=1),
       crew=st.fixed_dictionaries({k: st.integers(1, 4) for k in KIND_NAMES}))
def test_every_patrol_officer_is_in_a_unit_of_the_mix(officers, mix, crew):
    got = crews_per_kind(officers, mix=mix, crew=crew)
    assert sum(sum(c) for c in got.values()) == officers
    for kind, crews in got.items():
        assert mix[kind] > 0
        # full crews, then at most one short crew of the same kind
        assert all(c == crew[kind] for c in crews[:-1])
        assert all(1 <= c <= crew[kind] for c in crews)


@pytest.fixture(scope="module")
def town(small_ctx):
    return small_ctx.city


@functools.lru_cache(maxsize=1)
def _town():
    """The small town's City, built once (not a Hypothesis argument: its repr is large)."""
    from tests.conftest import small_town
    from sim.network import load_city

    return load_city(scenario_from_dict(small_town()), quiet=True)


@settings(max_examples=40, deadline=None)
# at most 100 officers: the small town has 102 places, and a kind with more units than places has
# empty beats (a limit of sim.force that this test is not about)
@given(total=st.integers(8, 100), teams=st.integers(1, 5),
       share=st.lists(st.floats(0.2, 1.0), min_size=4, max_size=4).map(sorted),
       mix=st.dictionaries(st.sampled_from(KIND_NAMES), st.floats(0.05, 1.0), min_size=1),
       crew=st.fixed_dictionaries({k: st.integers(1, 3) for k in KIND_NAMES}),
       checkpoints=st.sampled_from([[], ["exits"], ["stations"]]), each=st.integers(1, 3))
def test_patrol_share_is_a_floor_and_units_hold_every_officer(total, teams, share, mix, crew, checkpoints, each):
    from tests.conftest import small_town

    town = _town()
    sc = scenario_from_dict(small_town(
        force={"total_officers": total, "teams": teams, "mix": mix, "crew": crew,
               "checkpoints": {"at": checkpoints, "officers_each": each, "levels": ["orange", "red"]}},
        alert={"level": "green", "mode": "calendar",
               "calendar": [{"day": 0, "level": lvl} for lvl in LEVELS],
               "patrol_share": dict(zip(LEVELS, share))}))
    try:
        dep = deploy(sc, town)
    except Exception as exc:  # a force too small to respond, or too many units for the town: a scenario error
        assert "form no unit that can respond" in str(exc) or "street nodes for their beats" in str(exc), exc
        return
    for lvl, s in dep.staffing.items():
        doctrine = math.ceil(sc.alert.patrol_share[lvl] * total - 1e-9)
        assert s.patrol_officers >= min(doctrine, s.on_duty_officers)
        # the share is a floor unless the duty-hour limit keeps teams from being called in
        assert s.on_duty_officers >= doctrine or s.on_duty_officers == total or s.teams_on_duty < s.teams_wanted
        # the units hold exactly the staffing's officers, role by role
        assert dep.officers(role="patrol", level=lvl) == s.patrol_officers, lvl
        assert dep.officers(role="standby", level=lvl) == s.standby_officers, lvl
        assert dep.officers(role="checkpoint", level=lvl) == s.checkpoint_officers, lvl
        assert s.patrol_officers + s.standby_officers + s.checkpoint_officers == s.on_duty_officers
        per_kind = {k: dep.officers(kind=k, role="patrol", level=lvl) for k in KIND_NAMES}
        want = crews_per_kind(s.patrol_officers, mix=sc.force.mix, crew=sc.force.crew)
        assert per_kind == {k: sum(want.get(k, ())) for k in KIND_NAMES}


def test_the_default_town_puts_the_doctrine_share_on_patrol(town, small_town_dict):
    """240 officers at green (share 1/5): 48 on patrol, all in units (it was 46: 19.2%)."""
    sc = scenario_from_dict(small_town_dict(force={"total_officers": 240, "teams": 4,
                                                   "mix": {"car": 0.6, "bicycle": 0.2, "foot": 0.2},
                                                   "crew": {"car": 2, "bicycle": 1, "foot": 2}},
                                            alert={"level": "green"}))
    dep = deploy(sc, town)
    assert dep.officers(role="patrol") == 48
    assert {k: dep.count(kind=k, role="patrol") for k in ("car", "bicycle", "foot")} == \
        {"car": 15, "bicycle": 10, "foot": 5}
    assert [u.crew for u in dep.units if u.kind == "car" and u.role == "patrol" and u.on_duty("green")
            and u.assignment("green") is not None].count(1) == 1


HEADER_DUTY = re.compile(r"force: (\d+) of (\d+) officers on duty")
HEADER_PATROL = re.compile(r"on patrol: +(\d+) officers in (\d+) units?(?:: (.*))?")
HEADER_STANDBY = re.compile(r"on standby: +(\d+) officers in (\d+) units?")
HEADER_KIND = re.compile(r"(\d+) (\w+) \((\d+) officers?\)")


@pytest.mark.parametrize("total,mix", [
    (30, {"car": 0.6, "bicycle": 0.2, "foot": 0.2}),
    (23, {"car": 0.5, "motorbike": 0.3, "foot": 0.2}),
])
def test_header_summary_and_staffing_table_agree(tmp_path, capsys, small_town_dict, total, mix):
    data = small_town_dict(force={"total_officers": total, "teams": 4, "mix": mix,
                                  "crew": {"car": 2, "bicycle": 1, "foot": 2, "motorbike": 1}},
                           alert={"level": "green"})
    data["name"] = "counts"
    path = tmp_path / "counts.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--replications", "2", "--out", str(out)]) == 0
    header = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    staffing = pd.read_parquet(out / "staffing.parquet")
    force = summary["force"]

    on_duty, of_total = map(int, HEADER_DUTY.search(header).groups())
    m = HEADER_PATROL.search(header)
    patrol, patrol_units = int(m.group(1)), int(m.group(2))
    kinds = {k: (int(n), int(o)) for n, k, o in HEADER_KIND.findall(m.group(3) or "")}
    standby, standby_units = map(int, HEADER_STANDBY.search(header).groups())

    assert of_total == force["total_officers"] == total
    assert on_duty == force["on_duty_officers"]
    assert patrol == force["patrol_officers"] >= math.ceil(0.2 * total)
    assert patrol == sum(o for _, o in kinds.values()) == sum(force["patrol_unit_officers"].values())
    assert patrol_units == sum(force["patrol_units"].values())
    assert {k: n for k, (n, _) in kinds.items()} == {k: n for k, n in force["patrol_units"].items() if n}
    assert standby == force["standby_officers"] and standby_units == force["standby_units"]
    assert on_duty == patrol + standby + force["checkpoint_officers"]
    # every kind of the mix is counted (the motorbike kind was left out before)
    assert set(kinds) == {k for k in mix if force["patrol_unit_officers"][k]}

    (row,) = [r for r in summary["staffing_by_level"] if r["level"] == "green"]
    assert row["on_duty_officers"] == on_duty and row["patrol_officers"] == patrol
    assert {k: row[f"{k}_units"] for k in KIND_NAMES} == force["patrol_units"]
    assert {k: row[f"{k}_officers"] for k in KIND_NAMES} == force["patrol_unit_officers"]

    # the engine's staffing log, shift by shift, counts the same officers and units
    assert (staffing["officers_on_duty"] == on_duty).all()
    for kind, (n, _) in kinds.items():
        assert (staffing[f"patrol_{kind}"] == n).all(), kind
