"""Encirclement (合围) as pure functions: which roads leave a circle, and how fast they could all be held.

The engine calls these at dispatch time for major incidents, with the free units'
arrival times at each exit; the result is a measure of capacity (could the cordon be
closed within the backup line?), not an order the engine carries out.
"""

from __future__ import annotations

import numpy as np


def exit_places(graph, place: int, *, radius_m: float, road_mask: np.ndarray | None = None) -> np.ndarray:
    """Places just outside ``radius_m`` of ``place`` that a road from inside reaches.

    ``road_mask`` (one bool per edge) keeps only some roads, e.g. the major ones.
    """
    d = np.hypot(graph.x_m - graph.x_m[place], graph.y_m - graph.y_m[place])
    inside = d <= radius_m
    cross = inside[graph.edge_u] & ~inside[graph.edge_v]
    if road_mask is not None:
        cross &= road_mask
    return np.unique(graph.edge_v[cross]).astype(np.int64)


def greedy_cordon_s(eta_s: np.ndarray) -> float:
    """Seconds until every exit (column) is held, assigning units (rows) greedily, shortest first.

    Each unit holds at most one exit; with fewer units than exits the cordon cannot
    be closed (inf). Greedy is not always optimal, but it is what a dispatcher
    sending the closest free unit to each open road would achieve. Taking the
    shortest remaining (unit, exit) pair again and again is the same as walking all
    pairs once in order of time (ties: row-major order) and keeping each pair whose
    unit and exit are both still free.
    """
    eta = np.asarray(eta_s, float)
    n_units, n_exits = eta.shape
    if n_exits == 0:
        return 0.0
    if n_units < n_exits:
        return float("inf")
    flat = eta.ravel()
    order = flat.argsort(kind="stable").tolist()
    values = flat.tolist()
    used_units: set = set()
    used_exits: set = set()
    worst = 0.0
    for k in order:
        a, b = divmod(k, n_exits)
        if a in used_units or b in used_exits:
            continue
        used_units.add(a)
        used_exits.add(b)
        if values[k] > worst:
            worst = values[k]
        if len(used_exits) == n_exits:
            break
    return worst
