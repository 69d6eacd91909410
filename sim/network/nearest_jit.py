"""Compiled: for every node of a graph, the nearest of a set of nodes in a straight line (``NearestOnCircuit``).

A unit that leaves its patrol circuit (a call, a shift change) rejoins it at the circuit
node nearest to where it is; the engine tables that node for every node of the graph,
once per circuit (120 circuits on the Seattle benchmark, several hundred in a large
force). numpy did it as a (nodes x circuit nodes) matrix of squared distances and an
``argmin`` per row; this loop does the same arithmetic (``(x - cx) ** 2 + (y - cy) ** 2``:
numpy squares by one multiplication, and no fused multiply-add is made without fast-math)
over each circuit node once, the first of equal distances winning as in ``argmin``, in
about a fifth of the time (``bench/once_per_replication.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def nearest_of_set(x, y, nodes):
    """Per node ``i`` of the graph (coordinates ``x``, ``y``): the node of ``nodes`` (at least one) nearest to it.

    The same node as ``nodes[argmin((x[i] - x[nodes]) ** 2 + (y[i] - y[nodes]) ** 2)]``:
    a node repeated in ``nodes`` is looked at once, where it first appears (a later copy
    has the same distance and could never come first).
    """
    n = x.shape[0]
    seen = np.zeros(n, np.bool_)
    cand = np.empty(nodes.shape[0], np.int64)
    k = 0
    for j in range(nodes.shape[0]):
        c = np.int64(nodes[j])
        if not seen[c]:
            seen[c] = True
            cand[k] = c
            k += 1
    cx = np.empty(k)
    cy = np.empty(k)
    for j in range(k):
        cx[j] = x[cand[j]]
        cy[j] = y[cand[j]]
    out = np.empty(n, np.int64)
    d2 = np.empty(k)
    for i in range(n):
        xi = x[i]
        yi = y[i]
        for j in range(k):
            dx = xi - cx[j]
            dy = yi - cy[j]
            d2[j] = dx * dx + dy * dy
        best = d2[0]
        best_j = 0
        for j in range(1, k):
            if d2[j] < best:
                best = d2[j]
                best_j = j
        out[i] = cand[best_j]
    return out


@njit(cache=True, nogil=True)
def nearest_one(cx, cy, nodes, xi, yi):
    """``nearest_of_set``'s answer for one point (``xi``, ``yi``): the node of ``nodes`` nearest to it.

    ``cx``/``cy`` are the coordinates of ``nodes`` (in its order). The same arithmetic
    (``dx * dx + dy * dy`` with ``dx = xi - cx[j]``), the first of equal distances winning,
    so the same node as the table's row; a repeated node has the distance of its first copy
    and can never come first. For graphs without a time matrix, where a unit rejoins at a
    few hundred nodes of a circuit's lifetime, not at every node of the graph
    (``NearestOnCircuit``).
    """
    return nodes[nearest_index(cx, cy, xi, yi)]


@njit(cache=True, nogil=True, inline="always")
def nearest_index(cx, cy, xi, yi):
    """``nearest_one``'s loop: the index of the nearest point of (``cx``, ``cy``), the first of equal
    distances (so, of a repeated node, its first copy)."""
    best = np.inf
    best_j = 0
    for j in range(cx.shape[0]):
        dx = xi - cx[j]
        dy = yi - cy[j]
        d2 = dx * dx + dy * dy
        if d2 < best:
            best = d2
            best_j = j
    return best_j
