"""The best-first cordon walk of large graphs (``sim.engine.cordon``) as one compiled call.

On the kernel backend the cordon measure of a major incident walks (unit, exit) pairs
best first and runs an A* pair search only where a pair's bound comes first
(``cordon.best_first_cordon_s``, whose docstring gives the walk and why it equals the
full greedy assignment). In Python each step was a tuple on ``heapq``, a landmark bound
made through numpy and a call into the A* loop through numba's dispatcher; on the
13,002-node town (14 days, all cars) the walk cost about 2 ms per cordon, a quarter of
the replication, under half of it in the searches themselves (cProfile).

Here the walk runs in one call, its exact entries taken in the same order (so the same
answer):

- the heap's entries are (key, tier, unit, exit), compared as Python compares the
  tuples (a total order on distinct entries: the heap's shape cannot change which
  entry comes out first);
- its first tier is one entry per unit, under a bound on the unit's arrival at any exit,
  rather than the Python walk's entry per (unit on its circuit, exit) under the circuit's
  bound there (``cordon_walk``);
- a unit on its circuit is located with ``kernels._on_circuit`` (``Circuit.where``'s
  operations in its order: the same node and wait as the Python walk's ``locate``);
  units elsewhere come located (the caller locates them in Python, in unit order,
  as the Python walk does: that may finish a drive);
- a located unit's bound is ``((landmark bound + wait) + walk) - MARGIN_S`` with the
  landmark bound of ``alt_jit._pair_bound`` (``SearchColumns.lower_bounds``'s);
- a pair's seconds are the oracle's hub labels' (``best_first_jit.pair_seconds``: the query
  ``SearchColumns.time`` makes), exact at its first question: a pair is asked once.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.kernels import _on_circuit
from sim.engine.kernels import ANCHOR_T, ANCHOR_TAU, FIXED_NODE, FIXED_WAIT, LEG_SEG, LEG_TAU, LEG_TEND, SEG
from sim.network.alt_jit import _pair_bound
from sim.engine.best_first_jit import pair_seconds
from sim.engine.walk_arrays import warm_graph_arrays

TIER_UNIT, TIER_LOCATED, TIER_EXACT = 0, 1, 2


@njit(cache=True, nogil=True)
def cordon_prep(avail, t, code, ui, uf, node, wait, ended, rest):
    """Where the walk starts from, per free unit ``avail[a]``, into ``node``, ``wait``, ``ended`` and ``rest``
    (``prep_buffers``: at least a row per unit; the rows of the free units written); returns how many
    units ``rest`` lists.

    As ``cordon.CompiledCordon.seconds_s`` makes it with numpy: a unit waiting at a fixed node (the
    station, a scene just cleared) has its node and wait; a unit on its circuit (node -1), or whose drive
    to it ended by ``t`` (``ended``), is located by the walk; the rest (a drive under way) are listed in
    ``rest``, in unit order, for the caller to locate. The arrays are the caller's, kept from one cordon
    to the next (arrays returned are boxed at every call).
    """
    n = avail.size
    node[:n] = -1
    wait[:n] = 0.0
    ended[:n] = False
    n_rest = 0
    for a in range(n):
        u = avail[a]
        c = code[u]
        fixed = ui[u, FIXED_NODE]
        if c == 2 and fixed >= 0:
            node[a] = fixed
            wait[a] = uf[u, FIXED_WAIT]
        elif c == 2:
            if uf[u, LEG_TEND] <= t:
                ended[a] = True
            else:
                rest[n_rest] = a
                n_rest += 1
    return n_rest


def prep_buffers(n_units: int) -> tuple:
    """``cordon_prep``'s output arrays (node, wait, ended, rest) for up to ``n_units`` free units."""
    return (np.full(n_units, -1, np.int64), np.zeros(n_units), np.zeros(n_units, np.bool_),
            np.zeros(n_units, np.int64))


@njit(cache=True, nogil=True, inline="always")
def _less(ks, ts, as_, es, i, j):
    """Entry ``i`` comes before entry ``j``: Python's order of the tuples (key, tier, unit, exit)."""
    if ks[i] != ks[j]:
        return ks[i] < ks[j]
    if ts[i] != ts[j]:
        return ts[i] < ts[j]
    if as_[i] != as_[j]:
        return as_[i] < as_[j]
    return es[i] < es[j]


@njit(cache=True, nogil=True, inline="always")
def _swap(ks, ts, as_, es, i, j):
    ks[i], ks[j] = ks[j], ks[i]
    ts[i], ts[j] = ts[j], ts[i]
    as_[i], as_[j] = as_[j], as_[i]
    es[i], es[j] = es[j], es[i]


@njit(cache=True, nogil=True)
def _sift_down(ks, ts, as_, es, i, size):
    while True:
        child = 2 * i + 1
        if child >= size:
            return
        if child + 1 < size and _less(ks, ts, as_, es, child + 1, child):
            child += 1
        if not _less(ks, ts, as_, es, child, i):
            return
        _swap(ks, ts, as_, es, i, child)
        i = child


@njit(cache=True, nogil=True)
def _push(ks, ts, as_, es, size, key, tier, a, e):
    """Add an entry to the heap of ``size`` entries (room is always there: a pop precedes every push)."""
    ks[size], ts[size], as_[size], es[size] = key, tier, a, e
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if not _less(ks, ts, as_, es, i, parent):
            break
        _swap(ks, ts, as_, es, i, parent)
        i = parent
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def _bound(lm_from, lm_to, lm_exact, tm, has_tm, m, source, target, alt_margin_s):
    """``TravelOracle.lower_bounds_s`` of one pair: the matrix's seconds, else the landmarks' bound (0 if none)."""
    if has_tm[m]:
        return tm[m][source, target]
    return _pair_bound(lm_from[m], lm_to[m], source, target, alt_margin_s) if lm_exact[m] else 0.0


@njit(cache=True, nogil=True)
def _exit_rows(lm_from, lm_to, lm_exact, has_tm, exit_t):
    """Per slot and exit, the landmarks' seconds of the node driven to (``ef``: from each landmark,
    ``et``: to it), read once per cordon and copied side by side: ``_unit_bounds`` reads them for
    every unit, where the bound of each (unit, exit) pair read them from the tables again.
    ``nk[slot]``: the slot's landmarks (0: the slot's bounds come from ``_bound``: a matrix, or
    landmarks that do not bound)."""
    n_slots, n_exits = exit_t.shape
    kmax = 1
    for m in range(n_slots):
        if lm_from[m].shape[1] > kmax:
            kmax = lm_from[m].shape[1]
    ef = np.empty((n_slots, n_exits, kmax))
    et = np.empty((n_slots, n_exits, kmax))
    nk = np.zeros(n_slots, np.int64)
    for m in range(n_slots):
        if has_tm[m] or not lm_exact[m]:
            continue
        lf = lm_from[m]
        lt = lm_to[m]
        nk[m] = lf.shape[1]
        for e in range(n_exits):
            x = exit_t[m, e]
            for q in range(lf.shape[1]):
                ef[m, e, q] = lf[x, q]
                et[m, e, q] = lt[x, q]
    return ef, et, nk


@njit(cache=True, nogil=True, inline="always")
def _unit_bounds(bound, a, m, source, wait_a, exit_t, exit_x, ef, et, nk, lm_from, lm_to, lm_exact, tm, has_tm,
                 alt_margin_s, margin_s):
    """``bound[a, e] = ((_bound(..., source, exit e) + wait) + walk) - margin_s`` for every exit, from the
    exits' rows (``_exit_rows``): ``_pair_bound``'s operations on the same values, so the same bits.

    The landmark bound of (unit, exit) was read from the two tables for every pair, through the
    tuple of the slots' tables: 300 cordons of a 14-day replication of the 13,002-node town (cars),
    replayed in one process, took 39 µs each that way and 24 µs with the rows read once (the same answers)."""
    n_exits = exit_t.shape[1]
    k = nk[m]
    if k == 0:
        for e in range(n_exits):
            b = _bound(lm_from, lm_to, lm_exact, tm, has_tm, m, source, exit_t[m, e], alt_margin_s)
            bound[a, e] = ((b + wait_a) + exit_x[m, e]) - margin_s
        return
    s_from = lm_from[m][source]
    s_to = lm_to[m][source]
    for e in range(n_exits):
        b = _rows_bound(ef[m, e], s_from, s_to, et[m, e], k, alt_margin_s)
        bound[a, e] = ((b + wait_a) + exit_x[m, e]) - margin_s


@njit(cache=True, nogil=True, inline="always")
def _rows_bound(x_from, s_from, s_to, x_to, k, alt_margin_s):
    """``alt_jit._pair_bound``'s operations from a source's and a target's landmark rows (their first ``k``
    columns: seconds from each landmark, ``*_from``, and to it, ``*_to``)."""
    hi_from = -np.inf
    hi_to = -np.inf
    for q in range(k):
        x = x_from[q] - s_from[q]
        if x > hi_from:
            hi_from = x
        y = s_to[q] - x_to[q]
        if y > hi_to:
            hi_to = y
    h = hi_from if hi_from >= hi_to else hi_to
    v = h - alt_margin_s
    return v if v > 0.0 else 0.0


@njit(cache=True, nogil=True)
def _exit_floor(ef, et, nk, exit_x):
    """Per slot, what bounds a unit's arrival at every exit at once (``_unit_key``): per landmark the least
    of the exits' seconds from it (``ef_min``) and the most of their seconds to it (``et_max``), and the
    least walk from the node driven to (``x_min``)."""
    n_slots, n_exits, kmax = ef.shape
    ef_min = np.full((n_slots, kmax), np.inf)
    et_max = np.full((n_slots, kmax), -np.inf)
    x_min = np.full(n_slots, np.inf)
    for m in range(n_slots):
        for e in range(n_exits):
            if exit_x[m, e] < x_min[m]:
                x_min[m] = exit_x[m, e]
            for q in range(nk[m]):
                if ef[m, e, q] < ef_min[m, q]:
                    ef_min[m, q] = ef[m, e, q]
                if et[m, e, q] > et_max[m, q]:
                    et_max[m, q] = et[m, e, q]
    return ef_min, et_max, x_min


@njit(cache=True, nogil=True, inline="always")
def _unit_key(m, source, wait_a, ef_min, et_max, x_min, nk, lm_from, lm_to, alt_margin_s, margin_s):
    """A bound on a unit's arrival at every exit: ``_unit_bounds``' sums with each landmark's term at its
    least over the exits (``_exit_floor``), so at most each of its keys, bit for bit (a float sum or
    difference does not fall when an operand rises). A slot without landmark rows (``nk`` 0: a matrix, or
    landmarks that do not bound) bounds the travel by 0."""
    k = nk[m]
    b = 0.0
    if k > 0:
        b = _rows_bound(ef_min[m], lm_from[m][source], lm_to[m][source], et_max[m], k, alt_margin_s)
    return ((b + wait_a) + x_min[m]) - margin_s


@njit(cache=True, nogil=True)
def cordon_walk(uids, node, wait, ended, slot, target, extra, todo, t, ui, uf, flat, seg,
                lm_from, lm_to, lm_exact, lab_ptr, lab_sec, lab_hub, tm, has_tm, alt_margin_s, margin_s):
    """Seconds until every exit is held by one of the free units (inf if never): the best-first walk.

    Per free unit ``a`` (``uids[a]``, ascending): ``node[a]``/``wait[a]`` where it is (``node``
    -1: on its circuit, located here from ``ui``/``uf``/``flat``/``seg`` at ``t``, the dispatch
    index's arrays; ``ended[a]``: its drive to the circuit has ended, and it is located on that
    circuit from the drive's end, as ``best_first_jit.walk`` locates it); ``slot[a]`` its mode, whose
    node driven to for exit ``e`` (place ``todo[e]``) is ``target[slot, todo[e]]`` and walk from there
    ``extra[slot, todo[e]]`` (taken here into ``exit_t``/``exit_x``, a row per slot). ``node``, ``wait``
    and ``ended`` may have more rows than free units (``cordon_prep``'s buffers). Per slot (tuples): the
    landmarks' seconds a node per row, whether they bound (``lm_exact``) and the oracle's hub labels
    (``lab_ptr``, ``lab_sec``, ``lab_hub``: ``SearchColumns.walk_labels``); a mode with a full time
    matrix (``has_tm``) reads its bounds and times from it (``tm``), as the oracle does.

    The heap starts with one entry per unit (``TIER_UNIT``), keyed by a bound on its arrival at every
    exit (``_unit_key``); taking it puts the unit's entry at each open exit on the heap (``TIER_LOCATED``,
    the landmarks' bound there: ``_unit_bounds``). Most units are never taken: of the 45 free units of a
    cordon of the 13,002-node town's motorbikes (14 days, 7.5 exits), 16 on average, so 122 pairs were
    bounded rather than 337. Before, a unit on its circuit had an entry per exit under its circuit's bound
    there, worked out before the walk (``dijkstra_jit.bound_at``), and a unit elsewhere an entry per exit
    under the landmarks' bound: the cordon's compiled call (``cordon_prep_walk``) took 38.6 µs against
    25.0 now (the 370 cordons of such a replication, replayed warm in one process). The answer is the
    same: it depends only on the exact arrivals, which are taken in (arrival, unit, exit) order whatever
    the bounds below them (the module docstring of ``sim.engine.cordon``). The pairs asked may differ
    where a circuit's bound was the tighter (in the 306 cordons of that replication the walk answered at
    once, the same pairs were asked).

    Returns ``(seconds, searched, exact, labels)``: the pair questions asked and those that gave an
    exact time (``PairCounter``), and the pairs the hub labels answered (a mode with a matrix needs none).
    """
    n_avail = uids.size
    n_exits = todo.size
    n_slots = target.shape[0]
    exit_t = np.empty((n_slots, n_exits), np.int64)
    exit_x = np.empty((n_slots, n_exits))
    for m in range(n_slots):
        for e in range(n_exits):
            exit_t[m, e] = target[m, todo[e]]
            exit_x[m, e] = extra[m, todo[e]]
    searched = 0
    exact = 0
    runs = 0
    # a unit's entry is replaced by at most one per exit, a located pair's by its exact one
    cap = n_avail * max(n_exits, 1) + 1
    ks = np.empty(cap, np.float64)
    ts = np.empty(cap, np.int64)
    as_ = np.empty(cap, np.int64)
    es = np.empty(cap, np.int64)
    bound = np.empty((n_avail, n_exits), np.float64)
    for a in range(n_avail):
        if node[a] < 0:                    # on its circuit: where Circuit.where puts it at t
            u = uids[a]
            if ended[a]:                   # (since its drive there ended: Movement.sync's anchor)
                s = ui[u, LEG_SEG]
                at, w = _on_circuit(flat, seg, s, (uf[u, LEG_TAU] + (t - uf[u, LEG_TEND])) % seg[s, 2])
            else:
                s = ui[u, SEG]
                at, w = _on_circuit(flat, seg, s, (uf[u, ANCHOR_TAU] + (t - uf[u, ANCHOR_T])) % seg[s, 2])
            node[a] = np.int64(at)
            wait[a] = w
    ef, et, nk = _exit_rows(lm_from, lm_to, lm_exact, has_tm, exit_t)
    ef_min, et_max, x_min = _exit_floor(ef, et, nk, exit_x)
    for a in range(n_avail):               # one entry per unit, in unit order (a heap already)
        ks[a] = _unit_key(slot[a], node[a], wait[a], ef_min, et_max, x_min, nk, lm_from, lm_to, alt_margin_s,
                          margin_s)
        ts[a], as_[a], es[a] = TIER_UNIT, a, 0
    size = n_avail
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(ks, ts, as_, es, i, size)
    unit_free = np.ones(n_avail, np.bool_)
    exit_free = np.ones(n_exits, np.bool_)
    left = n_exits
    while size > 0:
        key, tier, a, e = ks[0], ts[0], as_[0], es[0]
        size -= 1
        if size > 0:
            _swap(ks, ts, as_, es, 0, size)
            _sift_down(ks, ts, as_, es, 0, size)
        if tier == TIER_UNIT:              # the unit's bound at each exit still open
            if not unit_free[a]:
                continue
            m = slot[a]
            _unit_bounds(bound, a, m, node[a], wait[a], exit_t, exit_x, ef, et, nk, lm_from, lm_to, lm_exact,
                         tm, has_tm, alt_margin_s, margin_s)
            for j in range(n_exits):
                if exit_free[j]:
                    b = bound[a, j]
                    size = _push(ks, ts, as_, es, size, key if key >= b else b, TIER_LOCATED, a, j)
            continue
        if not (unit_free[a] and exit_free[e]):
            continue
        if tier == TIER_EXACT:
            if key == np.inf:              # no free unit can reach the exits still open
                return np.inf, searched, exact, runs
            unit_free[a] = False
            exit_free[e] = False
            left -= 1
            if left == 0:
                return key, searched, exact, runs
            continue
        # a located unit's bound came first: its exact arrival
        m = slot[a]
        searched += 1
        travel_s, asked = pair_seconds(m, node[a], exit_t[m, e], tm, has_tm, lab_ptr, lab_sec, lab_hub)
        runs += asked
        exact += 1
        size = _push(ks, ts, as_, es, size, (travel_s + wait[a]) + exit_x[m, e], TIER_EXACT, a, e)
    return np.inf, searched, exact, runs


@njit(cache=True, nogil=True)
def cordon_prep_walk(avail, todo, t, code, ui, uf, node, wait, ended, rest, slot, target, extra, flat, seg,
                     lm_from, lm_to, lm_exact, lab_ptr, lab_sec, lab_hub, tm, has_tm, alt_margin_s, margin_s):
    """``cordon_prep``, then, when it leaves no unit for the caller to locate, ``cordon_walk`` in the same call.

    Returns ``(units left to locate, seconds, searched, exact, labels)``: with units left (a drive under
    way) only the first is meaningful, and the caller locates them and calls ``cordon_walk``. On the
    13,002-node town 74% (mixed force) to 83% (motorbikes) of the cordons of 14 days leave none: one
    call, with its arguments' unboxing and the Python between, instead of two.
    """
    n_rest = cordon_prep(avail, t, code, ui, uf, node, wait, ended, rest)
    if n_rest > 0:
        return n_rest, np.nan, 0, 0, 0
    sec, searched, exact, runs = cordon_walk(avail, node, wait, ended, slot, target, extra, todo, t, ui, uf, flat,
                                             seg, lm_from, lm_to, lm_exact, lab_ptr, lab_sec, lab_hub, tm, has_tm,
                                             alt_margin_s, margin_s)
    return 0, sec, searched, exact, runs


def warm(slots: int = 4) -> None:
    """Load (or compile) the walk now, for the argument types ``cordon.CompiledCordon`` passes."""
    z = np.zeros(0, np.int64)
    ui, uf = np.zeros((1, 6), np.int64), np.zeros((1, 9))
    cordon_prep(z, 0.0, np.zeros(0, np.int8), ui, uf, *prep_buffers(1))
    lm = tuple(np.zeros((2, 1)) for _ in range(slots))
    pairs, tm = warm_graph_arrays(slots)
    exact = np.zeros(slots, np.bool_)
    exits = (np.zeros((slots, 1), np.int64), np.zeros((slots, 1)))
    cordon_prep_walk(z, z, 0.0, np.zeros(0, np.int8), ui, uf, *prep_buffers(1), z, *exits, np.zeros((3, 2)),
                     np.zeros((1, 3)), lm, lm, exact, *pairs, tm, exact, 0.0, 0.0)
    cordon_walk(z, z, np.zeros(0), np.zeros(0, np.bool_), z, *exits, np.zeros(1, np.int64), 0.0, ui, uf,
                np.zeros((3, 2)), np.zeros((1, 3)), lm, lm, exact, *pairs, tm, exact, 0.0, 0.0)
