"""Which column of a call file holds what: the column map, known formats, and parsing.

A call file is a CSV export of a computer-aided dispatch system. Its columns are
named differently by every agency, so a small mapping says which column holds
the call time, the coordinates and the call type (and, where present, priority,
queued, dispatched, arrived and cleared times and an address label). The two
Seattle Police Department formats are recognised from their headers; any other
file needs a mapping file (``--columns FILE``) or ``--col key=column`` options.

Times are read as local wall-clock times. Naive times are taken to be in the
mapping's ``time_zone`` already; times carrying UTC offsets are converted to it.
The time zone is also what makes the exposure of each hour of the week correct
across daylight-saving changes (a 23-hour and a 25-hour day each year).
"""

from __future__ import annotations

import difflib
import warnings
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from sim.calls import dates
from sim.calls.rows import RowReport
from sim.errors import DemandError

TIME_FIELDS = ("time", "queued", "dispatched", "arrived", "cleared")


class ColumnNames(BaseModel):
    """Column names in the call file (``None``: the file does not have it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time: str | None = None          # when the call was made (queued); the arrival model's time
    latitude: str
    longitude: str
    type: str
    priority: str | None = None
    queued: str | None = None
    dispatched: str | None = None
    arrived: str | None = None
    cleared: str | None = None
    address: str | None = None       # a label for hot-spot tables (block, intersection)

    @property
    def call_time(self) -> str | None:
        """The column of the call time: ``time``, else ``queued``."""
        return self.time or self.queued


class CallFormat(BaseModel):
    """A column map plus how to read times and types; the content of a ``--columns`` file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = "custom"
    columns: ColumnNames
    time_zone: str | None = None
    time_format: str | None = None
    type_table: str | None = None
    response_delay_s: float | dict[int, float] | None = None
    replay_start: date | None = None
    source_file: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, v):
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone '{v}' (use an IANA name such as America/Los_Angeles)") from None
        return v

    @model_validator(mode="after")
    def _times(self) -> "CallFormat":
        c = self.columns
        if not (c.call_time or c.arrived):
            raise ValueError("columns needs a call time ('time' or 'queued'), or at least 'arrived'")
        return self

    @property
    def arrival_only(self) -> bool:
        """True when the data carry only the officer's arrival time, not the call time."""
        return self.columns.call_time is None

    def resolve(self, value: str) -> Path:
        """A path from the mapping file, relative to that file's folder."""
        p = Path(value).expanduser()
        if p.is_absolute() or not self.source_file:
            return p
        return Path(self.source_file).resolve().parent / p


#: Seattle Police Department "911 Incident Response" (2010-2017 export): only the
#: officer's arrival time on scene is given, so call times are estimated by
#: shifting arrivals back by a response delay (see sim.calls.delay).
SEATTLE_2015 = CallFormat(
    format="seattle-incident-response",
    columns=ColumnNames(arrived="at_scene_time", latitude="latitude", longitude="longitude",
                        type="initial_type_group", address="hundred_block_location"),
    time_zone="America/Los_Angeles", time_format="%Y-%m-%dT%H:%M")

#: Seattle Police Department "Call Data" (2009-present export), with blurred coordinates.
SEATTLE_CALL_DATA = CallFormat(
    format="seattle-call-data",
    columns=ColumnNames(time="Original Time Queued", arrived="Arrived Time", priority="Priority",
                        type="Initial Call Type", latitude="Blurred_Latitude", longitude="Blurred_Longitude"),
    time_zone="America/Los_Angeles", time_format="%m/%d/%Y %I:%M:%S %p")

KNOWN_FORMATS = (SEATTLE_2015, SEATTLE_CALL_DATA)


def _used_columns(fmt: CallFormat) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fmt.columns.model_dump().items() if v is not None]


def detect_format(header: list[str]) -> CallFormat | None:
    """The known format whose columns are all in ``header`` (None when none matches)."""
    have = set(header)
    for fmt in KNOWN_FORMATS:
        if all(v in have for _, v in _used_columns(fmt)):
            return fmt
    return None


def read_format_file(path: Path) -> CallFormat:
    """Read and validate a column-mapping YAML file."""
    import yaml

    if not path.exists():
        raise DemandError("column-mapping file not found", file=str(path), fix="check the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DemandError(f"cannot read the column mapping: {first}", file=str(path),
                          fix="write it as UTF-8 YAML (see docs/demand.md)") from None
    if not isinstance(data, dict):
        raise DemandError("a column mapping must be a mapping of keys to values", file=str(path),
                          fix="start with 'columns:' (see docs/demand.md)")
    return format_from_dict(data, file=str(path))


def format_from_dict(data: dict, *, file: str | None = None) -> CallFormat:
    try:
        return CallFormat.model_validate({**data, "source_file": file})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        fix = "see the column mapping section of docs/demand.md"
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            valid = list(ColumnNames.model_fields) if key and key.startswith("columns.") else [
                k for k in CallFormat.model_fields if k != "source_file"]
            close = difflib.get_close_matches(str(err["loc"][-1]), valid, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
        elif err["type"] == "missing":
            fix = "add this key"
        raise DemandError(msg, file=file, key=key, fix=fix) from None


def apply_column_options(fmt: CallFormat | None, options: list[str], *, time_zone: str | None = None,
                         type_table: str | None = None) -> CallFormat | None:
    """Apply ``--col key=column`` options (and ``--tz``, ``--types``) on top of a format."""
    cols = dict(fmt.columns.model_dump()) if fmt else {}
    for text in options or []:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DemandError(f"--col needs key=column, got '{text}'", fix="write e.g. --col time=\"Call Time\"")
        if key not in ColumnNames.model_fields:
            close = difflib.get_close_matches(key, list(ColumnNames.model_fields), n=1)
            raise DemandError(f"--col: unknown key '{key}'",
                              fix=f"did you mean '{close[0]}'?" if close else
                              f"use one of {', '.join(ColumnNames.model_fields)}")
        cols[key] = value.strip() or None
    if fmt is None and not options:
        return None
    data = fmt.model_dump() if fmt else {}
    data.update(columns=cols, format=(fmt.format if fmt and not options else "custom"))
    if time_zone:
        data["time_zone"] = time_zone
    if type_table:
        data["type_table"] = type_table
    data.pop("source_file", None)
    if options:
        missing = [k for k in ("latitude", "longitude", "type") if not cols.get(k)]
        if missing:
            raise DemandError(f"the column map has no {', '.join(missing)} column",
                              fix="add --col " + " --col ".join(f"{k}=COLUMN" for k in missing))
    return format_from_dict(data, file=fmt.source_file if fmt else None)


def read_table(path: Path) -> pd.DataFrame:
    """The CSV as strings (nothing converted yet); a missing, empty or broken file is a DemandError."""
    if not path.exists():
        raise DemandError("call file not found", file=str(path), fix="check the path")
    if path.is_dir():
        raise DemandError("is a folder, not a call file", file=str(path), fix="name a .csv file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                             encoding="utf-8", encoding_errors="replace", skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise DemandError("the call file is empty (no header, no rows)", file=str(path),
                          fix="export the calls again with a header row") from None
    except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DemandError(f"cannot read the call file as CSV: {first}", file=str(path),
                          fix="export it as comma-separated values with one header row") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def resolve_format(df: pd.DataFrame, *, file: str, fmt: CallFormat | None = None) -> CallFormat:
    """The format to read ``df`` with: the one given, else a known one detected from the header."""
    header = list(df.columns)
    if fmt is None:
        fmt = detect_format(header)
        if fmt is None:
            shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
            raise DemandError(f"unknown call-data format (columns: {shown})", file=file,
                              fix="give a column mapping with --columns FILE or --col time=... "
                                  "--col latitude=... --col longitude=... --col type=...")
    for key, col in _used_columns(fmt):
        if col not in header:
            close = difflib.get_close_matches(col, header, n=1)
            raise DemandError(f"column '{col}' not found", file=file, key=f"columns.{key}",
                              fix=(f"did you mean '{close[0]}'?" if close else
                                   f"columns in the file: {', '.join(header[:12])}"))
    return fmt


def parse_times(values: pd.Series, *, time_format: str | None, time_zone: str | None) -> pd.Series:
    """Local wall-clock times (naive datetime64[ns]); blank, unreadable or out-of-range values become NaT.

    Values carrying a UTC offset are converted to ``time_zone`` (which must then be
    given, since an instant has no wall-clock time without one). The accepted range
    is ``sim.calls.dates`` (1900 to a year from today).
    """
    return parse_times_ranged(values, time_format=time_format, time_zone=time_zone)[0]


def parse_times_ranged(values: pd.Series, *, time_format: str | None,
                       time_zone: str | None) -> tuple[pd.Series, np.ndarray]:
    """``parse_times`` plus a mask of the values that were read but lie outside the accepted range."""
    s = values.astype(str).str.strip()
    s = s.where(s != "", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = pd.to_datetime(s, format=time_format, errors="coerce")
        except (ValueError, TypeError):   # mixed UTC offsets
            out = pd.to_datetime(s, format=time_format, errors="coerce", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        if time_zone is None:
            raise DemandError("times carry UTC offsets but no time zone is given",
                              fix="give the local time zone with --tz (e.g. America/Los_Angeles)")
        out = out.dt.tz_convert(time_zone).dt.tz_localize(None)
    outside = dates.out_of_range(out)
    return out.mask(outside).astype("datetime64[ns]"), outside.to_numpy()


def parse_calls(df: pd.DataFrame, fmt: CallFormat, report: RowReport) -> pd.DataFrame:
    """Standard columns from a raw table; unusable rows are counted in ``report`` and left out.

    Returns a frame with ``line`` (file line number), ``lon``, ``lat``, ``call_type``,
    ``priority_data`` (float, NaN when absent), ``address`` and the times
    ``call_time`` (NaT when the file has only arrivals), ``queued``, ``dispatched``,
    ``arrived``, ``cleared`` as naive local datetimes.
    """
    c = fmt.columns
    n = len(df)
    report.rows_read = n
    out = pd.DataFrame({"line": np.arange(2, n + 2, dtype=np.int64)})
    ok = np.ones(n, bool)
    for key in TIME_FIELDS:
        col = c.call_time if key == "time" else getattr(c, key)
        if col is None:
            out[key] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
            continue
        raw = df[col]
        try:
            t, outside = parse_times_ranged(raw, time_format=fmt.time_format, time_zone=fmt.time_zone)
            t = t.reset_index(drop=True)
        except DemandError as exc:
            raise DemandError(exc.detail, file=report.file, key=f"columns.{key} ('{col}')", fix=exc.fix) from None
        out[key] = t.values
        blank = raw.astype(str).str.strip().eq("").to_numpy()
        bad = t.isna().to_numpy() & ~blank & ~outside
        needed = (key == "time") or (key == "arrived" and fmt.arrival_only)
        if needed:
            first = np.flatnonzero(outside if outside.any() else bad)
            dates.refuse_mostly_bad(file=report.file, key=key, col=col, n_values=int((~blank).sum()),
                                    n_unreadable=int(bad.sum()), n_outside=int(outside.sum()),
                                    example=(f"line {int(out['line'].to_numpy()[first[0]])}: "
                                             f"{raw.to_numpy()[first[0]]!r}") if first.size else "")
            m = ok & outside
            report.drop(f"with {'a call' if key == 'time' else 'an arrival'} time before 1900 or over a year "
                        f"from today ('{col}')", out["line"].to_numpy()[m], raw.to_numpy()[m])
            ok &= ~outside
            m = ok & (blank | bad)
            report.drop(f"without a readable {'call' if key == 'time' else 'arrival'} time ('{col}')",
                        out["line"].to_numpy()[m], raw.to_numpy()[m])
            ok &= ~(blank | bad)
        elif bad.any() or outside.any():
            bad |= outside
            report.note(f"{int(bad.sum())} values of '{col}' could not be read as times (or were before 1900 "
                        f"or over a year from today) and were "
                        f"treated as missing (e.g. line {int(out['line'].to_numpy()[bad][0])}: "
                        f"{raw.to_numpy()[bad][0]!r})")
    lon = pd.to_numeric(df[c.longitude].astype(str).str.strip(), errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df[c.latitude].astype(str).str.strip(), errors="coerce").to_numpy(float)
    bad_xy = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    m = ok & bad_xy
    shown = [f"{a!r}, {b!r}" for a, b in zip(df[c.longitude].to_numpy()[m], df[c.latitude].to_numpy()[m])]
    report.drop(f"without readable coordinates ('{c.longitude}', '{c.latitude}')",
                out["line"].to_numpy()[m], shown)
    ok &= ~bad_xy
    out["lon"], out["lat"] = lon, lat
    out["call_type"] = df[c.type].astype(str).str.strip().to_numpy()
    if c.priority:
        out["priority_data"] = pd.to_numeric(df[c.priority].astype(str).str.strip(), errors="coerce").to_numpy(float)
    else:
        out["priority_data"] = np.nan
    out["address"] = df[c.address].astype(str).str.strip().to_numpy() if c.address else ""
    return out.loc[ok].reset_index(drop=True)
