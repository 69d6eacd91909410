"""Compiled walks over the all-pairs predecessors: a patrol circuit's streets in one call (``TravelOracle.tour``).

A replication builds every patrol unit's circuits when it first needs them (one per
unit, level and period of the day: 120 on the Seattle benchmark, several hundred in a
large force). Each circuit is a handful of stops joined by fastest paths; in Python a
path cost a walk up the predecessor row, a binary search per edge and a cumulative sum
(``TravelOracle.route``), about 30 µs a leg. ``tour_from_pred`` builds the whole
circuit in one call (about a fifth of the time for a 10-stop circuit on the Seattle drive
graph, ``bench/once_per_replication.py``) with the same numbers: the same edges (the fastest of each pair of
ends, found among the node's incoming edges, as ``TravelOracle.edge_lookup`` finds it
among all), each leg's sums in path order from 0 (``numpy.cumsum``'s additions) and then
added to where the previous leg ended, as ``sim.patrol.build_circuit`` adds them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: ``tour_from_pred``'s status when every leg was built
TOUR_OK = -1


@njit(cache=True, nogil=True)
def tour_from_pred(pred, stops, close, in_ptr, in_from, in_s, in_m):
    """(nodes, cumulative response seconds, cumulative metres, status) of the paths through ``stops``.

    ``pred[a]`` is the predecessor row of source ``a`` (the all-pairs table), ``stops`` the
    nodes in order; ``close`` adds the leg from the last stop back to the first. The
    first node is ``stops[0]`` at 0 s and 0 m; a leg between equal stops adds nothing (as
    ``route`` of a node to itself). ``status`` is ``TOUR_OK``, else the index of the first
    leg that could not be built (no path, or a predecessor with no edge to its node):
    the caller then builds it the plain way, which raises the oracle's "no route" error.
    """
    n_stops = stops.shape[0]
    n_legs = n_stops if close else n_stops - 1
    total = 1
    for k in range(n_legs):                    # the legs' lengths (and whether each has a path)
        a = np.int64(stops[k])
        b = np.int64(stops[(k + 1) % n_stops])
        t = b
        while t != a:
            p = np.int64(pred[a, t])
            if p < 0:
                return np.empty(0, np.int64), np.empty(0), np.empty(0), k
            total += 1
            t = p
    nodes = np.empty(total, np.int64)
    resp = np.empty(total)
    dist = np.empty(total)
    nodes[0] = stops[0]
    resp[0] = 0.0
    dist[0] = 0.0
    end = 0                                     # the index of the last node written
    for k in range(n_legs):
        a = np.int64(stops[k])
        b = np.int64(stops[(k + 1) % n_stops])
        if a == b:
            continue
        length = 0
        t = b
        while t != a:
            length += 1
            t = np.int64(pred[a, t])
        t = b
        for i in range(end + length, end, -1):  # the leg's nodes, from its end back
            nodes[i] = t
            t = np.int64(pred[a, t])
        base_r = resp[end]
        base_d = dist[end]
        acc_s = 0.0
        acc_m = 0.0
        for i in range(end + 1, end + length + 1):
            u = nodes[i - 1]
            v = nodes[i]
            e = in_ptr[v]
            stop = in_ptr[v + 1]
            while e < stop and in_from[e] != u:
                e += 1
            if e == stop:
                return np.empty(0, np.int64), np.empty(0), np.empty(0), k
            if i == end + 1:                    # numpy.cumsum: the first step as it is
                acc_s = in_s[e]
                acc_m = in_m[e]
            else:
                acc_s += in_s[e]
                acc_m += in_m[e]
            resp[i] = base_r + acc_s
            dist[i] = base_d + acc_m
        end += length
    return nodes, resp, dist, TOUR_OK
