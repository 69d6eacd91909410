"""The nodes of a fastest path read from the hub labels, and a circuit's tour joined from them.

Why: a unit located in the middle of a drive (the dispatch search's best candidates, the
cordon's, the shift change's) needs the nodes of the path it drives, and a circuit's tour
needs the paths between its stops. On graphs without an all-pairs matrix each path was an
A* search with landmark bounds (``dijkstra_jit.toward_rows``), which reached about 490 nodes
for a drive of the 13,002-node scale town's mobile reserve: the largest part of what a foot
force's replication spent there beyond the 847-node town's.

How: the hub labels (``sim.network.hub_labels``) already name, for any pair, a hub on one of
its fastest paths (the least out(s)[h] + in(t)[h], the first hub by rank on a tie, as
``seconds_only`` takes it); each label entry also keeps its *step*, the next node of its path
(out label: from the node towards the hub; in label: from the node back towards the hub).
Every node a step names holds an entry of the same hub, kept with the step
(``hub_labels.step_entries``), so the path is read by following steps from the source up to
the hub and from the target back to it: two reads a node, no search of the graph (a binary
search of the next node's label a node before: random 80-node paths of the 13,002-node town's
drive labels, 3.3 against 1.9 µs in a compiled loop). The path is a fastest path (its seconds are the labels'
answer up to the order of the float additions, within 1e-9 s: tests/network/test_label_paths.py).
On a graph with two paths of exactly equal seconds it may be another of them than a search
would find.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.network.dijkstra_jit import path_sums
from sim.network.hub_labels import seconds_at


@njit(cache=True, nogil=True)
def _grown(a, need):
    out = np.empty(max(need, 2 * a.size), a.dtype)
    out[:a.size] = a
    return out


@njit(cache=True, nogil=True, inline="always")
def _to_hub(step, step_entry, e, v):
    """The nodes from ``v`` to the hub of ``v``'s entry ``e``, along the entries' steps, and how many:
    ``(nodes, count)``."""
    nodes = np.empty(64, np.int32)
    nodes[0] = v
    n = 1
    while step[e] >= 0:
        v = step[e]
        if n == nodes.size:
            nodes = _grown(nodes, n + 1)
        nodes[n] = v
        n += 1
        e = step_entry[e]
        if e < 0:
            raise AssertionError("hub labels: a step names a node without the hub's entry")
    return nodes, n


@njit(cache=True, nogil=True)
def label_path(ptr, hub, sec, step, step_entry, s, t):
    """The nodes (int32) of a fastest path from ``s`` to ``t``; empty when ``t`` cannot be reached.

    The hub is the one ``seconds_only`` answers with; the source's side is walked forward
    along out-label steps, the target's backward along in-label steps, and the two joined at
    the hub.
    """
    if s == t:
        out = np.empty(1, np.int32)
        out[0] = s
        return out
    best, bi, bj = seconds_at(ptr, sec, hub, s, t)
    if bi < 0:
        return np.empty(0, np.int32)
    head, nh = _to_hub(step, step_entry, bi, s)         # s ... hub
    tail, nt = _to_hub(step, step_entry, bj, t)         # t ... hub (backwards)
    out = np.empty(nh + nt - 1, np.int32)
    out[:nh] = head[:nh]
    for k in range(nt - 1):             # the hub once: the head's last node
        out[nh + k] = tail[nt - 2 - k]
    return out


@njit(cache=True, nogil=True)
def tour_by_labels(ptr, hub, sec, step, step_entry, stops, close, edge_ptr, edge_key, edge_s, edge_m, n_nodes):
    """A closed (``close``) or open tour through ``stops``, each leg's path read from the labels, in one call.

    ``TravelOracle.tour`` without a time matrix: each leg ``(a, b)`` is ``label_path`` from ``a``
    to ``b`` and ``path_sums`` along it (``route``'s work), joined as ``join_legs`` joins them: the
    leg's nodes after its first, its cumulative seconds and metres each added to where the tour
    stood (the same additions, so the same bits); a leg between equal stops adds nothing.
    Returns ``(nodes, seconds, metres, bad_leg, paths, path_nodes)``: ``bad_leg`` the index of the
    first leg with no path (-1 if none; the arrays are then not the tour), then the paths read and
    their nodes (the oracle's counters).
    """
    k = stops.size
    n_legs = k if close else k - 1
    cap = 256
    nodes = np.empty(cap, np.int64)
    cum_s = np.empty(cap, np.float64)
    cum_m = np.empty(cap, np.float64)
    nodes[0] = stops[0]
    cum_s[0] = 0.0
    cum_m[0] = 0.0
    size = 1
    paths = 0
    path_nodes = 0
    for leg in range(n_legs):
        a = stops[leg]
        b = stops[leg + 1] if leg + 1 < k else stops[0]
        if a == b:
            continue
        path = label_path(ptr, hub, sec, step, step_entry, a, b)
        paths += 1
        path_nodes += path.size
        if path.size == 0:
            return nodes[:0], cum_s[:0], cum_m[:0], leg, paths, path_nodes
        leg_s, leg_m = path_sums(path, edge_ptr, edge_key, edge_s, edge_m, n_nodes)
        need = size + path.size - 1
        if need > cap:
            cap = max(need, 2 * cap)
            grown_n = np.empty(cap, np.int64)
            grown_s = np.empty(cap, np.float64)
            grown_m = np.empty(cap, np.float64)
            grown_n[:size] = nodes[:size]
            grown_s[:size] = cum_s[:size]
            grown_m[:size] = cum_m[:size]
            nodes, cum_s, cum_m = grown_n, grown_s, grown_m
        base_s = cum_s[size - 1]
        base_m = cum_m[size - 1]
        for i in range(1, path.size):
            nodes[size] = path[i]
            cum_s[size] = base_s + leg_s[i]
            cum_m[size] = base_m + leg_m[i]
            size += 1
    return nodes[:size], cum_s[:size], cum_m[:size], -1, paths, path_nodes


def warm(labels) -> None:
    """Load the compiled paths and tours for ``labels``' array types (not at a first question, in a replication)."""
    arrays = labels.path_arrays
    label_path(*arrays, 0, 0)
    tour_by_labels(*arrays, np.zeros(2, np.int64), True, np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros(1),
                   np.zeros(1), 1)
