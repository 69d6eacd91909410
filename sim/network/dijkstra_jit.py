"""The compiled search loops (numba): a resumable Dijkstra search and an A* pair search, on CSR arrays.

Kept apart from ``sim.network.searches`` so that numba is imported (and the loop
compiled, or loaded from numba's on-disk cache) only when a graph too large for
the all-pairs matrix is first searched; small scenarios never pay for it.

One call advances one search. The caller owns its state: ``dist`` and ``pred``
(one entry per node, inf and -1 where not reached), the list of nodes reached so
far (``touched``, ``n_touched``: so that the caller can save and reset just those
entries and reuse the two arrays for other searches) and the heap of the frontier
(``heap_s``, ``heap_node``, ``size``: a binary min-heap with lazy deletion, so a
node may appear more than once and stale entries, whose key is above the node's
``dist``, are skipped when popped). The loop stops when the smallest key on the
heap exceeds ``limit_s``, when every node of ``stop`` has a ``dist`` at most that
key (then no later step can lower it: weights are non-negative), or when the heap
is empty. It returns the heap (possibly reallocated) and the *radius*: the
smallest key left on the heap (inf when empty). Every node whose true time is
below the radius has its exact time and predecessor, and every node whose
``dist`` is at most the radius is exact; a later call with the same state goes on
from there, so a search extended step by step costs what one search to the
final radius costs.

``toward_rows`` answers one pair by A* with landmark bounds (see its docstring).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _grown(heap_s, heap_node, size, need):
    """The heap's arrays with room for ``need`` entries (copied only when they are too small)."""
    if need <= heap_s.size:
        return heap_s, heap_node
    cap = max(need, 2 * heap_s.size)
    grown_s = np.empty(cap, np.float64)
    grown_n = np.empty(cap, np.int32)
    grown_s[:size] = heap_s[:size]
    grown_n[:size] = heap_node[:size]
    return grown_s, grown_n


@njit(cache=True, nogil=True)
def _grown_list(touched, n_touched, need):
    if need <= touched.size:
        return touched
    grown = np.empty(max(need, 2 * touched.size), np.int32)
    grown[:n_touched] = touched[:n_touched]
    return grown


@njit(cache=True, nogil=True, inline="always")
def _pop_root(heap_s, heap_node, size):
    """Remove the root of a binary heap of ``size + 1`` entries: the last entry moves down from the top.

    In place, returning nothing, and inlined into the loops that call it (numba's
    ``inline="always"``): a call that returned the arrays cost several times the loop.
    """
    if size > 0:
        last_s = heap_s[size]
        last_n = heap_node[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and heap_s[child + 1] < heap_s[child]:
                child += 1
            if heap_s[child] >= last_s:
                break
            heap_s[i] = heap_s[child]
            heap_node[i] = heap_node[child]
            i = child
        heap_s[i] = last_s
        heap_node[i] = last_n


@njit(cache=True, nogil=True, inline="always")
def _push(heap_s, heap_node, size, key, node):
    """Add ``(key, node)`` to a binary heap of ``size`` entries (room checked by the caller): it moves up from the bottom."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if heap_s[parent] <= key:
            break
        heap_s[i] = heap_s[parent]
        heap_node[i] = heap_node[parent]
        i = parent
    heap_s[i] = key
    heap_node[i] = node


@njit(cache=True, nogil=True)
def advance(indptr, indices, weights, dist, pred, heap_s, heap_node, size, touched, n_touched, limit_s, stop):
    """Run the search on until ``limit_s`` or until every node of ``stop`` is settled.

    Returns ``(heap_s, heap_node, size, touched, n_touched, radius_s)`` (see the module
    docstring; the arrays may have been reallocated to grow).
    The heap's pop and push (``_pop_root``, ``_push``) work in place and are inlined.
    """
    n_stop = stop.size
    j = 0
    while size > 0:
        key = heap_s[0]
        if key > limit_s:
            return heap_s, heap_node, size, touched, n_touched, key
        if n_stop > 0:
            while j < n_stop and dist[stop[j]] <= key:
                j += 1
            if j == n_stop:
                return heap_s, heap_node, size, touched, n_touched, key
        node = heap_node[0]
        size -= 1
        _pop_root(heap_s, heap_node, size)
        if key > dist[node]:
            continue                       # a stale entry: the node was reached faster since
        lo = indptr[node]
        hi = indptr[node + 1]
        if size + (hi - lo) > heap_s.size:
            heap_s, heap_node = _grown(heap_s, heap_node, size, size + (hi - lo))
        if n_touched + (hi - lo) > touched.size:
            touched = _grown_list(touched, n_touched, n_touched + (hi - lo))
        for e in range(lo, hi):
            v = indices[e]
            d = key + weights[e]
            if d < dist[v]:
                if dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = d
                pred[v] = node
                _push(heap_s, heap_node, size, d, v)
                size += 1
    return heap_s, heap_node, size, touched, n_touched, np.inf


@njit(cache=True, nogil=True)
def seed(dist, pred, heap_s, heap_node, touched, sources):
    """Start a search from ``sources`` (time 0 each) on arrays of nothing reached.

    Returns ``(heap_s, heap_node, size, touched, n_touched)``.
    """
    heap_s, heap_node = _grown(heap_s, heap_node, 0, sources.size)
    touched = _grown_list(touched, 0, sources.size)
    size = 0
    for s in sources:
        if dist[s] > 0.0:          # all keys are 0: appending keeps the heap order
            dist[s] = 0.0
            pred[s] = -1
            heap_s[size] = 0.0
            heap_node[size] = s
            touched[size] = s
            size += 1
    return heap_s, heap_node, size, touched, size


@njit(cache=True, nogil=True, inline="always")
def landmark_bound(v, from_set, to_set, n_lm, lm_from_t, lm_to_t):
    """The landmarks' lower bound (at least 0) on the seconds between node ``v`` and a set: for each of
    the first ``n_lm`` landmarks L, ``d(L, v) - from_set[L]`` and ``to_set[L] - d(v, L)``, where
    ``from_set``/``to_set`` are the set's worst ``d(L, c)`` (largest) and ``d(c, L)`` (smallest) (a
    single node's own: the A* heuristic of ``toward_rows``)."""
    return landmark_bound_of_rows(lm_from_t[v], lm_to_t[v], from_set, to_set, n_lm)


@njit(cache=True, nogil=True, inline="always")
def landmark_bound_of_rows(v_from, v_to, from_set, to_set, n_lm):
    """``landmark_bound`` from node v's rows of the landmark tables (``lm_from_t[v]``, ``lm_to_t[v]``):
    for a caller that reads one node's rows for many sets (the dispatch walk's place, every circuit)."""
    h = 0.0
    for k in range(n_lm):
        a = v_from[k] - from_set[k]
        if a > h:
            h = a
        b = to_set[k] - v_to[k]
        if b > h:
            h = b
    return h


@njit(cache=True, nogil=True)
def toward_rows(indptr, indices, weights, dist, pred, h_s, touched, target, goal, limit_s, lm_from_t, lm_to_t):
    """Seconds from ``goal`` to ``target`` by A* on the reversed graph (CSR of the transpose), and its path.

    The search starts at ``target`` and is drawn towards ``goal`` by the landmark bound,
    which is consistent (each landmark's triangle inequality holds edge by edge), so a node
    is settled at its exact time and the search stops when ``goal`` is settled: the same
    seconds as Dijkstra's, exploring a corridor instead of a ball. It stops early, with
    inf, once no path can be at most ``limit_s`` (the smallest key bounds every path left).
    The landmarks' seconds are stored a node per row (``lm_from_t[x, k]``, ``lm_to_t[x, k]``):
    a node's bound reads one or two cache lines instead of one per landmark, is computed
    once when the node is first reached and kept in ``h_s`` (an array of the graph's size,
    any content on entry) for the checks that follow.
    ``dist``/``pred`` must be all inf / -1 on entry, and are so again on return.
    Returns ``(seconds, path nodes from goal to target, touched, n_touched)``.
    """
    n_lm = lm_from_t.shape[1]
    goal_from = lm_from_t[goal].copy()
    goal_to = lm_to_t[goal].copy()
    heap_s = np.empty(256, np.float64)
    heap_node = np.empty(256, np.int32)
    if touched.size < 16:
        touched = np.empty(1024, np.int32)
    dist[target] = 0.0
    pred[target] = -1
    touched[0] = target
    n_touched = 1
    h = landmark_bound(target, goal_from, goal_to, n_lm, lm_from_t, lm_to_t)
    h_s[target] = h
    heap_s[0] = h
    heap_node[0] = target
    size = 1
    found = np.inf
    while size > 0:
        key = heap_s[0]
        if key > limit_s:
            break
        node = heap_node[0]
        size -= 1
        _pop_root(heap_s, heap_node, size)
        g = dist[node]
        if key > g + h_s[node]:
            continue                       # a stale entry
        if node == goal:
            found = g
            break
        lo = indptr[node]
        hi = indptr[node + 1]
        if size + (hi - lo) > heap_s.size:
            heap_s, heap_node = _grown(heap_s, heap_node, size, size + (hi - lo))
        if n_touched + (hi - lo) > touched.size:
            touched = _grown_list(touched, n_touched, n_touched + (hi - lo))
        for e in range(lo, hi):
            v = indices[e]
            d = g + weights[e]
            if d < dist[v]:
                if dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                    h_s[v] = landmark_bound(v, goal_from, goal_to, n_lm, lm_from_t, lm_to_t)
                dist[v] = d
                pred[v] = node
                _push(heap_s, heap_node, size, d + h_s[v], v)
                size += 1
    if found == np.inf:
        path = np.empty(0, np.int32)
    else:
        length = 1
        v = goal
        while v != target:
            v = pred[v]
            length += 1
        path = np.empty(length, np.int32)
        v = goal
        for k in range(length):
            path[k] = v
            v = pred[v]
    for k in range(n_touched):             # leave the arrays as they came: all inf / -1
        dist[touched[k]] = np.inf
        pred[touched[k]] = -1
    return found, path, touched, n_touched


@njit(cache=True, nogil=True, inline="always")
def _worst_source(sources, lm_from_t, lm_to_t):
    """Per landmark, the largest ``d(L, c)`` and the smallest ``d(c, L)`` over the sources ``c``."""
    n_lm = lm_from_t.shape[1]
    far_from = np.full(n_lm, -np.inf)
    near_to = np.full(n_lm, np.inf)
    for c in sources:
        for k in range(n_lm):
            if lm_from_t[c, k] > far_from[k]:
                far_from[k] = lm_from_t[c, k]
            if lm_to_t[c, k] < near_to[k]:
                near_to[k] = lm_to_t[c, k]
    return far_from, near_to


@njit(cache=True, nogil=True, inline="always")
def bound_beyond(v, radius, far_from, near_to, n_lm, lm_from_t, lm_to_t, margin_s):
    """``set_bounds``' answer for a node ``v`` the search did not settle within ``radius`` (the first
    ``n_lm`` landmarks; none: the radius)."""
    return _beyond_of_rows(lm_from_t[v], lm_to_t[v], radius, far_from, near_to, n_lm, margin_s)


@njit(cache=True, nogil=True, inline="always")
def _beyond_of_rows(v_from, v_to, radius, far_from, near_to, n_lm, margin_s):
    """``bound_beyond`` from node v's rows of the landmark tables (``bound_at_rows`` reads them once)."""
    h = landmark_bound_of_rows(v_from, v_to, far_from, near_to, n_lm) - margin_s
    return h if h > radius else radius


@njit(cache=True, nogil=True)
def set_bounds(dist, radius, sources, nodes, lm_from_t, lm_to_t, margin_s):
    """Lower bounds on the seconds from the nearest of ``sources`` to each of ``nodes``.

    ``dist``: a search from ``sources`` that stopped at ``radius`` (exact where at most it).
    Beyond it a node gets the larger of the radius and the landmarks' bound, which holds
    for every source c (``d(c, x) >= d(L, x) - d(L, c)`` and ``>= d(c, L) - d(x, L)``) and
    so is taken at the worst source: the largest ``d(L, c)``, the smallest ``d(c, L)``; less
    ``margin_s`` for rounding. ``lm_from_t``/``lm_to_t``: a node per row; no columns, no bound.
    ``bound_params`` keeps what this reads of the search, for ``bound_at`` to give the same bits later.
    """
    far_from, near_to = _worst_source(sources, lm_from_t, lm_to_t)
    out = np.empty(nodes.size, np.float64)
    for i in range(nodes.size):
        v = nodes[i]
        d = dist[v]
        out[i] = d if d <= radius else bound_beyond(v, radius, far_from, near_to, far_from.size, lm_from_t,
                                                    lm_to_t, margin_s)
    return out


@njit(cache=True, nogil=True)
def bound_params(dist, radius, sources, touched, n_touched, lm_from_t, lm_to_t):
    """What ``set_bounds`` reads of a search, kept small: (worst sources per landmark, the nodes within
    ``radius``, sorted, and their seconds). Every other node is beyond the radius (``bound_beyond``)."""
    far_from, near_to = _worst_source(sources, lm_from_t, lm_to_t)
    n_in = 0
    for i in range(n_touched):
        if dist[touched[i]] <= radius:
            n_in += 1
    nodes = np.empty(n_in, np.int64)
    j = 0
    for i in range(n_touched):
        v = touched[i]
        if dist[v] <= radius:
            nodes[j] = v
            j += 1
    nodes.sort()
    seconds = np.empty(n_in, np.float64)
    for j in range(n_in):
        seconds[j] = dist[nodes[j]]
    return far_from, near_to, nodes, seconds


@njit(cache=True, nogil=True)
def unique_nodes(nodes):
    """``np.unique(nodes)`` (sorted, distinct) for the node ids of a set: a sort and one pass. numpy's took
    12-23 µs for a circuit's few hundred nodes (most of it Python around the sort), numba's own ``np.unique``
    6 µs (it builds lists)."""
    b = np.sort(nodes)
    n = 0
    for i in range(b.size):
        if n == 0 or b[i] != b[n - 1]:
            b[n] = b[i]
            n += 1
    out = np.empty(n, np.int64)
    out[:] = b[:n]
    return out


@njit(cache=True, nogil=True)
def bound_params_at_zero(indptr, indices, weights, dist, sources, touched, lm_from_t, lm_to_t):
    """``seed``, ``advance`` to ``limit_s`` 0 and ``bound_params``, in one pass without the heap: the same bits.

    A circuit's bound keeps no search beyond the circuit (``patrol.BOUND_EXACT_WITHIN_S`` is 0), so
    the search from the sources (``sources``: distinct, as ``np.unique`` gives them) pops only them,
    at 0, and relaxes their edges; it stops at the first key above 0, the least seconds of an edge to
    a node outside the set: that is the radius (inf if no edge leaves the set), and the nodes within
    it are the sources and the neighbours exactly that far. Here the edges are relaxed as ``advance``
    relaxes them (``0.0 + weight``, the least kept), without pushing anything on a heap: on the
    13,002-node town a circuit's set is a few hundred nodes, whose heap was most of the work.

    Returns ``(ok, far_from, near_to, radius, nodes, seconds, touched, n_touched)`` as ``bound_params``
    and ``advance`` give them (``touched`` may have grown; ``dist`` is left as it came). ``ok`` is False
    when an edge of 0 seconds leaves a source (the search would go on through it at 0): the caller
    then runs the search.
    """
    touched = _grown_list(touched, 0, sources.size)
    n_t = 0
    for s in sources:                       # seed
        if dist[s] > 0.0:
            dist[s] = 0.0
            touched[n_t] = s
            n_t += 1
    n_src = n_t
    radius = np.inf
    ok = True
    for i in range(n_src):                  # every source popped at 0: its edges relaxed
        node = touched[i]
        lo = indptr[node]
        hi = indptr[node + 1]
        if n_t + (hi - lo) > touched.size:
            touched = _grown_list(touched, n_t, n_t + (hi - lo))
        for e in range(lo, hi):
            v = indices[e]
            d = 0.0 + weights[e]
            if d < dist[v]:
                if d <= 0.0:
                    ok = False
                if dist[v] == np.inf:
                    touched[n_t] = v
                    n_t += 1
                dist[v] = d
                if d < radius:              # the least key pushed: where advance stops
                    radius = d
    far_from, near_to, nodes, seconds = bound_params(dist, radius, sources, touched, n_t, lm_from_t, lm_to_t)
    for i in range(n_t):                    # the scratch array as it came
        dist[touched[i]] = np.inf
    return ok, far_from, near_to, radius, nodes, seconds, touched, n_t


@njit(cache=True, nogil=True, inline="always")
def bound_at(v, s, ff, nt, radius, ptr, nodes, seconds, n_lm, lm_from_t, lm_to_t, margin_s):
    """``set_bounds``' answer at node ``v`` for the search kept as row ``s`` of ``bound_params``' output
    (``ff``/``nt``: its worst sources per landmark, the first ``n_lm`` used (0: landmarks that do not
    bound); ``ptr``: its nodes within the radius in ``nodes[ptr[s]:ptr[s + 1]]``, with their
    ``seconds``): the same bits. ``bound_at_rows`` with v's rows of the landmark tables."""
    return bound_at_rows(v, lm_from_t[v], lm_to_t[v], s, ff, nt, radius, ptr, nodes, seconds, n_lm, margin_s)


@njit(cache=True, nogil=True, inline="always")
def bound_at_rows(v, v_from, v_to, s, ff, nt, radius, ptr, nodes, seconds, n_lm, margin_s):
    """``bound_at`` from node v's rows of the landmark tables (``v_from``, ``v_to``), read once by a caller
    that asks many circuits at one place (the dispatch walk's bounds).

    The landmarks' bound comes first: above the radius, ``v`` is not one of the nodes within it (a
    node within the radius has a bound of at most its seconds, the landmarks' bounds holding less
    their rounding margin, so its bound beyond is the radius itself), and the answer is that bound;
    only at the radius are the nodes within it searched. Most places are far from a circuit, and the
    search among its few hundred nodes (on the 13,002-node town) cost more than the bound."""
    beyond = _beyond_of_rows(v_from, v_to, radius[s], ff[s], nt[s], n_lm, margin_s)
    if beyond > radius[s]:
        return beyond
    lo = ptr[s]
    hi = ptr[s + 1]
    while lo < hi:                          # binary search of the sorted nodes within the radius
        mid = (lo + hi) // 2
        if nodes[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    if lo < ptr[s + 1] and nodes[lo] == v:
        return seconds[lo]
    return beyond


@njit(cache=True, nogil=True)
def bounds_of_units(rows, cols, seg_of_unit, slot_of_unit, ff, nt, radius, ptr, nodes, seconds, n_lm,
                    lm_from, lm_to, target, extra, margin_s):
    """``bound_at`` + the walk to the place for each (unit ``rows[i]``, place ``cols[i]``): the row the
    unit's circuit would have kept (``sim.patrol.circuit_lower_bound_s``); 0 for a unit never on a circuit.
    Per mode slot: ``n_lm[m]``, ``lm_from[m]``/``lm_to[m]`` (tuples), ``target[place, m]``, ``extra[place, m]``."""
    out = np.empty(rows.size)
    for i in range(rows.size):
        u = rows[i]
        s = seg_of_unit[u]
        if s < 0:
            out[i] = 0.0
            continue
        m = slot_of_unit[u]
        p = cols[i]
        out[i] = bound_at(target[p, m], s, ff, nt, radius, ptr, nodes, seconds, n_lm[m], lm_from[m], lm_to[m],
                          margin_s) + extra[p, m]
    return out


@njit(cache=True, nogil=True, inline="always")
def _edge_at(edge_ptr, edge_key, u, v, n_nodes):
    """``np.searchsorted(edge_key, u * n_nodes + v)`` (0 <= v < n_nodes), searched among ``u``'s keys only:
    ``edge_ptr[u]`` is where keys of ``u`` begin in the sorted ``edge_key`` (``TravelOracle._edge_ptr``)."""
    key = u * n_nodes + v
    hi = edge_ptr[u + 1]
    for k in range(edge_ptr[u], hi):
        if edge_key[k] >= key:
            return k
    return hi


@njit(cache=True, nogil=True)
def path_sums(path, edge_ptr, edge_key, edge_s, edge_m, n_nodes):
    """Cumulative seconds and metres along ``path`` (0 at its first node), edge by edge.

    Each step's edge is found by its key ``u * n_nodes + v`` in the sorted ``edge_key``
    (the fastest edge between the two nodes) among ``u``'s own keys, ``edge_key[edge_ptr[u]:
    edge_ptr[u + 1]]`` (``_edge_at``: the index ``np.searchsorted`` gives, from a node's few
    edges rather than a binary search of all of them, whose misses cost most of a path's sums
    on the 13,002-node town), and the sums run in path order: the same additions as
    ``numpy.cumsum`` of the steps, so the same bits.
    """
    m = path.size
    cum_s = np.empty(m, np.float64)
    cum_m = np.empty(m, np.float64)
    acc_s = 0.0
    acc_m = 0.0
    if m > 0:
        cum_s[0] = 0.0
        cum_m[0] = 0.0
    for i in range(1, m):
        k = _edge_at(edge_ptr, edge_key, np.int64(path[i - 1]), path[i], n_nodes)
        if i == 1:
            acc_s = edge_s[k]
            acc_m = edge_m[k]
        else:
            acc_s += edge_s[k]
            acc_m += edge_m[k]
        cum_s[i] = acc_s
        cum_m[i] = acc_m
    return cum_s, cum_m
