"""The encirclement measure: exact over every free unit, and "not applicable" when there is no cordon.

The measure once took a shortlist of the 3k free units with the smallest bound at the
incident, with every unit off a circuit (standby, returning) given a bound of -1: at the
higher levels the standby units filled the shortlist and pushed out nearer patrol units,
so the reported time rose from orange to red. These tests hold the measure to the full
assignment over every free unit, computed here from the units' positions.
"""

import math

import numpy as np
import pytest
import yaml

from sim.demand import sample_incidents
from sim.engine import encircle as encircle_mod
from sim.engine.encircle import greedy_cordon_s
from sim.engine.units import POST
from sim.experiment import prepare, run_replication
from sim.experiment.replicate import make_engine
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed


#: every incident major (and most of them needing one unit), so that a short run measures many cordons
MAJOR_ONLY = [{"name": "robbery", "share": 0.5, "priority": 1, "units_needed": 1, "on_scene_mean_s": 900,
               "major": True},
              {"name": "violent", "share": 0.5, "priority": 1, "units_needed": 2, "on_scene_mean_s": 1200,
               "major": True}]


def _engine_at_first_shift(ctx, rep=0):
    """An engine whose first shift has been set up (units on circuits, at stations, at posts)."""
    seq = replication_seed(ctx.scenario.seed, rep)
    inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
    eng = make_engine(ctx, inc, seq)
    eng.duty.decide_levels(0.0)
    eng.duty.shift_change(0.0)
    return eng


def _full_assignment_s(eng, place, t):
    """The cordon time over every free unit, computed independently of the measure's cut."""
    enc = eng.encircle
    held = {st.home_node for st in eng.units if st.role.value == "checkpoint" and st.status is POST}
    todo = np.array([p for p in enc.exits(place).tolist() if p not in held], np.int64)
    if todo.size == 0:
        return 0.0
    free = [st for st in eng.units if eng.index.code[st.uid] > 0]
    eta = np.empty((len(free), todo.size))
    for a, st in enumerate(free):
        node, wait = eng.move.where(st, t)
        tt = eng.travel[st.mode].oracle.times_between(np.array([node]), enc.target[st.mode][todo])[0]
        eta[a] = tt + wait + enc.extra_s[st.mode][todo]
    return greedy_cordon_s(eta)


def test_standby_units_do_not_crowd_nearer_patrol_units_out_of_the_cordon(small_town_dict):
    """Red: many standby units at two stations, a few patrol cars; one exit road per small circle.

    With a -1 bound the three standby units first in line made the whole shortlist for a
    one-exit circle, and a patrol car passing the exit was never considered.
    """
    sc = scenario_from_dict(small_town_dict(
        force={"total_officers": 60, "teams": 2, "max_duty_hours_per_day": 24}, alert={"level": "red"},
        encirclement={"radius_m": 300.0, "roads": "all"}))
    ctx = prepare(sc, quiet=True)
    eng = _engine_at_first_shift(ctx)
    codes = eng.index.code
    assert (codes == 2).sum() >= 3 and (codes == 1).sum() >= 2      # standby units and patrol units both free
    t = 0.0
    checked = 0
    for place in range(0, ctx.city.n_places, max(1, ctx.city.n_places // 150)):
        if eng.encircle.exits(place).size == 0:
            continue
        got = eng.encircle.seconds_s(place, t)
        assert got == _full_assignment_s(eng, place, t), place
        checked += 1
    assert checked >= 50


def test_the_measure_equals_the_exhaustive_one_over_a_run(small_town_dict):
    """Over whole runs (levels, shifts, busy units, returning units): the same time for every incident."""
    for level in ("green", "red"):
        sc = scenario_from_dict(small_town_dict(
            force={"total_officers": 40, "teams": 2}, alert={"level": level},
            demand={"incidents_per_day": 150, "types": MAJOR_ONLY},
            encirclement={"radius_m": 250.0, "roads": "all"}))
        ctx = prepare(sc, quiet=True)
        for r in range(2):
            seq = replication_seed(sc.seed, r)
            inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
            fast = make_engine(ctx, inc, seq).run()
            full = make_engine(ctx, inc, seq, exhaustive=True).run()
            assert np.isfinite(fast.encircle_s).sum() >= 5
            np.testing.assert_array_equal(fast.encircle_s, full.encircle_s)


def test_more_officers_on_duty_never_slow_the_cordon_on_the_default_town(repo_root):
    """Orange to red puts more units on duty: the mean cordon time must not rise (it did: 216 s to 283 s).

    Common random numbers: the same incidents and circuits at both levels; one day, two replications.
    """
    d = yaml.safe_load((repo_root / "scenarios" / "default.yaml").read_text(encoding="utf-8"))
    d.update(horizon_days=1.0, warmup_days=0.0)
    d["force"] = {**d.get("force", {}), "max_duty_hours_per_day": 24}   # every team the level calls in
    mean = {}
    for level in ("orange", "red"):
        d["alert"] = {**d.get("alert", {}), "level": level}
        ctx = prepare(scenario_from_dict(d), quiet=True)
        times = []
        for r in range(2):
            seq = replication_seed(ctx.scenario.seed, r)
            inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
            e = np.asarray(make_engine(ctx, inc, seq).run().encircle_s)
            times.append(e[np.isfinite(e)])
        mean[level] = float(np.concatenate(times).mean())
    assert mean["red"] <= mean["orange"] * 1.02, mean


def test_an_incident_with_no_cordon_to_draw_is_not_applicable(small_town_dict):
    """A circle no major road crosses: null time, null line, counted apart, not 'encircled at once'."""
    sc = scenario_from_dict(small_town_dict(
        demand={"incidents_per_day": 100, "types": MAJOR_ONLY}, encirclement={"radius_m": 80.0, "roads": "major"}))
    ctx = prepare(sc, quiet=True)
    eng = _engine_at_first_shift(ctx)
    empty = [p for p in range(ctx.city.n_places) if eng.encircle.exits(p).size == 0]
    assert empty
    assert eng.encircle.seconds_s(empty[0], 0.0) == encircle_mod.NOT_APPLICABLE
    out = run_replication(ctx, 0)
    inc = out.incidents
    major = inc[inc["major"]]
    na = major[~major["cordon_applies"].astype(bool)]
    applies = major[major["cordon_applies"].astype(bool)]
    assert len(na) > 0 and len(applies) > 0
    assert na["encircle_s"].isna().all() and na["encircled_within_line"].isna().all()
    assert applies["encircle_s"].notna().all() and applies["encircled_within_line"].notna().all()
    assert inc.loc[~inc["major"], "cordon_applies"].isna().all()
    m = out.metrics
    w = major[major["in_window"]]
    assert math.isclose(m["cordon_not_applicable"], float((~w["cordon_applies"].astype(bool)).mean()))
    wa = w[w["cordon_applies"].astype(bool)]
    assert math.isclose(m["encircled_within_line"], float(wa["encircled_within_line"].astype(bool).mean()))
