"""The A* pair search with the landmarks a node per row (``dijkstra_jit.toward_rows``).

Checked on random pairs and random limits of a synthetic town above the all-pairs limit
against scipy's Dijkstra (within 1e-6 s, the kernel's tolerance): the seconds, the path
(a chain of edges from the source to the target whose seconds add up to them), and a
pair above its limit answered as inf. That whole runs keep their dispatches is checked by
the engine tests (tests/network/test_searches_engine.py) and the back tests.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.network import TravelOracle
from sim.network import dijkstra_jit as jit
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork


def test_pair_search_equals_dijkstra_within_its_tolerance():
    city = synthetic_city(SyntheticNetwork(seed=5, area_km2=12.0, block_m=50, stations=2, exits=2))
    o = TravelOracle(city.graphs["drive"], backend="kernel")
    k = o._kernel
    assert k is not None
    rng = np.random.default_rng(8)
    n = k.n
    h_s = np.full(n, 123.0)             # any content on entry
    touched = np.empty(16, np.int32)
    sources = rng.integers(0, n, 60)
    ref = dijkstra(o._w, directed=True, indices=sources)
    found = 0
    for i, s in enumerate(sources.tolist()):
        for t in rng.integers(0, n, 15).tolist():
            limit_s = [np.inf, float(rng.uniform(0, 600))][int(rng.integers(0, 2))]
            d, path, touched, n_t = jit.toward_rows(*k._rev, k._sd, k._sp, h_s, touched, t, s, limit_s,
                                                    k._lm_from_rows, k._lm_to_rows)
            assert n_t >= 1
            if d < np.inf:
                found += 1
                assert abs(d - ref[i, t]) <= 1e-6
                nodes = np.asarray(path, np.int64)
                assert nodes[0] == s and nodes[-1] == t
                step_s, _ = o.edge_lookup(nodes[:-1], nodes[1:])
                assert abs(float(np.sum(step_s)) - d) <= 1e-6
            else:
                assert ref[i, t] > limit_s
            # the scratch arrays come back as they went in
            assert np.isinf(k._sd).all() and (k._sp == -1).all()
    assert found > 300


def test_routes_sum_their_edges_like_numpy_and_limits_cost_nothing():
    """``route`` on the kernel backend sums its steps in one compiled pass: numpy's cumsum, bit for bit.

    A pair's time comes from the hub labels, exact whatever the limit asked: one question each,
    no search.
    """
    city = synthetic_city(SyntheticNetwork(seed=5, area_km2=12.0, block_m=50, stations=2, exits=2))
    o = TravelOracle(city.graphs["walk"], backend="kernel", speed_kph_override=5.0)
    k = o._kernel
    rng = np.random.default_rng(3)
    for s, t in rng.integers(0, k.n, (60, 2)).tolist():
        nodes, secs, metres = o.route(s, t)
        path = np.array(nodes, np.int64)
        step_s, step_m = o.edge_lookup(path[:-1], path[1:])
        assert secs == [0.0] + np.cumsum(step_s).tolist()
        assert metres == [0.0] + np.cumsum(step_m).tolist()
        assert abs(secs[-1] - o.time(s, t)) <= 1e-6     # summed the other way round by the labels
    s, t = 17, k.n - 40
    exact = float(dijkstra(o._w, directed=True, indices=s)[t])
    paths, asked = k.paths_read, k.pair_asked
    assert abs(o.time(s, t, limit_s=exact / 2) - exact) <= 1e-6
    assert abs(o.time(s, t, limit_s=exact + 1.0) - exact) <= 1e-6
    assert k.paths_read == paths and k.pair_asked == asked + 2


def test_bounds_to_one_target_hold_and_match_the_bounds_from_one_source():
    """``lower_bounds_to`` (many sources, one target: the dispatch search's units at stations)
    never exceeds the exact time and is the same look-up as ``lower_bounds`` (one source, many targets)."""
    city = synthetic_city(SyntheticNetwork(seed=5, area_km2=12.0, block_m=50, stations=2, exits=2))
    o = TravelOracle(city.graphs["drive"], backend="kernel")
    k = o._kernel
    rng = np.random.default_rng(11)
    sources = rng.integers(0, k.n, 40)
    exact = dijkstra(o._w, directed=True, indices=sources)
    positive = 0
    for t in rng.integers(0, k.n, 25).tolist():
        b = o.lower_bounds_to_s(sources, t)
        assert (b <= exact[:, t]).all()
        positive += int((b > 0).sum())
        for s, bs in zip(sources.tolist(), b.tolist()):
            assert bs == o.lower_bounds_s(s, np.array([t]))[0]
    assert positive > 500            # the bounds are not all zero


def test_time_and_metres_is_time_then_metres(monkeypatch):
    """``TravelOracle.time_and_metres`` (a drive back to a circuit) gives ``time`` and ``metres``, bit for bit,
    from a fresh oracle and from one whose caches already hold some of the pairs (routes, metres)."""
    from sim.network import travel as travel_mod

    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)     # the kernel backend on a small town
    city = synthetic_city(SyntheticNetwork(seed=5, area_km2=4.0, block_m=80, stations=2, exits=2))
    g = city.graphs["drive"]
    one, two = TravelOracle(g, backend="kernel"), TravelOracle(g, backend="kernel")
    assert one._kernel is not None
    rng = np.random.default_rng(3)
    pairs = [tuple(rng.integers(0, g.n_nodes, 2).tolist()) for _ in range(150)] + [(7, 7)]
    for s, t in pairs[::3]:             # some pairs already asked another way
        two.route(s, t)
    for s, t in pairs:
        want = (one.time(s, t), one.metres(s, t))
        got = two.time_and_metres(s, t)
        assert type(got[0]) is float and type(got[1]) is float
        assert got == want or (got[0] == want[0] and np.isnan(got[1]) and np.isnan(want[1]))
        assert two.time_and_metres(s, t) == got or np.isnan(got[1])       # cached: the same again
