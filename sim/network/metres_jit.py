"""Metres from one source to every node along the fastest paths, compiled (``TravelOracle.metres_from``).

Each drive the engine starts from a node it has not started from before needs that
node's row of metres: a unit clearing a scene anywhere in town, then driving back to its
circuit or on to the next call. In numpy the row cost about half a millisecond (a dozen
rounds of small vector steps); the first replication of the default town reads some
1,900 such rows, about a second of CPU. This loop does the same steps in one call.

The arithmetic is numpy's, step for step: the edge metres into each node (the fastest
edge from its predecessor, looked up by key ``u * n_nodes + v`` as ``edge_lookup``),
then pointer jumping (``up`` a node on the path, ``m`` the metres from it) until no
pointer moves, each round adding ``m[up]`` gathered before the update, as ``m += m[up]``
does; so the rows are the same to the bit (``tests/network/test_metres_row.py``).

``metres_row_in_edges`` is what the oracle calls for one row: the same sums, in about
half the time (on the Seattle drive graph of 985 nodes, ``bench/once_per_replication.py``);
``metres_table`` gives every row in one call (graphs with the all-pairs tables, up to
``TravelOracle``'s ``METRES_TABLE_MAX_NODES``); ``metres_row`` stays for a predecessor row
they cannot take (a predecessor with no edge to the node, which no search of the graph gives).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def metres_row(pred, source, edge_key, edge_m):
    """Metres from ``source`` to every node (nan where unreachable), from its predecessor row ``pred``."""
    n = pred.shape[0]
    up = np.empty(n, np.int64)
    m = np.zeros(n)
    for t in range(n):
        p = np.int64(pred[t])
        if p >= 0:
            up[t] = p
            m[t] = edge_m[np.searchsorted(edge_key, p * n + t)]
        else:
            up[t] = source
    nxt = np.empty(n, np.int64)
    gathered = np.empty(n)
    while True:
        moved = False
        for t in range(n):
            nxt[t] = up[up[t]]
            if nxt[t] != up[t]:
                moved = True
        if not moved:
            break
        for t in range(n):
            gathered[t] = m[up[t]]
        for t in range(n):
            m[t] += gathered[t]
        up, nxt = nxt, up
    for t in range(n):
        if pred[t] < 0:
            m[t] = np.nan
    m[source] = 0.0
    return m


@njit(cache=True, nogil=True)
def metres_row_in_edges(pred, source, in_ptr, in_from, in_m):
    """``metres_row``'s row (the same bits) in about half its time; None if a predecessor has no edge.

    The same sums in the same order, found more cheaply: each node's first metres are
    those of its edge from its predecessor, found among the node's few incoming edges
    (``in_from[in_ptr[t]:in_ptr[t + 1]]``: the fastest edge of each key ``u * n + v``, as
    ``edge_lookup``) rather than by a binary search of every edge; and each round of
    pointer jumping is one pass (the next pointers, whether one moved, and the new
    metres ``m[t] + m[up[t]]`` from the old ones, into a second array), not three.
    """
    n = pred.shape[0]
    m = np.empty(n)
    if not _row_into(pred, source, in_ptr, in_from, in_m, m, np.empty(n, np.int64), np.empty(n, np.int64),
                     np.empty(n)):
        return None
    return m


@njit(cache=True, nogil=True)
def metres_table(pred_full, in_ptr, in_from, in_m):
    """Every source's row of ``metres_row_in_edges`` in one pass (``pred_full[s]``: source ``s``'s predecessors).

    The same rows, to the bit; one call instead of one per row, with the edge arrays and
    the scratch rows hot in the cache throughout (on the Seattle drive graph less than half the
    time of ``metres_row`` row by row: ``bench/once_per_replication.py``;
    inside a replication, between dispatches, rows read one by one cost more still). None
    if some predecessor has no edge to its node.
    """
    n_src, n = pred_full.shape
    out = np.empty((n_src, n))
    up = np.empty(n, np.int64)
    nxt = np.empty(n, np.int64)
    spare = np.empty(n)
    for s in range(n_src):
        if not _row_into(pred_full[s], s, in_ptr, in_from, in_m, out[s], up, nxt, spare):
            return None
    return out


@njit(cache=True, nogil=True, inline="always")
def _row_into(pred, source, in_ptr, in_from, in_m, m, up, nxt, spare):
    """Source ``source``'s metres into ``m`` (``up``, ``nxt``, ``spare``: scratch rows); False if an edge is missing."""
    n = pred.shape[0]
    for t in range(n):
        p = np.int64(pred[t])
        if p >= 0:
            up[t] = p
            e = in_ptr[t]
            end = in_ptr[t + 1]
            while e < end and in_from[e] != p:
                e += 1
            if e == end:
                return False
            m[t] = in_m[e]
        else:
            up[t] = source
            m[t] = 0.0
    cur, new = m, spare
    while True:
        moved = False
        for t in range(n):
            u = up[t]
            v = up[u]
            nxt[t] = v
            moved |= v != u
            new[t] = cur[t] + cur[u]
        if not moved:
            break
        up, nxt = nxt, up
        cur, new = new, cur
    for t in range(n):
        m[t] = np.nan if pred[t] < 0 else cur[t]
    m[source] = 0.0
    return True
