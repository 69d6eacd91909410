"""Compiled loops (numba) for the per-dispatch work that runs over every unit.

Locating the units on their patrol circuits and looking up their arrival times is the
one loop the engine runs over all units at every dispatch. In Python it cost a few
microseconds per unit, so the dispatch search pruned units with lower bounds; compiled,
it costs a few nanoseconds per unit and every circuit unit is located exactly, so the
cost of a dispatch hardly grows with the size of the force.

The arithmetic is the same, operation for operation, as ``sim.patrol.Circuit.where``
and ``sim.engine.search.UnitSearch.eta_s`` (IEEE doubles, no fast-math, the same order
of additions and Python's floor modulo), so the results are bit for bit the same.
Calling a compiled function costs about half a microsecond per argument, so the state
comes packed in a few arrays (column names below) and the time matrices as four slots.
The cordon measure's loops over the same arrays are ``sim.engine.cordon_kernels``'.
"""

from __future__ import annotations

import signal
import threading

import numpy as np
from numba import njit

from sim.jit_entry import direct  # noqa: F401  (the engine's callers use kernels.direct)

#: columns of the per-unit integer array ``ui`` (``OWN_ROW``, ``OWN_BEAT``: the unit's beat, ``sim.engine.owners``;
#: ``LEG_DST``: the node a drive ends at)
FIXED_NODE, SEG, MODE, RULED, NO_BACKUP, LEG_SEG, OWN_ROW, OWN_BEAT, LEG_DST = range(9)
#: columns of the per-unit float array ``uf`` (``LEG_ARRIVE``: when a drive reaches ``LEG_DST``, to a circuit
#: or the station; ``LEG_TEND`` is inf for a drive to the station; ``LEG_METRES``: the drive's metres, ``Leg.metres``)
FIXED_WAIT, ANCHOR_T, ANCHOR_TAU, LEG_SRC, LEG_T0, LEG_WAIT, LEG_SCALE, LEG_TEND, LEG_TAU, LEG_ARRIVE, LEG_METRES = range(11)
UI_COLUMNS, UF_COLUMNS = 9, 11
#: travel modes the compiled search takes (one time matrix per slot)
MODE_SLOTS = 4
#: a circuit's lower bound, summed in another order, may exceed an exact arrival by rounding
BOUND_MARGIN_S = 1e-6
#: ``out[1, u]`` of a unit on its circuit that ``nearest_unit`` skipped (-1: a drive it did not locate)
SKIPPED = -2.0


@njit(cache=True, nogil=True, inline="always")
def _on_circuit(flat, seg, s, tau):
    """(next node as stored in ``flat``, response seconds to it) at circuit time ``tau`` of segment ``s``.

    ``Circuit.where``'s operations in its order (bisect_right, the last leg clamped, the
    linear part of the leg's response seconds), written once for ``nearest_unit`` and
    ``locate_on_circuit`` so that both locate a unit to the same bits.
    """
    lo = np.int64(seg[s, 0])
    hi = np.int64(seg[s, 1])
    a, b = lo, hi                      # bisect_right(t_s, tau), as Circuit.where
    while a < b:
        mid = (a + b) // 2
        if tau < flat[0, mid]:
            b = mid
        else:
            a = mid + 1
    k = a - 1
    if k > hi - 2:
        k = hi - 2
    t0 = flat[0, k]
    t1 = flat[0, k + 1]
    f = (tau - t0) / (t1 - t0) if t1 > t0 else 1.0
    return flat[1, k + 1], (1.0 - f) * (flat[2, k + 1] - flat[2, k])


@njit(cache=True, nogil=True)
def nearest_unit(place, t, is_backup, code, ui, uf, flat, seg, te, out, bounds, times0, times1, times2, times3):
    """Locate every free unit and return the one with the smallest (arrival, unit id) at ``place``.

    ``code`` per unit: 0 busy, 1 on its circuit, 2 free elsewhere: then at
    ``ui[u, FIXED_NODE]`` (its station after ``uf[u, FIXED_WAIT]`` seconds of turnout, or a
    scene just cleared) or, when that is -1, on a drive (``uf[u, LEG_*]``: source node, start
    time, response seconds to the source, patrol seconds per response second). A unit on a
    drive is not located here: its arrival gets a lower bound (the drive's source is at most
    the response seconds driven since the start farther from the place, by the triangle
    inequality) and the caller locates it if that bound could beat the best. A drive to a
    circuit that ended by ``t`` (``t >= uf[u, LEG_TEND]``; inf for a drive to the station)
    is not a drive any more: the unit is on the circuit of segment ``ui[u, LEG_SEG]`` since
    ``LEG_TEND``, at lap time ``uf[u, LEG_TAU]`` then, and is located there exactly as a
    unit on its circuit (what ``Movement.sync`` then ``Circuit.where`` compute, the same
    operations), whether or not the engine has booked the end of its drive yet.

    Unit ``u`` on its circuit drives segment ``s = ui[u, SEG]`` of ``flat`` (rows: cumulative
    patrol seconds, nodes, cumulative response seconds; columns ``seg[s, 0]`` to ``seg[s, 1]``
    exclusive; one lap lasts ``seg[s, 2]``); at ``uf[u, ANCHOR_T]`` it was at lap time
    ``uf[u, ANCHOR_TAU]``. ``times<m>`` is the full time matrix of mode ``ui[u, MODE]`` by target,
    ``times<m>[target, source]`` (one row per call: the units' look-ups stay in a few kilobytes),
    ``te[0, m, place]`` the node a unit of that mode drives to and ``te[1, m, place]`` the
    seconds from there on foot.

    A unit on its circuit (or whose drive to it has ended) whose circuit's lower bound at the
    place (``bounds[place, ui[u, SEG] + 1]``: per place, the bounds by circuit segment after a
    column of zeros, ``DispatchIndex.bounds_by_place``; the dispatch index writes ``SEG`` when the
    unit starts its drive to that circuit) is
    above the best eligible arrival found so far by more than ``BOUND_MARGIN_S`` cannot be the
    nearest: it is not located (its arrival is then that bound and its node ``SKIPPED``;
    ``locate_on_circuit`` locates it if someone asks). So that the bounds prune from the first
    unit on, the unit on its circuit (needing no check) with the least bound is located first
    and is the best so far; ties keep (arrival, unit id) order.

    Writes ``out`` rows: arrival, node it heads to (-1 for units not located), wait. Returns
    ``(uid, arrival, checked_first, drive_lb, drives, node, wait, first_checked)``: the best
    located unit whose eligibility needs no check (``RULED`` units or, for a backup, ``NO_BACKUP`` units do; -1 if
    none), its arrival, whether a located unit that needs the check comes before it (then the caller
    walks the units in order), and the least lower bound of the units on a drive it did not
    locate and their number (the caller locates none of them when there are none, or when
    none could win), and where the best unit is (``out[1, uid]`` as an int and ``out[2, uid]``:
    sending it reads them from here, not from the arrays; -1 and 0 if there is none), and the
    first located unit that needs the check in (arrival, unit id) order (-1 if none).
    """
    best = -1
    best_node = -1
    best_wait = 0.0
    best_eta = np.inf
    drive_lb = np.inf
    drives = 0
    first_checked = -1
    first_checked_eta = np.inf
    # a first best before the walk in unit order, so that the bounds prune from the start: the unit on
    # its circuit that needs no check with the least bound at the place (ties: in (arrival, unit id)
    # order below, as if found in the walk)
    seed = -1
    seed_bound = np.inf
    for u in range(code.shape[0]):
        if code[u] == 1 and not (ui[u, RULED] or (is_backup and ui[u, NO_BACKUP])):
            b = bounds[place, ui[u, SEG] + 1]
            if b < seed_bound:
                seed, seed_bound = u, b
    if seed >= 0:
        m = ui[seed, MODE]
        times = times0 if m == 0 else (times1 if m == 1 else (times2 if m == 2 else times3))
        s = ui[seed, SEG]
        at, wait = _on_circuit(flat, seg, s, (uf[seed, ANCHOR_TAU] + (t - uf[seed, ANCHOR_T])) % seg[s, 2])
        node = np.int64(at)
        e = wait + times[np.int64(te[0, m, place]), node] + te[1, m, place]
        if e < np.inf:
            best, best_eta, best_node, best_wait = seed, e, node, wait
    for u in range(code.shape[0]):
        c = code[u]
        if c == 0:
            out[0, u] = np.inf
            out[1, u] = -1.0
            continue
        fixed = ui[u, FIXED_NODE]
        on_circuit = c == 1
        if c == 2 and fixed < 0 and t >= uf[u, LEG_TEND]:    # a drive to its circuit that has ended
            on_circuit = True
        if on_circuit:
            bound = bounds[place, ui[u, SEG] + 1]
            if best >= 0 and bound - BOUND_MARGIN_S > best_eta:    # cannot win: not located
                out[0, u] = bound
                out[1, u] = SKIPPED
                continue
        # the unit's mode and the place's target only for a unit its bound did not skip: at 1,920
        # officers most units are skipped (4.8-4.9 against 4.4-4.6 µs a call, bench/search_call.py)
        m = ui[u, MODE]
        times = times0 if m == 0 else (times1 if m == 1 else (times2 if m == 2 else times3))
        target = np.int64(te[0, m, place])
        extra = te[1, m, place]
        if on_circuit:
            if c == 1:
                s = ui[u, SEG]
                tau = (uf[u, ANCHOR_TAU] + (t - uf[u, ANCHOR_T])) % seg[s, 2]
            else:
                s = ui[u, LEG_SEG]
                tau = (uf[u, LEG_TAU] + (t - uf[u, LEG_TEND])) % seg[s, 2]
            at, wait = _on_circuit(flat, seg, s, tau)
            node = np.int64(at)
            e = wait + times[target, node] + extra
            out[0, u] = e
            out[1, u] = node
            out[2, u] = wait
            if e == np.inf:                    # no road from its circuit: never a candidate
                continue
        elif fixed >= 0:
            node = fixed
            wait = uf[u, FIXED_WAIT]
            e = wait + times[target, node] + extra
            out[0, u] = e
            out[1, u] = node
            out[2, u] = wait
        else:                                  # on a drive: a lower bound, located by the caller if needed
            src = np.int64(uf[u, LEG_SRC])
            lb = (uf[u, LEG_WAIT] + times[target, src]
                  - (t - uf[u, LEG_T0]) / uf[u, LEG_SCALE] + extra)
            out[0, u] = lb
            out[1, u] = -1.0
            drives += 1
            if lb < drive_lb:
                drive_lb = lb
            continue
        if ui[u, RULED] or (is_backup and ui[u, NO_BACKUP]):
            if first_checked < 0 or e < first_checked_eta:
                first_checked, first_checked_eta = u, e
        elif best < 0 or e < best_eta or (e == best_eta and u < best):
            best, best_eta = u, e
            best_node, best_wait = node, wait
    checked_first = first_checked >= 0 and (best < 0 or first_checked_eta < best_eta
                                            or (first_checked_eta == best_eta and first_checked < best))
    return best, best_eta, checked_first, drive_lb, drives, best_node, best_wait, first_checked


@njit(cache=True, nogil=True)
def locate_on_circuit(uids, t, code, ui, uf, flat, seg, out):
    """Locate the units ``uids`` that ``nearest_unit`` skipped on their circuit (node ``SKIPPED``).

    The same operations as ``nearest_unit`` for a unit on its circuit (or whose drive to it
    has ended); writes ``out`` rows 1 and 2 (node it heads to, wait). Other units, and units
    no longer free, are left as they are.
    """
    for u in uids:
        if out[1, u] == SKIPPED:
            _locate_skipped(u, t, code, ui, uf, flat, seg, out)


@njit(cache=True, nogil=True, inline="always")
def _locate_skipped(u, t, code, ui, uf, flat, seg, out):
    """``locate_on_circuit`` of one unit that ``nearest_unit`` skipped (``out[1, u]`` is ``SKIPPED``)."""
    c = code[u]
    if c == 1:
        s = ui[u, SEG]
        tau = (uf[u, ANCHOR_TAU] + (t - uf[u, ANCHOR_T])) % seg[s, 2]
    elif c == 2 and ui[u, FIXED_NODE] < 0 and t >= uf[u, LEG_TEND]:
        s = ui[u, LEG_SEG]
        tau = (uf[u, LEG_TAU] + (t - uf[u, LEG_TEND])) % seg[s, 2]
    else:
        return
    at, wait = _on_circuit(flat, seg, s, tau)
    out[2, u] = wait
    out[1, u] = at


def compile_once() -> None:
    """Compile ``nearest_unit`` (or load it from numba's cache) now, with Ctrl-C held back.

    A KeyboardInterrupt raised while numba compiles can be swallowed inside the compiler
    (the run then goes on as if nothing happened), so SIGINT and SIGTERM are blocked for
    the few seconds it takes; a signal that arrives meanwhile is delivered right after.
    Called before the first dispatch of a run; a no-op once the function is compiled.
    The network's loops a replication calls on first use are loaded with it
    (``_load_replication_loops``; ``sim.engine.warm.load_loops`` adds the cordon's and the
    shift change's), so that none is compiled or loaded inside a replication.
    """
    if nearest_unit.signatures and locate_on_circuit.signatures and _loops_loaded:
        return
    n = 1
    args = (0, 0.0, False, np.zeros(n, np.int8), np.zeros((n, UI_COLUMNS), np.int64), np.zeros((n, UF_COLUMNS)),
            np.zeros((3, 2)), np.zeros((1, 3)), np.zeros((2, 1, 1)), np.zeros((3, n)), np.zeros((n, 1))) \
        + (np.zeros((1, 1)),) * 4
    _held(lambda: (nearest_unit(*args), locate_on_circuit(np.zeros(1, np.int64), *args[1:2], *args[3:8], args[9]),
                   _load_replication_loops()))


_loops_loaded = False


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _load_replication_loops() -> None:
    """Call, on tiny arrays of the types a replication passes, the network's loops it calls on first use.

    A numba function is compiled (or loaded from the cache, 5-20 ms each) for each new
    combination of argument types, at its first call: without this, on the first
    replication in a process (the speed benchmark's timed one) the metres rows, the
    circuits' tours and the rejoin tables each did that inside the replication.
    Predecessor tables come writable (built in memory) or read only (mapped from the
    cache of travel tables), so both are loaded. The shift change's loop (a module above
    this one) is loaded by ``sim.engine.warm.load_loops``, which runs these too;
    ``tests/test_no_compile_in_replication.py`` checks that a replication adds no signature.
    """
    global _loops_loaded
    from sim.network import metres_jit, nearest_jit, paths_jit

    z_i, z_f = np.zeros(1, np.int64), np.zeros(1)
    in_ptr = np.zeros(3, np.int64)
    for writable in (True, False):
        pred_row = np.array([-9999, -9999], np.int32)
        pred = np.full((1, 1), -9999, np.int32)
        if not writable:
            pred_row, pred = _read_only(pred_row), _read_only(pred)
        metres_jit.metres_row_in_edges(pred_row, 0, in_ptr, z_i, z_f)
        metres_jit.metres_table(pred, in_ptr, z_i, z_f)
        paths_jit.tour_from_pred(pred, np.zeros(1, np.int64), True, in_ptr, z_i, z_f, z_f)
    nearest_jit.nearest_of_set(z_f, z_f, z_i)
    _loops_loaded = True


def _held(call) -> None:
    """Run ``call`` with SIGINT and SIGTERM blocked (in the main thread; delivered right after)."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None or threading.current_thread() is not threading.main_thread():
        call()
        return
    previous = block(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        call()
    finally:
        block(signal.SIG_SETMASK, previous)
