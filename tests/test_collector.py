"""The garbage collector around a replication (``sim.engine.collector``, ``Engine.release``).

The collector is off while a replication runs and one collection ends it. That is only
safe while the engine makes next to no cyclic garbage: what the replication leaves for
that last collection is counted here (``gc.callbacks``) on replications of several kinds
(shift changes with a calendar of levels, interruptions by other work, call stacking,
encirclement of major incidents). Released, each left 3 objects when this was written;
the bound, 50, is below the number of incidents of any of these runs and a fifteenth
of what the same runs leave without ``Engine.release`` (740-2,750 objects, checked
below to stay above ten times the bound), so an engine that started making cyclic
garbage per event, or a collaborator that kept a cycle, fails it.
"""

from __future__ import annotations

import gc

import pytest

from sim.experiment import prepare, run_replication
from sim.scenario import scenario_from_dict

LEFT_AT_MOST = 50           # objects the last collection may find (released: 3; unreleased: 740-2,750)

KINDS = {
    "calendar": {"force": {"total_officers": 120, "teams": 4},
                 "alert": {"level": "green", "mode": "calendar",
                           "calendar": [{"day": 0, "level": "green"}, {"day": 1, "level": "red"}]},
                 "horizon_days": 2},
    "other work": {"availability": {"out_of_service_per_h": 0.3, "officer_initiated_per_h": 0.5},
                   "demand": {"incidents_per_day": 120}, "horizon_days": 1},
    "call stacking": {"dispatch": {"keep_free_for_priority": {3: 1}}, "demand": {"incidents_per_day": 200},
                      "horizon_days": 1},
    "encirclement": {"encirclement": {"radius_m": 400.0, "roads": "all"}, "demand": {"incidents_per_day": 150},
                     "horizon_days": 1},
}


@pytest.fixture(scope="module", params=sorted(KINDS))
def kind_ctx(request, small_town_dict):
    return request.param, prepare(scenario_from_dict(small_town_dict(**KINDS[request.param])), quiet=True)


def _collections_during(fn) -> list[int]:
    """What each collection found while ``fn()`` ran (objects collected), in order."""
    found = []

    def watch(phase, info):
        if phase == "stop":
            found.append(info["collected"])
    gc.callbacks.append(watch)
    try:
        fn()
    finally:
        gc.callbacks.remove(watch)
    return found


def test_one_collection_ends_a_replication_and_finds_next_to_nothing(kind_ctx):
    name, ctx = kind_ctx
    run_replication(ctx, 0)                    # loads what a first replication loads
    assert gc.isenabled()
    found = _collections_during(lambda: run_replication(ctx, 1))
    assert len(found) == 1, (name, found)      # none while it ran: the last one only
    assert found[0] <= LEFT_AT_MOST, (name, found)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_an_unreleased_engine_is_what_the_bound_guards_against(kind_ctx, monkeypatch):
    from sim.engine.core import Engine

    name, ctx = kind_ctx
    monkeypatch.setattr(Engine, "release", lambda self: None)
    found = _collections_during(lambda: run_replication(ctx, 1))
    assert len(found) == 1 and found[0] > 10 * LEFT_AT_MOST, (name, found)


def test_the_collector_is_off_while_the_engine_runs_and_as_it_was_after(kind_ctx, monkeypatch):
    import sim.experiment.replicate as R

    _, ctx = kind_ctx
    seen = []
    real_run = R.Engine.run

    def run(self):
        seen.append(gc.isenabled())
        return real_run(self)
    monkeypatch.setattr(R.Engine, "run", run)
    run_replication(ctx, 0)
    assert seen == [False] and gc.isenabled()
    # a caller that turned the collector off keeps it off, and nothing is frozen
    gc.disable()
    try:
        run_replication(ctx, 0)
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_a_released_engine_is_freed_by_reference_counting(small_town_dict):
    import weakref

    from sim.demand import sample_incidents
    from sim.experiment.replicate import make_engine
    from sim.streams import replication_seed

    ctx = prepare(scenario_from_dict(small_town_dict(horizon_days=1)), quiet=True)
    rep = replication_seed(ctx.scenario.seed, 0)
    engine = make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)
    log = engine.run()
    parts = [weakref.ref(x) for x in (engine, engine.env, engine.index, engine.search, engine.duty, engine.move)]
    gc.disable()
    try:
        engine.release()
        del engine
        assert all(p() is None for p in parts)         # freed at once, with no collection
    finally:
        gc.enable()
    assert len(log.units) > 0 and len(log.patrol_intervals) > 0     # the log keeps what it holds
