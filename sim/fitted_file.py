"""Reading a fitted-demand file (the YAML ``patrolsim fit`` writes; a scenario names it
with ``demand: {fitted: PATH}``).

The required keys are checked with pydantic; any other key is metadata and kept
as is (a fit records its source, smoothing, tests and hold-out score there).
Problems become one ``DemandError`` line naming the file, the key and the fix.
Kept outside the core (it reads YAML), like ``sim.scenario_file``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import DemandError

HOURS_PER_WEEK = 168
FORMAT_VERSION = 2   # 2 added ``season``; version 1 files (no season) still load, with a constant level
FIX = "re-create it with patrolsim fit (see docs/demand.md)"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FittedType(_Open):
    """An incident type (the same fields as a scenario's demand.types)."""

    name: Annotated[str, Field(min_length=1)]
    share: Annotated[float, Field(gt=0)]
    priority: Annotated[int, Field(ge=1, le=9)] = 2
    units_needed: Annotated[int, Field(ge=1, le=20)] = 1
    on_scene_mean_s: Annotated[float, Field(gt=0)] = 1800.0
    on_scene_cv: Annotated[float, Field(ge=0, le=5)] = 0.6
    major: bool = False


class FittedSpatial(_Open):
    points: list[tuple[float, float, float]] = Field(min_length=1)

    @field_validator("points")
    @classmethod
    def _points(cls, pts):
        for i, (lon, lat, w) in enumerate(pts):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"point {i} has longitude {lon}, latitude {lat} (out of range; the order is "
                                 "[lon, lat, weight])")
            if not w >= 0:
                raise ValueError(f"point {i} has a negative weight ({w})")
        if sum(p[2] for p in pts) <= 0:
            raise ValueError("the point weights sum to zero")
        return pts


class DayDispersion(_Open):
    shape: Annotated[float, Field(gt=0)] | None = None


class FittedSeason(_Open):
    """Version 2: the daily level's month-of-year effect and log-linear trend (``sim.fit.season``).

    The day factor is ``exp(level_log + trend_log_per_year * years from
    reference_date + month_log_effect[month])``, the trend's date held within
    ``trend_dates``; a part not estimated is null.
    """

    level_log: Annotated[float, Field(ge=-5, le=5)] = 0.0
    trend_log_per_year: Annotated[float, Field(ge=-10, le=10)] | None = None
    month_log_effect: list[Annotated[float, Field(ge=-5, le=5)]] | None = None
    reference_date: date
    trend_dates: tuple[date, date]
    default_start_date: date

    @field_validator("month_log_effect")
    @classmethod
    def _twelve(cls, v):
        if v is not None and len(v) != 12:
            raise ValueError(f"needs 12 values (January first), got {len(v)}")
        return v

    @field_validator("default_start_date")
    @classmethod
    def _monday(cls, v):
        if v.weekday() != 0:
            raise ValueError(f"{v} is not a Monday (simulated time 0 is Monday 00:00)")
        return v


class FittedDemand(_Open):
    """The keys the simulator reads; everything else is metadata."""

    version: Annotated[int, Field(ge=1)] = 1
    incidents_per_day: Annotated[float, Field(gt=0)]
    hour_of_week_profile: list[Annotated[float, Field(ge=0)]]
    spatial: FittedSpatial
    day_dispersion: DayDispersion | None = None
    types: list[FittedType] | None = None
    season: FittedSeason | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, v):
        if v > FORMAT_VERSION:
            raise ValueError(f"version {v} was written by a newer patrolsim (this one reads versions 1 to "
                             f"{FORMAT_VERSION})")
        return v

    @field_validator("hour_of_week_profile")
    @classmethod
    def _profile(cls, v):
        if len(v) != HOURS_PER_WEEK:
            raise ValueError(f"needs {HOURS_PER_WEEK} values (one per hour of the week, Monday 00:00 first), "
                             f"got {len(v)}")
        if sum(v) <= 0:
            raise ValueError("needs at least one positive value")
        return v

    @model_validator(mode="after")
    def _types(self):
        if self.types is not None:
            names = [t.name for t in self.types]
            if len(set(names)) != len(names):
                raise ValueError("types: names must be unique")
        return self


def _key(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def fitted_from_dict(data, *, file: str | None = None) -> dict:
    """Validate a parsed fitted file; returns it as a plain dict (metadata kept)."""
    if not isinstance(data, dict):
        raise DemandError("a fitted-demand file must be a mapping of keys to values", file=file, fix=FIX)
    try:
        model = FittedDemand.model_validate(data)
    except ValidationError as exc:
        errs = exc.errors()
        err = errs[0]
        key = _key(err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        more = f" ({len(errs) - 1} more problem(s) after this one)" if len(errs) > 1 else ""
        fix = "add this key" if err["type"] == "missing" else FIX
        raise DemandError(msg + more, file=file, key=key, fix=fix) from None
    out = model.model_dump()
    if out.get("types") == []:
        out["types"] = None
    return out


def read_fitted(path: Path) -> dict:
    """Read and validate a fitted-demand YAML file (strict YAML, see ``sim.strict_yaml``)."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise DemandError("fitted-demand file not found", file=file, key="demand.fitted",
                          fix="create it with patrolsim fit CALLS.csv --network ... --out " + path.name)
    if path.is_dir():
        raise DemandError("is a folder, not a fitted-demand file", file=file, key="demand.fitted",
                          fix="name the .yaml file patrolsim fit wrote")
    from sim.strict_yaml import loads, read_text

    data = loads(read_text(path, error=DemandError, what="fitted-demand"), file=file, error=DemandError, fix=FIX)
    if data is None:
        raise DemandError("is empty", file=file, fix=FIX)
    return fitted_from_dict(data, file=file)
