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

from sim.engine.kernels import _on_circuit

#: columns of ``units`` (floats, one row per unit switching circuits)
U_LEG, U_SEG, U_T1, U_TAU, U_T0, U_METRES, U_DST, U_PATROL, U_DIST, U_PLAN, U_UID = range(11)
U_COLUMNS = 11
#: columns of ``plan_i`` (per plan: the circuit of one (unit, level, period)) and ``plan_f``
P_SEG, P_SLOT = range(2)
P_SCALE = 0
#: columns of ``out_i`` and ``out_f``
O_NODE, O_DST = range(2)
O_WAIT, O_TEND, O_ANCHOR_TAU, O_TAU, O_PATROL, O_DIST, O_METRES = range(7)
O_I_COLUMNS, O_F_COLUMNS = 2, 7


@njit(cache=True, nogil=True, inline="always")
def _first_tau(flat, seg, s, node):
    """``Circuit.tau_at``: lap seconds at the first visit of ``node`` in segment ``s`` (-1 if absent)."""
    for k in range(np.int64(seg[s, 0]), np.int64(seg[s, 1])):
        if flat[1, k] == node:
            return flat[0, k]
    return -1.0


@njit(cache=True, nogil=True)
def switch_circuits(t, lo, hi, units, speed, flat, seg, join, plan_i, plan_f, times0, times1, times2,
                    times3, metres0, metres1, metres2, metres3, with_metres, out_i, out_f):
    """Every unit of ``units`` leaves its circuit at ``t`` for its plan's circuit; results in ``out_*``.

    ``units`` row: whether it was on a drive that has ended (``U_LEG`` 1) or on its circuit;
    the old circuit's segment; the anchor (``U_T1`` time, ``U_TAU`` lap time; for an ended
    drive ``U_T1`` is its end, ``U_T0`` its start, ``U_METRES`` its length, ``U_DST`` the
    circuit node it reached); the unit's patrol seconds and metres so far; its plan. ``lo``
    and ``hi`` are the measured window (warm-up, horizon); ``speed[s]`` the patrol metres
    per second of segment ``s`` (``Circuit.length_m / duration_s``). ``join[p, node]`` is the
    node of plan ``p``'s circuit nearest to ``node`` (``NearestOnCircuit``), ``plan_i[p]``
    that circuit's segment and travel-mode slot (``times<slot>`` its full time matrix,
    ``[source, target]``), ``plan_f[p, P_SCALE]`` the mode's patrol scale; with
    ``with_metres``, ``metres<slot>`` its all-pairs metres (``join_tables.metres_table``).

    Writes per unit: node it heads to and the join node (``out_i``); response seconds to
    that node, the drive's end, the anchor lap time on the old circuit after an ended
    drive, the lap time of the join node on the new circuit, the new patrol seconds and
    metres, and (``with_metres``) the drive's metres (``out_f``).
    """
    for i in range(units.shape[0]):
        s = np.int64(units[i, U_SEG])
        patrol = units[i, U_PATROL]
        dist = units[i, U_DIST]
        anchor_t = units[i, U_T1]
        if units[i, U_LEG] == 1.0:                   # Movement.sync: the drive to the old circuit ended
            t0 = units[i, U_T0]
            a = t0 if t0 > lo else lo
            b = anchor_t if anchor_t < hi else hi
            inside = b - a if b > a else 0.0
            if inside > 0:                          # Movement.account_drive
                dist += units[i, U_METRES] * inside / (anchor_t - t0)
                patrol += inside
            anchor_tau = _first_tau(flat, seg, s, units[i, U_DST])
        else:
            anchor_tau = units[i, U_TAU]
        out_f[i, O_ANCHOR_TAU] = anchor_tau
        # Movement.stop: where it is on the old circuit; leave_patrol: the patrol booked up to t
        at, wait = _on_circuit(flat, seg, s, (anchor_tau + (t - anchor_t)) % seg[s, 2])
        a = anchor_t if anchor_t > lo else lo
        b = t if t < hi else hi
        inside = b - a if b > a else 0.0
        patrol += inside
        dist += inside * speed[s]
        out_f[i, O_PATROL] = patrol
        out_f[i, O_DIST] = dist
        # Movement.join_circuit: the drive to the new circuit's nearest node, at patrol speed
        p = np.int64(units[i, U_PLAN])
        node = np.int64(at)
        dst = np.int64(join[p, node])
        slot = plan_i[p, P_SLOT]
        times = times0 if slot == 0 else (times1 if slot == 1 else (times2 if slot == 2 else times3))
        out_i[i, O_NODE] = node
        out_i[i, O_DST] = dst
        out_f[i, O_WAIT] = wait
        out_f[i, O_TEND] = t + (wait + times[node, dst]) * plan_f[p, P_SCALE]
        if with_metres:
            metres = metres0 if slot == 0 else (metres1 if slot == 1 else (metres2 if slot == 2 else metres3))
            out_f[i, O_METRES] = metres[node, dst]
        out_f[i, O_TAU] = _first_tau(flat, seg, plan_i[p, P_SEG], np.float64(dst))
