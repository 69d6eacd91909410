"""The shift change's batched rejoin and the compiled search's ended drives change nothing.

- ``sim.engine.rejoin``: a patrol unit that stays on patrol switches circuits in one pass
  and the index is told of all drives at once; with ``Duty.batch`` off every unit goes
  through ``Duty.apply``. Both runs must give the same log (every account bit for bit,
  patrol intervals in the same order) and the same index after every shift change.
- ``sim.engine.kernels.nearest_unit`` locates a unit whose drive to its circuit has ended
  (before the engine books that end) on the circuit: at every search, each such unit's
  node, wait and arrival must be those of ``Movement.sync`` then ``Circuit.where``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import sample_incidents
from sim.engine import kernels as K
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

# the level changes every day, so shift changes also send units off duty, to the station and back
FORCE = {"force": {"total_officers": 200, "teams": 4},
         "alert": {"level": "green", "mode": "calendar",
                   "calendar": [{"day": d, "level": lvl} for d, lvl in enumerate(("green", "red", "yellow",
                                                                                     "orange", "green"))]},
         "demand": {"incidents_per_day": 150}, "horizon_days": 5}
ACCOUNTS = ("status", "patrol_s", "travel_s", "scene_s", "station_s", "off_s", "post_s", "overtime_s",
            "distance_m", "calls", "cross_area_calls", "trips")


@pytest.fixture(scope="module")
def ctx(small_town_dict):
    return prepare(scenario_from_dict(small_town_dict(**FORCE)), quiet=True)


def _engine(ctx):
    rep = replication_seed(ctx.scenario.seed, 0)
    return make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)


def _index_state(index) -> tuple:
    """What the searches read: availability, circuit units' segment and anchor, drives' rows."""
    on = np.flatnonzero(index.code == 1)
    off = np.array(sorted(index.off_circuit), np.int64)
    return (index.code.copy(), index.bias.copy(), on, index.ui[on, K.SEG].copy(), index.uf[on, 1:3].copy(),
            off, index.ui[off][:, [K.FIXED_NODE, K.LEG_SEG]].copy(), index.uf[off, K.LEG_SRC:].copy())


def _run(ctx, batch: bool):
    engine = _engine(ctx)
    engine.duty.batch = batch
    states = []
    shift_change = engine.duty.shift_change

    def recorded(t):
        shift_change(t)
        states.append(_index_state(engine.index))
    engine.duty.shift_change = recorded
    return engine.run(), states, engine.duty.rejoin


def test_the_batched_shift_change_gives_the_plain_run(ctx):
    log_b, states_b, rejoin_b = _run(ctx, batch=True)
    log_p, states_p, rejoin_p = _run(ctx, batch=False)
    assert rejoin_p.batched == rejoin_p.one_by_one == 0 and rejoin_b.batched > 100   # the batch did the work
    assert len(states_b) == len(states_p) > 10
    for k, (a, b) in enumerate(zip(states_b, states_p)):
        for x, y in zip(a, b):
            assert np.array_equal(x, y), f"index differs after shift change {k}"
    for sa, sb in zip(log_b.units, log_p.units):
        assert [repr(getattr(sa, f)) for f in ACCOUNTS] == [repr(getattr(sb, f)) for f in ACCOUNTS]
    assert repr(log_b.patrol_intervals) == repr(log_p.patrol_intervals)
    assert log_b.units_sent == log_p.units_sent and log_b.arrivals_s == log_p.arrivals_s
    assert log_b.staffing == log_p.staffing


def test_ended_drives_are_located_on_their_circuit_as_sync_would(ctx):
    engine = _engine(ctx)
    search, index, units = engine.search, engine.index, engine.units
    assert search.compiled
    kernel = search._search_compiled
    seen = {"ended": 0}

    def checked(place, t, *, is_backup):
        found = kernel(place, t, is_backup=is_backup)
        out = search._out
        for u in sorted(index.off_circuit):
            st = units[u]
            leg = st.leg
            if leg is None or leg.to_station or leg.t_end > t or out[1, u] < 0:
                continue
            seen["ended"] += 1
            tau = st.circuit.tau_at(leg.dst)
            node, wait, _ = st.circuit.where(tau + (t - leg.t_end))
            mode = st.mode
            eta = wait + float(search._T[mode][node, search._target_of[mode][place]]) \
                + search._extra_of[mode][place]
            assert (int(out[1, u]), repr(float(out[2, u])), repr(float(out[0, u]))) == (node, repr(wait), repr(eta))
        return found
    search._search_compiled = checked
    engine.run()
    assert seen["ended"] > 50


def test_units_the_search_leaves_out_could_not_win_and_are_located_when_asked(ctx):
    """``nearest_unit`` skips a unit on its circuit (or whose drive to it has ended) whose circuit's
    bound is above the best so far; the units the search leaves out are located when asked."""
    engine = _engine(ctx)
    search, index, units = engine.search, engine.index, engine.units
    kernel = search._search_compiled
    seen = {"skipped": 0, "searches": 0, "ended": 0}

    def checked(place, t, *, is_backup):
        choice, found = kernel(place, t, is_backup=is_backup)
        out = search._out
        skipped = np.flatnonzero(out[1] == K.SKIPPED)
        seen["searches"] += 1
        seen["skipped"] += skipped.size
        if skipped.size:
            assert choice is not None
            best = float(out[0, choice])
            exact = {}
            for u in skipped.tolist():
                st = units[u]
                if st.leg is not None:               # a drive to its circuit that has ended
                    assert not st.leg.to_station and st.leg.t_end <= t
                    seen["ended"] += 1
                    node, wait, _ = st.circuit.where(st.circuit.tau_at(st.leg.dst) + (t - st.leg.t_end))
                else:
                    assert index.code[u] == 1
                    node, wait, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
                mode = st.mode
                eta = wait + float(search._T[mode][node, search._target_of[mode][place]]) \
                    + search._extra_of[mode][place]
                assert eta > best and out[0, u] <= eta          # could not win; its bound is a bound
                exact[u] = (node, wait)
            # asked later (the encirclement measure, sending): located as the search would have
            node, wait = search.located.of_many(skipped)
            assert [(int(n), repr(float(w))) for n, w in zip(node, wait)] == \
                [(exact[u][0], repr(exact[u][1])) for u in skipped.tolist()]
        return choice, found
    search._search_compiled = checked
    engine.run()
    assert seen["skipped"] > seen["searches"]          # more than one unit left out per search
    assert seen["ended"] > 100                          # among them units whose drive had ended
