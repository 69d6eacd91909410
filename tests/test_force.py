"""The force: units per kind, staffing by alert level, beats covering the town, standby units."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.force import KINDS, crews_per_kind, deploy, units_per_kind, weighted_kmeans
from sim.scenario import scenario_from_dict

MIX = {"car": 0.6, "bicycle": 0.2, "foot": 0.2}
CREW = {"car": 2, "bicycle": 1, "foot": 2}


def test_units_per_kind_largest_remainder_then_crews_with_one_short_crew():
    # 48 officers: 28.8 / 9.6 / 9.6 -> 29 / 10 / 9 officers -> 14 cars and a one-officer car,
    # 10 bicycles, 4 foot pairs and one officer on foot alone
    assert crews_per_kind(48, mix=MIX, crew=CREW) == {"car": (2,) * 14 + (1,), "bicycle": (1,) * 10,
                                                      "foot": (2,) * 4 + (1,)}
    assert units_per_kind(48, mix=MIX, crew=CREW) == {"car": 15, "bicycle": 10, "foot": 5}
    # kinds with no share get no entry; the leftover officer rides alone
    assert units_per_kind(7, mix={"car": 1.0, "bicycle": 0.0, "foot": 0.0}, crew=CREW) == {"car": 4}
    assert units_per_kind(0, mix=MIX, crew=CREW) == {"car": 0, "bicycle": 0, "foot": 0}


@pytest.mark.parametrize("officers", [0, 1, 5, 17, 48, 333])
def test_units_use_every_officer_given(officers):
    got = crews_per_kind(officers, mix=MIX, crew=CREW)
    assert sum(sum(c) for c in got.values()) == officers
    # at most one short crew per kind, and it is the last
    for kind, crews in got.items():
        assert all(c == CREW[kind] for c in crews[:-1]) and all(0 < c <= CREW[kind] for c in crews)


def test_weighted_kmeans_labels_every_point_and_uses_every_label():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1000, 200), rng.uniform(0, 1000, 200)
    w = rng.uniform(0, 1, 200)
    for k in (1, 3, 7):
        lab = weighted_kmeans(x, y, w, k)
        assert lab.shape == (200,)
        assert set(lab.tolist()) == set(range(k))
    # deterministic
    np.testing.assert_array_equal(weighted_kmeans(x, y, w, 5), weighted_kmeans(x, y, w, 5))


@pytest.fixture(scope="module")
def town(small_ctx):
    return small_ctx.city


def _deploy(town, small_town_dict, **overrides):
    return deploy(scenario_from_dict(small_town_dict(**overrides)), town)


@pytest.mark.parametrize("level", ["green", "yellow", "orange", "red"])
def test_patrol_units_follow_staffing_and_mix(town, small_town_dict, level):
    sc = scenario_from_dict(small_town_dict(force={"total_officers": 60, "teams": 4}, alert={"level": level}))
    dep = deploy(sc, town)
    s = dep.staffing[level]
    assert s.patrol_officers_wanted == math.ceil(60 * sc.alert.patrol_share[level] - 1e-9)
    # the share, as far as the duty-hour limit allows (default 16 h: two of four teams)
    assert s.patrol_officers == min(s.patrol_officers_wanted, s.on_duty_officers)
    assert s.teams_on_duty <= 2
    assert s.on_duty_officers >= s.patrol_officers + s.checkpoint_officers
    assert s.standby_officers == s.on_duty_officers - s.patrol_officers - s.checkpoint_officers
    want = units_per_kind(s.patrol_officers, mix=sc.force.mix, crew=sc.force.crew)
    for kind in KINDS:
        assert dep.count(kind=kind, role="patrol") == want.get(kind, 0), kind
    assert dep.count(role="standby") == math.ceil(s.standby_officers / sc.force.crew[sc.force.standby_kind])
    assert dep.officers(role="standby") == s.standby_officers


def test_more_patrol_at_higher_levels(town, small_town_dict):
    counts = []
    for level in ("green", "yellow", "orange", "red"):
        dep = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4}, alert={"level": level})
        counts.append(dep.count(role="patrol"))
    assert counts == sorted(counts)
    assert counts[-1] > counts[0]


def test_beats_of_a_kind_cover_every_place_once(town, small_town_dict):
    dep = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4})
    for kind in KINDS:
        units = [u for u in dep.units if u.kind == kind and u.role == "patrol" and u.beat >= 0]
        if not units:
            continue
        places = np.concatenate([u.beat_places for u in units])
        assert np.array_equal(np.sort(places), np.arange(town.n_places)), kind
        for u in units:
            assert len(u.beat_places) > 0
            np.testing.assert_array_equal(dep.beat_index[(dep.alert_level, kind)][u.beat_places], u.beat)


def test_patrol_units_are_based_at_the_nearest_station(town, small_town_dict):
    dep = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4})
    g = town.places
    sx, sy = g.x_m[town.station_place], g.y_m[town.station_place]
    for u in dep.units:
        if u.role != "patrol" or u.beat < 0:
            continue
        cx, cy = g.x_m[u.beat_places].mean(), g.y_m[u.beat_places].mean()
        assert u.station == int(np.argmin((sx - cx) ** 2 + (sy - cy) ** 2)), u.name


def test_unit_ids_and_names_are_unique_and_ordered(town, small_town_dict):
    dep = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4})
    assert [u.uid for u in dep.units] == list(range(len(dep.units)))
    assert len({u.name for u in dep.units}) == len(dep.units)


def test_deployment_is_deterministic(town, small_town_dict):
    a = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4})
    b = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4})
    assert [(u.name, u.kind, u.role, u.station, u.beat) for u in a.units] == \
        [(u.name, u.kind, u.role, u.station, u.beat) for u in b.units]
    for ua, ub in zip(a.units, b.units):
        np.testing.assert_array_equal(ua.beat_places, ub.beat_places)


def test_standby_units_wait_at_stations(town, small_town_dict):
    dep = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4, "standby_kind": "car"})
    standby = [u for u in dep.units if u.role == "standby"]
    assert standby
    for u in standby:
        assert u.kind == "car" and u.beat == -1 and len(u.beat_places) == 0
        assert 0 <= u.station < len(town.station_place)
    # spread over the stations in turn
    assert {u.station for u in standby} == set(range(min(len(standby), len(town.station_place))))


def test_unit_modes_follow_kinds(town, small_town_dict):
    dep = _deploy(town, small_town_dict, force={"total_officers": 80, "teams": 4})
    modes = {"car": "drive", "bicycle": "bike", "foot": "walk"}
    for u in dep.units:
        if u.kind in modes:
            assert u.mode == modes[u.kind]
