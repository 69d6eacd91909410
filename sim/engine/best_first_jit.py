"""The dispatch search of large graphs (``UnitSearch._best_first``) as two compiled calls.

On the kernel backend (no time matrix) the dispatch search visits units in order of a
lower bound and asks the exact seconds of each unit whose own bound comes first
(``sim.engine.search.UnitSearch._best_first``, whose docstring gives the walk). In Python
each unit reached cost a ``Circuit.where``, a landmark bound through numba's dispatcher
and tuple work on ``heapq``; each pair a call through ``SearchColumns`` (cProfile of the
13,002-node town, 14 days, all cars: about 0.25 ms per dispatch when the pairs were A*
searches). The walks take only what they read: the graphs' arrays and the A* loop's scratch
went with the searches (the hub labels answer every pair).

``bounds`` makes the walk's bounds (``lb_rows[:, place] + bias`` raised by the landmarks
for units waiting at a node: ``UnitSearch._bound_fixed``'s sums; for units on a drive, a bound
too: see ``bounds``); the caller locates the units still at -inf (those of a mode with a full
time matrix) in Python, and ``walk`` does the rest with the same keys, order and sums, asking
the caller to locate a unit on a drive under way when it comes first (``NEEDS_LOCATE``):

- the order is a stable sort of the bounds (numpy's ``argsort(kind="stable")``; there are
  no NaN bounds: the caller checks);
- a unit on its circuit is located with ``kernels._on_circuit`` (``Circuit.where``'s
  operations), a unit at a node from the index's arrays (``Movement.where``'s values);
- the heap's entries are (key, unit), compared as Python compares the tuples;
- the landmark bound is ``alt_jit._pair_bound`` and a pair's seconds the oracle's hub labels
  (``hub_labels.seconds_only``, the query ``SearchColumns.time`` makes), so each arrival is
  ``wait + seconds + walk`` to the bit.

A unit whose eligibility the rules decide (a kind with a travel limit or kept to its beat;
a kind that may not back up, for a backup) is decided in Python, where the Python walk
decides it: ``walk`` stops with ``NEEDS_RULES`` when one comes first, keeping its state in
arrays, and goes on when called again with the verdict (eligible at all, owns the place,
its travel limit); the limit then caps the search and the arrival as in the Python walk.
A pair's seconds cost about a microsecond (two labels of some
80 to 200 hubs merged), exact whatever the limit: the limit the walk passes only says which
answers it needs, as it did when an A* search stopped there.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.kernels import _on_circuit
from sim.engine.kernels import (ANCHOR_T, ANCHOR_TAU, FIXED_NODE, FIXED_WAIT, LEG_ARRIVE, LEG_DST, LEG_SCALE,
                                LEG_SEG, LEG_SRC, LEG_T0, LEG_TAU, LEG_TEND, LEG_WAIT, OWN_BEAT, OWN_ROW, SEG)
from sim.engine.owners import NOT_TABLED
from sim.network.alt_jit import _pair_bound
from sim.network.dijkstra_jit import bound_at_rows
from sim.network.hub_labels import seconds_at

FOUND, NEEDS_RULES, NO_WALK, NEEDS_LOCATE = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def bounds(place, t, code, bias, ui, uf, bound_rows, slot, target, extra, lm_from, lm_to, lm_exact, has_tm, sym,
           alt_margin_s, margin_s, out, on_demand, c_ff, c_nt, c_radius, c_ptr, c_nodes, c_seconds, c_n_lm):
    """Each unit's bound at ``place`` at ``t``: ``bound_rows[ui[u, SEG] + 1, place] + bias[u]``, and for a
    unit free off its circuit (bias -inf) on a mode without a full time matrix a finite bound:

    - waiting at a node (``FIXED_NODE``): ``(wait + landmark bound + walk) - margin_s``;
    - on a drive to its circuit that ended by ``t`` (``t >= uf[u, LEG_TEND]``): its circuit's bound
      (``SEG`` is the circuit driven to): the walk locates it there as ``kernels.nearest_unit`` does,
      where the engine will put it (``Movement.sync`` then ``Circuit.where``: the same operations);
    - on a drive still under way (to its circuit or the station): ``((LEG_WAIT + landmark bound
      (source, target) - (t - LEG_T0) / LEG_SCALE) + walk) - margin_s``, as ``nearest_unit`` bounds it
      (the triangle inequality: the unit is at most the response seconds driven since the start
      closer to the target than the drive's source; past the end of a drive to the station it waits
      there, farther still); the walk hands it to the caller to locate (``NEEDS_LOCATE``) only when
      it comes first.

    Before, every unit off its circuit was -inf and located in Python before the walk (on the
    13,002-node town, 1.4 per dispatch, most of them drives already ended, each then booked).
    ``bound_rows``: the circuits' bound rows (``FlatCircuits.bound``; no rows: every unit's bound is
    0 + bias). ``slot[u]``: the unit's mode; per slot ``target[slot]``, ``extra[slot]`` (the node driven
    to and the walk from it), the landmarks' tables (tuples) and whether they bound, and whether the
    mode has a full time matrix (``has_tm``: then its units off their circuit keep -inf, as
    ``_bound_fixed`` leaves them, and are located first).
    ``on_demand``: the circuits keep their bounds as their bound search found them
    (``positions.CircuitBounds``: ``c_ff`` ... ``c_seconds``; ``c_n_lm[slot]`` landmarks used), and a
    unit's circuit bound at the place is worked out here (``dijkstra_jit.bound_at`` at the node driven
    to, plus the walk from it: the bits of the row ``bound_rows`` would hold).
    Writes ``out``; returns ``(units at -inf, whether the Python walk must run)``: the units the
    caller locates before the walk and whether a bound is NaN (an unreachable place: no order of
    numpy's to copy).
    """
    n = code.size
    drives = 0
    python = False
    has_rows = bound_rows.shape[0] > 0
    if on_demand:                  # the place's rows of each slot's landmark tables, read once for every circuit
        n_slots = target.size
        k_max = 1
        for m in range(n_slots):
            k_max = max(k_max, lm_from[m].shape[1])
        t_from = np.zeros((n_slots, k_max))
        t_to = np.zeros((n_slots, k_max))
        for m in range(n_slots):
            lf = lm_from[m]
            lt = lm_to[m]
            for q in range(lf.shape[1]):
                t_from[m, q] = lf[target[m], q]
                t_to[m, q] = lt[target[m], q]
    for u in range(n):
        if on_demand:
            s = ui[u, SEG]
            bu = bias[u]
            if s < 0:
                b = 0.0
            elif (bu == np.inf or (bu == -np.inf and (ui[u, FIXED_NODE] >= 0 or t < uf[u, LEG_TEND]))) \
                    and c_radius[s] < np.inf and extra[slot[u]] < np.inf:
                # the circuit's bound is finite (a radius short of the whole graph, a finite walk) and not
                # read: the unit is busy or off duty (bias +inf), or free at a node or on a drive under way
                # (-inf; only a drive that has ended takes its circuit's bound, below), so its sum with
                # the bias is the bias, as with the bound worked out. Most units at a dispatch: at green,
                # of the 13,002-node town's 54 motorbikes 42 are free off their circuit (at a station or a
                # scene, or driving) and 7 busy or off duty (means over a 3-day run's dispatches)
                b = 0.0
            else:
                ms = slot[u]
                b = bound_at_rows(target[ms], t_from[ms], t_to[ms], s, c_ff, c_nt, c_radius, c_ptr, c_nodes,
                                  c_seconds, c_n_lm[ms], alt_margin_s) + extra[ms]
        else:
            b = bound_rows[ui[u, SEG] + 1, place] if has_rows else 0.0
        v = b + bias[u]
        if v == -np.inf:
            m = slot[u]
            if not has_tm[m]:                    # (a mode with a time matrix: located first, as in Python)
                node = ui[u, FIXED_NODE]
                if node >= 0:
                    lb = _pair_bound(lm_from[m], lm_to[m], node, target[m], alt_margin_s) if lm_exact[m] else 0.0
                    v = (uf[u, FIXED_WAIT] + lb + extra[m]) - margin_s
                elif t >= uf[u, LEG_TEND]:       # a drive to its circuit that has ended: on the circuit
                    v = b
                else:                            # a drive under way
                    src = np.int64(uf[u, LEG_SRC])
                    lb = _pair_bound(lm_from[m], lm_to[m], src, target[m], alt_margin_s) if lm_exact[m] else 0.0
                    v = ((uf[u, LEG_WAIT] + lb - (t - uf[u, LEG_T0]) / uf[u, LEG_SCALE]) + extra[m]) - margin_s
                    if sym[m] and lm_exact[m]:   # ... and from its end
                        lb = _pair_bound(lm_from[m], lm_to[m], ui[u, LEG_DST], target[m], alt_margin_s)
                        vd = ((lb - _left_s(uf, u, t)) + extra[m]) - margin_s
                        if vd > v:
                            v = vd
        out[u] = v
        if v == -np.inf:
            drives += 1
        elif v != v:
            python = True
    return drives, python


@njit(cache=True, nogil=True, inline="always")
def _left_s(uf, u, t):
    """Response seconds left at ``t`` of unit ``u``'s drive (to ``LEG_DST``, reached at ``LEG_ARRIVE``; 0 past it).

    On a graph whose every street is as fast both ways (``sym``: ``SearchColumns.symmetric``) a unit
    on a drive is at most these seconds from the drive's end, so its seconds to a target are at
    least the end's seconds to it less these (the triangle inequality, the end's seconds to the unit
    being the unit's to the end): a bound beside the one from the drive's source. It holds in the wait
    before the source too (the source is on the way), and past the end of a drive to the station
    (the unit waits there: 0 seconds left, its turnout still to come).
    """
    left = uf[u, LEG_ARRIVE] - t
    return left / uf[u, LEG_SCALE] if left > 0.0 else 0.0


@njit(cache=True, nogil=True)
def stable_order(bound):
    """``bound.argsort(kind="stable")`` for bounds without NaN (ties in index order; tested against numpy)."""
    return np.argsort(bound, kind="mergesort")


#: the walk's state between calls (``istate`` and ``fstate`` entries)
I_NEXT, I_SIZE, I_BEST_UID, I_BEST_NODE, I_RUNS, I_PENDING, I_STARTED, I_LOCATE, I_LOCATE_HEAP, I_DECIDED = range(10)
F_BEST, F_BEST_WAIT, F_BEST_TRAVEL, F_PENDING_KEY, F_OK, F_OWN, F_CAP = range(7)
#: the best unit's hub entries in its pair's labels (``hub_labels.seconds_at``; -1: none): its metres
I_BEST_I, I_BEST_J = 10, 11
I_SIZE_ALL, F_SIZE_ALL = 12, 7
#: ``heap_node`` of a unit on a drive under way on the heap under its exact bound, not yet located
NOT_LOCATED = -2


@njit(cache=True, nogil=True, inline="always")
def _sift_down(heap_k, heap_u, size):
    """The last entry of a heap of ``size + 1`` entries moves down from the root (the root is removed)."""
    lk = heap_k[size]
    lu = heap_u[size]
    j = 0
    while True:
        c = 2 * j + 1
        if c >= size:
            break
        if c + 1 < size and (heap_k[c + 1] < heap_k[c] or (heap_k[c + 1] == heap_k[c] and heap_u[c + 1] < heap_u[c])):
            c += 1
        if heap_k[c] > lk or (heap_k[c] == lk and heap_u[c] > lu):
            break
        heap_k[j] = heap_k[c]
        heap_u[j] = heap_u[c]
        j = c
    heap_k[j] = lk
    heap_u[j] = lu


@njit(cache=True, nogil=True, inline="always")
def _sift_up(heap_k, heap_u, size, key, u):
    """Add ``(key, u)`` to a heap of ``size`` entries (room checked by the caller): it moves up from the bottom."""
    j = size
    while j > 0:
        p = (j - 1) >> 1
        if heap_k[p] < key or (heap_k[p] == key and heap_u[p] < u):
            break
        heap_k[j] = heap_k[p]
        heap_u[j] = heap_u[p]
        j = p
    heap_k[j] = key
    heap_u[j] = u


@njit(cache=True, nogil=True, inline="always")
def pair_seconds(m, source, goal, tm, has_tm, lab_ptr, lab_sec, lab_hub):
    """Seconds from ``source`` to ``goal`` in mode slot ``m``, as ``TravelOracle.time`` gives them, for both walks.

    The slot's full matrix if it has one, else its hub labels (``lab_*``: ``HubLabels.walk_arrays``),
    exact (no search, no limit). Returns ``(seconds, asked)``: ``asked`` 1 when the labels answered.
    """
    seconds, asked, _, _ = pair_seconds_at(m, source, goal, tm, has_tm, lab_ptr, lab_sec, lab_hub)
    return seconds, asked


@njit(cache=True, nogil=True, inline="always")
def pair_seconds_at(m, source, goal, tm, has_tm, lab_ptr, lab_sec, lab_hub):
    """``pair_seconds`` and where the labels' hub is: ``(seconds, asked, i, j)``, the hub's entries in the
    labels (``hub_labels.seconds_at``; -1, -1 with a matrix or no common hub): the pair's metres."""
    if has_tm[m]:
        return tm[m][source, goal], 0, -1, -1
    seconds, i, j = seconds_at(lab_ptr[m], lab_sec[m], lab_hub[m], source, goal)
    return seconds, 1, i, j


@njit(cache=True, nogil=True, inline="always")
def _pause(istate, fstate, i, size, best_uid, best_node, runs, best, best_wait, best_travel):
    """Keep the walk's place and its best so far in ``istate``/``fstate``, to go on when called again."""
    istate[I_NEXT] = i
    istate[I_SIZE] = size
    istate[I_BEST_UID] = best_uid
    istate[I_BEST_NODE] = best_node
    istate[I_RUNS] = runs
    fstate[F_BEST] = best
    fstate[F_BEST_WAIT] = best_wait
    fstate[F_BEST_TRAVEL] = best_travel


@njit(cache=True, nogil=True, inline="always")
def _push_located(u, nd, w, floor, slot, target, extra, lm_from, lm_to, lm_exact, alt_margin_s, margin_s, tm,
                  has_tm, heap_k, heap_u, heap_node, heap_wait, size):
    """Unit ``u`` located at ``nd`` after ``w`` seconds onto the heap, under the larger of ``floor`` and its
    own bound (``w + landmark bound + walk``, less the margin); returns the heap's new size."""
    heap_node[u] = nd
    heap_wait[u] = w
    m = slot[u]
    if has_tm[m]:                            # TravelOracle.lower_bound_s: the matrix's seconds
        lb = tm[m][nd, target[m]]
    else:
        lb = _pair_bound(lm_from[m], lm_to[m], nd, target[m], alt_margin_s) if lm_exact[m] else 0.0
    lb = ((lb + w) + extra[m]) - margin_s
    _sift_up(heap_k, heap_u, size, lb if lb > floor else floor, u)
    return size + 1


@njit(cache=True, nogil=True)
def walk(bound, node, wait, checked, code, t, ui, uf, flat, seg, slot, target, extra,
         lm_from, lm_to, lm_exact, alt_margin_s, margin_s,
         lab_ptr, lab_sec, lab_hub, tm, has_tm, sym, order, heap_k, heap_u, heap_node, heap_wait, istate, fstate,
         place, rule_ok, owner_tab, cap_u):
    """The eligible unit with the smallest (arrival, unit id), searched best first; see the module docstring.

    ``bound`` per unit (from ``bounds``; ``inf``: never a candidate); ``node[u] >= 0``: the unit
    was located by the caller (on a drive: ``wait[u]`` too); ``checked[u]``: its eligibility needs
    the rules. ``tm``/``has_tm`` per slot: the mode's full time matrix, if it has one (then its bound
    and time are the matrix's seconds, no search). ``lab_ptr``/``lab_sec``/``lab_hub`` per slot: the
    oracle's hub labels (``SearchColumns.walk_labels``), which give a pair's exact seconds. ``order``, ``heap_*`` (a unit each, one more for the heap) and ``istate``/``fstate``
    hold the walk between calls: ``istate[I_STARTED]`` 0 starts a walk. When a checked unit comes
    first, the rules' verdict is made here when the unit's beat is in a table (``ui[u, OWN_ROW]``, see
    ``sim.engine.owners``): the place is in its beat when ``owner_tab[OWN_ROW, place]`` is its
    ``OWN_BEAT``; ``rule_ok[u, own]`` says whether it is eligible at arrival 0 (of a first unit or a
    backup, as the caller passes), ``cap_u[u]`` its travel limit outside its beat (counted in
    ``istate[I_DECIDED]``). Otherwise the call returns ``NEEDS_RULES`` with the unit in
    ``istate[I_PENDING]``; the caller writes the rules' verdict (``fstate[F_OK]``: eligible with
    arrival 0; ``F_OWN``: the place is in its beat; ``F_CAP``: its travel limit, inf if none or if it
    owns the place) and calls again, with the same arrays, to go on. Either way the Python walk's
    checks, in its order. A unit on a drive under way (not
    located, ``node[u]`` -1: see ``bounds``) that comes first in order goes onto the heap under a tighter
    bound, its drive's source's exact seconds to the place (the labels) less the response seconds driven
    since, or on a mode whose streets are as fast both ways (``sym``), if larger, its drive's end's exact
    seconds less the seconds left (``_left_s``): locating it costs its route's nodes (read from the hub
    labels since the thirteenth session, an A* search before: the routes searched at dispatch on the
    13,002-node town fell 4% for foot officers, 17% for cars, 20% for the mixed force with the source's
    bound, ``bench/search_work.py``).
    When it comes first again (or at once, for a mode with a matrix) the call returns ``NEEDS_LOCATE``
    with the unit in ``istate[I_LOCATE]``; the caller locates it (``Movement.where``) into ``node[u]``
    and ``wait[u]`` and calls again: the walk takes it up where it stopped. A drive to a circuit that
    has ended is located here, on the circuit (``ui[u, LEG_SEG]``, at lap time ``uf[u, LEG_TAU]`` at
    ``uf[u, LEG_TEND]``), as ``kernels.nearest_unit`` locates it.

    Returns ``(status, uid, arrival, node, wait, travel seconds)`` when ``FOUND``: the choice (-1 if
    none), where it is and the seconds of its pair; the pairs the hub labels answered are
    ``istate[I_RUNS]``. No array is returned: each one a compiled call returns is boxed, at the cost of one
    ``numba.core.serialize._numba_unpickle`` of its type.
    """
    n = bound.size
    if istate[I_STARTED] == 0:
        order[:] = stable_order(bound)
        istate[I_STARTED] = 1
        istate[I_NEXT] = 0
        istate[I_SIZE] = 0
        istate[I_BEST_UID] = -1
        istate[I_BEST_NODE] = -1
        istate[I_RUNS] = 0
        istate[I_PENDING] = -1
        istate[I_DECIDED] = 0
        istate[I_BEST_I] = -1
        istate[I_BEST_J] = -1
        fstate[F_BEST] = np.inf
        fstate[F_BEST_WAIT] = 0.0
        fstate[F_BEST_TRAVEL] = np.inf
    i = istate[I_NEXT]
    size = istate[I_SIZE]
    best = fstate[F_BEST]
    best_uid = istate[I_BEST_UID]
    best_node = istate[I_BEST_NODE]
    best_wait = fstate[F_BEST_WAIT]
    best_travel = fstate[F_BEST_TRAVEL]
    runs = istate[I_RUNS]
    pending = istate[I_PENDING]
    istate[I_PENDING] = -1
    if istate[I_LOCATE_HEAP]:                    # a drive popped from the heap: the caller located it
        istate[I_LOCATE_HEAP] = 0
        u = istate[I_LOCATE]
        size = _push_located(u, node[u], wait[u], fstate[F_PENDING_KEY], slot, target, extra, lm_from, lm_to,
                             lm_exact, alt_margin_s, margin_s, tm, has_tm, heap_k, heap_u, heap_node, heap_wait, size)
    while True:
        if pending >= 0:                         # a checked unit popped before: the rules' verdict came
            u = pending
            key = fstate[F_PENDING_KEY]
            pending = -1
            if fstate[F_OK] == 0.0:
                continue
            own = fstate[F_OWN] != 0.0
            cap = fstate[F_CAP]
        else:
            b0 = bound[order[i]] if i < n else np.inf
            if size > 0 and heap_k[0] < b0:      # a located unit comes first: its exact arrival
                key = heap_k[0]
                u = heap_u[0]
                if key > best or key == np.inf:
                    break
                size -= 1
                if size > 0:
                    _sift_down(heap_k, heap_u, size)
                if heap_node[u] == NOT_LOCATED:  # a drive under way under its exact bound: now located
                    _pause(istate, fstate, i, size, best_uid, best_node, runs, best, best_wait, best_travel)
                    istate[I_LOCATE] = u
                    istate[I_LOCATE_HEAP] = 1
                    fstate[F_PENDING_KEY] = key
                    return NEEDS_LOCATE, -1, np.inf, -1, 0.0, np.inf
                if checked[u]:                   # the rules decide
                    r = ui[u, OWN_ROW]
                    if r == NOT_TABLED:          # ... in Python: ask the caller, go on when called again
                        _pause(istate, fstate, i, size, best_uid, best_node, runs, best, best_wait, best_travel)
                        istate[I_PENDING] = u
                        fstate[F_PENDING_KEY] = key
                        return NEEDS_RULES, -1, np.inf, -1, 0.0, np.inf
                    # ... here, as the caller would: the place in its beat (owns), eligible at arrival 0, its limit
                    istate[I_DECIDED] += 1
                    own = r >= 0 and owner_tab[r, place] == ui[u, OWN_BEAT]
                    if rule_ok[u, 1 if own else 0] == 0:
                        continue
                    cap = np.inf if own else cap_u[u]
                else:
                    own = True
                    cap = np.inf
            else:
                if b0 > best or b0 == np.inf:
                    break
                u = order[i]
                if node[u] >= 0:                         # located by the caller (a drive)
                    nd = node[u]
                    w = wait[u]
                elif code[u] == 1:                       # on its circuit: Circuit.where
                    s = ui[u, SEG]
                    at, w = _on_circuit(flat, seg, s, (uf[u, ANCHOR_TAU] + (t - uf[u, ANCHOR_T])) % seg[s, 2])
                    nd = np.int64(at)
                elif ui[u, FIXED_NODE] >= 0:             # at the station or a scene just cleared
                    nd = ui[u, FIXED_NODE]
                    w = uf[u, FIXED_WAIT]
                elif t >= uf[u, LEG_TEND]:               # its drive to the circuit has ended: on the circuit
                    s = ui[u, LEG_SEG]
                    at, w = _on_circuit(flat, seg, s, (uf[u, LEG_TAU] + (t - uf[u, LEG_TEND])) % seg[s, 2])
                    nd = np.int64(at)
                else:                                    # a drive under way
                    m = slot[u]
                    if has_tm[m]:                        # (a mode with a matrix: located at once)
                        _pause(istate, fstate, i, size, best_uid, best_node, runs, best, best_wait, best_travel)
                        istate[I_LOCATE] = u
                        return NEEDS_LOCATE, -1, np.inf, -1, 0.0, np.inf
                    # its bound again, from the exact seconds of its drive's source (the labels), onto the
                    # heap: located by the caller only when it comes first under that bound
                    src = np.int64(uf[u, LEG_SRC])
                    exact_s, asked = pair_seconds(m, src, target[m], tm, has_tm, lab_ptr, lab_sec, lab_hub)
                    runs += asked
                    kr = ((uf[u, LEG_WAIT] + exact_s - (t - uf[u, LEG_T0]) / uf[u, LEG_SCALE]) + extra[m]) - margin_s
                    if sym[m] and kr <= best:    # ... and of its end, less the seconds left (``_left_s``)
                        exact_s, asked = pair_seconds(m, ui[u, LEG_DST], target[m], tm, has_tm, lab_ptr, lab_sec,
                                                      lab_hub)
                        runs += asked
                        kd = ((exact_s - _left_s(uf, u, t)) + extra[m]) - margin_s
                        if kd > kr:
                            kr = kd
                    i += 1
                    heap_node[u] = NOT_LOCATED
                    _sift_up(heap_k, heap_u, size, kr if kr > b0 else b0, u)
                    size += 1
                    continue
                i += 1
                size = _push_located(u, nd, w, b0, slot, target, extra, lm_from, lm_to, lm_exact, alt_margin_s,
                                     margin_s, tm, has_tm, heap_k, heap_u, heap_node, heap_wait, size)
                continue
        # the exact arrival of unit u (popped with ``key``): none past its travel limit (its cap)
        if not own and key > cap:
            continue
        m = slot[u]
        nd = heap_node[u]
        w = heap_wait[u]
        x = extra[m]
        goal = target[m]
        travel, asked, bi, bj = pair_seconds_at(m, nd, goal, tm, has_tm, lab_ptr, lab_sec, lab_hub)
        runs += asked
        eta = w + travel + x
        if not own and not eta <= cap:            # a checked unit past its travel limit may not answer
            continue
        if best_uid < 0 or eta < best or (eta == best and u < best_uid):
            best, best_uid, best_node, best_wait, best_travel = eta, u, nd, w, travel
            istate[I_BEST_I] = bi
            istate[I_BEST_J] = bj
    istate[I_STARTED] = 0
    istate[I_RUNS] = runs
    return FOUND, best_uid, best, best_node, best_wait, best_travel


def warm(slots: int = 4) -> None:
    """Load (or compile) both loops now, for the argument types ``UnitSearch`` passes (``slots`` mode slots)."""
    from sim.engine.walk_arrays import on_demand_arrays, rule_arrays, warm_graph_arrays
    z1, zi = np.zeros(1), np.zeros(1, np.int64)
    ui, uf = np.zeros((1, 6), np.int64), np.zeros((1, 9))
    lm = tuple(np.zeros((2, 1)) for _ in range(slots))
    exact = np.zeros(slots, np.bool_)
    b = np.zeros(1)
    for on_demand in (False, True):
        bounds(0, 0.0, np.zeros(1, np.int8), np.full(1, np.inf), ui, uf, np.zeros((0, 2)), zi,
               np.zeros(slots, np.int64), np.zeros(slots), lm, lm, exact, exact, exact, 0.0, 0.0, b, on_demand,
               *on_demand_arrays(slots))
    from sim.network.dijkstra_jit import bounds_of_units     # lb_rows' bounds on demand (DispatchIndex)
    bounds_of_units(zi, zi, zi, zi, *on_demand_arrays(slots), lm, lm, np.zeros((1, slots), np.int64),
                    np.zeros((1, slots)), 0.0)
    pairs, tm = warm_graph_arrays(slots)
    walk(b, np.full(1, -1, np.int64), z1, np.zeros(1, np.bool_), np.zeros(1, np.int8), 0.0, ui, uf,
         np.zeros((3, 2)), np.zeros((1, 3)), zi, np.zeros(slots, np.int64), np.zeros(slots), lm, lm, exact,
         0.0, 0.0, *pairs, tm, exact, exact, np.zeros(1, np.int64), np.zeros(2), np.zeros(2, np.int64),
         np.zeros(1, np.int64), np.zeros(1), np.zeros(I_SIZE_ALL, np.int64), np.zeros(F_SIZE_ALL),
         0, *rule_arrays(1))
