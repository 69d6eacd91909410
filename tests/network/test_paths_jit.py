"""Compiled routes and tours (``sim.network.paths_jit``) against the plain Python walk they replace, to the bit.

``TravelOracle.route`` on a graph with the all-pairs tables and ``TravelOracle.tour`` (what
``sim.patrol.build_circuit`` joins a circuit with) must give exactly what the straightforward computation gives: the predecessor
walk, ``edge_lookup`` (a binary search over every edge) and ``numpy.cumsum``, legs
joined in Python as ``build_circuit`` joined them before.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import NetworkError
from sim.network import TravelOracle
from sim.network.travel import join_legs
from sim.network.paths_jit import TOUR_OK, tour_from_pred
from sim.network.synthetic import synthetic_city
from sim.patrol import build_circuit
from sim.scenario import SyntheticNetwork
from tests.network.test_travel import make_graph


def plain_route(o: TravelOracle, source: int, target: int) -> tuple[list, list, list]:
    """``TravelOracle.route`` of a graph with a full matrix as it was: Python walk, edge_lookup, cumsum."""
    if source == target:
        return [source], [0.0], [0.0]
    pred = o._pred_row(source)
    nodes = [target]
    while nodes[-1] != source:
        p = pred[nodes[-1]]
        if p < 0:
            raise NetworkError("no route", fix="-")
        nodes.append(int(p))
    nodes.reverse()
    path = np.array(nodes, np.int64)
    step_s, step_m = o.edge_lookup(path[:-1], path[1:])
    return nodes, [0.0] + np.cumsum(step_s).tolist(), [0.0] + np.cumsum(step_m).tolist()


def plain_tour(o: TravelOracle, stops: list[int]) -> tuple[list, list, list]:
    """``build_circuit``'s join of the legs, as it was (``join_legs``), over the plain routes."""
    return join_legs(lambda a, b: plain_route(o, a, b), stops)


def _bits(values: list) -> bytes:
    return np.asarray(values, np.float64).tobytes()


@pytest.fixture(scope="module")
def town():
    return synthetic_city(SyntheticNetwork(seed=7, area_km2=5.0, block_m=150, stations=2, exits=3))


def test_routes_are_the_plain_walk_to_the_bit(town):
    for mode in ("drive", "walk"):
        o = TravelOracle(town.graphs[mode])
        assert o.time_matrix is not None
        rng = np.random.default_rng(1)
        for s, t in rng.integers(0, o.n_nodes, size=(400, 2)).tolist():
            got, want = o.route(s, t), plain_route(o, s, t)
            assert got[0] == want[0] and all(type(x) is int for x in got[0])
            assert _bits(got[1]) == _bits(want[1]) and _bits(got[2]) == _bits(want[2]), (mode, s, t)


def test_tours_are_the_plain_join_to_the_bit(town):
    o = TravelOracle(town.graphs["drive"])
    rng = np.random.default_rng(2)
    for k in [1, 2, 3, 10, 10, 10, 25]:
        stops = [int(s) for s in rng.choice(o.n_nodes, k, replace=False)]
        got, want = o.tour(stops), plain_tour(o, stops)
        assert got[0] == want[0]
        assert _bits(got[1]) == _bits(want[1]) and _bits(got[2]) == _bits(want[2]), stops
        c = build_circuit(o, stops, patrol_scale=1.7) if k > 1 else None
        if c is not None:
            assert c.nodes == want[0] and _bits(c.t_s) == _bits([r * 1.7 for r in want[1]])
    # repeated stops (a leg of no length adds nothing) and an open tour
    stops = [5, 5, 9, 5]
    assert o.tour(stops) == plain_tour(o, stops)
    nodes, resp, dist = o.tour([3, 40], close=False)
    assert (nodes, resp, dist) == plain_route(o, 3, 40)


def test_no_route_is_the_oracles_error_and_a_missing_edge_takes_the_plain_way():
    g = make_graph(3, [(0, 1, 100, 36), (1, 0, 100, 36), (1, 2, 100, 36)])   # nothing leaves 2
    o = TravelOracle(g)
    with pytest.raises(NetworkError, match="no route from node 2 to node 0"):
        o.route(2, 0)
    with pytest.raises(NetworkError, match="no route from node 2 to node 0"):
        build_circuit(o, [0, 2], patrol_scale=1.0)
    assert o.tour([0, 1, 2], close=False) == ([0, 1, 2], [0.0, 10.0, 20.0], [0.0, 100.0, 200.0])
    # a predecessor table naming a node with no edge to its successor: the kernel says which leg
    pred = o._pred_full.astype(np.int32).copy()
    pred[0, 2] = 0                                   # 0 -> 2 is not a road
    args = (o._in_ptr, o._in_from, o._in_s, o._in_m)
    assert tour_from_pred(pred, np.array([1, 0, 2], np.int64), False, *args)[3] == 1
    assert tour_from_pred(o._pred_full, np.array([1, 0, 2], np.int64), False, *args)[3] == TOUR_OK
