"""``TravelOracle.metres_from`` compiled (``sim.network.metres_jit.metres_row``): numpy's rows to the bit.

The reference is the numpy pointer jumping the oracle used before (kept here); every
source of a small town's graphs (with a full predecessor matrix) and some sources of a
larger one (predecessor rows searched one by one) must give the same bits, nan where a
node cannot be reached (a graph with a node cut off).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.network import TravelOracle
from sim.network.metres_jit import metres_row
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork


def numpy_metres_from(o: TravelOracle, source: int, pred: np.ndarray) -> np.ndarray:
    """The numpy pointer jumping ``TravelOracle.metres_from`` ran before the compiled loop."""
    up = pred.astype(np.int64)
    reach = up >= 0
    up[~reach] = source
    m = np.zeros(up.size)
    dst = np.flatnonzero(reach)
    m[dst] = o.edge_lookup(up[dst], dst)[1]
    while True:
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        m += m[up]
        up = nxt
    m[~reach] = np.nan
    m[source] = 0.0
    return m


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_every_row_of_a_small_town_is_numpys_to_the_bit():
    city = synthetic_city(SyntheticNetwork(seed=3, area_km2=4.0, block_m=200, stations=2, exits=2))
    for mode in ("drive", "walk"):
        o = TravelOracle(city.graphs[mode])
        assert o.time_matrix is not None
        checked = 0
        for s in range(o.n_nodes):
            pred = o._pred_row(s)
            row = o.metres_from(s)
            assert _same_bits(row, numpy_metres_from(o, s, pred)), (mode, s)
            checked += np.isfinite(row).sum() > 1
        assert checked == o.n_nodes


def test_rows_searched_one_by_one_and_unreachable_nodes():
    city = synthetic_city(SyntheticNetwork(seed=5, area_km2=12.0, block_m=50, stations=2, exits=2))
    o = TravelOracle(city.graphs["drive"], backend="kernel")
    assert o.time_matrix is None
    rng = np.random.default_rng(0)
    for s in rng.choice(o.n_nodes, 12, replace=False).tolist():
        assert _same_bits(o.metres_from(s), numpy_metres_from(o, s, o._pred_row(s)))
    # a predecessor row with nodes cut off (as from a graph that is not strongly connected): nan there
    s = int(rng.integers(o.n_nodes))
    _, pred = dijkstra(o._w, directed=True, indices=s, return_predecessors=True)
    cut = pred.copy()
    cut[rng.choice(np.flatnonzero(cut >= 0), 40, replace=False)] = -9999
    got = metres_row(cut, s, o._edge_key, o._edge_m)
    want = numpy_metres_from(o, s, cut)
    assert _same_bits(got, want) and np.isnan(got).sum() >= 40
