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
from sim.network.metres_jit import metres_row, metres_row_in_edges, metres_table
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
    assert _same_bits(metres_row_in_edges(cut, s, o._in_ptr, o._in_from, o._in_m), want)


def test_the_in_edge_rounds_are_the_pointer_jumping_to_the_bit():
    """``metres_row_in_edges`` (what the oracle calls) against ``metres_row`` on every source of two
    graphs, on int32 rows (the all-pairs table's) and int64 ones (scipy's searches)."""
    city = synthetic_city(SyntheticNetwork(seed=11, area_km2=6.0, block_m=120, stations=2, exits=3))
    for mode in ("drive", "walk"):
        o = TravelOracle(city.graphs[mode])
        for s in range(o.n_nodes):
            pred = o._pred_row(s)
            want = metres_row(pred, s, o._edge_key, o._edge_m)
            for row in (pred, pred.astype(np.int64)):
                assert _same_bits(metres_row_in_edges(row, s, o._in_ptr, o._in_from, o._in_m), want), (mode, s)


def test_the_table_is_every_row_to_the_bit():
    """``metres_table`` (every row in one call, what ``metres_from`` reads on small graphs) against the rows."""
    city = synthetic_city(SyntheticNetwork(seed=12, area_km2=5.0, block_m=140, stations=2, exits=2))
    for mode in ("drive", "walk"):
        o = TravelOracle(city.graphs[mode])
        table = metres_table(o._pred_full, o._in_ptr, o._in_from, o._in_m)
        assert table.shape == (o.n_nodes, o.n_nodes)
        for s in range(o.n_nodes):
            assert _same_bits(table[s], metres_row(o._pred_row(s), s, o._edge_key, o._edge_m)), (mode, s)
        first = o.metres_from(7)
        assert len(o._m_rows) == o.n_nodes and _same_bits(first, table[7])
    # a predecessor without its edge: no table (the oracle then reads the rows one by one)
    bad = o._pred_full.astype(np.int32).copy()
    t = int(np.flatnonzero(bad[3] >= 0)[0])
    into_t = set(o._in_from[o._in_ptr[t]:o._in_ptr[t + 1]].tolist())
    bad[3, t] = next(u for u in range(o.n_nodes) if u not in into_t and u != t)
    assert metres_table(bad, o._in_ptr, o._in_from, o._in_m) is None


def test_a_predecessor_without_an_edge_falls_back_to_the_pointer_jumping():
    """A predecessor row naming a node with no edge to its successor: the in-edge kernel says so
    (None) instead of reading another edge, and ``metres_from`` then gives ``metres_row``'s row."""
    city = synthetic_city(SyntheticNetwork(seed=3, area_km2=4.0, block_m=200, stations=2, exits=2))
    o = TravelOracle(city.graphs["drive"])
    s = 0
    pred = o._pred_row(s).astype(np.int64)
    t = int(np.flatnonzero(pred >= 0)[-1])
    into_t = set(o._in_from[o._in_ptr[t]:o._in_ptr[t + 1]].tolist())
    stranger = next(u for u in range(o.n_nodes) if u not in into_t and u != t)
    bad = pred.copy()
    bad[t] = stranger
    assert metres_row_in_edges(bad, s, o._in_ptr, o._in_from, o._in_m) is None
    good = metres_row_in_edges(pred, s, o._in_ptr, o._in_from, o._in_m)
    assert good is not None and _same_bits(good, metres_row(pred, s, o._edge_key, o._edge_m))
    o._pred_full = o._pred_full.copy()
    o._pred_full[s] = bad
    got = o.metres_from(s)          # no table (an edge is missing): this row by the fallback, one by one
    assert _same_bits(got, metres_row(bad, s, o._edge_key, o._edge_m)) and len(o._m_rows) == 1
    assert _same_bits(o.metres_from(s + 1), metres_row(o._pred_row(s + 1), s + 1, o._edge_key, o._edge_m))
