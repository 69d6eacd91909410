"""The range of dates a call file or a date option may hold, and the checks that keep to it.

A call time in the year 2999 or 1850 is a broken export (a two-digit year read as
the wrong century, day and month swapped, a placeholder date), not a call. Left in,
such a time stretches the fitted window over centuries (a rate of almost nothing)
or overflows pandas' nanosecond clock (years after 2262). So times before
``EARLIEST`` or more than a year after today are left out and counted like
unreadable ones, and when they are most of a column the file is refused with one
line naming the column, the count and the fix.
"""

from __future__ import annotations

import pandas as pd

from sim.errors import DemandError

#: The earliest call time or date option accepted (local time).
EARLIEST = pd.Timestamp("1900-01-01")
#: How far past today a call time or date option may lie (clock skew, a scheduled event).
AHEAD = pd.Timedelta(days=366)

DATE_FIX = ("check the time column and its format (time_format in the column mapping: day and month "
            "swapped, a two-digit year), or correct the dates in the file")


def latest() -> pd.Timestamp:
    """The latest accepted time: a year after today (local midnight)."""
    return pd.Timestamp.now().normalize() + AHEAD


def range_text() -> str:
    return f"{EARLIEST.date()} to {latest().date()}"


def out_of_range(times: pd.Series) -> pd.Series:
    """True where a (naive, any-unit) time lies outside the accepted range; NaT is False."""
    return times.notna() & ((times < EARLIEST) | (times > latest()))


def check_option_date(value: pd.Timestamp, *, option: str) -> pd.Timestamp:
    """A date option inside the accepted range, in nanoseconds (the calls' unit); else a DemandError."""
    if value < EARLIEST or value > latest():
        raise DemandError(f"{option}: {value.date()} is outside the dates patrolsim accepts ({range_text()})",
                          fix="give a date in the years the call file covers, as YYYY-MM-DD")
    return value.as_unit("ns")


def refuse_mostly_bad(*, file: str, key: str, col: str, n_values: int, n_unreadable: int, n_outside: int,
                      example: str) -> None:
    """Refuse a time column whose values are mostly unreadable or out of range.

    ``n_values`` counts the non-blank values. A few bad values are left out and
    counted by the caller; a majority means the column or its format is wrong, and
    a fit on the few rows left would be a fit on noise. A column with no readable
    value at all is left to the "none usable" error, which lists every reason.
    """
    bad = n_unreadable + n_outside
    if n_values == 0 or bad * 2 <= n_values or (n_outside == 0 and n_unreadable == n_values):
        return
    what = (f"{n_outside} outside {range_text()}" if n_outside else "") + \
           (", " if n_outside and n_unreadable else "") + (f"{n_unreadable} unreadable" if n_unreadable else "")
    raise DemandError(f"{bad} of {n_values} times are not usable dates ({what}; e.g. {example})",
                      file=file, key=f"column '{col}'", fix=DATE_FIX)
