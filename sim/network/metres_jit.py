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
