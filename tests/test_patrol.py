"""Patrol circuits as pure functions: stops, order, closed routes, positions, lower bounds."""

from __future__ import annotations

import numpy as np
import pytest

from sim.network import TravelOracle
from sim.network.synthetic import synthetic_city
from sim.patrol import (MIN_CIRCUIT_S, Circuit, build_circuit, choose_stops, circuit_lower_bound_s,
                        order_stops)
from sim.scenario import SyntheticNetwork


@pytest.fixture(scope="module")
def oracle():
    city = synthetic_city(SyntheticNetwork(seed=4, area_km2=2.0, stations=2, exits=2))
    return TravelOracle(city.graphs["drive"])


def square() -> Circuit:
    # A -> B -> C -> A: 100, 200, 300 patrol seconds; response seconds are half
    return Circuit(nodes=[10, 11, 12, 10], t_s=[0.0, 100.0, 300.0, 600.0], resp_s=[0.0, 50.0, 150.0, 300.0],
                   dist_m=[0.0, 500.0, 1500.0, 3000.0])


def test_where_on_a_circuit():
    c = square()
    assert c.duration_s == 600.0 and c.length_m == 3000.0
    assert c.where(0.0) == (11, pytest.approx(50.0), 1)
    node, rem, k = c.where(50.0)               # half way from 10 to 11
    assert (node, k) == (11, 1) and rem == pytest.approx(25.0)
    node, rem, k = c.where(250.0)              # three quarters from 11 to 12
    assert (node, k) == (12, 2) and rem == pytest.approx(25.0)
    # laps repeat, negative times wrap around
    assert c.where(650.0)[:2] == c.where(50.0)[:2]
    assert c.where(-550.0)[:2] == c.where(50.0)[:2]


def test_choose_stops_are_distinct_beat_nodes():
    beat = np.arange(100, 130)
    rng = np.random.default_rng(0)
    stops = choose_stops(beat, rng, n_stops=10)
    assert len(stops) == 10 and len(set(stops.tolist())) == 10
    assert np.isin(stops, beat).all()
    # a beat smaller than the number of stops visits every node
    assert sorted(choose_stops(np.array([5, 6, 7]), np.random.default_rng(0), n_stops=10).tolist()) == [5, 6, 7]


def test_choose_stops_follows_weights():
    beat = np.arange(10)
    w = np.zeros(10)
    w[[2, 7]] = 1.0
    stops = choose_stops(beat, np.random.default_rng(1), n_stops=5, weights=w)
    assert sorted(stops.tolist()) == [2, 7]     # only nodes with weight are visited


def test_choose_stops_is_reproducible():
    beat = np.arange(50)
    a = choose_stops(beat, np.random.default_rng(3), n_stops=8)
    b = choose_stops(beat, np.random.default_rng(3), n_stops=8)
    np.testing.assert_array_equal(a, b)


def test_order_stops_is_greedy_nearest_neighbour():
    pos = {1: 0.0, 2: 10.0, 3: 3.0, 4: 7.0}
    order = order_stops(np.array([1, 2, 3, 4]), lambda a, b: abs(pos[a] - pos[b]))
    assert order == [1, 3, 4, 2]


def test_single_stop_circuit_is_a_dwell():
    c = build_circuit(None, [42], patrol_scale=2.0)
    assert c.nodes == [42, 42]
    assert c.duration_s == MIN_CIRCUIT_S
    assert c.length_m == 0.0
    assert c.where(17.0) == (42, 0.0, 1)


def test_built_circuit_is_closed_and_consistent(oracle):
    stops = [0, 20, 40, 60]
    c = build_circuit(oracle, stops, patrol_scale=2.0)
    assert c.nodes[0] == c.nodes[-1] == 0
    for s in stops:
        assert s in c.nodes
    # consecutive nodes are joined by streets; patrol time is response time x scale
    np.testing.assert_allclose(c.t_s, np.asarray(c.resp_s) * 2.0)
    assert all(b >= a for a, b in zip(c.t_s, c.t_s[1:]))
    expected = sum(oracle.time(a, b) for a, b in zip(stops, stops[1:] + stops[:1]))
    assert c.resp_s[-1] == pytest.approx(expected)
    edges = set(zip(oracle.graph.edge_u.tolist(), oracle.graph.edge_v.tolist()))
    for a, b in zip(c.nodes, c.nodes[1:]):
        assert (a, b) in edges


def test_lower_bound_never_exceeds_the_time_from_any_position(oracle):
    rng = np.random.default_rng(5)
    stops = [int(s) for s in rng.choice(oracle.n_nodes, 6, replace=False)]
    c = build_circuit(oracle, order_stops(np.array(stops), oracle.time), patrol_scale=1.6)
    n = oracle.n_nodes
    extra = rng.uniform(0, 30, n)
    lb = circuit_lower_bound_s(oracle, [c], np.arange(n), extra)
    for tau in rng.uniform(0, c.duration_s, 25):
        node, rem, _ = c.where(float(tau))
        eta = rem + oracle.times_from(node) + extra
        assert np.all(lb <= eta + 1e-9)
    # and it is tight at the circuit's own nodes (zero travel plus the place offset)
    for node in set(c.nodes):
        assert lb[node] == pytest.approx(extra[node])
