"""The bounded-search backend of large graphs: exact times and valid fastest routes.

Every figure is checked against a full Dijkstra search (the all-pairs matrix of the
same graph); bounded searches may not change a time, whatever their first limit.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import NetworkError
from sim.network import TravelOracle
from sim.network import bounded as bounded_mod
from sim.network import travel as travel_mod
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork

from tests.network.test_travel import make_graph


@pytest.fixture(scope="module")
def town():
    city = synthetic_city(SyntheticNetwork(seed=3, area_km2=3.0, block_m=80, stations=2, exits=2))
    return city.graphs["drive"], city.graphs["walk"]


def oracles(graph, monkeypatch, **kw):
    """(full matrix, bounded backend) oracles of ``graph``."""
    full = TravelOracle(graph, **kw)
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    lazy = TravelOracle(graph, backend="bounded", **kw)
    assert full.time_matrix is not None and lazy.time_matrix is None
    return full, lazy


def check_route(o: TravelOracle, s: int, t: int, want_s: float) -> None:
    nodes, secs, metres = o.route(s, t)
    assert nodes[0] == s and nodes[-1] == t
    assert secs[-1] == pytest.approx(want_s, rel=1e-12, abs=1e-9)     # a fastest path
    assert o.metres(s, t) == metres[-1]
    # every step is an edge of the graph: edge_lookup finds it with these seconds
    path = np.array(nodes, np.int64)
    step_s, _ = o.edge_lookup(path[:-1], path[1:])
    np.testing.assert_allclose(np.diff(secs), step_s)


@pytest.mark.parametrize("first_limit_s", [bounded_mod.FIRST_LIMIT_S, 1.0])
def test_bounded_times_are_exact_on_random_pairs(monkeypatch, town, first_limit_s):
    """A first limit of 1 s makes almost every question go past it: extensions must stay exact."""
    monkeypatch.setattr(bounded_mod, "FIRST_LIMIT_S", first_limit_s)
    monkeypatch.setattr(bounded_mod, "MIN_LIMIT_S", min(first_limit_s, bounded_mod.MIN_LIMIT_S))
    graph, _ = town
    full, lazy = oracles(graph, monkeypatch, speed_factor=1.1)
    rng = np.random.default_rng(5)
    pairs = rng.integers(0, graph.n_nodes, size=(300, 2))
    for s, t in pairs.tolist():
        assert lazy.time(s, t) == pytest.approx(full.time(s, t), rel=1e-12, abs=1e-9)
    for s, t in pairs[:60].tolist():
        check_route(lazy, s, t, full.time(s, t))
    targets = pairs[:5, 1]
    np.testing.assert_allclose(lazy.times_between(pairs[:, 0], targets),
                               full.times_between(pairs[:, 0], targets), rtol=1e-12)
    np.testing.assert_allclose(lazy.times_to(int(targets[0])), full.times_to(int(targets[0])), rtol=1e-12)
    np.testing.assert_allclose(lazy.times_from(7), full.times_from(7), rtol=1e-12)
    np.testing.assert_allclose(lazy.times_from_set(np.array([1, 9])), full.times_from_set(np.array([1, 9])))
    if first_limit_s == 1.0:   # the small limit really was exceeded and extended
        assert lazy._bounded.searches > len(set(pairs[:, 1].tolist()))


def test_near_questions_search_only_the_neighbourhood(monkeypatch, town):
    """After a few targets the first limit follows what was asked: near pairs take one small search."""
    graph, _ = town
    full, lazy = oracles(graph, monkeypatch)
    rng = np.random.default_rng(8)
    for t in rng.choice(graph.n_nodes, 40, replace=False).tolist():
        near = np.flatnonzero(full.times_to(t) < 60.0)
        for s in near[:3].tolist():
            assert lazy.time(s, t) == pytest.approx(full.time(s, t), rel=1e-12)
    col = lazy._bounded.column(int(t))
    assert col.limit_s < np.inf
    assert np.isfinite(col.dist).sum() < graph.n_nodes       # not the whole graph
    assert lazy._bounded.searches <= 45                       # about one search per target


def test_far_sources_get_a_row(monkeypatch, town):
    """A source a column missed twice (a unit at its station) gets a full row; answers stay exact."""
    monkeypatch.setattr(bounded_mod.BoundedColumns, "_first_limit_s", lambda self: 5.0)
    graph, _ = town
    full, lazy = oracles(graph, monkeypatch)
    station = 0
    far = np.argsort(full.times_from(station))[-10:].tolist()
    for t in far:
        assert lazy.time(station, t) == pytest.approx(full.time(station, t), rel=1e-12)
        check_route(lazy, station, t, full.time(station, t))
    assert lazy._bounded.row(station) is not None
    searches = lazy._bounded.searches
    other = int(far[0]) + 1
    assert lazy.time(station, other) == pytest.approx(full.time(station, other), rel=1e-12)
    assert lazy._bounded.searches == searches          # answered from the row: no search


def test_walk_network_and_a_small_memory_budget(monkeypatch, town):
    """Foot speeds on the walk graph, with room for only 8 columns: evictions keep answers exact."""
    _, walk = town
    full = TravelOracle(walk, speed_kph_override=5.0)
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    monkeypatch.setattr(bounded_mod, "DEFAULT_BUDGET_BYTES", 1)
    lazy = TravelOracle(walk, speed_kph_override=5.0, backend="bounded")
    rng = np.random.default_rng(11)
    for s, t in rng.integers(0, walk.n_nodes, size=(100, 2)).tolist():
        assert lazy.time(s, t) == pytest.approx(full.time(s, t), rel=1e-12, abs=1e-9)
    assert len(lazy._bounded._cols) <= 8


def test_unreachable_on_the_bounded_backend(monkeypatch):
    g = make_graph(3, [(0, 1, 100, 36), (1, 0, 100, 36), (1, 2, 100, 36)])   # nothing leaves 2
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    o = TravelOracle(g, backend="bounded")
    assert np.isinf(o.time(2, 0))
    assert np.isnan(o.metres(2, 0))
    with pytest.raises(NetworkError):
        o.route(2, 0)
    assert o.time(0, 2) == pytest.approx(20.0)
    assert o.route(0, 2) == ([0, 1, 2], [0.0, 10.0, 20.0], [0.0, 100.0, 200.0])


def test_backend_from_the_environment(monkeypatch, town):
    graph, _ = town
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    monkeypatch.setenv(travel_mod.BACKEND_ENV, "per-target")
    assert TravelOracle(graph).backend == "per-target" and TravelOracle(graph)._bounded is None
    monkeypatch.setenv(travel_mod.BACKEND_ENV, "bounded")
    assert TravelOracle(graph).backend == "bounded"
    monkeypatch.setenv(travel_mod.BACKEND_ENV, "fastest")
    with pytest.raises(NetworkError, match="PATROLSIM_TRAVEL_BACKEND"):
        TravelOracle(graph)
    with pytest.raises(NetworkError, match="unknown"):
        TravelOracle(graph, backend="nope")
