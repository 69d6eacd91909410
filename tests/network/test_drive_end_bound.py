"""A unit on a drive is also bounded from its drive's end, on graphs whose streets are as fast both ways.

``SearchColumns.symmetric`` says whether a graph is such (every edge's reverse, at the same
seconds); the compiled dispatch walk then bounds a unit on a drive by its end's seconds to the
place less the seconds left (``best_first_jit._left_s``), and locates it (an A* route) only when
that bound comes first. Checked here: the flag against the graph, the bound against exact
Dijkstra at random moments of real drives, and whole runs with the bound and without it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.demand import sample_incidents
from sim.engine import units as units_mod
from sim.engine.units import Leg, Movement
from sim.experiment.replicate import make_engine
from sim.network import TravelOracle
from sim.network import travel as travel_mod
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork
from sim.streams import replication_seed
from tests.network.test_compiled_walks import _fresh_caches, _kernel_ctx, _same


def _town():
    return synthetic_city(SyntheticNetwork(seed=5, area_km2=4.0, block_m=100, stations=2, exits=2))


def test_symmetric_says_whether_every_street_is_as_fast_both_ways(monkeypatch):
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    graph = _town().graphs["drive"]
    assert TravelOracle(graph, backend="kernel")._kernel.symmetric
    # one direction of one street removed: a one-way street
    u, v = int(graph.edge_u[0]), int(graph.edge_v[0])
    keep = ~((graph.edge_u == v) & (graph.edge_v == u))
    one_way = replace(graph, edge_u=graph.edge_u[keep], edge_v=graph.edge_v[keep],
                      edge_length_m=graph.edge_length_m[keep], edge_speed_kph=graph.edge_speed_kph[keep],
                      edge_class=graph.edge_class[keep])
    assert not TravelOracle(one_way, backend="kernel")._kernel.symmetric
    # both directions kept, one of them slower
    slow = graph.edge_speed_kph.copy()
    slow[np.flatnonzero(~keep)[0]] *= 0.5
    assert not TravelOracle(replace(graph, edge_speed_kph=slow), backend="kernel")._kernel.symmetric


def test_the_end_bound_holds_at_random_moments_of_real_drives(monkeypatch):
    """``end's seconds - seconds left`` never exceeds the arrival ``Movement.where`` gives, less nothing:
    the bound the walk uses (before its margin) against exact Dijkstra from where the unit is."""
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    graph = _town().graphs["drive"]
    o = TravelOracle(graph, backend="kernel")
    assert o._kernel.symmetric
    rng = np.random.default_rng(3)
    n = graph.n_nodes
    exact = dijkstra(o._w, directed=True)
    checked = tight = 0
    for _ in range(300):
        src, dst = (int(x) for x in rng.integers(0, n, 2))
        wait_s, scale, t0 = float(rng.choice([0.0, 14.5])), float(rng.choice([1.0, 1.6])), 1000.0
        travel_s, metres = o.time_and_metres(src, dst)
        leg = Leg(src, dst, t0, wait_s, t0 + (wait_s + travel_s) * scale, metres, False, scale)
        nodes, times, resp, _ = leg.path(o)
        for t in rng.uniform(t0, leg.t_end, 4).tolist():
            k = min(int(np.searchsorted(times, t, side="right")) - 1, len(times) - 2)
            f = (t - times[k]) / (times[k + 1] - times[k]) if times[k + 1] > times[k] else 1.0
            at, w = nodes[k + 1], (1.0 - f) * (resp[k + 1] - resp[k])          # Movement.where's operations
            left = max(leg.t_end - t, 0.0) / scale                               # best_first_jit._left_s
            for target in rng.integers(0, n, 5).tolist():
                arrival = w + exact[at, target]
                bound = exact[dst, target] - left
                assert bound <= arrival + 1e-9, (src, dst, t, target, bound, arrival)
                checked += 1
                tight += bound > exact[src, target] - (t - t0) / scale + wait_s + 1e-9
    assert checked == 6000
    assert tight > 600        # ... and is often tighter than the bound from the drive's source


def test_runs_with_and_without_the_end_bound_are_the_same_with_fewer_units_located(small_town_dict, monkeypatch):
    sc, ctx = _kernel_ctx(small_town_dict, monkeypatch, "car", "red")
    assert all(mt.oracle._kernel.symmetric for mt in ctx.travel.values())
    seq = replication_seed(sc.seed, 0)
    inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
    located = []
    real_where = Movement.where

    def where(self, st, t):
        located.append(st.moving is units_mod.LEG)
        return real_where(self, st, t)

    monkeypatch.setattr(Movement, "where", where)
    _fresh_caches(ctx)
    with_bound = make_engine(ctx, inc, seq).run()
    n_with = sum(located)
    located.clear()
    for mt in ctx.travel.values():
        monkeypatch.setattr(mt.oracle._kernel, "symmetric", False)
    _fresh_caches(ctx)
    without = make_engine(ctx, inc, seq).run()
    n_without = sum(located)
    _same(with_bound, without)
    assert n_with < n_without, (n_with, n_without)
