"""A circuit's bound search of radius 0 in one pass gives the search's bits (``dijkstra_jit.bound_params_at_zero``).

With ``patrol.BOUND_EXACT_WITHIN_S`` at 0, the bound search from a circuit's nodes pops only them and
stops at the first key above 0. ``SearchColumns.bound_params_from_set`` now relaxes their edges in one
pass without a heap; it must give what the search gives (the landmarks' worst sources, the radius, the
nodes within it and their seconds, the nodes reached), bit for bit, and the search when an edge of
0 seconds leaves the set (the search goes on through it).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.network import TravelOracle
from sim.network.dijkstra_jit import bound_params_at_zero, unique_nodes
from sim.network.searches import SearchColumns


def _both(k: SearchColumns, sources: np.ndarray) -> tuple:
    """(one pass, search): each ``bound_params_from_set``'s output and the nodes it counts as reached."""
    out = []
    for at_zero in (True, False):
        k.BOUND_AT_ZERO = at_zero
        before = k.bound_reached
        got = k.bound_params_from_set(sources, exact_within_s=0.0)
        out.append((got, k.bound_reached - before))
    del k.BOUND_AT_ZERO
    return out[0], out[1]


def _same(a: tuple, b: tuple) -> None:
    (pa, ra), (pb, rb) = a, b
    assert ra == rb
    assert pa[2] == pb[2]                                    # the radius
    for x, y in zip(pa[:2] + pa[3:], pb[:2] + pb[3:]):       # worst sources, nodes, their seconds
        assert x.dtype == y.dtype and np.array_equal(x, y)


def test_one_pass_is_the_search_on_random_circuits(big_town):
    o = TravelOracle(big_town, backend="kernel")
    k = o._kernel
    rng = np.random.default_rng(11)
    for size in (1, 2, 10, 300, 1500):
        for _ in range(6):
            sources = rng.choice(o.n_nodes, size=size, replace=False)
            _same(*_both(k, sources))
    for _ in range(6):                                       # a circuit's nodes: a tour of real stops
        nodes = o.tour(sorted(rng.choice(o.n_nodes, size=10, replace=False).tolist()))[0]
        _same(*_both(k, np.asarray(nodes)))
    assert np.all(k._sd == np.inf) and np.all(k._sp == -1)   # the scratch arrays as they came


def test_an_edge_of_no_seconds_hands_over_to_the_search():
    # 0 -> 1 at 0 s, 1 -> 2 at 5 s, 0 -> 3 at 7 s: from {0} the search goes on through 1 at 0
    indptr = np.array([0, 2, 3, 3, 3], np.int64)
    indices = np.array([1, 3, 2], np.int32)
    weights = np.array([0.0, 7.0, 5.0])
    dist = np.full(4, np.inf)
    lm = np.zeros((4, 0))
    ok, *_ = bound_params_at_zero(indptr, indices, weights, dist, np.array([0], np.int64),
                                  np.empty(4, np.int32), lm, lm)
    assert not ok and np.all(dist == np.inf)
    ok, ff, nt, radius, nodes, seconds, _, n_t = bound_params_at_zero(
        indptr, indices, np.array([1.0, 7.0, 5.0]), dist, np.array([0], np.int64), np.empty(4, np.int32), lm, lm)
    assert ok and radius == 1.0 and nodes.tolist() == [0, 1] and seconds.tolist() == [0.0, 1.0] and n_t == 3


@pytest.mark.parametrize("size", [3, 40])
def test_ties_at_the_radius_are_all_within_it(size):
    # a star: every leaf 2 s from the centre; from the centre alone every leaf is at the radius
    n = size + 1
    indptr = np.array([0] + [size] * n, np.int64)
    indices = np.arange(1, n, dtype=np.int32)
    weights = np.full(size, 2.0)
    ok, _, _, radius, nodes, seconds, _, n_t = bound_params_at_zero(
        indptr, indices, weights, np.full(n, np.inf), np.array([0], np.int64), np.empty(2, np.int32),
        np.zeros((n, 0)), np.zeros((n, 0)))
    assert ok and radius == 2.0 and nodes.tolist() == list(range(n)) and n_t == n
    assert seconds.tolist() == [0.0] + [2.0] * size


def test_a_sets_nodes_are_numpys_unique():
    """``unique_nodes`` (the circuit's nodes, sorted and distinct, that the one pass starts from) gives
    ``np.unique``'s array: the same ids, in order, int64; empty and single sets too."""
    rng = np.random.default_rng(21)
    for size in (0, 1, 2, 7, 300, 2000):
        for _ in range(20):
            nodes = rng.integers(0, size // 3 + 2, size)
            got = unique_nodes(nodes)
            assert got.dtype == np.int64 and np.array_equal(got, np.unique(nodes))
    assert np.array_equal(unique_nodes(np.array([5, 5, 5], np.int64)), [5])
