"""The kernel backend of large graphs (sim/network/searches.py): exact against scipy's Dijkstra.

Tolerance: every time equals ``scipy.sparse.csgraph.dijkstra`` on the same arrays within
1e-6 s (both add edge times along a shortest path; paths of equal time may add in another
order). Answers are checked on random pairs and random limits, in random order (columns are
resumed, not restarted), with a store so small that columns are evicted and their arrays
reused, on a synthetic town and on a real OpenStreetMap network.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from sim.errors import NetworkError
from sim.network import TravelOracle
from sim.network import searches as searches_mod
from sim.network import travel as travel_mod
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork

from tests.network.test_travel import make_graph

TOL_S = 1e-6


@pytest.fixture(scope="module")
def town():
    city = synthetic_city(SyntheticNetwork(seed=3, area_km2=3.0, block_m=80, stations=2, exits=2))
    return city.graphs["drive"], city.graphs["walk"]


def kernel_oracle(graph, monkeypatch, **kw) -> TravelOracle:
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    o = TravelOracle(graph, backend="kernel", **kw)
    assert o.time_matrix is None and o.stops_at_limit
    return o


def all_pairs(o: TravelOracle) -> np.ndarray:
    """scipy's all-pairs seconds of the oracle's own weight matrix: the reference."""
    return dijkstra(o._w, directed=True)


def check_route(o: TravelOracle, s: int, t: int, want_s: float) -> None:
    nodes, secs, metres = o.route(s, t)
    assert nodes[0] == s and nodes[-1] == t
    assert abs(secs[-1] - want_s) <= TOL_S                 # a fastest path
    assert abs(o.metres(s, t) - metres[-1]) <= 1e-6 * max(1.0, metres[-1])   # the labels' two partial sums
    path = np.array(nodes, np.int64)
    step_s, _ = o.edge_lookup(path[:-1], path[1:])        # every step is an edge of the graph
    np.testing.assert_allclose(np.diff(secs), step_s)


def check_random_pairs(o: TravelOracle, ref: np.ndarray, rng, n_pairs: int = 400) -> None:
    n = ref.shape[0]
    pairs = rng.integers(0, n, size=(n_pairs, 2))
    for s, t in pairs.tolist():
        assert abs(o.time(s, t) - ref[s, t]) <= TOL_S, (s, t)
    for s, t in pairs[:60].tolist():
        check_route(o, s, t, ref[s, t])
    # limits: an entry at most the limit is exact, one above it exact or inf
    for limit_s in rng.uniform(0.0, np.nanmax(ref[np.isfinite(ref)]), size=6).tolist():
        src = rng.integers(0, n, 25)
        tgt = rng.integers(0, n, 6)
        got = o.times_between(src, tgt, limit_s=limit_s)
        want = ref[src[:, None], tgt[None, :]]
        near = want <= limit_s
        np.testing.assert_allclose(got[near], want[near], rtol=0, atol=TOL_S)
        assert (np.isinf(got[~near]) | (np.abs(got[~near] - want[~near]) <= TOL_S)).all()
        s, t = int(src[0]), int(tgt[0])
        one = o.time(s, t, limit_s=limit_s)
        assert abs(one - ref[s, t]) <= TOL_S if ref[s, t] <= limit_s else (one == np.inf or abs(one - ref[s, t]) <= TOL_S)
    src = rng.integers(0, n, 30)
    tgt = rng.integers(0, n, 5)
    np.testing.assert_allclose(o.times_between(src, tgt), ref[src[:, None], tgt[None, :]], rtol=0, atol=TOL_S)
    t = int(tgt[0])
    np.testing.assert_allclose(o.times_to(t), ref[:, t], rtol=0, atol=TOL_S)
    np.testing.assert_allclose(o.times_from(int(src[0])), ref[int(src[0])], rtol=0, atol=TOL_S)
    np.testing.assert_allclose(o.times_from_set(src[:3]), ref[src[:3]].min(axis=0), rtol=0, atol=TOL_S)


def test_kernel_times_equal_scipy_on_random_pairs_and_limits(monkeypatch, town):
    graph, _ = town
    o = kernel_oracle(graph, monkeypatch, speed_factor=1.1)
    check_random_pairs(o, all_pairs(o), np.random.default_rng(5))
    assert o._kernel.steps > 0


def test_foot_speeds_and_a_store_that_evicts(monkeypatch, town):
    """Room for only 8 columns and 10 pairs: evicted columns' arrays are cleared and reused, answers stay exact."""
    _, walk = town
    monkeypatch.setattr(searches_mod, "DEFAULT_BUDGET_BYTES", 1)
    monkeypatch.setattr(searches_mod, "MAX_PAIRS", 10)
    o = kernel_oracle(walk, monkeypatch, speed_kph_override=5.0)
    ref = all_pairs(o)
    check_random_pairs(o, ref, np.random.default_rng(11))
    for t in np.random.default_rng(12).choice(walk.n_nodes, 30, replace=False).tolist():
        np.testing.assert_allclose(o.times_to(t), ref[:, t], rtol=0, atol=TOL_S)      # a column each
    assert len(o._kernel._cols) <= 8 and o._kernel.evicted > 20
    for s, t in np.random.default_rng(13).integers(0, walk.n_nodes, size=(40, 2)).tolist():
        o.route(s, t)
    assert len(o._kernel._pairs) <= 10      # evictions happened, arrays were reused


def test_a_column_is_resumed_not_restarted(monkeypatch, town):
    """Near sources first, then far: the column grows to the farthest source asked, never searched twice."""
    graph, _ = town
    o = kernel_oracle(graph, monkeypatch)
    ref = all_pairs(o)
    target = 17
    order = np.argsort(ref[:, target])
    cols = o._kernel
    col = cols.column(target)
    settled = []
    for s in order[1:: max(1, order.size // 20)].tolist():
        cols._advance(col, stop=np.array([s], np.int64))
        assert abs(col.dist[s] - ref[s, target]) <= TOL_S
        settled.append(col.n)
    assert settled == sorted(settled)                  # only ever grows
    assert col.n <= graph.n_nodes                      # every node reached once
    near = int(order[3])
    assert col.dist[near] <= col.radius_s                # settled already: no search needed


def test_near_questions_search_only_the_neighbourhood(monkeypatch, town):
    graph, _ = town
    o = kernel_oracle(graph, monkeypatch)
    ref = all_pairs(o)
    for t in np.random.default_rng(8).choice(graph.n_nodes, 40, replace=False).tolist():
        near = np.flatnonzero(ref[:, t] < 60.0)
        col = o._kernel.column(t)
        o._kernel._advance(col, stop=np.ascontiguousarray(near[:3], np.int64))
        np.testing.assert_allclose(col.dist[near[:3]], ref[near[:3], t], rtol=0, atol=TOL_S)
        assert col.n < graph.n_nodes / 2                   # reached a neighbourhood, not the graph


def test_point_to_point_questions_search_nothing(monkeypatch, town):
    """``time`` reads the hub labels: exact, no search, whatever the limit; ``path`` reads the labels'
    steps: no search either, a fastest path's nodes and no other."""
    graph, _ = town
    o = kernel_oracle(graph, monkeypatch)
    ref = all_pairs(o)
    k = o._kernel
    rng = np.random.default_rng(13)
    for s, t in rng.integers(0, graph.n_nodes, size=(200, 2)).tolist():
        assert abs(o.time(s, t) - ref[s, t]) <= TOL_S
        assert abs(o.time(s, t, limit_s=ref[s, t] / 2) - ref[s, t]) <= TOL_S
    assert k.paths_read == 0 and k.path_nodes == 0 and k.pair_asked > 0
    settled, nodes, read = k.settled, 0, set()
    for s, t in rng.integers(0, graph.n_nodes, size=(100, 2)).tolist():
        path = k.path(s, t)
        assert path is None or (path[0] == s and path[-1] == t)
        if s != t and (s, t) not in read:        # a node to itself reads nothing; a pair is read once
            read.add((s, t))
            nodes += 0 if path is None else len(path)
    assert k.paths_read == len(read) > 90 and k.path_nodes == nodes and k.settled == settled


def test_answers_do_not_depend_on_what_was_asked_before(monkeypatch, town):
    """The same pairs asked in two orders, with limits in between, give the same bits.

    (So a replication's numbers do not depend on the replications run before it in a process.)
    """
    graph, _ = town
    rng = np.random.default_rng(4)
    pairs = rng.integers(0, graph.n_nodes, size=(300, 2))
    a = kernel_oracle(graph, monkeypatch)
    b = kernel_oracle(graph, monkeypatch)
    for s, t in pairs[::-1].tolist():
        b.time(s, t, limit_s=float(rng.uniform(0, 300)))
        b.times_between(np.array([s, t]), np.array([t]), limit_s=30.0)
    first = [a.time(s, t) for s, t in pairs.tolist()]
    second = [b.time(s, t) for s, t in pairs.tolist()]
    assert first == second


def test_unreachable_on_the_kernel_backend(monkeypatch):
    g = make_graph(3, [(0, 1, 100, 36), (1, 0, 100, 36), (1, 2, 100, 36)])   # nothing leaves 2
    o = kernel_oracle(g, monkeypatch)
    assert np.isinf(o.time(2, 0))
    assert np.isnan(o.metres(2, 0))
    with pytest.raises(NetworkError):
        o.route(2, 0)
    assert o.time(0, 2) == pytest.approx(20.0)
    assert o.time(0, 2, limit_s=5.0) == pytest.approx(20.0)       # exact, not inf: the labels
    assert o.time(1, 0, limit_s=5.0) == pytest.approx(10.0)
    assert o.route(0, 2) == ([0, 1, 2], [0.0, 10.0, 20.0], [0.0, 100.0, 200.0])


def test_backend_from_the_environment(monkeypatch, town):
    graph, _ = town
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    monkeypatch.delenv(travel_mod.BACKEND_ENV, raising=False)
    assert TravelOracle(graph).backend == "kernel"
    for name in ("bounded", "per-target"):
        monkeypatch.setenv(travel_mod.BACKEND_ENV, name)
        o = TravelOracle(graph)
        assert o.backend == name and o._kernel is None and not o.stops_at_limit


def test_kernel_equals_scipy_on_a_real_osm_network(li_city):
    """Liechtenstein's bike graph (OpenStreetMap 2015, about 4,600 nodes, real edge lengths)."""
    graph = li_city.graphs["bike"]
    o = TravelOracle(graph, speed_kph_override=15.0, backend="kernel")
    assert o.time_matrix is None
    check_random_pairs(o, all_pairs(o), np.random.default_rng(21), n_pairs=300)


from tests.network.test_liechtenstein import li_city, li_scenario  # noqa: E402,F401  (fixtures)
