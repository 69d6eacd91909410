"""Observed response times per priority, from a call file.

Two layouts are read (the header decides):

* SPD **"Call Data"** (``sim.calls.columns.SEATTLE_CALL_DATA``): ``Original Time Queued``,
  ``Arrived Time``, ``Priority`` and the blurred coordinates; times like ``11/04/2023 6:08:26 PM``.
* a **plain CSV**: ``call_time``, ``arrival_time``, ``priority`` and optionally ``lon``, ``lat``;
  times as ISO text (``2026-01-05 08:00:00``, a ``T`` or a UTC offset are fine).

The response time is arrival minus call (queued) time, the same start point as the simulated
side (``sim.calibrate.simulated``). Rows without an arrival (cancelled, no unit sent), with an
arrival at or before the call (officer-initiated, on-view events: no response) or more than a
day after it (a data error or a scheduled appointment) are left out and counted, as in
``sim.calls.delay``. A missing column, a time that cannot be read or a file with no usable row
is refused with one line (exit code 2): a calibration on half-read data would be wrong quietly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calls.columns import SEATTLE_CALL_DATA, parse_times, read_table
from sim.calls.delay import MAX_DELAY_S
from sim.errors import InputError

#: Start point of the response time, both sides.
START_POINT = "call entered the queue (SPD 'Original Time Queued'; plain 'call_time') to first unit on scene"

PLAIN_COLUMNS = {"call": "call_time", "arrived": "arrival_time", "priority": "priority"}
PLAIN_OPTIONAL = {"lon": "lon", "lat": "lat"}
_SPD = SEATTLE_CALL_DATA.columns
SPD_COLUMNS = {"call": _SPD.time, "arrived": _SPD.arrived, "priority": _SPD.priority}
SPD_OPTIONAL = {"lon": _SPD.longitude, "lat": _SPD.latitude}


class ObservedError(InputError):
    """An observed-calls file that cannot be used for calibration."""


@dataclass
class Observed:
    """Observed response times (seconds) per priority and what was left out."""

    file: str
    layout: str                                   # "seattle-call-data" | "plain"
    times_s: dict[int, np.ndarray]                # priority -> response times, seconds
    rows_read: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    lon: np.ndarray | None = None                 # of the usable rows (NaN where absent)
    lat: np.ndarray | None = None

    @property
    def calls(self) -> int:
        return int(sum(v.size for v in self.times_s.values()))

    def summary(self) -> dict:
        """Counts and medians per priority, for the fit JSON and the terminal."""
        return {"file": self.file, "layout": self.layout, "start_point": START_POINT, "rows_read": self.rows_read,
                "calls_used": self.calls, "left_out": dict(self.left_out),
                "by_priority": {str(p): {"calls": int(v.size), "median_s": float(np.median(v))}
                                for p, v in sorted(self.times_s.items())}}


def _layout(header: list[str], file: str) -> tuple[str, dict, dict, str | None]:
    """(layout name, required columns, optional columns, time format) from the header."""
    have = set(header)
    spd_hits = [c for c in SPD_COLUMNS.values() if c in have]
    if len(spd_hits) == len(SPD_COLUMNS):
        return "seattle-call-data", SPD_COLUMNS, SPD_OPTIONAL, SEATTLE_CALL_DATA.time_format
    if all(c in have for c in PLAIN_COLUMNS.values()):
        return "plain", PLAIN_COLUMNS, PLAIN_OPTIONAL, None
    if spd_hits:
        missing = [c for c in SPD_COLUMNS.values() if c not in have]
        fix = "export the SPD Call Data with these columns"
    else:
        missing = [c for c in PLAIN_COLUMNS.values() if c not in have]
        fix = ("give a CSV with columns call_time, arrival_time, priority (optional lon, lat), or an SPD Call Data "
               "export ('Original Time Queued', 'Arrived Time', 'Priority')")
    raise ObservedError(f"column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)} not found "
                        f"(columns: {', '.join(header[:10])}{', ...' if len(header) > 10 else ''})",
                        file=file, key="--observed", fix=fix)


def _times(df: pd.DataFrame, col: str, fmt: str | None, file: str) -> pd.Series:
    raw = df[col].astype(str).str.strip()
    blank = raw.eq("").to_numpy()
    if fmt:
        t = parse_times(raw, time_format=fmt, time_zone=None).reset_index(drop=True)
    else:   # ISO text, naive or with UTC offsets: read as instants (only differences matter)
        t = pd.to_datetime(raw.where(~blank, None), errors="coerce", utc=True, format="ISO8601")
        t = t.dt.tz_localize(None).reset_index(drop=True)
    bad = t.isna().to_numpy() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ObservedError(f"column '{col}': {int(bad.sum())} value{'s' if bad.sum() > 1 else ''} cannot be read as "
                            f"a time (line {i + 2}: {raw.iloc[i]!r})", file=file, key="--observed",
                            fix=f"write times as {'MM/DD/YYYY hh:mm:ss AM' if fmt else 'YYYY-MM-DD hh:mm:ss'}, "
                                f"or correct or delete those rows")
    return t


def read_observed(path: Path) -> Observed:
    """Observed response times per priority from ``path`` (see the module docstring)."""
    path = Path(path)
    file = str(path)
    try:
        df = read_table(path)
    except InputError as exc:
        raise ObservedError(exc.detail, file=file, key="--observed", fix=exc.fix) from None
    layout, cols, optional, fmt = _layout(list(df.columns), file)
    n = len(df)
    if n == 0:
        raise ObservedError("has a header but no rows", file=file, key="--observed", fix="export the calls again")
    call = _times(df, cols["call"], fmt, file)
    arrived = _times(df, cols["arrived"], fmt, file)
    pr_raw = df[cols["priority"]].astype(str).str.strip()
    pr = pd.to_numeric(pr_raw, errors="coerce").to_numpy(float)
    bad_pr = ~np.isfinite(pr) & pr_raw.ne("").to_numpy() | (np.isfinite(pr) & (pr != np.round(pr)))
    if bad_pr.any():
        i = int(np.flatnonzero(bad_pr)[0])
        raise ObservedError(f"column '{cols['priority']}': {pr_raw.iloc[i]!r} on line {i + 2} is not a whole number",
                            file=file, key="--observed", fix="give priorities as whole numbers (1 most urgent)")
    left: dict[str, int] = {}

    def drop(mask: np.ndarray, reason: str) -> None:
        if mask.any():
            left[reason] = int(mask.sum())

    ok = np.ones(n, bool)
    for mask, reason in ((call.isna().to_numpy(), "no call time"),
                         (arrived.isna().to_numpy(), "no arrival time (no unit arrived)"),
                         (~np.isfinite(pr), "no priority")):
        drop(ok & mask, reason)
        ok &= ~mask
    delay = (arrived - call).dt.total_seconds().to_numpy(float)
    for mask, reason in ((delay <= 0, "arrival at or before the call (officer-initiated, on view)"),
                         (delay > MAX_DELAY_S, "arrival more than a day after the call")):
        m = ok & np.nan_to_num(mask, nan=False).astype(bool)
        drop(m, reason)
        ok &= ~m
    if not ok.any():
        reasons = "; ".join(f"{k}: {v}" for k, v in left.items())
        raise ObservedError(f"no usable call among {n} rows ({reasons})", file=file, key="--observed",
                            fix="give calls with a call time, a later arrival time and a priority")
    prio = pr[ok].astype(int)
    times = {int(p): np.sort(delay[ok][prio == p]) for p in np.unique(prio)}

    def coord(name: str) -> np.ndarray | None:
        col = optional[name]
        if col not in df.columns:
            return None
        return pd.to_numeric(df[col].astype(str).str.strip(), errors="coerce").to_numpy(float)[ok]

    return Observed(file=file, layout=layout, times_s=times, rows_read=n, left_out=left,
                    lon=coord("lon"), lat=coord("lat"))
