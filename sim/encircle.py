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
    sending the closest free unit to each open road would achieve.
    """
    eta = np.array(eta_s, float, copy=True)
    n_units, n_exits = eta.shape
    if n_exits == 0:
        return 0.0
    if n_units < n_exits:
        return float("inf")
    worst = 0.0
    for _ in range(n_exits):
        a, b = np.unravel_index(int(np.argmin(eta)), eta.shape)
        worst = max(worst, float(eta[a, b]))
        eta[a, :] = np.inf
        eta[:, b] = np.inf
    return worst
