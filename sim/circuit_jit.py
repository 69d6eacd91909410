"""Compiled parts of building a patrol circuit on a graph with a full time matrix (``sim.patrol``).

Each unit builds a circuit per alert level and period of the day (693 in a replication of
the default town at 1,920 officers): per circuit this is a few calls, each cheap, but
numpy's fixed cost per call and Python's per pair add up to most of a circuit's build.

``nearest_neighbour_order`` (``order_stops``):
Every patrol circuit orders its stops (ten by default) greedily: from the first stop,
the nearest stop left, ties to the lower node. In Python that was one ``TravelOracle.time``
call through a lambda per pair (45 pairs for ten stops): at 1,920 officers in the default
town, 693 circuits and 21,750 such calls per replication, a third of the circuits'
build. On a graph with a full time matrix this loop reads the same seconds and makes
the same comparisons as ``min`` over the keys ``(seconds, node)`` (the first of equal
keys kept; a nan key never replaced and never replacing, as in tuple comparison), and
takes the stop out of the list left keeping its order, as ``list.pop``.

``bound_from_nodes`` (``circuit_lower_bound_s``): per place, the fewest seconds from any
node of a circuit, plus the place's extra seconds; numpy's ``time_m[nodes].min(axis=0)``
(``TravelOracle.times_from_set``, after ``np.unique``), indexed by the places' nodes, then
the addition, without the copy of a row per circuit node (min is exact and takes no
account of order or repeats; a nan is kept as ``np.minimum`` keeps it).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def nearest_neighbour_order(time_m, stops):
    """``stops`` (int64, at least one) in greedy nearest-neighbour order from ``stops[0]`` on ``time_m[src, dst]``."""
    n = stops.shape[0]
    left = stops[1:].copy()
    m = n - 1
    order = np.empty(n, np.int64)
    order[0] = stops[0]
    for k in range(1, n):
        here = order[k - 1]
        j = 0
        best_s = time_m[here, left[0]]
        best_node = left[0]
        for i in range(1, m):
            s = time_m[here, left[i]]
            # (s, node) < (best_s, best_node) as Python compares tuples of a float and an int
            if s == best_s:
                if left[i] < best_node:
                    j, best_s, best_node = i, s, left[i]
            elif s < best_s:
                j, best_s, best_node = i, s, left[i]
        order[k] = left[j]
        for i in range(j, m - 1):            # list.pop(j)
            left[i] = left[i + 1]
        m -= 1
    return order


@njit(cache=True, nogil=True)
def bound_from_nodes(time_m, nodes, place_node, place_extra_s):
    """``time_m[nodes].min(axis=0)[place_node] + place_extra_s`` (``nodes``: int64, at least one)."""
    n = time_m.shape[1]
    best = time_m[nodes[0]].copy()
    for k in range(1, nodes.shape[0]):
        row = time_m[nodes[k]]
        for j in range(n):
            v = row[j]
            if v < best[j] or np.isnan(v):
                best[j] = v
    out = np.empty(place_node.shape[0])
    for p in range(place_node.shape[0]):
        out[p] = np.float64(best[place_node[p]]) + place_extra_s[p]
    return out
