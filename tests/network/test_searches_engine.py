"""Whole runs on the kernel backend: the best-first walks change no number.

The dispatch search asks a unit's arrival only when its bound could still beat the best so
far, and the cordon measure asks (unit, exit) pairs best first by their bounds
(sim/engine/cordon.py). Both must give what a search over every unit with every time gives
(``exhaustive``: every pair asked, the same labels, equal bit for bit), and the dispatches of
the all-pairs matrix.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import sample_incidents
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.network import travel as travel_mod
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

#: every incident major, so that a short run measures many cordons
MAJOR_ONLY = [{"name": "robbery", "share": 0.5, "priority": 1, "units_needed": 1, "on_scene_mean_s": 900,
               "major": True},
              {"name": "violent", "share": 0.5, "priority": 1, "units_needed": 2, "on_scene_mean_s": 1200,
               "major": True}]


def _scenario(small_town_dict, level: str):
    return scenario_from_dict(small_town_dict(
        force={"total_officers": 40, "teams": 2, "mix": {"car": 0.5, "bicycle": 0.25, "foot": 0.25}},
        alert={"level": level}, demand={"incidents_per_day": 150, "types": MAJOR_ONLY},
        encirclement={"radius_m": 300.0, "roads": "all"}))


@pytest.mark.parametrize("level", ["green", "red"])
def test_kernel_runs_equal_exhaustive_and_full_matrix_runs(small_town_dict, monkeypatch, level):
    sc = _scenario(small_town_dict, level)
    full_ctx = prepare(sc, quiet=True)
    assert all(mt.oracle.time_matrix is not None for mt in full_ctx.travel.values())
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    monkeypatch.delenv(travel_mod.BACKEND_ENV, raising=False)
    ctx = prepare(sc, quiet=True)
    assert all(mt.oracle.stops_at_limit for mt in ctx.travel.values())
    searched = exact = 0
    for r in range(2):
        seq = replication_seed(sc.seed, r)
        inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
        eng = make_engine(ctx, inc, seq)
        fast = eng.run()
        searched += eng.encircle.pairs.searched
        exact += eng.encircle.pairs.exact
        every = make_engine(ctx, inc, seq, exhaustive=True).run()
        matrix = make_engine(full_ctx, inc, seq).run()
        assert np.isfinite(fast.encircle_s).sum() >= 5
        np.testing.assert_array_equal(fast.encircle_s, every.encircle_s)
        assert fast.units_sent == every.units_sent == matrix.units_sent
        np.testing.assert_array_equal(fast.dispatch_s, every.dispatch_s)
        assert fast.arrivals_s == every.arrivals_s
        np.testing.assert_allclose(fast.dispatch_s, matrix.dispatch_s, rtol=0, atol=1e-6)
        np.testing.assert_allclose(fast.encircle_s, matrix.encircle_s, rtol=0, atol=1e-6)
    assert exact > 0 and searched == exact     # each pair asked once, exact at once
