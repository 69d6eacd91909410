"""The greedy cordon over full time matrices, best first: exact arrivals read only for pairs that can win.

Why: ``cordon_kernels.cordon_of_free_units`` reads every free unit's arrival at every open exit
(at 1,920 officers about 270 free units by 9 exits: some 2,400 random reads from matrices
of megabytes, and every unit the dispatch search skipped located on its circuit) although
the greedy walk keeps only one pair per exit, mostly of the nearest few units. Its fixed
cost (the heap, the sorted circuits) is above that full read's in a small force, so
``Encirclement`` uses it from ``LAZY_FROM_FREE`` free units (measured: ``bench/cordon_ab.py``).

The greedy walk (``sim.engine.encircle.greedy_cordon_s``) takes the (unit, exit) pairs in
order of (time, unit, exit) and keeps a pair whose unit and exit are both free until every
exit is held. Here it takes them from one heap ordered by (key, kind, unit, exit):

- a unit on its circuit enters each exit's list by its circuit's lower bound at the exit
  (``DispatchIndex.bounds_by_place``, less ``kernels.BOUND_MARGIN_S`` for rounding, the
  margin the dispatch search prunes with). Per exit place the circuits are kept sorted by
  that bound (``sort_circuits``: the ``PREFIX`` least at first, the rest when a walk gets
  past them; again when circuits were added), and each open exit has one entry in the
  heap: the next circuit in that order whose owner is free and on it (kind 0);
- when a bound entry comes first, the unit is located (if the search skipped it) and its
  exact arrival at that exit goes into the heap (kind 1), and the exit's next circuit follows;
- a unit off its circuit (at a station, a scene just cleared, on a drive located by the
  caller) enters with its exact arrival at every exit (kind 1) from the start; units at the
  same node after the same wait in the same mode (a station's) have the same arrivals: only
  the first of them not taken is in the heap for an exit (its successor, in unit order,
  enters at the same time when it comes first and is taken elsewhere).

An exact entry is taken only when it comes first: every pair not yet read exactly has a
bound entry (or one behind it in its exit's sorted list) with a key above it (a bound
equal to its time sorts before it: kind 0 first, and is resolved first), so its time is
larger; exact entries of equal time come in (unit, exit) order, the row-major order of the
full walk's stable sort. So the pairs kept, and the answer, are the full walk's, bit for
bit: the same arrivals (``cordon_kernels.cordon_from_matrix``'s additions in its order), the same
ties. An exit held drops its list for good; a unit taken is skipped by every list. A nan
arrival (no order) returns nan: the caller then takes ``cordon_kernels.cordon_of_free_units``.
"""

from __future__ import annotations

from itertools import islice

import numpy as np
from numba import njit

from sim.engine.kernels import BOUND_MARGIN_S, FIXED_NODE, LEG_TEND, SEG, SKIPPED, _locate_skipped


@njit(cache=True, nogil=True, inline="always")
def _before(ka, ta, kb, tb):
    """Heap order: key, then the tie word (kind, unit, exit)."""
    return ka < kb or (ka == kb and ta < tb)


@njit(cache=True, nogil=True, inline="always")
def _push(hk, ht, size, key, tie):
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if not _before(key, tie, hk[parent], ht[parent]):
            break
        hk[i] = hk[parent]
        ht[i] = ht[parent]
        i = parent
    hk[i] = key
    ht[i] = tie
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def _sift_down(hk, ht, size, i):
    key, tie = hk[i], ht[i]
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and _before(hk[c + 1], ht[c + 1], hk[c], ht[c]):
            c += 1
        if not _before(hk[c], ht[c], key, tie):
            break
        hk[i] = hk[c]
        ht[i] = ht[c]
        i = c
    hk[i] = key
    ht[i] = tie


#: groups of units off their circuit looked for (at the same node, wait and mode); past them a unit is its own
MAX_GROUPS = 32
#: circuits sorted per exit place at first (the rest sorted only if an exit's walk gets past them)
PREFIX = 48


@njit(cache=True, nogil=True)
def _bound_key(b):
    """A bound as sorted and walked: nan (no order) as -inf, so that the unit's time is read at once."""
    return -np.inf if b != b else b


@njit(cache=True, nogil=True)
def sort_circuits(order, order_n, places, bounds, n_circ):
    """Per exit place in ``places`` whose row is stale: the ``PREFIX`` circuits of least bound there, sorted.

    ``order[p, :order_n[p, 1]]`` are circuits (segments) in order of their bound at place ``p``,
    every one of them bounded by at most any circuit after them (``extend_order`` sorts the
    rest when a walk needs it); ``order_n[p, 0]`` is the number of circuits the row was made
    for (a row made for fewer circuits is stale). Sorting only a prefix: at 1,920 officers
    there are 693 circuits, and an exit is held after a few dozen.
    """
    for j in range(places.shape[0]):
        p = places[j]
        if order_n[p, 0] == n_circ:
            continue
        vals = np.empty(n_circ)
        for s in range(n_circ):
            vals[s] = _bound_key(bounds[p, s + 1])
        if n_circ <= PREFIX:
            head = np.argsort(vals, kind="mergesort")
        else:
            cut = np.partition(vals, PREFIX - 1)[PREFIX - 1]
            head = np.flatnonzero(vals <= cut)
            head = head[np.argsort(vals[head], kind="mergesort")]
        order[p, :head.size] = head
        order_n[p, 0] = n_circ
        order_n[p, 1] = head.size


@njit(cache=True, nogil=True)
def extend_order(order, order_n, p, bounds, n_circ):
    """Sort the rest of place ``p``'s circuits after its sorted prefix (every one bounded above it)."""
    done = order_n[p, 1]
    if done >= n_circ:
        return
    cut = _bound_key(bounds[p, order[p, done - 1] + 1]) if done > 0 else -np.inf
    vals = np.empty(n_circ)
    for s in range(n_circ):
        vals[s] = _bound_key(bounds[p, s + 1])
    rest = np.flatnonzero(vals > cut) if done > 0 else np.arange(n_circ)
    rest = rest[np.argsort(vals[rest], kind="mergesort")]
    order[p, done:done + rest.size] = rest
    order_n[p, 1] = done + rest.size


@njit(cache=True, nogil=True)
def lazy_cordon(t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, order, order_n,
                owner, times0, times1, times2, times3):
    """Seconds until every exit in ``places`` is held (``cordon_kernels.cordon_of_free_units``' answer), best first.

    The arguments of ``cordon_of_free_units`` plus: ``places`` the open exits (places, in
    ``targets``' column order), ``bounds`` the place-major circuit bounds (column ``s + 1``
    for segment ``s``), ``n_circ`` the circuits so far, ``order``/``order_n`` the per-place
    cache of circuits sorted by bound (``sort_circuits``), ``owner[s]`` the unit whose circuit
    segment ``s`` is. As there, a unit the search skipped is located here (only if read), and
    every other free unit must be located already.
    """
    n = code.shape[0]
    k = places.shape[0]
    on_circuit = np.zeros(n, np.bool_)
    n_off = 0
    n_free = 0
    for u in range(n):
        c = code[u]
        if c == 1 or (c == 2 and ui[u, FIXED_NODE] < 0 and t >= uf[u, LEG_TEND]):
            on_circuit[u] = True
            n_free += 1
        elif c > 0:
            n_off += 1
            n_free += 1
    if n_free < k:
        return np.inf
    if k == 0:
        return 0.0
    # entries: the units off a circuit at every exit, one per open exit's list, one per exact read
    cap = k * (n_off + 1) + k * n_free + 1
    hk = np.empty(cap)
    ht = np.empty(cap, np.int64)
    size = 0
    nk = n * k
    # off their circuit: exact times from the start, once per group of units at the same node, wait and
    # mode (the units at a station): the same times, so only the group's first free unit (in unit
    # order, the order of their ties) is in the heap for an exit, and the next follows when it is taken
    g_node = np.empty(n_off, np.int64)
    g_wait = np.empty(n_off)
    g_slot = np.empty(n_off, np.int64)
    g_last = np.empty(n_off, np.int64)
    after = np.full(n, -1, np.int64)           # the next unit of a unit's group, in unit order
    n_groups = 0
    for u in range(n):
        if code[u] <= 0 or on_circuit[u]:
            continue
        node = np.int64(out[1, u])
        wait = out[2, u]
        m = slot[u]
        g = -1
        if n_groups < MAX_GROUPS:
            for h in range(n_groups):
                if g_node[h] == node and g_wait[h] == wait and g_slot[h] == m:
                    g = h
                    break
        if g >= 0:
            after[g_last[g]] = u
            g_last[g] = u
            continue
        g_node[n_groups], g_wait[n_groups], g_slot[n_groups], g_last[n_groups] = node, wait, m, u
        n_groups += 1
        times = times0 if m == 0 else (times1 if m == 1 else (times2 if m == 2 else times3))
        for j in range(k):
            e = (times[node, targets[m, j]] + wait) + extras[m, j]
            if e != e:
                return np.nan
            hk[size] = e
            ht[size] = nk + u * k + j
            size += 1
    for i in range(size // 2 - 1, -1, -1):     # heapify
        _sift_down(hk, ht, size, i)
    taken = np.zeros(n, np.bool_)
    held = np.zeros(k, np.bool_)
    pos = np.zeros(k, np.int64)                # each exit's place in its sorted circuits
    for j in range(k):
        size = _next_circuit(j, places[j], pos, order, order_n, owner, code, on_circuit, taken, ui, bounds, n_circ,
                             k, hk, ht, size)
    n_held = 0
    worst = 0.0
    while size > 0:
        key, tie = hk[0], ht[0]
        size -= 1
        if size > 0:
            hk[0], ht[0] = hk[size], ht[size]
            _sift_down(hk, ht, size, 0)
        exact = tie >= nk
        r = tie - nk if exact else tie
        u = r // k
        j = r - u * k
        if held[j]:
            continue                           # a held exit's list stops for good
        if not exact:                          # a bound came first: read the unit's time, and the exit's next
            size = _next_circuit(j, places[j], pos, order, order_n, owner, code, on_circuit, taken, ui, bounds, n_circ,
                                 k, hk, ht, size)
            if taken[u]:
                continue
            if out[1, u] == SKIPPED:
                _locate_skipped(u, t, code, ui, uf, flat, seg, out)
            m = slot[u]
            times = times0 if m == 0 else (times1 if m == 1 else (times2 if m == 2 else times3))
            e = (times[np.int64(out[1, u]), targets[m, j]] + out[2, u]) + extras[m, j]
            if e != e:
                return np.nan
            size = _push(hk, ht, size, e, nk + r)
            continue
        if taken[u]:
            if not on_circuit[u]:              # the next free unit of its group, at the same time
                v = after[u]
                while v >= 0 and taken[v]:
                    v = after[v]
                if v >= 0:
                    size = _push(hk, ht, size, key, nk + v * k + j)
            continue
        taken[u] = True
        held[j] = True
        if key > worst:
            worst = key
        n_held += 1
        if n_held == k:
            return worst
    return np.inf


@njit(cache=True, nogil=True)
def _next_circuit(j, p, pos, order, order_n, owner, code, on_circuit, taken, ui, bounds, n_circ, k, hk, ht, size):
    """Push exit ``j``'s next circuit (at place ``p``) whose owner is free, on it and not taken; the heap's size."""
    i = pos[j]
    while i < n_circ:
        if i == order_n[p, 1]:                 # past the sorted prefix: the rest sorted now
            extend_order(order, order_n, p, bounds, n_circ)
        s = order[p, i]
        i += 1
        u = owner[s]
        if u >= 0 and on_circuit[u] and not taken[u] and ui[u, SEG] == s:
            b = _bound_key(bounds[p, s + 1]) - BOUND_MARGIN_S
            pos[j] = i
            return _push(hk, ht, size, b, u * k + j)
    pos[j] = i
    return size


class CircuitOrder:
    """What ``lazy_cordon`` reads beside the engine's arrays, kept across the cordons of a run.

    ``order``/``order_n``: per exit place, the circuits sorted by their bound there
    (``sort_circuits``), ``owner[s]``: the unit whose circuit segment ``s`` is (circuit keys are
    (uid, level, period)), ``bounds``: the index's place-major bounds these were made from. When
    the index replaces its bounds by larger ones (circuits added past their columns) all start afresh.
    """

    def __init__(self, index) -> None:
        self.index = index
        self.bounds = None
        self.order = np.empty((0, 0), np.int64)
        self.order_n = np.full((index.n_places, 2), -1, np.int64)
        self.owner = np.empty(0, np.int64)
        self._owners_known = 0

    def sort(self, places: np.ndarray, n_circ: int) -> None:
        """Make the rows of the exit places ``places`` current for ``n_circ`` circuits."""
        index = self.index
        bounds = index.bounds_by_place
        if bounds is not self.bounds:
            self.bounds = bounds
            self.order = np.empty((index.n_places, bounds.shape[1]), np.int64)
            self.order_n[:] = -1
            self.owner = np.full(bounds.shape[1], -1, np.int64)
            self._owners_known = 0
        if self._owners_known < n_circ:        # segments are numbered in the order circuits were added
            for key, s in islice(index.flat.seg_of.items(), self._owners_known, None):
                self.owner[s] = key[0]
            self._owners_known = n_circ
        sort_circuits(self.order, self.order_n, places, bounds, n_circ)
