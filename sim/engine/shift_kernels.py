"""The compiled loop of the batched shift change: every common unit's switch of circuits in one call.

At a shift change most of a large force leaves its circuit for the next period's
(``sim.engine.rejoin``). Per unit that is: book the drive to the old circuit if it has
ended (``Movement.sync``), locate the unit on the old circuit and book its patrol up to
now (``Movement.stop``, ``leave_patrol``), pick the new circuit's node nearest to it and
time the drive there on the full matrix (``Movement.join_circuit``), and find the lap
time of that node on the new circuit (``Circuit.tau_at``). In Python this was about ten
calls per unit; here it is one loop over the units, with the same IEEE operations in the
same order (no fast-math; numba's float ``%`` is Python's floor modulo), so every
account and position is bit for bit what the plain path computes
(``tests/test_rejoin.py``).

Column names of the arrays passed in and out are below; ``sim.engine.rejoin`` builds
them. The circuits come as ``sim.engine.positions.FlatCircuits`` segments.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.kernels import (ANCHOR_T, ANCHOR_TAU, FIXED_NODE, LEG_ARRIVE, LEG_DST, LEG_METRES, LEG_SCALE,
                                LEG_SEG, LEG_SRC, LEG_T0, LEG_TAU, LEG_TEND, LEG_WAIT, SEG, _on_circuit)
from sim.network.hub_labels import seconds_metres

#: columns of ``units`` (floats, one row per unit switching circuits)
U_LEG, U_SEG, U_T1, U_TAU, U_T0, U_METRES, U_DST, U_PLAN, U_UID = range(9)
U_COLUMNS = 9
#: columns of ``plan_i`` (per plan: the circuit of one (unit, level, period)) and ``plan_f``; ``P_LABELS`` 1:
#: the plan's mode has hub labels, no full matrix (``P_SLOT`` its slot among the labels' arrays)
P_SEG, P_SLOT, P_LABELS = range(3)
P_SCALE = 0
#: columns of ``out_i`` and ``out_f``
O_NODE, O_DST = range(2)
O_WAIT, O_TEND, O_ANCHOR_TAU, O_TAU, O_DRIVE_S, O_DRIVE_M, O_PATROL_S, O_PATROL_M, O_METRES = range(9)
O_I_COLUMNS, O_F_COLUMNS = 2, 9


@njit(cache=True, nogil=True, inline="always")
def _first_tau(flat, seg, s, node):
    """``Circuit.tau_at``: lap seconds at the first visit of ``node`` in segment ``s`` (-1 if absent)."""
    for k in range(np.int64(seg[s, 0]), np.int64(seg[s, 1])):
        if flat[1, k] == node:
            return flat[0, k]
    return -1.0


@njit(cache=True, nogil=True, inline="always")
def _join_by_labels(flat, seg, s, node, x, y, ptr, hub, sec, met):
    """``join_drive.join_by_labels`` on segment ``s`` (its nodes but the last, the first again: the
    circuit's ``nodes[:-1]``): (join node, its lap time, seconds, metres) of the drive from ``node``."""
    lo = np.int64(seg[s, 0])
    hi = np.int64(seg[s, 1]) - 1
    xi = x[node]
    yi = y[node]
    best = np.inf
    j = lo
    for k in range(lo, hi):                  # nearest_jit.nearest_index's loop, on the segment's nodes
        v = np.int64(flat[1, k])
        dx = xi - x[v]
        dy = yi - y[v]
        d2 = dx * dx + dy * dy
        if d2 < best:
            best = d2
            j = k
    dst = np.int64(flat[1, j])
    seconds, metres = seconds_metres(ptr, hub, sec, met, node, dst)
    if dst == node:
        seconds = 0.0
    return dst, flat[0, j], seconds, metres


@njit(cache=True, nogil=True)
def switch_circuits(t, lo, hi, units, speed, flat, seg, join, plan_i, plan_f, times0, times1, times2,
                    times3, metres0, metres1, metres2, metres3, with_metres, lab_x, lab_y, lab_ptr, lab_hub, lab_sec,
                    lab_met, asked, out_i, out_f):
    """Every unit of ``units`` leaves its circuit at ``t`` for its plan's circuit; results in ``out_*``.

    ``units`` row: whether it was on a drive that has ended (``U_LEG`` 1) or on its circuit;
    the old circuit's segment; the anchor (``U_T1`` time, ``U_TAU`` lap time; for an ended
    drive ``U_T1`` is its end, ``U_T0`` its start, ``U_METRES`` its length, ``U_DST`` the
    circuit node it reached); its plan. ``lo``
    and ``hi`` are the measured window (warm-up, horizon); ``speed[s]`` the patrol metres
    per second of segment ``s`` (``Circuit.length_m / duration_s``). ``join[p, node]`` is the
    node of plan ``p``'s circuit nearest to ``node`` (``NearestOnCircuit``), ``plan_i[p]``
    that circuit's segment and travel-mode slot (``times<slot>`` its full time matrix,
    ``[source, target]``), ``plan_f[p, P_SCALE]`` the mode's patrol scale; with
    ``with_metres``, ``metres<slot>`` its all-pairs metres (``join_tables.metres_table``). A plan of a
    mode with hub labels and no full matrix (``plan_i[p, P_LABELS]`` 1) is joined as ``Rejoin._drive``
    joins it (``_join_by_labels``: ``join_drive.join_by_labels``' operations, on the circuit's segment),
    from the slot's node coordinates and labels (``lab_*[slot]``: tuples of ``MODE_SLOTS`` arrays);
    ``asked[slot]`` counts the pairs the labels answered (not a node to itself, as ``LabelJoin``).

    Writes per unit: node it heads to and the join node (``out_i``); response seconds to
    that node, the drive's end, the anchor lap time on the old circuit after an ended
    drive, the lap time of the join node on the new circuit, what the unit's patrol seconds and
    metres gain (the ended drive's, ``O_DRIVE_*``, 0 if none, then the patrol's, ``O_PATROL_*``:
    the write-back adds them in that order, the plain path's additions), and (``with_metres``)
    the drive's metres (``out_f``).
    """
    for i in range(units.shape[0]):
        s = np.int64(units[i, U_SEG])
        drive_s = 0.0
        drive_m = 0.0
        anchor_t = units[i, U_T1]
        if units[i, U_LEG] == 1.0:                   # Movement.sync: the drive to the old circuit ended
            t0 = units[i, U_T0]
            a = t0 if t0 > lo else lo
            b = anchor_t if anchor_t < hi else hi
            inside = b - a if b > a else 0.0
            if inside > 0:                          # Movement.account_drive
                drive_m = units[i, U_METRES] * inside / (anchor_t - t0)
                drive_s = inside
            anchor_tau = _first_tau(flat, seg, s, units[i, U_DST])
        else:
            anchor_tau = units[i, U_TAU]
        out_f[i, O_ANCHOR_TAU] = anchor_tau
        # Movement.stop: where it is on the old circuit; leave_patrol: the patrol booked up to t
        at, wait = _on_circuit(flat, seg, s, (anchor_tau + (t - anchor_t)) % seg[s, 2])
        a = anchor_t if anchor_t > lo else lo
        b = t if t < hi else hi
        inside = b - a if b > a else 0.0
        out_f[i, O_DRIVE_S] = drive_s
        out_f[i, O_DRIVE_M] = drive_m
        out_f[i, O_PATROL_S] = inside
        out_f[i, O_PATROL_M] = inside * speed[s]
        # Movement.join_circuit: the drive to the new circuit's nearest node, at patrol speed
        p = np.int64(units[i, U_PLAN])
        node = np.int64(at)
        slot = plan_i[p, P_SLOT]
        out_i[i, O_NODE] = node
        out_f[i, O_WAIT] = wait
        if plan_i[p, P_LABELS] == 1:             # Rejoin._drive's join by the labels
            dst, tau, travel_s, m = _join_by_labels(flat, seg, plan_i[p, P_SEG], node, lab_x[slot], lab_y[slot],
                                                    lab_ptr[slot], lab_hub[slot], lab_sec[slot], lab_met[slot])
            if dst != node:
                asked[slot] += 1
            out_i[i, O_DST] = dst
            out_f[i, O_TEND] = t + (wait + travel_s) * plan_f[p, P_SCALE]
            out_f[i, O_METRES] = m
            out_f[i, O_TAU] = tau
            continue
        dst = np.int64(join[p, node])
        times = times0 if slot == 0 else (times1 if slot == 1 else (times2 if slot == 2 else times3))
        out_i[i, O_DST] = dst
        out_f[i, O_TEND] = t + (wait + times[node, dst]) * plan_f[p, P_SCALE]
        if with_metres:
            metres = metres0 if slot == 0 else (metres1 if slot == 1 else (metres2 if slot == 2 else metres3))
            out_f[i, O_METRES] = metres[node, dst]
        out_f[i, O_TAU] = _first_tau(flat, seg, plan_i[p, P_SEG], np.float64(dst))


#: ``common_units``' plan row of a unit whose plan is not made yet (``sim.engine.rejoin.UNKNOWN``)
PLAN_UNKNOWN = -2


@njit(cache=True, nogil=True)
def common_units(t, code, ui, uf, wanted, plan_rows, speed, rows, others, gaps):
    """The units of a shift change at ``t`` that switch in the batch, found in the dispatch index's arrays.

    A unit on its circuit (``code`` 1) or whose drive to it has ended (``code`` 2, no fixed node,
    ``LEG_TEND`` at most ``t``; a drive home has inf there), that duty wants on patrol and is not
    the reserve (``wanted``), whose plan switches in the batch (``plan_rows[u]`` a row of the join
    tables, at least 0). Writes its batch row (``U_`` columns, from the index's columns: the
    segment, the anchor or the drive's end, start, metres and end node) to ``rows``. Every other
    unit goes to ``others``, in unit order, with in ``gaps`` the patrol records the batch's units
    before it (and after the one before it) close: a unit closes one if it has been on its circuit
    since before ``t``. Returns (rows written, others, the records closed after the last other), or
    rows -1 when the shift change's loop must look at every unit: a unit's plan not made yet
    (``PLAN_UNKNOWN``), or a circuit a unit leaves whose patrol speed is not known yet (nan in ``speed``).
    """
    k = 0
    n_others = 0
    gap = 0
    for u in range(code.shape[0]):
        c = code[u]
        common = False
        leg = False
        r = -1
        s = -1
        if c == 1 or (c == 2 and ui[u, FIXED_NODE] < 0 and uf[u, LEG_TEND] <= t):
            leg = c == 2
            if wanted[u]:
                r = plan_rows[u]
                if r == PLAN_UNKNOWN:
                    return -1, 0, 0
                if r >= 0:
                    s = ui[u, SEG]
                    if s >= speed.shape[0] or speed[s] != speed[s]:
                        return -1, 0, 0
                    common = True
        if not common:
            others[n_others] = u
            gaps[n_others] = gap
            n_others += 1
            gap = 0
            continue
        if leg:
            t1 = uf[u, LEG_TEND]
            rows[k, U_LEG] = 1.0
            rows[k, U_TAU] = 0.0
            rows[k, U_T0] = uf[u, LEG_T0]
            rows[k, U_METRES] = uf[u, LEG_METRES]
            rows[k, U_DST] = ui[u, LEG_DST]
        else:
            t1 = uf[u, ANCHOR_T]
            rows[k, U_LEG] = 0.0
            rows[k, U_TAU] = uf[u, ANCHOR_TAU]
            rows[k, U_T0] = 0.0
            rows[k, U_METRES] = 0.0
            rows[k, U_DST] = -1.0
        rows[k, U_SEG] = s
        rows[k, U_T1] = t1
        rows[k, U_PLAN] = r
        rows[k, U_UID] = u
        if t > t1:
            gap += 1
        k += 1
    return k, n_others, gap


@njit(cache=True, nogil=True)
def legs_started(rows, code, bias, ui, uf):
    """``DispatchIndex.legs_started``: each row's unit on a drive to a circuit, written into the index's arrays.

    ``rows``: per unit (uid, source node, start, wait_s, patrol scale, end, lap time at the node
    driven to, the circuit's segment, that node, the drive's metres). One loop instead of a dozen
    numpy assignments of a few hundred units each (a shift change's batch).
    """
    for i in range(rows.shape[0]):
        u = np.int64(rows[i, 0])
        s = np.int64(rows[i, 7])
        code[u] = 2
        bias[u] = -np.inf
        ui[u, FIXED_NODE] = -1
        ui[u, SEG] = s
        ui[u, LEG_SEG] = s
        ui[u, LEG_DST] = np.int64(rows[i, 8])
        uf[u, LEG_SRC] = rows[i, 1]
        uf[u, LEG_T0] = rows[i, 2]
        uf[u, LEG_WAIT] = rows[i, 3]
        uf[u, LEG_SCALE] = rows[i, 4]
        uf[u, LEG_TEND] = rows[i, 5]
        uf[u, LEG_TAU] = rows[i, 6]
        uf[u, LEG_ARRIVE] = rows[i, 5]
        uf[u, LEG_METRES] = rows[i, 9]
