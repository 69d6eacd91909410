"""Dispatch policies and unit-kind rules, as pure functions and in the engine."""

import numpy as np
import pandas as pd

from sim.dispatch import Candidate, DispatchRules, eligible, select_unit
from sim.experiment import prepare, run_replication
from sim.experiment.replicate import make_engine
from sim.demand import sample_incidents
from sim.streams import replication_seed


def c(uid, eta, kind="car", role="patrol", own=False, nb=False):
    return Candidate(uid, kind, role, eta, own, nb)


def test_own_beat_first_prefers_the_owner_then_neighbours():
    cands = [c(0, 100), c(1, 250, own=True), c(2, 150, nb=True)]
    assert select_unit(cands, rules=DispatchRules(policy="nearest")).uid == 0
    assert select_unit(cands, rules=DispatchRules(policy="own_beat_first")).uid == 1
    assert select_unit(cands[:1] + cands[2:], rules=DispatchRules(policy="own_beat_first")).uid == 2


def test_ties_go_to_the_lower_unit_id():
    assert select_unit([c(5, 100), c(3, 100), c(4, 100)], rules=DispatchRules()).uid == 3


def test_foot_units_answer_far_calls_only_in_their_beat():
    rules = DispatchRules(max_travel_s={"foot": 600})
    assert eligible(c(0, 500, kind="foot"), rules=rules, is_backup=False)
    assert not eligible(c(0, 700, kind="foot"), rules=rules, is_backup=False)
    assert eligible(c(0, 700, kind="foot", own=True), rules=rules, is_backup=False)
    strict = DispatchRules(own_beat_only=frozenset({"foot"}))
    assert not eligible(c(0, 10, kind="foot"), rules=strict, is_backup=False)
    cars_only = DispatchRules(backup_kinds=frozenset({"car"}))
    assert not eligible(c(0, 10, kind="bicycle"), rules=cars_only, is_backup=True)
    assert eligible(c(0, 10, kind="bicycle"), rules=cars_only, is_backup=False)
    assert not eligible(c(0, 10, kind="checkpoint", role="checkpoint"), rules=rules, is_backup=False)


def test_reserve_goes_to_major_incidents_and_beyond_the_line():
    rules = DispatchRules(reserve_for=frozenset({"major", "beyond_line"}))
    cands = [c(0, 400), c(9, 200, role="reserve")]
    assert select_unit(cands, rules=rules, major=True).uid == 9
    assert select_unit(cands, rules=rules, time_left_s=500).uid == 0      # a patrol unit makes the line
    assert select_unit(cands, rules=rules, time_left_s=300).uid == 9      # none does; the reserve is faster
    assert select_unit(cands, rules=DispatchRules(), major=True, time_left_s=0).uid == 0


def _run(sc, rep=0, exhaustive=False):
    ctx = prepare(sc)
    seq = replication_seed(sc.seed, rep)
    inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
    return ctx, make_engine(ctx, inc, seq, exhaustive=exhaustive).run()


def test_pruned_dispatch_equals_exhaustive_search(make_small):
    for policy in ("nearest", "own_beat_first"):
        sc = make_small(**{"dispatch.policy": policy, "force.reserve": {"units": 1}})
        _, fast = _run(sc)
        _, full = _run(sc, exhaustive=True)
        assert fast.units_sent == full.units_sent
        assert fast.arrivals_s == full.arrivals_s


def test_own_beat_first_lowers_cross_area_dispatch(make_small):
    a = run_replication(prepare(make_small(**{"dispatch.policy": "nearest"})), 0).metrics
    b = run_replication(prepare(make_small(**{"dispatch.policy": "own_beat_first"})), 0).metrics
    assert b["cross_area_share"] < a["cross_area_share"]


def test_foot_units_obey_own_beat_only(make_small):
    sc = make_small(**{"dispatch.foot_own_beat_only": True, "force.mix": {"car": 0.3, "foot": 0.7}})
    ctx, log = _run(sc)
    dep = ctx.deployment
    foot_calls = 0
    for st in log.units:
        if st.unit.kind != "foot":
            continue
        places = set(st.unit.beat_places.tolist())
        for i, *_ in st.trips:
            foot_calls += 1
            assert int(log.incidents.place[i]) in places
    assert foot_calls > 0


def test_checkpoints_never_move(make_small):
    # no duty-hour limit: at 16 h orange's two teams all patrol and no officer is left for the posts
    sc = make_small(**{"alert.level": "orange", "force.max_duty_hours_per_day": 24})
    ctx = prepare(sc)
    out = run_replication(ctx, 0)
    cp = out.units[out.units["role"] == "checkpoint"]
    assert len(cp) == len(ctx.city.exit_place)
    assert (cp["calls"] == 0).all() and (cp["distance_km"] == 0).all() and (cp["travel_s"] == 0).all()
    assert (cp["checkpoint_s"] > 0).all()


def test_backup_by_car_only(make_small):
    sc = make_small(**{"dispatch.backup_kinds": ["car"], "force.mix": {"car": 0.5, "bicycle": 0.5}})
    ctx, log = _run(sc)
    kinds = {u.uid: u.kind for u in ctx.deployment.units}
    second = [s[1] for s in log.units_sent if len(s) > 1]
    assert second and all(kinds[u] == "car" for u in second)
