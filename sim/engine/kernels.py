"""Compiled loops (numba) for the per-dispatch work that runs over every unit.

Locating the units on their patrol circuits and looking up their arrival times is the
one loop the engine runs over all units at every dispatch. In Python it cost a few
microseconds per unit, so the dispatch search pruned units with lower bounds; compiled,
it costs a few nanoseconds per unit and every circuit unit is located exactly, so the
cost of a dispatch hardly grows with the size of the force.

The arithmetic is the same, operation for operation, as ``sim.patrol.Circuit.where``
and ``sim.engine.search.UnitSearch.eta_s`` (IEEE doubles, no fast-math, the same order
of additions and Python's floor modulo), so the results are bit for bit the same.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def nearest_unit(place, t, is_backup, code, fixed_node, fixed_wait, anchor_t, anchor_tau, seg, mode_id, ruled,
                 no_backup, leg, seg_start, seg_end, period, flat_t, flat_node, flat_resp, times, target, extra,
                 eta, node_out, wait_out):
    """Locate every free unit and return the one with the smallest (arrival, unit id) at ``place``.

    ``code`` per unit: 0 busy, 1 on its circuit, 2 free elsewhere: then at ``fixed_node``
    (its station after ``fixed_wait`` seconds of turnout, or a scene just cleared) or, when
    that is -1, on a drive (``leg[u]`` = source node, start time, response seconds to the
    source, patrol seconds per response second). A unit on a drive is not located here:
    its ``eta`` gets a lower bound (the drive's source is at most the response seconds
    driven since the start farther from the place, by the triangle inequality) and the
    caller locates it if that bound could beat the best.
    Unit ``u`` on its circuit drives segment ``seg[u]`` of the flat arrays (``flat_t``
    cumulative patrol seconds, ``flat_node``, ``flat_resp`` cumulative response seconds,
    from ``seg_start`` to ``seg_end`` exclusive; one lap lasts ``period``); at
    ``anchor_t[u]`` it was at lap time ``anchor_tau[u]``. ``times[m]`` is the full time
    matrix of mode ``m``, ``target[m, place]`` the node a unit of that mode drives to and
    ``extra[m, place]`` the seconds from there on foot.

    Writes ``eta``, ``node_out`` (-1 for units not located) and ``wait_out``. Returns
    ``(uid, eta, checked_first)``: the best located unit whose eligibility needs no check
    (``ruled`` or, for a backup, ``no_backup`` units do; -1 if none), its arrival, and
    whether a located unit that needs the check comes before it (then the caller walks
    the units in order).
    """
    best = -1
    best_eta = np.inf
    first_checked = -1
    first_checked_eta = np.inf
    for u in range(code.shape[0]):
        c = code[u]
        if c == 0:
            eta[u] = np.inf
            node_out[u] = -1
            continue
        m = mode_id[u]
        if c == 1:
            s = seg[u]
            lo = seg_start[s]
            hi = seg_end[s]
            tau = (anchor_tau[u] + (t - anchor_t[u])) % period[s]
            a, b = lo, hi                      # bisect_right(t_s, tau), as Circuit.where
            while a < b:
                mid = (a + b) // 2
                if tau < flat_t[mid]:
                    b = mid
                else:
                    a = mid + 1
            k = a - 1
            if k > hi - 2:
                k = hi - 2
            t0 = flat_t[k]
            t1 = flat_t[k + 1]
            f = (tau - t0) / (t1 - t0) if t1 > t0 else 1.0
            wait = (1.0 - f) * (flat_resp[k + 1] - flat_resp[k])
            node = flat_node[k + 1]
            e = wait + times[m][node, target[m, place]] + extra[m, place]
            node_out[u] = node
            wait_out[u] = wait
            eta[u] = e
            if e == np.inf:                    # no road from its circuit: never a candidate
                continue
        elif fixed_node[u] >= 0:
            node = fixed_node[u]
            wait = fixed_wait[u]
            e = wait + times[m][node, target[m, place]] + extra[m, place]
            node_out[u] = node
            wait_out[u] = wait
            eta[u] = e
        else:                                  # on a drive: a lower bound, located by the caller if needed
            eta[u] = (leg[u, 2] + times[m][np.int64(leg[u, 0]), target[m, place]] - (t - leg[u, 1]) / leg[u, 3]
                      + extra[m, place])
            node_out[u] = -1
            continue
        if ruled[u] or (is_backup and no_backup[u]):
            if first_checked < 0 or e < first_checked_eta:
                first_checked, first_checked_eta = u, e
        elif best < 0 or e < best_eta:
            best, best_eta = u, e
    checked_first = first_checked >= 0 and (best < 0 or first_checked_eta < best_eta
                                            or (first_checked_eta == best_eta and first_checked < best))
    return best, best_eta, checked_first
