"""The compiled sums along a path (``dijkstra_jit.path_sums``) find each step's edge among its node's keys.

Before, each step was ``np.searchsorted`` over every edge key of the graph; now ``_edge_at`` reads
only the keys of the step's first node (``edge_ptr``). Both must name the same edge for every pair
of nodes, an edge or not (searchsorted's insertion point), and the sums must be the same bits.
"""

from __future__ import annotations

import numpy as np

from sim.network.dijkstra_jit import _edge_at, path_sums


def _random_edges(n: int, m: int, seed: int):
    rng = np.random.default_rng(seed)
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    key = np.unique(u.astype(np.int64) * n + v)
    ptr = np.searchsorted(key, np.arange(n + 1, dtype=np.int64) * n)     # as TravelOracle builds it
    return key, ptr, rng.uniform(1, 60, key.size), rng.uniform(10, 500, key.size), rng


def test_edge_at_is_searchsorted_for_every_pair():
    n = 60
    key, ptr, _, _, _ = _random_edges(n, 400, seed=3)
    for u in range(n):                         # edges, and pairs with none (their insertion point)
        for v in range(n):
            assert _edge_at(ptr, key, np.int64(u), np.int32(v), n) == np.searchsorted(key, u * n + v)


def test_path_sums_are_the_cumulative_sums_of_the_edges():
    n = 200
    key, ptr, sec, met, rng = _random_edges(n, 3000, seed=5)
    us, vs = key // n, key % n
    for _ in range(50):                        # walks along existing edges
        path = [int(rng.integers(0, n))]
        for _ in range(int(rng.integers(1, 40))):
            out = vs[us == path[-1]]
            if out.size == 0:
                break
            path.append(int(rng.choice(out)))
        p = np.asarray(path, np.int32)
        cum_s, cum_m = path_sums(p, ptr, key, sec, met, n)
        k = np.searchsorted(key, p[:-1].astype(np.int64) * n + p[1:])
        assert cum_s.tolist() == [0.0] + np.cumsum(sec[k]).tolist()         # the same bits
        assert cum_m.tolist() == [0.0] + np.cumsum(met[k]).tolist()
