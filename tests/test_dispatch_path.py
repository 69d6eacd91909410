"""The dispatch path's cheaper ways of asking change no answer: each is checked against the plain way.

- ``UnitSearch.in_beat`` (the cross-area flag at every dispatch) is ``owns(...)[0]`` for
  every unit and place, at every level the run uses.
- The compiled search's ``chosen_at`` / ``chosen_eta_s`` (what sending reads) are where
  ``located`` puts the chosen unit and the arrival computed the plain way from the time
  matrix (the same sum, bit for bit).
- ``Call`` events run in SimPy's order: at equal times, first scheduled first, mixed with
  SimPy's own timeouts.
- ``Engine.run`` freezes the world out of the garbage collector only for the run, and not
  at all when the caller froze objects itself.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
import simpy
from simpy.events import NORMAL

from sim.demand import sample_incidents
from sim.engine.event import Call
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

# levels change every day: units follow several (level, kind) beat maps during the run
FORCE = {"force": {"total_officers": 200, "teams": 4},
         "alert": {"level": "green", "mode": "calendar",
                   "calendar": [{"day": d, "level": lvl} for d, lvl in enumerate(("green", "red", "yellow",
                                                                                     "orange"))]},
         "demand": {"incidents_per_day": 150}, "horizon_days": 4}


@pytest.fixture(scope="module")
def ctx(small_town_dict):
    return prepare(scenario_from_dict(small_town_dict(**FORCE)), quiet=True)


def _engine(ctx):
    rep = replication_seed(ctx.scenario.seed, 0)
    return make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)


def test_in_beat_is_owns_for_every_unit_and_place_at_every_level(ctx):
    engine = _engine(ctx)
    search, n_places = engine.search, engine.city.n_places
    shift_change = engine.duty.shift_change
    seen = {"checks": 0, "levels": set(), "in": 0}

    def checked(t):
        shift_change(t)
        for st in engine.units:
            seen["levels"].add(st.level)
            for place in range(n_places):
                mine = search.in_beat(st, place)
                assert mine == search.owns(st, place)[0]
                seen["in"] += mine
                seen["checks"] += 1
    engine.duty.shift_change = checked
    engine.run()
    assert len(seen["levels"] - {None}) >= 3 and seen["in"] > 0 and seen["checks"] > seen["in"]


def test_what_sending_reads_of_the_compiled_search_is_the_plain_answer(ctx):
    engine = _engine(ctx)
    search = engine.search
    assert search.compiled
    kernel = search._search_compiled
    seen = {"chosen": 0}

    def checked(place, t, *, is_backup):
        uid, found = kernel(place, t, is_backup=is_backup)
        if search.chosen_at is not None:
            seen["chosen"] += 1
            st = engine.units[uid]
            assert search.chosen_at == search.located.get(uid)
            node, wait = search.chosen_at
            mode = st.mode
            plain = wait + float(search._T[mode][node, search._target_of[mode][place]]) \
                + search._extra_of[mode][place]
            assert repr(search.chosen_eta_s) == repr(plain)
            assert type(node) is int and type(wait) is float
        return uid, found
    search._search_compiled = checked
    log = engine.run()
    assert seen["chosen"] > 0.9 * sum(map(len, log.units_sent))


def test_call_events_keep_simpys_order_at_equal_times():
    env = simpy.Environment()
    order = []
    for k in range(12):
        if k % 3 == 0:
            env.timeout(5.0).callbacks.append(lambda _ev, k=k: order.append(k))
        else:
            ev = Call()
            ev.callbacks = [lambda e: order.append(e.args)]
            ev.args = k
            env.schedule(ev, NORMAL, 5.0 if k % 2 else 2.5)
    env.run()
    assert order == [k for k in range(12) if k % 3 and not k % 2] + [k for k in range(12) if not k % 3 or k % 2]


def test_run_freezes_the_world_only_while_it_runs(ctx):
    assert gc.get_freeze_count() == 0
    seen = []
    engine = _engine(ctx)
    shift_change = engine.duty.shift_change

    def watched(t):
        seen.append(gc.get_freeze_count())
        shift_change(t)
    engine.duty.shift_change = watched
    engine.run()
    assert seen and min(seen) > 0 and gc.get_freeze_count() == 0
    # a caller that froze objects itself keeps them frozen, and the run freezes nothing more
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        engine = _engine(ctx)
        seen.clear()
        shift_change = engine.duty.shift_change
        engine.duty.shift_change = watched
        engine.run()
        # still frozen (objects that died left the count), nothing more frozen (the new engine would be)
        assert 0 < gc.get_freeze_count() <= frozen and seen and max(seen) <= frozen
        assert np.isfinite(engine.dispatch_s).any()
    finally:
        gc.unfreeze()


def test_a_replication_keeps_the_world_frozen_through_its_tables_too(ctx, monkeypatch):
    # run_replication freezes once for the whole replication (sampling, engine, tables): the tables
    # are made with the world frozen, the engine freezes nothing more, and all is undone at the end
    import sim.experiment.replicate as R

    seen = {}
    real_records, real_run = R.metrics.incident_records, R.Engine.run

    def records(*a, **kw):
        seen["tables"] = gc.get_freeze_count()
        return real_records(*a, **kw)

    def run(self):
        seen["engine"] = gc.get_freeze_count()
        return real_run(self)

    monkeypatch.setattr(R.metrics, "incident_records", records)
    monkeypatch.setattr(R.Engine, "run", run)
    assert gc.get_freeze_count() == 0
    out = R.run_replication(ctx, 0)
    assert seen["engine"] > 0 and seen["tables"] > 0 and gc.get_freeze_count() == 0
    assert len(out.incidents) > 0


def test_a_nested_freeze_leaves_the_outer_one_in_place():
    """``world_frozen`` inside its own (the engine's run in ``run_replication``) freezes and unfreezes nothing."""
    from sim.engine.collector import world_frozen

    assert gc.get_freeze_count() == 0
    with world_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with world_frozen():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen          # the inner block's end let nothing go
        try:
            with world_frozen():
                raise KeyError("inside")
        except KeyError:
            pass
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0
    with world_frozen():                               # and the next outer block freezes again
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
