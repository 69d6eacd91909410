"""Reading a call file into usable calls: parse, type, date, window, snap.

One pipeline serves ``patrolsim fit``, its hold-out evaluation and replay, so
that a call is read the same way everywhere. Every row left out is counted with
its reason in a ``RowReport``; when nothing usable remains the caller gets a
``DemandError`` (the CLI's exit code 2) that says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import DemandError
from sim.calls import columns, dates, delay
from sim.calls.calltypes import TypeTable, assign_types, read_type_table
from sim.calls.places import great_circle_m, off_network_error, snap_summary, snap_to_places
from sim.calls.rows import RowReport
from sim.network.graph import City


@dataclass
class CallData:
    """Usable calls (sorted by call time) and how they were obtained."""

    calls: pd.DataFrame          # line, time (call time, local), place, snap_m, type, priority, ...
    report: RowReport
    fmt: columns.CallFormat
    table: TypeTable
    start: pd.Timestamp          # window start (local midnight), inclusive
    end: pd.Timestamp | None     # window end, exclusive (None: open)
    delays: dict | None          # the response-delay shift used (None: the file has call times)
    max_snap_m: float

    @property
    def n(self) -> int:
        return len(self.calls)

    def record(self) -> dict:
        """What a fit records about its input."""
        out = {"format": self.fmt.format, "columns": {k: v for k, v in self.fmt.columns.model_dump().items() if v},
               "time_zone": self.fmt.time_zone, "type_table": Path(self.table.file).name,
               "window": {"start": str(self.start.date()), "end": None if self.end is None else str(self.end.date())},
               "max_snap_m": self.max_snap_m,
               "snap_distance_m": snap_summary(self.calls["snap_m"].to_numpy(float)),
               **self.report.to_dict()}
        out["priority"] = self.priority_record()
        if self.delays is not None:
            out["call_time"] = {
                "estimated": True,
                "note": "the file has only arrival-on-scene times; call times are arrival times shifted back "
                        "by the median response delay of the call's priority",
                "response_delay_s": {"by_priority": self.delays["by_priority_s"], "other_priorities": self.delays["pooled_s"]},
                "source": self.delays.get("source", "")}
        else:
            out["call_time"] = {"estimated": False, "column": self.fmt.columns.call_time}
        return out


    def priority_record(self) -> dict:
        """Where the calls' priorities came from: the file's own column, the type table, or both.

        A file with a usable priority column (SPD Call Data's ``Priority``) keeps each call's own
        priority, so the fitted types split a call type by the priorities the agency gave it; a
        file without one (the 2015 U District file) takes every priority from the type table.
        """
        c = self.calls
        from_data = int((c["priority_from"] == "data").sum())
        counts = c["priority"].value_counts().sort_index()
        return {"column": self.fmt.columns.priority, "from_data": from_data,
                "from_table": int(len(c) - from_data),
                "calls_by_priority": {int(p): int(n) for p, n in counts.items()}}


def parse_date(text: str | None, *, option: str) -> pd.Timestamp | None:
    """A local date (midnight) from an option; bad text is a DemandError."""
    if text is None:
        return None
    try:
        value = pd.Timestamp(str(text))
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        value = pd.NaT
    if value is pd.NaT:
        raise DemandError(f"{option}: cannot read {text!r} as a date", fix="write it as YYYY-MM-DD")
    return dates.check_option_date(value.normalize(), option=option)


def load_calls(path: Path, *, city: City, max_snap_m: float, fmt: columns.CallFormat | None = None,
               table: TypeTable | None = None, delays: dict | None = None,
               start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
               window_by_week: bool = False, time_zone: str | None = None) -> CallData:
    """Read, type, date and snap the calls of ``path``.

    ``fmt`` is the column map (None: detect a known format). ``delays`` is the
    response-delay shift for files with only arrival times (None: the mapping's
    ``response_delay_s`` or the documented default). The window defaults to the
    whole days the file's recorded times span; with ``window_by_week`` it starts at
    the Monday 00:00 of the week of ``start`` (or of the first call) instead.
    ``time_zone`` overrides the format's time zone.
    """
    path = Path(path)
    file = str(path)
    df = columns.read_table(path)
    fmt = columns.resolve_format(df, file=file, fmt=fmt)
    if time_zone:
        fmt = columns.format_from_dict({**fmt.model_dump(exclude={"source_file"}), "time_zone": time_zone},
                                       file=fmt.source_file)
    report = RowReport(file=file)
    if len(df) == 0:
        raise DemandError("the call file has a header but no rows", file=file,
                          fix="export the calls again (the file has no data)")
    calls = columns.parse_calls(df, fmt, report)
    if table is None:
        table = read_type_table(fmt.resolve(fmt.type_table) if fmt.type_table else None)
    calls = assign_types(calls, table, report)
    used_delays = None
    if fmt.arrival_only:
        if delays is None:
            delays = (delay.delays_from_option(fmt.response_delay_s) if fmt.response_delay_s is not None
                      else delay.default_delays())
        used_delays = delays
        calls = delay.shift_arrivals(calls, delays)
        report.note("call times estimated as arrival-on-scene times minus the median response delay of "
                    "the call's priority (" + delay_text(delays) + ")")
    else:
        calls["delay_shift_s"] = 0.0
        calls["time_from"] = "call time"
    _require_some(calls, report, file, "no row has a readable time and coordinates")
    recorded = calls["arrived"] if fmt.arrival_only else calls["time"]
    if start is None:
        start = recorded.min().normalize()
    if window_by_week:
        start = start - pd.Timedelta(days=int(start.day_of_week))
    if end is None and not window_by_week:
        end = recorded.max().normalize() + pd.Timedelta(days=1)
    if end is not None and end <= start:
        raise DemandError(f"the time window is empty ({start.date()} to {end.date()})", file=file,
                          fix="give an end date after the start date")
    t = calls["time"]
    outside = (t < start) | ((t >= end) if end is not None else False)
    outside = outside.to_numpy()
    window = f"{start.date()} to {end.date()}" if end is not None else f"from {start.date()}"
    report.drop(f"outside the time window ({window})", calls["line"].to_numpy()[outside],
                calls["time"].to_numpy()[outside].astype("datetime64[m]").astype(str))
    calls = calls.loc[~outside].reset_index(drop=True)
    _require_some(calls, report, file, f"no call falls in the time window ({window})")
    place, dist = snap_to_places(city, calls["lon"].to_numpy(), calls["lat"].to_numpy())
    far = dist > max_snap_m
    if far.sum() * 2 > far.size:
        gc = great_circle_m(city, calls["lon"].to_numpy(float)[far], calls["lat"].to_numpy(float)[far], place[far])
        raise _mostly_off(far, gc, file, max_snap_m, report)
    shown = [f"{lo:.5f}, {la:.5f} is {d:,.0f} m away" for lo, la, d in
             zip(calls["lon"].to_numpy()[far], calls["lat"].to_numpy()[far], dist[far])]
    report.drop(f"off the road network (more than {max_snap_m:g} m from the nearest drivable node)",
                calls["line"].to_numpy()[far], shown)
    calls = calls.assign(place=place, snap_m=dist).loc[~far].reset_index(drop=True)
    _require_some(calls, report, file, "no call lies on the road network")
    calls = calls.sort_values(["time", "line"], kind="stable").reset_index(drop=True)
    return CallData(calls=calls, report=report, fmt=fmt, table=table, start=start, end=end,
                    delays=used_delays, max_snap_m=max_snap_m)


def delay_text(delays: dict) -> str:
    by = ", ".join(f"P{p} {s / 60:.0f} min" for p, s in sorted(delays["by_priority_s"].items()))
    return (by + ", " if by else "") + f"other priorities {delays['pooled_s'] / 60:.0f} min"


def _require_some(calls: pd.DataFrame, report: RowReport, file: str, why: str) -> None:
    if len(calls) == 0:
        reasons = "; ".join(f"{n} {r}" + (f" (e.g. {report.examples[r][0]})" if report.examples.get(r) else "")
                            for r, n in report.dropped.items())
        raise DemandError(f"{why}: {report.rows_read} rows read, none usable"
                          + (f" ({reasons})" if reasons else ""), file=file,
                          fix="check the column mapping, the dates and the network")


OFF_NETWORK_FIX = ("use calls of this network's area, or a network that covers the calls (--network, or the "
                   "scenario's network.*); network.max_snap_m or --max-snap-m sets the distance")


def _mostly_off(far, dist_far_m, file: str, max_snap_m: float, report: RowReport) -> DemandError:
    """More than half of the calls are off the network: the file is of another area (an error).

    A few calls beyond ``max_snap_m`` (at the edge of the area) are left out and
    counted; a majority means the calls and the network do not match, and the
    rest would crowd onto the network's edge.
    """
    err = off_network_error(int(far.sum()), int(far.size), dist_far_m, what="calls in the time window",
                            max_snap_m=max_snap_m, file=file, key=None, fix=OFF_NETWORK_FIX)
    lead = "no call lies on the road network" if far.all() else "most calls lie off the road network"
    return DemandError(f"{lead}: {err.detail}; {report.rows_read} rows read", file=file, fix=OFF_NETWORK_FIX)
