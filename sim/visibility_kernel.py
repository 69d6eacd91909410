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
