"""The travel-time oracle: exact times on hand-built graphs, agreement with networkx, routes."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim.errors import NetworkError
from sim.network import TravelOracle
from sim.network import travel as travel_mod
from sim.network.graph import RoadGraph, largest_strong_component
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork


def make_graph(n_nodes: int, edges: list[tuple[int, int, float, float]], *, mode: str = "drive") -> RoadGraph:
    """edges: (u, v, length_m, speed_kph); nodes on a line 100 m apart."""
    u, v, length, speed = (np.array(c) for c in zip(*edges))
    x = np.arange(n_nodes) * 100.0
    return RoadGraph(mode=mode, node_id=np.arange(n_nodes, dtype=np.int64), x_m=x, y_m=np.zeros(n_nodes),
                     lon=x / 1e5, lat=np.zeros(n_nodes), edge_u=u.astype(np.int32), edge_v=v.astype(np.int32),
                     edge_length_m=length.astype(float), edge_speed_kph=speed.astype(float),
                     edge_class=np.array(["residential"] * len(edges)))


@pytest.fixture
def triangle():
    # 0 -> 1 -> 2 is 1000 m + 500 m at 36 km/h (10 m/s): 150 s; the direct 0 -> 2 is 1800 m at 36 km/h: 180 s.
    # 2 -> 0 only via the slow back road (3000 m at 36 km/h): 300 s.
    return make_graph(3, [(0, 1, 1000, 36), (1, 2, 500, 36), (0, 2, 1800, 36), (2, 0, 3000, 36),
                          (1, 0, 1000, 36), (2, 1, 500, 36)])


def test_exact_times(triangle):
    o = TravelOracle(triangle)
    assert o.time(0, 2) == pytest.approx(150.0)
    assert o.time(2, 0) == pytest.approx(150.0)   # 2 -> 1 -> 0 beats the 300 s back road
    assert o.time(0, 1) == pytest.approx(100.0)
    assert o.time(1, 1) == 0.0
    np.testing.assert_allclose(o.times_to(2), [150.0, 50.0, 0.0])
    np.testing.assert_allclose(o.times_from(0), [0.0, 100.0, 150.0])


def test_speed_factor_and_override(triangle):
    assert TravelOracle(triangle, speed_factor=1.25).time(0, 2) == pytest.approx(150.0 / 1.25)
    # bicycles: one speed everywhere, 18 km/h = 5 m/s
    assert TravelOracle(triangle, speed_kph_override=18.0).time(0, 2) == pytest.approx(1500 / 5)


def test_route_has_cumulative_seconds_and_metres(triangle):
    nodes, secs, metres = TravelOracle(triangle).route(0, 2)
    assert nodes == [0, 1, 2]
    np.testing.assert_allclose(secs, [0.0, 100.0, 150.0])
    np.testing.assert_allclose(metres, [0.0, 1000.0, 1500.0])
    assert TravelOracle(triangle).route(1, 1) == ([1], [0.0], [0.0])


def test_parallel_edges_keep_the_fastest():
    g = make_graph(2, [(0, 1, 1000, 36), (0, 1, 1000, 72), (1, 0, 1000, 36)])
    o = TravelOracle(g)
    assert o.time(0, 1) == pytest.approx(50.0)
    _, secs, metres = o.route(0, 1)
    assert secs[-1] == pytest.approx(50.0) and metres[-1] == pytest.approx(1000.0)


def test_times_from_set_is_the_nearest_source(triangle):
    o = TravelOracle(triangle)
    np.testing.assert_allclose(o.times_from_set(np.array([0, 2])), [0.0, 50.0, 0.0])


def test_unreachable_route_is_a_network_error():
    g = make_graph(3, [(0, 1, 100, 36), (1, 0, 100, 36), (1, 2, 100, 36)])   # nothing leaves 2
    o = TravelOracle(g)
    assert np.isinf(o.time(2, 0))
    with pytest.raises(NetworkError):
        o.route(2, 0)


def test_largest_strong_component_drops_dead_ends():
    g = make_graph(4, [(0, 1, 100, 36), (1, 0, 100, 36), (1, 2, 100, 36), (2, 1, 100, 36), (2, 3, 100, 36)])
    kept = largest_strong_component(g)
    assert kept.n_nodes == 3 and kept.dropped_nodes == 1 and kept.dropped_edges == 1
    o = TravelOracle(kept)
    assert all(np.isfinite(o.times_from(i)).all() for i in range(kept.n_nodes))


@pytest.fixture(scope="module")
def town_graph():
    return synthetic_city(SyntheticNetwork(seed=2, area_km2=2.0, stations=2, exits=2)).graphs["drive"]


def test_agrees_with_networkx_on_a_town(town_graph):
    g = town_graph
    o = TravelOracle(g, speed_factor=1.25)
    secs = g.edge_time_s(speed_factor=1.25)
    h = nx.DiGraph()
    for u, v, w in zip(g.edge_u.tolist(), g.edge_v.tolist(), secs.tolist()):
        if not h.has_edge(u, v) or h[u][v]["w"] > w:
            h.add_edge(u, v, w=w)
    rng = np.random.default_rng(0)
    for s in rng.choice(g.n_nodes, 5, replace=False):
        want = nx.single_source_dijkstra_path_length(h, int(s), weight="w")
        got = o.times_from(int(s))
        for t, d in want.items():
            assert got[t] == pytest.approx(d, rel=1e-9, abs=1e-9)


def test_route_times_match_the_oracle(town_graph):
    o = TravelOracle(town_graph)
    rng = np.random.default_rng(1)
    for s, t in rng.integers(0, town_graph.n_nodes, size=(20, 2)):
        nodes, secs, metres = o.route(int(s), int(t))
        assert nodes[0] == s and nodes[-1] == t
        assert secs[-1] == pytest.approx(o.time(int(s), int(t)), rel=1e-9, abs=1e-9)
        assert all(b >= a for a, b in zip(secs, secs[1:]))
        assert all(b >= a for a, b in zip(metres, metres[1:]))


def test_large_graph_branch_gives_the_same_times(monkeypatch, town_graph):
    """The per-target backend of graphs above FULL_MATRIX_MAX_NODES: the answers must not change.

    (The bounded backend has its own tests in test_travel_bounded.py.)"""
    full = TravelOracle(town_graph)
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    lazy = TravelOracle(town_graph, max_cached_rows=3, backend="per-target")
    rng = np.random.default_rng(2)
    for s, t in rng.integers(0, town_graph.n_nodes, size=(30, 2)):
        assert lazy.time(int(s), int(t)) == pytest.approx(full.time(int(s), int(t)), rel=1e-12)
    np.testing.assert_allclose(lazy.times_to(5), full.times_to(5))
    np.testing.assert_allclose(lazy.times_from(7), full.times_from(7))
    np.testing.assert_allclose(lazy.times_from_set(np.array([1, 9])), full.times_from_set(np.array([1, 9])))
    assert lazy.route(3, 40) == full.route(3, 40)


def test_triangle_inequality_on_a_town(town_graph):
    o = TravelOracle(town_graph)
    rng = np.random.default_rng(3)
    for a, b, c in rng.integers(0, town_graph.n_nodes, size=(50, 3)):
        assert o.time(int(a), int(c)) <= o.time(int(a), int(b)) + o.time(int(b), int(c)) + 1e-9
