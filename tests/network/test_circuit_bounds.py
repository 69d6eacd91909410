"""Lower bounds without a full search (kernel backend): never above the exact time, same choices.

A new patrol circuit's lower bound per place (``sim.patrol.circuit_lower_bound_s``) is
searched exactly only near the circuit and bounded by the landmarks beyond
(``SearchColumns.lower_bounds_from_set``); the stops of a circuit are ordered with the
landmarks' pair bounds sparing most pair searches (``order_stops(..., bounds_fn)``). Both
only prune, so they must never exceed the exact time (scipy's Dijkstra on the same
arrays, within the rounding margin ``ALT_MARGIN_S``) and must give the same order. Checked
on random places of a synthetic town of more than 4,000 nodes and on the Liechtenstein
extract (OpenStreetMap, real edge lengths).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from sim.network import TravelOracle
from sim.patrol import build_circuit, circuit_lower_bound_s, order_stops

ROUNDING_S = 1e-9      # a bound computed in another order than scipy's may differ by this


def kernel(graph, **kw) -> TravelOracle:
    o = TravelOracle(graph, backend="kernel", **kw)
    assert o.time_matrix is None and o.stops_at_limit
    return o


def check_set_bounds(o: TravelOracle, rng, *, n_sets: int = 12) -> None:
    """Random source sets and places: bound <= exact, equal to it within ``exact_within_s``."""
    n = o.n_nodes
    for k in range(n_sets):
        sources = rng.choice(n, size=int(rng.integers(1, 300)), replace=False)
        places = rng.choice(n, size=800)
        exact = dijkstra(o._w, directed=True, indices=sources, min_only=True)[places]
        within_s = [0.0, 30.0, 60.0, 240.0, np.inf][k % 5]
        lb = o.lower_bounds_from_set(sources, places, exact_within_s=within_s)
        assert np.all(lb <= exact + ROUNDING_S), within_s
        near = exact < within_s
        np.testing.assert_allclose(lb[near], exact[near], rtol=0, atol=1e-6)
        # the full search of the old bound, bit for bit, where the bounded one settled the node
        full = o._kernel.from_sources(np.unique(sources))[0][places]
        np.testing.assert_array_equal(lb[near], full[near])
        if within_s == np.inf:
            np.testing.assert_array_equal(lb, full)


def check_pair_bounds(o: TravelOracle, rng, *, n_sources: int = 20) -> None:
    n = o.n_nodes
    for s in rng.choice(n, size=n_sources, replace=False).tolist():
        targets = rng.choice(n, size=500)
        exact = dijkstra(o._w, directed=True, indices=s)[targets]
        lb = o.lower_bounds_s(s, targets)
        assert np.all(lb >= 0.0) and np.all(lb <= exact + ROUNDING_S)


def test_set_and_pair_bounds_never_exceed_exact_times(big_town):
    rng = np.random.default_rng(11)
    for kw in ({}, {"speed_kph_override": 5.0}):          # cars and walkers
        o = kernel(big_town, **kw)
        check_set_bounds(o, rng)
        check_pair_bounds(o, rng)


def test_landmark_bounds_are_not_empty(big_town):
    """Beyond the exact radius the landmarks must bound: far places get more than the radius."""
    o = kernel(big_town)
    rng = np.random.default_rng(2)
    sources = rng.choice(o.n_nodes, size=3, replace=False)
    places = np.arange(o.n_nodes)
    exact = dijkstra(o._w, directed=True, indices=sources, min_only=True)
    lb = o.lower_bounds_from_set(sources, places, exact_within_s=30.0)
    far = exact > 4 * 30.0
    assert far.sum() > 100 and (lb[far] > 2 * 30.0).mean() > 0.5
    assert np.all(lb[far] >= 30.0)                      # at least the radius searched


def test_circuit_bound_is_below_the_time_from_any_position(big_town):
    """The engine's use: from any node of the circuit, at any wait, never faster than the bound."""
    o = kernel(big_town)
    rng = np.random.default_rng(9)
    stops = [int(s) for s in rng.choice(o.n_nodes, 8, replace=False)]
    c = build_circuit(o, order_stops(np.array(stops), o.time, o.lower_bounds_s), patrol_scale=1.6)
    places = rng.choice(o.n_nodes, size=600)
    extra = rng.uniform(0, 30, places.size)
    for within_s in (0.0, 60.0):
        lb = circuit_lower_bound_s(o, [c], places, extra, exact_within_s=within_s)
        for node in set(c.nodes):
            t = dijkstra(o._w, directed=True, indices=node)[places] + extra
            assert np.all(lb <= t + ROUNDING_S)


def test_ordering_with_bounds_gives_the_same_order_with_fewer_searches(big_town):
    rng = np.random.default_rng(4)
    for kw in ({}, {"speed_kph_override": 15.0}):
        plain, pruned = kernel(big_town, **kw), kernel(big_town, **kw)
        for _ in range(25):
            stops = rng.choice(big_town.n_nodes, size=10, replace=False)
            assert order_stops(stops, pruned.time, pruned.lower_bounds_s) == order_stops(stops, plain.time)
        assert pruned._kernel.pair_asked < 0.6 * plain._kernel.pair_asked


def test_ordering_keeps_ties_to_the_lower_node():
    """Equal times: the lower node comes first, as when every pair is timed."""
    pos = {1: 0.0, 5: 4.0, 3: -4.0, 9: 10.0}

    def time_fn(a, b, limit_s=np.inf):
        t = abs(pos[a] - pos[b])
        return t if t <= limit_s else np.inf

    def bounds_fn(a, nodes):
        return np.array([abs(pos[a] - pos[b]) * 0.5 for b in nodes])

    want = order_stops(np.array([1, 5, 3, 9]), time_fn)
    assert want == [1, 3, 5, 9]
    assert order_stops(np.array([1, 5, 3, 9]), time_fn, bounds_fn) == want


def test_bounds_on_a_real_osm_network(li_city):
    """Liechtenstein's bike graph (OpenStreetMap 2015, about 4,600 nodes, real edge lengths)."""
    graph = li_city.graphs["bike"]
    o = kernel(graph, speed_kph_override=15.0)
    rng = np.random.default_rng(17)
    check_set_bounds(o, rng, n_sets=8)
    check_pair_bounds(o, rng, n_sources=10)


from tests.network.test_liechtenstein import li_city, li_scenario  # noqa: E402,F401  (fixtures)


def test_the_compiled_stop_order_is_the_order_of_timing_every_pair(big_town):
    """``TravelOracle.stop_order`` (landmark bounds and hub labels, compiled) gives the order of timing
    every pair with ``time``, on the drive graph and a slower one, asking fewer pairs than all."""
    rng = np.random.default_rng(8)
    for kw in ({}, {"speed_kph_override": 15.0}):
        o, plain = kernel(big_town, **kw), kernel(big_town, **kw)
        assert o.stop_order is not None
        all_pairs = 0
        for _ in range(30):
            stops = rng.choice(big_town.n_nodes, size=int(rng.integers(3, 14)), replace=False)
            got = order_stops(stops, o.time, o.lower_bounds_s, order_fn=o.stop_order)
            assert got == order_stops(stops, plain.time)
            assert all(type(s) is int for s in got)
            all_pairs += len(stops) * (len(stops) - 1) // 2
        assert 0 < o._kernel.pair_asked < all_pairs
