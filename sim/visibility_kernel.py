"""The compiled loops (numba) of ``sim.visibility``: was a patrol seen, and patrol hours per circuit.

``seen_kernel`` (for ``seen_within``): a year of the default town asks for ~10^5 incidents,
each with a few circuit passes through its node in each travel mode, ~4 * 10^5 (incident,
pass) pairs. Spelled out as arrays the pairs cost ~0.1 s of sorting, searching and
temporaries; a loop over the incidents that looks each one's passes up in a table by node
(``pass_start``) and the circuit's intervals by binary search needs none of them. For each
of the last three intervals on the circuit that started before the call, clipped to the
window ``[call - window_s, call]`` as ``[a, b]``, a pass at lap time ``tau`` is seen when
``a <= b`` and ``(tau - (anchor_tau + (a - anchor_t))) mod lap <= b - a``: the arithmetic of
the array form it replaced (IEEE doubles, no fast-math, Python's floor modulo as numpy's
``remainder``), so the answers are the same.

``hours_by_key`` (for ``presence``): each circuit's patrol seconds by hour of the day, the
arithmetic of ``sim.visibility._hour_seconds_by_hour`` and the order of adding of
``np.bincount``, without (24, intervals) arrays between them.

Both run in one compiled function (``_both``), so that a process loads one function from
numba's cache, not two (about 10 ms each: a month's tables take only a few times that).
``tests/test_tables_fast_paths.py`` checks both against the plain forms on a real replication.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, inline="always")
def _seen(inc_code, call_s, window_s, pass_start, pass_key, pass_tau, pass_lap,
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


@njit(nogil=True, inline="always")
def _hours(t0, t1, key_id, n_keys, warmup_s, horizon_s):  # pragma: no cover - compiled
    """(n_keys, 24): the seconds of each interval ``[max(t0, warmup), min(t1, horizon))`` in each hour
    of the day, added up per key in log order.

    The arithmetic of ``sim.visibility._hour_seconds_by_hour`` (seconds of ``[0, t)`` in hour ``h``:
    ``clip(t - day * 86400 - h * 3600, 0, 3600) + day * 3600``, the end's minus the start's; 0.0
    for an empty interval) and of ``np.bincount`` (each key's total starts at 0.0 and adds its
    intervals one after another), without the (24, intervals) arrays between them.
    """
    acc = np.zeros((n_keys, 24))
    for i in range(key_id.shape[0]):
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


@njit(cache=True, nogil=True)
def _both(inc_code, call_s, window_s, pass_start, pass_key, pass_tau, pass_lap, first, t0, t1, anchor_t,
          anchor_tau, key_id, n_keys, warmup_s, horizon_s):  # pragma: no cover - compiled
    """Both loops in one compiled function: numba loads each cached function on its first call in a
    process (about 10 ms each), and a 30-day replication's tables take only a few times that."""
    return (_seen(inc_code, call_s, window_s, pass_start, pass_key, pass_tau, pass_lap, first, t0, t1,
                  anchor_t, anchor_tau),
            _hours(t0, t1, key_id, n_keys, warmup_s, horizon_s))


_NO_INT, _NO_FLOAT = np.zeros(0, np.int64), np.zeros(0)


def _c(a, dtype):
    return np.ascontiguousarray(a, dtype)


def seen_kernel(inc_code, call_s, window_s, pass_start, pass_key, pass_tau, pass_lap, first, t0, t1,
                anchor_t, anchor_tau) -> np.ndarray:
    """Per incident (``inc_code[m, i]``: its node's code in mode ``m``, a row of ``pass_start``):
    True when a pass of a patrolled circuit through it falls in the window before the call.

    ``pass_start[c]:pass_start[c + 1]`` are the passes through code ``c`` (circuit key, lap time,
    lap length); ``first[k]:first[k + 1]`` the intervals of key ``k``, ordered by start.
    """
    return _both(_c(inc_code, np.int64), _c(call_s, float), float(window_s), _c(pass_start, np.int64),
                 _c(pass_key, np.int64), _c(pass_tau, float), _c(pass_lap, float), _c(first, np.int64),
                 _c(t0, float), _c(t1, float), _c(anchor_t, float), _c(anchor_tau, float),
                 _NO_INT, 0, 0.0, 0.0)[0]


def hours_by_key(t0, t1, key_id, n_keys: int, warmup_s: float, horizon_s: float) -> np.ndarray:
    """(n_keys, 24): the seconds of each interval ``[max(t0, warmup), min(t1, horizon))`` in each hour
    of the day, added up per key in log order (``_hours``)."""
    return _both(np.zeros((1, 0), np.int64), _NO_FLOAT, 0.0, _NO_INT, _NO_INT, _NO_FLOAT, _NO_FLOAT, _NO_INT,
                 _c(t0, float), _c(t1, float), _NO_FLOAT, _NO_FLOAT, _c(key_id, np.int64), int(n_keys),
                 float(warmup_s), float(horizon_s))[1]


def load() -> None:
    """Load the compiled loop (from numba's cache, else compile it) for the types the tables pass,
    before a replication (``sim.experiment.replicate.load_loops``); a no-op once loaded."""
    if not _both.signatures:
        hours_by_key(_NO_FLOAT, _NO_FLOAT, _NO_INT, 0, 0.0, 0.0)
