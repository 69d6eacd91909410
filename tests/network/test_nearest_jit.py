"""``sim.network.nearest_jit.nearest_of_set`` (``NearestOnCircuit``'s table) against numpy's argmin, node for node.

Ties matter: on a square grid many nodes are equally far from two circuit nodes, and the
first of them in the circuit's order must win, as ``numpy.argmin`` picks it; a circuit
passes some nodes twice.
"""

from __future__ import annotations

import numpy as np

from sim.engine.units import NearestOnCircuit
from sim.network.nearest_jit import nearest_of_set
from sim.network.synthetic import synthetic_city
from sim.patrol import Circuit
from sim.scenario import SyntheticNetwork


def numpy_nearest(x: np.ndarray, y: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """What ``NearestOnCircuit`` computed before: the distance matrix and argmin per row."""
    d2 = (x[:, None] - x[nodes][None, :]) ** 2 + (y[:, None] - y[nodes][None, :]) ** 2
    return nodes[np.argmin(d2, axis=1)]


def test_the_same_node_as_numpys_argmin_with_ties_and_repeats():
    side = 12
    gx, gy = np.meshgrid(np.arange(side) * 100.0, np.arange(side) * 100.0)
    x, y = gx.ravel().copy(), gy.ravel().copy()
    rng = np.random.default_rng(4)
    ties = 0
    for k in (1, 2, 3, 8, 30, 90):
        for _ in range(10):
            nodes = rng.choice(x.size, k, replace=True).astype(np.int64)     # repeats too
            want = numpy_nearest(x, y, nodes)
            assert np.array_equal(nearest_of_set(x, y, nodes), want), nodes
            d2 = (x[:, None] - x[nodes][None, :]) ** 2 + (y[:, None] - y[nodes][None, :]) ** 2
            ties += int(((d2 == d2.min(axis=1, keepdims=True)).sum(axis=1) > 1).sum())
    assert ties > 100            # the grid has many equal distances: the tie rule was exercised


def test_the_circuit_table_on_a_town():
    city = synthetic_city(SyntheticNetwork(seed=9, area_km2=4.0, block_m=130, stations=2, exits=2))
    g = city.graphs["drive"]
    rng = np.random.default_rng(8)
    for _ in range(20):
        path = rng.choice(g.n_nodes, int(rng.integers(2, 40)), replace=True).tolist()
        c = Circuit(path + path[:1], [float(i) for i in range(len(path) + 1)], [0.0] * (len(path) + 1),
                    [0.0] * (len(path) + 1))
        table = NearestOnCircuit(c, g).table
        assert table.tolist() == numpy_nearest(g.x_m, g.y_m, np.asarray(path, np.int64)).tolist()
        assert all(type(v) is int for v in table)


def test_the_lazy_table_gives_the_tables_node_for_every_node():
    """``NearestOnCircuit(lazy=True)`` (graphs without a time matrix) answers node by node, as the table."""
    city = synthetic_city(SyntheticNetwork(seed=9, area_km2=4.0, block_m=130, stations=2, exits=2))
    g = city.graphs["drive"]
    rng = np.random.default_rng(11)
    for _ in range(20):
        path = rng.choice(g.n_nodes, int(rng.integers(1, 40)), replace=True).tolist()
        c = Circuit(path + path[:1], [float(i) for i in range(len(path) + 1)], [0.0] * (len(path) + 1),
                    [0.0] * (len(path) + 1))
        lazy = NearestOnCircuit(c, g, lazy=True)
        assert lazy.table is None
        want = numpy_nearest(g.x_m, g.y_m, np.asarray(path, np.int64)).tolist()
        asked = rng.permutation(g.n_nodes).tolist()
        got = {node: lazy[node] for node in asked}
        assert [got[node] for node in range(g.n_nodes)] == want
        assert all(type(v) is int for v in got.values())
        assert [lazy[node] for node in asked[:5]] == [want[node] for node in asked[:5]]    # kept answers
