"""The compiled loop (numba) of ``sim.visibility.seen_within``: did a patrol pass each incident's place?

A year of the default town asks it for ~10^5 incidents, each with a few circuit passes
through its node in each travel mode: ~4 * 10^5 (incident, pass) pairs. Spelled out as
arrays the pairs cost ~0.1 s of sorting, searching and temporaries; a loop over the
incidents that looks each one's passes up in a table by node (``pass_start``) and the
circuit's intervals by binary search needs none of them.

The test is the same, operation for operation, as the array form (``_passes``): for each of
the last three intervals on the circuit that started before the call, clipped to the
window ``[call - window_s, call]`` as ``[a, b]``, a pass at lap time ``tau`` is seen when
``a <= b`` and ``(tau - (anchor_tau + (a - anchor_t))) mod lap <= b - a`` (IEEE doubles, no
fast-math, Python's floor modulo as numpy's ``remainder``), so the answers are the same.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def seen_kernel(inc_code, call_s, window_s, pass_start, pass_key, pass_tau, pass_lap,
                first, t0, t1, anchor_t, anchor_tau):  # pragma: no cover - compiled
    """Per incident (``inc_code[m, i]``: its node's code in mode ``m``, a row of ``pass_start``):
    True when a pass of a patrolled circuit through it falls in the window before the call.

    ``pass_start[c]:pass_start[c + 1]`` are the passes through code ``c`` (circuit key, lap time,
    lap length); ``first[k]:first[k + 1]`` the intervals of key ``k``, ordered by start.
    """
    n_modes, n = inc_code.shape
    out = np.zeros(n, np.bool_)
    for i in range(n):
        hi = call_s[i]
        lo = hi - window_s
        seen = False
        for m in range(n_modes):
            code = inc_code[m, i]
            for p in range(pass_start[code], pass_start[code + 1]):
                k = pass_key[p]
                f, e = first[k], first[k + 1]
                # the row just past the key's last interval with t0 < call (searchsorted, side left)
                left, right = f, e
                while left < right:
                    mid = (left + right) >> 1
                    if t0[mid] < hi:
                        left = mid + 1
                    else:
                        right = mid
                tau, lap = pass_tau[p], pass_lap[p]
                for back in range(1, 4):
                    row = left - back
                    if row < f:
                        break
                    s, u = t0[row], t1[row]
                    a = s if s >= lo or s != s else lo          # np.maximum(t0, lo)
                    b = u if u <= hi or u != u else hi          # np.minimum(t1, hi)
                    if a <= b:
                        at_a = anchor_tau[row] + (a - anchor_t[row])
                        if (tau - at_a) % lap <= b - a:
                            seen = True
                            break
                if seen:
                    break
            if seen:
                break
        out[i] = seen
    return out


@njit(cache=True, nogil=True, inline="always")
def _clip_hour(x):  # pragma: no cover - compiled
    """``np.clip(x, 0.0, 3600.0)`` as numpy takes it (nan stays nan)."""
    if x != x:
        return x
    m = x if x > 0.0 else 0.0
    return m if m < 3600.0 else 3600.0


@njit(cache=True, nogil=True)
def hours_by_key(t0, t1, key_id, n_keys, warmup_s, horizon_s):  # pragma: no cover - compiled
    """(n_keys, 24): the seconds of each interval ``[max(t0, warmup), min(t1, horizon))`` in each hour
    of the day, added up per key in log order.

    The arithmetic of ``sim.visibility._hour_seconds_by_hour`` (seconds of ``[0, t)`` in hour ``h``:
    ``clip(t - day * 86400 - h * 3600, 0, 3600) + day * 3600``, the end's minus the start's; 0.0
    for an empty interval) and of ``np.bincount`` (each key's total starts at 0.0 and adds its
    intervals one after another), without the (24, intervals) arrays between them.
    """
    acc = np.zeros((n_keys, 24))
    for i in range(t0.shape[0]):
        s, e = t0[i], t1[i]
        a = s if s >= warmup_s or s != s else warmup_s        # np.maximum(t0, warmup_s)
        b = e if e <= horizon_s or e != e else horizon_s      # np.minimum(t1, horizon_s)
        k = key_id[i]
        if b <= a:
            for h in range(24):
                acc[k, h] += 0.0
            continue
        day_a = np.floor(a / 86400.0)
        day_b = np.floor(b / 86400.0)
        in_a, in_b = a - day_a * 86400.0, b - day_b * 86400.0
        base_a, base_b = day_a * 3600.0, day_b * 3600.0
        for h in range(24):
            hour_s = h * 3600.0
            acc[k, h] += (_clip_hour(in_b - hour_s) + base_b) - (_clip_hour(in_a - hour_s) + base_a)
    return acc
