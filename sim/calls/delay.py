"""The response delay: from a call being queued to the first officer arriving.

Some exports (Seattle's 2010-2017 "911 Incident Response" file among them) carry
only the time the officer arrived on scene. An arrival model fitted to those
times would be late by the response delay, which is long for low-priority calls
(an hour or more in Seattle). The call time is therefore estimated as the arrival
time minus the median delay of the call's priority, and the fit says so.

The default delays were measured on the SPD Call Data sample (2018-2023, East
precinct, 222 calls; ``estimate_delays`` on that file reproduces them, and a test
checks it): the median of ``Arrived Time - Original Time Queued`` per priority
over calls with a positive delay (a zero delay is an officer-initiated, on-view
event, which has no response), using a priority's own median when it has at
least ``MIN_PER_PRIORITY`` calls and the pooled median otherwise. They come from
another period and part of the city than the 2015 U-District calls: a planner
with better local figures should give them (``response_delay_s`` in the column
mapping, or ``--delay-from`` a file with both times).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_PER_PRIORITY = 10
MAX_DELAY_S = 24 * 3600.0

#: Median queued-to-arrival seconds by priority, from the SPD Call Data sample (see module docstring).
DEFAULT_DELAY_BY_PRIORITY_S = {1: 498.0, 2: 1634.0, 3: 4553.0, 5: 1048.0}
#: Pooled median (priorities with fewer than MIN_PER_PRIORITY calls use it).
DEFAULT_DELAY_POOLED_S = 2010.0
DEFAULT_SOURCE = "SPD Call Data sample 2018-2023 (East precinct, 222 calls): median queued-to-arrival by priority"


def estimate_delays(calls: pd.DataFrame) -> dict:
    """Median queued-to-arrival seconds by priority from calls that have both times.

    Returns ``{"by_priority_s": {p: s}, "pooled_s": s, "calls": n}``; raises
    ValueError when no call has both times with a positive delay.
    """
    d = (calls["arrived"] - calls["time"]).dt.total_seconds().to_numpy(float)
    ok = np.isfinite(d) & (d > 0) & (d <= MAX_DELAY_S)
    if not ok.any():
        raise ValueError("no call has both a call time and a later arrival time")
    pr = calls["priority"].to_numpy(int)[ok]
    d = d[ok]
    by = {}
    for p in np.unique(pr):
        m = pr == p
        if m.sum() >= MIN_PER_PRIORITY:
            by[int(p)] = float(np.median(d[m]))
    return {"by_priority_s": by, "pooled_s": float(np.median(d)), "calls": int(d.size)}


def default_delays() -> dict:
    return {"by_priority_s": dict(DEFAULT_DELAY_BY_PRIORITY_S), "pooled_s": DEFAULT_DELAY_POOLED_S,
            "source": DEFAULT_SOURCE}


def delays_from_option(value) -> dict:
    """Delays from a mapping's ``response_delay_s`` (one number, or a number per priority)."""
    if isinstance(value, dict):
        by = {int(k): float(v) for k, v in value.items()}
        return {"by_priority_s": by, "pooled_s": float(np.median(list(by.values()))),
                "source": "response_delay_s of the column mapping"}
    return {"by_priority_s": {}, "pooled_s": float(value), "source": "response_delay_s of the column mapping"}


def delay_for(priority: np.ndarray, delays: dict) -> np.ndarray:
    """Seconds to subtract from each arrival time, by the call's priority."""
    by = delays["by_priority_s"]
    pooled = float(delays["pooled_s"])
    return np.array([by.get(int(p), pooled) for p in np.asarray(priority)], float)


def shift_arrivals(calls: pd.DataFrame, delays: dict) -> pd.DataFrame:
    """Fill ``time`` (the call time) as arrival minus the priority's delay where it is missing."""
    out = calls.copy()
    need = out["time"].isna() & out["arrived"].notna()
    shift = delay_for(out["priority"].to_numpy(int), delays)
    out["delay_shift_s"] = np.where(need, shift, 0.0)
    est = out["arrived"] - pd.to_timedelta(out["delay_shift_s"], unit="s")
    out["time"] = out["time"].where(~need, est)
    out["time_from"] = np.where(need, "arrival minus response delay", "call time")
    return out
