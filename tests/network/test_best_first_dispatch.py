"""The dispatch search's best-first order on large graphs (``UnitSearch._best_first``) changes no number.

On the kernel backend a unit reached in the order of its circuit's bound is located and
searched only when its own bound (wait + the landmarks' bound from where it is + walk)
comes first. Whole runs must give what the plain walk (``BEST_FIRST = False``) and the
search over every unit with every time (``exhaustive``) give, bit for bit, with fewer A*
searches; a bound that is too high (one that may exceed the exact arrival) must show
as different dispatches, so the comparison can fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import sample_incidents
from sim.engine import search as search_mod
from sim.engine import search_large
from sim.engine.search import UnitSearch
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.network import travel as travel_mod
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed


#: rules that make many units ineligible: short limits for bicycles and foot, foot only in their beat,
#: backups by cars only (the walk then skips units and goes on past them)
STRICT = {"foot_max_travel_s": 60.0, "bicycle_max_travel_s": 90.0, "foot_own_beat_only": True,
          "backup_kinds": ["car"]}


def _kernel_ctx(small_town_dict, monkeypatch, level: str, dispatch: dict | None = None):
    extra = {"dispatch": dispatch} if dispatch else {}
    sc = scenario_from_dict(small_town_dict(
        force={"total_officers": 48, "teams": 2, "mix": {"car": 0.5, "bicycle": 0.25, "foot": 0.25}},
        alert={"level": level}, demand={"incidents_per_day": 220}, **extra))
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    monkeypatch.delenv(travel_mod.BACKEND_ENV, raising=False)
    # the Python walk (the compiled one is compared with it in tests/network/test_compiled_walks.py)
    monkeypatch.setattr(UnitSearch, "COMPILED_WALK", False)
    ctx = prepare(sc, quiet=True)
    assert all(mt.oracle.stops_at_limit for mt in ctx.travel.values())
    return sc, ctx


def _pair_searches(ctx) -> int:
    kernels = {id(k): k for k in (mt.oracle._kernel for mt in ctx.travel.values())}
    return sum(k.pair_asked for k in kernels.values())


def _same(a, b) -> None:
    assert a.units_sent == b.units_sent
    np.testing.assert_array_equal(a.dispatch_s, b.dispatch_s)
    assert a.arrivals_s == b.arrivals_s
    np.testing.assert_array_equal(a.encircle_s, b.encircle_s)


@pytest.mark.parametrize("level,rules", [("green", None), ("red", None), ("green", "strict")])
def test_best_first_runs_equal_the_walk_and_exhaustive_runs(small_town_dict, monkeypatch, level, rules):
    sc, ctx = _kernel_ctx(small_town_dict, monkeypatch, level, STRICT if rules else None)
    used = []
    real = UnitSearch._best_first

    def counted(self, *a, **k):
        used.append(1)
        return real(self, *a, **k)

    monkeypatch.setattr(UnitSearch, "_best_first", counted)
    rejected, rejected_fast = [], []
    real_eligible = search_mod.eligible

    def eligible(*a, **k):
        ok = real_eligible(*a, **k)
        rejected.extend([] if ok else [1])
        return ok

    monkeypatch.setattr(search_mod, "eligible", eligible)      # the walk of small graphs
    monkeypatch.setattr(search_large, "eligible", eligible)    # the best-first walks of large graphs
    for r in range(2):
        seq = replication_seed(sc.seed, r)
        inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
        # each engine gets fresh pair caches, so that the searches counted are its own
        for mt in ctx.travel.values():
            mt.oracle._kernel._pairs.clear()
        n0, r0 = _pair_searches(ctx), len(rejected)
        fast = make_engine(ctx, inc, seq).run()
        n_fast = _pair_searches(ctx) - n0
        rejected_fast.append(len(rejected) - r0)
        assert len(used) >= 50                      # the best-first walk made the choices
        monkeypatch.setattr(UnitSearch, "BEST_FIRST", False)
        for mt in ctx.travel.values():
            mt.oracle._kernel._pairs.clear()
        n0 = _pair_searches(ctx)
        walk = make_engine(ctx, inc, seq).run()
        n_walk = _pair_searches(ctx) - n0
        monkeypatch.setattr(UnitSearch, "BEST_FIRST", True)
        every = make_engine(ctx, inc, seq, exhaustive=True).run()
        _same(fast, walk)
        _same(fast, every)
        assert n_fast < n_walk
    if rules:
        assert sum(rejected_fast) >= 3      # the rules turned units away in the best-first walk ...
        # ... and changed who was sent (against the default rules, on the same incidents)
        _, plain_ctx = _kernel_ctx(small_town_dict, monkeypatch, level)
        plain = make_engine(plain_ctx, inc, seq).run()
        assert plain.units_sent != fast.units_sent


def test_a_bound_above_the_arrival_changes_the_dispatches(small_town_dict, monkeypatch):
    """The check above can fail: landmark bounds raised by 90 s skip units that would have won."""
    sc, ctx = _kernel_ctx(small_town_dict, monkeypatch, "green")
    seq = replication_seed(sc.seed, 0)
    inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
    every = make_engine(ctx, inc, seq, exhaustive=True).run()
    monkeypatch.setattr(travel_mod.TravelOracle, "lower_bound_s",
                        lambda self, s, t: self._kernel.lower_bound(s, t) + 90.0)
    wrong = make_engine(ctx, inc, seq).run()
    assert wrong.units_sent != every.units_sent
