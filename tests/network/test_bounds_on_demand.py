"""Circuit bounds worked out where they are read give the rows' bits and change no run.

On the kernel backend a circuit keeps its lower bound as what its bound search found
(``positions.CircuitBounds``); the dispatch walk (``best_first_jit.bounds``) and ``lb_rows`` (the
Python walks) work the bound out at the place asked (``dijkstra_jit.bound_at``), where
before every circuit wrote a row of every place (``patrol.circuit_lower_bound_s``). These tests
compare both, value by value and run by run, on the test town with the kernel backend forced.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import sample_incidents
from sim.engine.search_large import LargeGraphSearch
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.network import travel as travel_mod
from sim.patrol import circuit_lower_bound_s
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed


#: every incident major, so that a short run measures many cordons
MAJOR_ONLY = [{"name": "robbery", "share": 0.5, "priority": 1, "units_needed": 1, "on_scene_mean_s": 900,
               "major": True},
              {"name": "violent", "share": 0.5, "priority": 1, "units_needed": 2, "on_scene_mean_s": 1200,
               "major": True}]


@pytest.fixture(scope="module")
def kernel_ctx(small_town_dict):
    mp = pytest.MonkeyPatch()
    mp.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    mp.delenv(travel_mod.BACKEND_ENV, raising=False)
    sc = scenario_from_dict(small_town_dict(
        force={"total_officers": 40, "teams": 2, "mix": {"car": 0.5, "bicycle": 0.25, "foot": 0.25}},
        demand={"incidents_per_day": 150, "types": MAJOR_ONLY}, encirclement={"radius_m": 300.0, "roads": "all"}))
    try:
        ctx = prepare(sc, quiet=True)
    finally:
        mp.undo()
    assert all(mt.oracle.bounds_on_demand for mt in ctx.travel.values())
    return sc, ctx


def _engine(sc, ctx, r: int = 0):
    seq = replication_seed(sc.seed, r)
    return make_engine(ctx, sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s), seq)


def test_every_circuits_bound_at_every_place_is_its_rows(kernel_ctx):
    sc, ctx = kernel_ctx
    eng = _engine(sc, ctx)
    eng.run()
    index = eng.index
    assert index.on_demand is not None and index.flat.bound.size == 0       # no rows kept
    flat, circuits = index.flat, eng.circuits.by_key
    assert len(flat.seg_of) >= 20
    places = np.arange(index.n_places)
    for key, s in flat.seg_of.items():
        st = eng.units[key[0]]
        mt = ctx.travel[st.mode]
        want = circuit_lower_bound_s(mt.oracle, [circuits[key]], eng.circuits.target[st.mode],
                                     eng.circuits.extra_s[st.mode])
        index.ui[st.uid, 1] = s                                              # SEG: the unit on this circuit
        got = index.lb_rows[st.uid]
        assert got.tobytes() == want.tobytes(), key
        block = index.lb_rows[np.ix_([st.uid], places[::7])]
        assert block.shape == (1, len(places[::7])) and block.tobytes() == want[::7].tobytes()
    index.ui[0, 1] = -1
    assert (index.lb_rows[0] == 0.0).all()                                   # never on a circuit: 0


def test_a_run_is_the_same_with_rows(kernel_ctx, monkeypatch):
    sc, ctx = kernel_ctx
    for r in range(2):
        on_demand = _engine(sc, ctx, r)
        a = on_demand.run()
        assert on_demand.index.on_demand is not None
        monkeypatch.setattr(LargeGraphSearch, "BOUNDS_ON_DEMAND", False)
        rows = _engine(sc, ctx, r)
        b = rows.run()
        monkeypatch.undo()
        assert rows.index.on_demand is None and rows.index.flat.bound.size > 0
        assert a.units_sent == b.units_sent and a.arrivals_s == b.arrivals_s
        np.testing.assert_array_equal(a.dispatch_s, b.dispatch_s)
        np.testing.assert_array_equal(a.encircle_s, b.encircle_s)


@pytest.mark.parametrize("on_demand", [True, False], ids=["on-demand", "rows"])
def test_the_cordons_compiled_start_is_numpys(kernel_ctx, monkeypatch, on_demand):
    """``cordon_jit.cordon_prep`` (where each free unit starts from) gives the
    cordons the numpy form gave, with bounds on demand and with rows (the numpy form runs when the
    compiled start is turned off: ``CompiledCordon.COMPILED_PREP``)."""
    from sim.engine.cordon import CompiledCordon

    sc, ctx = kernel_ctx
    monkeypatch.setattr(LargeGraphSearch, "BOUNDS_ON_DEMAND", on_demand)
    fast = _engine(sc, ctx, 1)
    a = fast.run()
    assert fast.encircle.walk._prep is not None                      # the compiled start ran
    monkeypatch.setattr(CompiledCordon, "COMPILED_PREP", False)
    slow = _engine(sc, ctx, 1)
    b = slow.run()
    assert slow.encircle.walk._prep is None
    assert np.isfinite(a.encircle_s).sum() >= 5
    np.testing.assert_array_equal(a.encircle_s, b.encircle_s)
    assert a.units_sent == b.units_sent and a.arrivals_s == b.arrivals_s


def test_cordon_prep_gives_numpys_arrays_bit_for_bit(kernel_ctx, monkeypatch):
    """At every cordon of a run (units on circuits, on drives, at stations), ``cordon_prep``'s arrays for
    the cordon's free units are the numpy form's: the same nodes, waits, flags and units left to locate."""
    from sim.engine import cordon_jit
    from sim.engine.cordon import CompiledCordon
    from sim.engine.kernels import FIXED_NODE, FIXED_WAIT, LEG_TEND

    sc, ctx = kernel_ctx
    eng = _engine(sc, ctx, 0)
    index = eng.index
    checked = [0, 0]                         # cordons, and those with a unit on a drive or at a node
    original = CompiledCordon.seconds_s

    def check(self, avail, todo, t, **kw):
        avail = np.asarray(avail, np.int64)
        # into buffers with rows to spare, filled with what an earlier cordon could leave
        buffers = cordon_jit.prep_buffers(avail.size + 3)
        for b in buffers:
            b[...] = 7
        n_rest = cordon_jit.cordon_prep(avail, float(t), index.code, index.ui, index.uf, *buffers)
        n = avail.size
        got = [b[:n] for b in buffers[:3]] + [buffers[3][:n_rest]]
        c = index.code[avail]
        fixed = index.ui[avail, FIXED_NODE]
        at_node = (c == 2) & (fixed >= 0)
        ended = (c == 2) & (fixed < 0) & (index.uf[avail, LEG_TEND] <= t)
        node = np.where(at_node, fixed, -1)
        wait = np.where(at_node, index.uf[avail, FIXED_WAIT], 0.0)
        rest = np.flatnonzero(~((c == 1) | ended | at_node))
        assert (got[0] == node).all() and got[1].tobytes() == wait.tobytes()
        assert (got[2] == ended).all() and (got[3] == rest).all()
        checked[0] += 1
        checked[1] += bool(((c != 1) & ~ended).any())
        return original(self, avail, todo, t, **kw)

    monkeypatch.setattr(CompiledCordon, "seconds_s", check)
    eng.run()
    assert checked[0] >= 5 and checked[1] >= 1
