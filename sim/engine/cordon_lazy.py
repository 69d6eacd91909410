"""The greedy cordon over full time matrices, best first: exact arrivals read only for pairs that can win.

Why: ``kernels.cordon_of_free_units`` reads every free unit's arrival at every open exit
(at 1,920 officers about 280 units by 9 exits: some 2,500 random reads from a matrix of
megabytes, and every unit the dispatch search skipped located on its circuit) although
the greedy walk keeps only one pair per exit, mostly of the nearest few units.

The greedy walk (``sim.engine.encircle.greedy_cordon_s``) takes the (unit, exit) pairs in
order of (time, unit, exit) and keeps a pair whose unit and exit are both free until every
exit is held. Here it takes them from one heap ordered by (key, kind, unit, exit):

- a unit on its circuit enters each exit's list by its circuit's lower bound at the exit
  (``DispatchIndex.bounds_by_place``, less ``kernels.BOUND_MARGIN_S`` for rounding, the
  margin the dispatch search prunes with). Per exit place the circuits are kept sorted by
  that bound (re-sorted when circuits were added), and each open exit has one entry in the
  heap: the next circuit in that order whose owner is free and on it (kind 0);
- when a bound entry comes first, the unit is located (if the search skipped it) and its
  exact arrival at that exit goes into the heap (kind 1), and the exit's next circuit follows;
- a unit off its circuit (at a station, a scene just cleared, on a drive located by the
  caller) enters with its exact arrival at every exit (kind 1) from the start.

An exact entry is taken only when it comes first: every pair not yet read exactly has a
bound entry (or one behind it in its exit's sorted list) with a key above it (a bound
equal to its time sorts before it: kind 0 first, and is resolved first), so its time is
larger; exact entries of equal time come in (unit, exit) order, the row-major order of the
full walk's stable sort. So the pairs kept, and the answer, are the full walk's, bit for
bit: the same arrivals (``kernels.cordon_from_matrix``'s additions in its order), the same
ties. An exit held drops its list for good; a unit taken is skipped by every list. A nan
arrival (no order) hands the whole cordon to ``kernels.cordon_of_free_units``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.kernels import (BOUND_MARGIN_S, FIXED_NODE, LEG_TEND, SEG, SKIPPED, _locate_skipped,
                                cordon_of_free_units)


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


@njit(cache=True, nogil=True)
def sort_circuits(order, order_n, places, bounds, n_circ):
    """Per exit place in ``places``: its row of ``order``, the circuits (segments) by bound there, if stale."""
    for j in range(places.shape[0]):
        p = places[j]
        if order_n[p] != n_circ:
            order[p, :n_circ] = np.argsort(bounds[p, 1:n_circ + 1], kind="mergesort")
            order_n[p] = n_circ


@njit(cache=True, nogil=True)
def lazy_cordon(t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, order, order_n,
                owner, times0, times1, times2, times3):
    """Seconds until every exit in ``places`` is held (``kernels.cordon_of_free_units``' answer), best first.

    The arguments of ``cordon_of_free_units`` plus: ``places`` the open exits (places, in
    ``targets``' column order), ``bounds`` the place-major circuit bounds (column ``s + 1``
    for segment ``s``), ``n_circ`` the circuits so far, ``order``/``order_n`` the per-place
    cache of circuits sorted by bound (``sort_circuits``), ``owner[s]`` the unit whose circuit
    segment ``s`` is. As there, a unit the search skipped is located here (only if read), and
    every other free unit must be located already.
    """
    n = code.shape[0]
    k = places.shape[0]
    n_free = 0
    for u in range(n):
        if code[u] > 0:
            n_free += 1
    if n_free < k:
        return np.inf
    if k == 0:
        return 0.0
    sort_circuits(order, order_n, places, bounds, n_circ)
    on_circuit = np.zeros(n, np.bool_)
    n_off = 0
    for u in range(n):
        c = code[u]
        if c == 1 or (c == 2 and ui[u, FIXED_NODE] < 0 and t >= uf[u, LEG_TEND]):
            on_circuit[u] = True
        elif c > 0:
            n_off += 1
    # entries: the units off a circuit at every exit, one per open exit's list, one per exact read
    cap = k * (n_off + 1) + k * n_free + 1
    hk = np.empty(cap)
    ht = np.empty(cap, np.int64)
    size = 0
    nk = n * k
    for u in range(n):                         # off their circuit: exact times from the start
        if code[u] <= 0 or on_circuit[u]:
            continue
        m = slot[u]
        times = times0 if m == 0 else (times1 if m == 1 else (times2 if m == 2 else times3))
        node = np.int64(out[1, u])
        wait = out[2, u]
        for j in range(k):
            e = (times[node, targets[m, j]] + wait) + extras[m, j]
            if e != e:
                return cordon_of_free_units(t, code, ui, uf, flat, seg, out, slot, targets, extras,
                                            times0, times1, times2, times3)
            hk[size] = e
            ht[size] = nk + u * k + j
            size += 1
    for i in range(size // 2 - 1, -1, -1):     # heapify
        _sift_down(hk, ht, size, i)
    taken = np.zeros(n, np.bool_)
    held = np.zeros(k, np.bool_)
    pos = np.zeros(k, np.int64)                # each exit's place in its sorted circuits
    for j in range(k):
        size = _next_circuit(j, places[j], pos, order, owner, code, on_circuit, taken, ui, bounds, n_circ,
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
            size = _next_circuit(j, places[j], pos, order, owner, code, on_circuit, taken, ui, bounds, n_circ,
                                 k, hk, ht, size)
            if taken[u]:
                continue
            if out[1, u] == SKIPPED:
                _locate_skipped(u, t, code, ui, uf, flat, seg, out)
            m = slot[u]
            times = times0 if m == 0 else (times1 if m == 1 else (times2 if m == 2 else times3))
            e = (times[np.int64(out[1, u]), targets[m, j]] + out[2, u]) + extras[m, j]
            if e != e:
                return cordon_of_free_units(t, code, ui, uf, flat, seg, out, slot, targets, extras,
                                            times0, times1, times2, times3)
            size = _push(hk, ht, size, e, nk + r)
            continue
        if taken[u]:
            continue
        taken[u] = True
        held[j] = True
        if key > worst:
            worst = key
        n_held += 1
        if n_held == k:
            return worst
    return np.inf


@njit(cache=True, nogil=True, inline="always")
def _next_circuit(j, p, pos, order, owner, code, on_circuit, taken, ui, bounds, n_circ, k, hk, ht, size):
    """Push exit ``j``'s next circuit (at place ``p``) whose owner is free, on it and not taken; the heap's size."""
    i = pos[j]
    while i < n_circ:
        s = order[p, i]
        i += 1
        u = owner[s]
        if u >= 0 and on_circuit[u] and not taken[u] and ui[u, SEG] == s:
            b = bounds[p, s + 1] - BOUND_MARGIN_S
            if b != b:
                b = -np.inf                    # no order: read the unit's time at once
            pos[j] = i
            return _push(hk, ht, size, b, u * k + j)
    pos[j] = i
    return size
