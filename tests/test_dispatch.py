"""Dispatch decisions as pure functions, and the engine's pruning giving the same choices as a full search."""

from __future__ import annotations

import numpy as np
import pytest

from sim.dispatch import Candidate, DispatchRules, choose_nearest, eligible, search_needs, select_unit
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.demand import sample_incidents
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed


def cand(uid, eta, kind="car", role="patrol", own=False, nb=False) -> Candidate:
    return Candidate(uid=uid, kind=kind, role=role, eta_s=eta, owns_place=own, neighbour=nb)


# --------------------------------------------------------------------------- choose_nearest
def test_choose_nearest_picks_the_smallest_eta():
    assert choose_nearest(np.array([30.0, 10.0, 20.0]), np.array([0, 1, 2])) == 1


def test_ties_go_to_the_smallest_unit_id_whatever_the_order():
    assert choose_nearest(np.array([10.0, 10.0, 10.0]), np.array([7, 3, 5])) == 1


def test_no_unit_is_an_error():
    with pytest.raises(ValueError):
        choose_nearest(np.array([]), np.array([]))


# --------------------------------------------------------------------------- rules
def test_checkpoints_never_answer():
    assert not eligible(cand(0, 1.0, kind="checkpoint", role="checkpoint"), rules=DispatchRules(), is_backup=False)


def test_foot_and_bicycle_travel_limits_except_in_their_own_beat():
    rules = DispatchRules(max_travel_s={"foot": 600, "bicycle": 900})
    assert eligible(cand(0, 500, kind="foot"), rules=rules, is_backup=False)
    assert not eligible(cand(0, 700, kind="foot"), rules=rules, is_backup=False)
    assert eligible(cand(0, 700, kind="foot", own=True), rules=rules, is_backup=False)
    assert eligible(cand(0, 800, kind="bicycle"), rules=rules, is_backup=False)
    assert not eligible(cand(0, 1000, kind="bicycle"), rules=rules, is_backup=False)
    assert eligible(cand(0, 5000, kind="car"), rules=rules, is_backup=False)


def test_foot_own_beat_only():
    rules = DispatchRules(own_beat_only=frozenset({"foot"}))
    assert not eligible(cand(0, 10, kind="foot"), rules=rules, is_backup=False)
    assert eligible(cand(0, 10, kind="foot", own=True), rules=rules, is_backup=False)


def test_backup_kinds():
    rules = DispatchRules(backup_kinds=frozenset({"car"}))
    assert eligible(cand(0, 10, kind="foot"), rules=rules, is_backup=False)
    assert not eligible(cand(0, 10, kind="foot"), rules=rules, is_backup=True)
    assert eligible(cand(0, 10, kind="car"), rules=rules, is_backup=True)


# --------------------------------------------------------------------------- policies
def test_nearest_policy():
    cands = [cand(0, 300, own=True), cand(1, 100), cand(2, 200)]
    assert select_unit(cands, rules=DispatchRules()).uid == 1


def test_own_beat_first_then_neighbours_then_anyone():
    rules = DispatchRules(policy="own_beat_first")
    assert select_unit([cand(0, 300, own=True), cand(1, 100), cand(2, 200, nb=True)], rules=rules).uid == 0
    assert select_unit([cand(1, 100), cand(2, 200, nb=True), cand(3, 150, nb=True)], rules=rules).uid == 3
    assert select_unit([cand(1, 100), cand(2, 200)], rules=rules).uid == 1


def test_nothing_eligible_gives_none():
    assert select_unit([], rules=DispatchRules()) is None
    assert select_unit([cand(0, 1, kind="checkpoint", role="checkpoint")], rules=DispatchRules()) is None


def test_reserve_for_major_incidents():
    rules = DispatchRules(reserve_for=frozenset({"major"}))
    cands = [cand(0, 200), cand(9, 100, role="reserve")]
    assert select_unit(cands, rules=rules, major=True).uid == 9
    assert select_unit(cands, rules=rules, major=False).uid == 0


def test_reserve_only_when_no_patrol_unit_makes_the_line():
    rules = DispatchRules(reserve_for=frozenset({"beyond_line"}))
    cands = [cand(0, 400), cand(9, 250, role="reserve")]
    assert select_unit(cands, rules=rules, time_left_s=300).uid == 9      # patrol unit would miss the line
    assert select_unit(cands, rules=rules, time_left_s=500).uid == 0      # patrol unit makes it
    assert select_unit([cand(0, 400), cand(9, 450, role="reserve")], rules=rules, time_left_s=300).uid == 0


def test_search_needs_follow_the_rules():
    """What the engine's one search must locate is read from the rules, not hard-wired in the engine."""
    plain = search_needs(DispatchRules(), has_reserve=False)
    assert plain.best_only and not plain.owners and not plain.reserve and plain.ruled_kinds == frozenset()
    # a reserve needs select_unit's reserve rules, so the search hands over a list of candidates
    assert not search_needs(DispatchRules(), has_reserve=True).best_only
    assert search_needs(DispatchRules(), has_reserve=True).reserve
    owners = search_needs(DispatchRules(policy="own_beat_first"), has_reserve=False)
    assert owners.owners and not owners.best_only
    ruled = search_needs(DispatchRules(own_beat_only=frozenset({"foot"}), max_travel_s={"bicycle": 300.0},
                                       backup_kinds=frozenset({"car"})), has_reserve=False)
    assert ruled.best_only and ruled.ruled_kinds == {"foot", "bicycle"} and ruled.backup_kinds == {"car"}
    assert search_needs(DispatchRules(max_travel_s={"foot": 600.0}), has_reserve=False).ruled_kinds == {"foot"}


def test_rules_from_the_scenario():
    sc = scenario_from_dict({"name": "d", "dispatch": {"policy": "own_beat_first", "backup_kinds": ["car"]}})
    rules = DispatchRules.from_spec(sc.dispatch)
    assert rules.policy == "own_beat_first"
    assert rules.backup_kinds == frozenset({"car"})


# --------------------------------------------------------------------------- engine pruning
@pytest.mark.parametrize("overrides, shortcut", [
    ({}, True),
    ({"force": {"total_officers": 60, "teams": 4}, "alert": {"level": "red"}, "demand": {"incidents_per_day": 150}},
     True),
    # foot units answer only in their own beat and only cars back up: eligibility inside the shortcut
    ({"force": {"total_officers": 60, "teams": 4, "mix": {"car": 0.4, "bicycle": 0.2, "foot": 0.4}},
      "dispatch": {"foot_own_beat_only": True, "backup_kinds": ["car"]},
      "demand": {"incidents_per_day": 150}}, True),
    ({"force": {"total_officers": 60, "teams": 4, "reserve": {"units": 2}},
      "dispatch": {"policy": "own_beat_first"}, "demand": {"incidents_per_day": 150}}, False),
])
def test_lower_bound_pruning_gives_the_same_dispatches_as_a_full_search(small_town_dict, overrides, shortcut):
    """The engine skips units whose lower bound cannot win; a full search must choose the same units.

    With nearest-unit dispatch and no reserve the engine also takes a shortcut (no list of
    candidates, no ``select_unit``); the last case goes through ``select_unit``.
    """
    ctx = prepare(scenario_from_dict(small_town_dict(**overrides)), quiet=True)
    for r in range(2):
        rep = replication_seed(ctx.scenario.seed, r)
        inc = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
        engine = make_engine(ctx, inc, rep)
        assert engine.needs.best_only == shortcut
        fast = engine.run()
        full = make_engine(ctx, inc, rep, exhaustive=True).run()
        assert fast.units_sent == full.units_sent
        np.testing.assert_array_equal(fast.dispatch_s, full.dispatch_s)
        assert fast.arrivals_s == full.arrivals_s
