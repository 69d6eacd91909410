"""The scenario: every input of a run, validated and frozen.

A scenario is plain data (pydantic models, extra keys forbidden). It is built
from a dict (``scenario_from_dict``); reading YAML and applying ``--set``
overrides happen in ``sim.scenario_file`` so that the core never imports yaml.
Validation errors become one ``ScenarioError`` line naming the file, the key path
and a fix (worded by ``sim.scenario_errors``). Paths inside a scenario are resolved against the scenario file's folder.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, create_model, field_validator,
                      model_validator)

from sim import kinds
from sim.errors import ScenarioError
from sim.scenario_errors import key_path, validation_to_error  # noqa: F401 (key_path: importable from here too)

# The kind and level lists come from the one registry (sim.kinds): a kind added there is a valid
# value of every kind key below, and brings its speed, crew, mix and dispatch keys with it.
ALERT_LEVELS = kinds.LEVELS
UNIT_KINDS = kinds.KIND_NAMES
KindName = Literal[kinds.KIND_NAMES]
Level = Literal[kinds.LEVELS]
RaisedLevel = Literal[kinds.LEVELS[1:]]      # the levels an adaptive threshold can raise to

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
# Ranges the model can run: every number is finite (``allow_inf_nan=False``) and bounded, so a
# typo like 1e300 or .inf is an error here instead of an overflow or a silent 0% inside the model.
DAY_S = 86_400.0
Seconds = Annotated[float, Field(gt=0, le=DAY_S)]                # a duration up to a day
NonNegSeconds = Annotated[float, Field(ge=0, le=DAY_S)]
Relative = Annotated[float, Field(ge=0, le=1000)]                # a relative intensity or weight
Multiplier = Annotated[float, Field(gt=0, le=100)]
Metres = Annotated[float, Field(gt=0, le=100_000)]
Population = Annotated[int, Field(gt=0, le=50_000_000)]


def _admits_bool(ann) -> bool:
    """Whether a field's annotation accepts true/false anywhere (``major: bool``, ``list[Scalar]``)."""
    if ann is bool:
        return True
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return True                      # a sub-section checks its own fields
    return any(_admits_bool(a) for a in getattr(ann, "__args__", ()) or ())


def _has_bool(value) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, dict):
        return any(_has_bool(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_bool(v) for v in value)
    return False


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value, info: ValidationInfo):
        """YAML reads ``true`` as a bool and pydantic would take it as 1: a number key refuses it."""
        field = cls.model_fields.get(info.field_name)
        if field is not None and _has_bool(value) and not _admits_bool(field.annotation):
            raise ValueError("expected a number, got true/false")
        return value


# --------------------------------------------------------------------------- network
class Place(_Model):
    """A named place given by coordinates (WGS84 degrees)."""

    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Township(_Model):
    """A township (镇) of a synthetic county: a small street grid around its centre, with one station."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    x_km: Annotated[float, Field(ge=-100, le=100)]
    y_km: Annotated[float, Field(ge=-100, le=100)]
    area_km2: Annotated[float, Field(ge=0.05, le=100)] = 1.5
    population: Population = 20_000
    block_m: Annotated[float, Field(ge=50, le=1000)] = 200.0


class CountySpec(_Model):
    """A whole county around the synthetic town: townships joined by a grid of rural roads.

    The town of ``network.synthetic`` is the county's city core, at the centre of a
    ``width_km`` x ``height_km`` box; townships sit at ``x_km``/``y_km`` from that centre.
    Where each key's value is checked against the others: ``sim.validate``.
    """

    width_km: Annotated[float, Field(ge=2, le=200)] = 27.0
    height_km: Annotated[float, Field(ge=2, le=200)] = 20.3
    rural_road_km: Annotated[float, Field(ge=0.5, le=20)] = 2.0
    rural_node_km: Annotated[float, Field(ge=0.2, le=10)] = 1.0
    county_road_every: Annotated[int, Field(ge=1, le=20)] = 3
    rural_kph: Annotated[float, Field(ge=5, le=120)] = 40.0
    county_road_kph: Annotated[float, Field(ge=5, le=120)] = 60.0
    rural_population: Annotated[int, Field(ge=0, le=50_000_000)] = 0
    townships: Annotated[list[Township], Field(max_length=60)] = Field(default_factory=list)


class SyntheticNetwork(_Model):
    """The embedded synthetic county town (no download needed); with ``county``, a whole county."""

    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 7
    area_km2: Annotated[float, Field(ge=0.05, le=2500)] = 17.4
    population: Population = 200_000
    block_m: Annotated[float, Field(ge=50, le=1000)] = 150.0
    arterial_every: Annotated[int, Field(ge=2, le=50)] = 5
    stations: Annotated[int, Field(ge=1, le=50)] = 4
    exits: Annotated[int, Field(ge=0, le=16)] = 6
    drop_share: Annotated[float, Field(ge=0, le=0.5)] = 0.12
    county: CountySpec | None = None


class OsmNetwork(_Model):
    """A road network from an OpenStreetMap XML file, a place name or a bounding box."""

    file: str | None = None
    place: str | None = None
    bbox: tuple[float, float, float, float] | None = Field(
        default=None, description="south, west, north, east in degrees")
    stations: list[Place] = Field(default_factory=list)
    n_stations: Annotated[int, Field(ge=1, le=50)] = 4
    bureau: Place | None = None
    exits: list[Place] = Field(default_factory=list)
    population: Population = 50_000

    @model_validator(mode="after")
    def _one_source(self) -> "OsmNetwork":
        given = [k for k in ("file", "place", "bbox") if getattr(self, k) is not None]
        if not given or (self.file and self.place) or (self.place and self.bbox):
            raise ValueError("give one of file or place, or bbox alone (bbox with file crops the file)"
                             + (f"; got {', '.join(given)}" if given else ""))
        if self.bbox is not None:
            s, w, n, e = self.bbox
            if not all(-90 <= v <= 90 for v in (s, n)) or not all(-180 <= v <= 180 for v in (w, e)):
                raise ValueError("bbox latitudes must lie in [-90, 90] and longitudes in [-180, 180]")
            if not (s < n and w < e):
                raise ValueError("bbox must be [south, west, north, east] with south < north and west < east")
        return self


def _bounded(spec: kinds.Speed):
    return Annotated[float, Field(gt=spec.gt, ge=spec.ge, le=spec.le, description=spec.doc)]


#: Travel speeds: two keys per unit kind (response and patrol), generated from ``sim.kinds``.
Speeds = create_model(
    "Speeds", __base__=_Model, __module__=__name__,
    **{s.key: (_bounded(s), s.default) for k in kinds.UNIT_KINDS for s in (k.response, k.patrol)})
Speeds.__doc__ = ("Travel speeds of each unit kind (keys from sim.kinds): a factor on road speeds "
                  "(cars) or one speed in km/h.")


class NetworkSpec(_Model):
    synthetic: SyntheticNetwork | None = None
    osm: OsmNetwork | None = None
    speeds: Speeds = Speeds()
    max_snap_m: Metres = 300.0

    @model_validator(mode="after")
    def _one_kind(self) -> "NetworkSpec":
        if self.synthetic is None and self.osm is None:
            raise ValueError("give network.synthetic or network.osm")
        if self.synthetic is not None and self.osm is not None:
            raise ValueError("give network.synthetic or network.osm, not both "
                             "(on the command line: --set network.synthetic=null)")
        return self


# --------------------------------------------------------------------------- demand
class IncidentType(_Model):
    """A class of incident: how often, how urgent, how many units, how long on scene."""

    name: str
    share: Annotated[float, Field(gt=0, le=1000)]
    priority: Annotated[int, Field(ge=1, le=9)] = 2
    units_needed: Annotated[int, Field(ge=1, le=20)] = 1
    on_scene_mean_s: Seconds = 1800.0
    on_scene_cv: Annotated[float, Field(ge=0, le=5)] = 0.6
    on_scene_dist: Literal["lognormal", "exponential"] = "lognormal"
    major: bool = False


class Hotspot(_Model):
    """A place where calls concentrate at some hours (e.g. a night market 20:00-02:00)."""

    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: Annotated[float, Field(gt=0, le=50_000)] = 300.0
    multiplier: Multiplier = 3.0
    hours: tuple[Annotated[int, Field(ge=0, le=24)], Annotated[int, Field(ge=0, le=24)]] = (0, 24)


def _default_types() -> list[IncidentType]:
    return [
        IncidentType(name="violent", share=0.10, priority=1, units_needed=2, on_scene_mean_s=2700,
                     major=True),
        IncidentType(name="disturbance", share=0.30, priority=2, units_needed=1, on_scene_mean_s=1500),
        IncidentType(name="traffic", share=0.20, priority=2, units_needed=1, on_scene_mean_s=1800),
        IncidentType(name="theft", share=0.25, priority=3, units_needed=1, on_scene_mean_s=2400),
        IncidentType(name="assistance", share=0.15, priority=3, units_needed=1, on_scene_mean_s=1200),
    ]


#: Relative call intensity by hour of day (00-23), a typical urban police profile:
#: low before dawn, rising through the day, a peak in the evening.
DEFAULT_HOUR_PROFILE = (0.75, 0.6, 0.5, 0.4, 0.35, 0.35, 0.45, 0.65, 0.85, 0.95, 1.0, 1.05,
                        1.1, 1.1, 1.1, 1.15, 1.2, 1.3, 1.4, 1.45, 1.45, 1.35, 1.15, 0.95)


class DemandSpec(_Model):
    incidents_per_day: Annotated[float, Field(gt=0, le=100_000)] = 120.0
    hour_profile: tuple[Relative, ...] = DEFAULT_HOUR_PROFILE
    day_profile: tuple[Relative, ...] = (1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.1)
    spatial: Literal["population", "uniform"] = "population"
    call_handling_mean_s: NonNegSeconds = 60.0
    types: list[IncidentType] = Field(default_factory=_default_types)
    hotspots: list[Hotspot] = Field(default_factory=list)
    fitted: str | None = None
    replay: str | None = None
    replay_columns: str | None = None
    replay_start: str | None = None
    start_date: date | None = None

    @field_validator("start_date", mode="after")
    @classmethod
    def _monday(cls, v: date | None) -> date | None:
        """Simulated time 0 is Monday 00:00, so the calendar date of day 0 must be a Monday."""
        if v is not None and v.weekday() != 0:
            monday = v - timedelta(days=v.weekday())
            raise ValueError(f"{v.isoformat()} is a {v.strftime('%A')}; simulated time 0 is Monday 00:00, so "
                             f"give a Monday (the Monday of that week is {monday.isoformat()})")
        return v

    @model_validator(mode="after")
    def _check(self) -> "DemandSpec":
        if len(self.hour_profile) != 24:
            raise ValueError(f"hour_profile needs 24 values (one per hour), got {len(self.hour_profile)}")
        if len(self.day_profile) != 7:
            raise ValueError(f"day_profile needs 7 values (Monday first), got {len(self.day_profile)}")
        if sum(self.hour_profile) <= 0 or sum(self.day_profile) <= 0:
            raise ValueError("hour_profile and day_profile need at least one positive value")
        if not self.types:
            raise ValueError("types needs at least one incident type")
        names = [t.name for t in self.types]
        if len(set(names)) != len(names):
            raise ValueError("incident type names must be unique")
        if self.fitted and self.replay:
            raise ValueError("give at most one of fitted or replay")
        return self


# --------------------------------------------------------------------------- force
class ForceSpec(_Model):
    total_officers: Annotated[int, Field(ge=1, le=100_000)] = 240
    crew: dict[KindName, Annotated[int, Field(ge=1, le=10)]] = Field(
        default_factory=lambda: {k.name: k.crew for k in kinds.UNIT_KINDS})
    mix: dict[KindName, Share] = Field(
        default_factory=lambda: {k.name: k.mix for k in kinds.UNIT_KINDS})
    teams: Annotated[int, Field(ge=1, le=10)] = 4
    shift_hours: Annotated[float, Field(ge=1, le=24)] = 8.0
    max_duty_hours_per_day: Annotated[float, Field(ge=1, le=24)] = 16.0
    turnout_s: Annotated[float, Field(ge=0, le=3600)] = 120.0
    standby_kind: KindName = kinds.DEFAULT_STATION_KIND
    checkpoints: "CheckpointSpec" = Field(default_factory=lambda: CheckpointSpec())
    reserve: "ReserveSpec" = Field(default_factory=lambda: ReserveSpec())

    @field_validator("crew", mode="after")
    @classmethod
    def _default_crews(cls, crew: dict) -> dict:
        """A kind left out of ``crew`` keeps the registry's crew (so a mix may name any kind)."""
        return {k.name: crew.get(k.name, k.crew) for k in kinds.UNIT_KINDS}

    @model_validator(mode="after")
    def _check(self) -> "ForceSpec":
        if sum(self.mix.values()) <= 0:
            raise ValueError("mix needs at least one kind with a positive share")
        return self


class CheckpointSpec(_Model):
    """Fixed checkpoints (卡口, 设卡堵截): staffed posts that never patrol."""

    at: list[Literal["exits", "stations"]] = Field(default_factory=lambda: ["exits"])
    officers_each: Annotated[int, Field(ge=0, le=20)] = 2
    levels: list[Level] = Field(default_factory=lambda: list(kinds.DEFAULT_CHECKPOINT_LEVELS))


class ReserveSpec(_Model):
    """The city bureau's mobile reserve (机动应急力量), in addition to ``total_officers``."""

    units: Annotated[int, Field(ge=0, le=200)] = 0
    kind: KindName = kinds.DEFAULT_STATION_KIND
    crew: Annotated[int, Field(ge=1, le=10)] = 2



class CalendarEntry(_Model):
    day: Annotated[int, Field(ge=0, le=3660)]
    level: Level


class AlertSpec(_Model):
    level: Level = kinds.LEVELS[0]
    mode: Literal["fixed", "calendar", "adaptive"] = "fixed"
    scope: Literal["city", "area"] = "city"
    patrol_share: dict[Level, Share] = Field(
        default_factory=lambda: {a.name: a.patrol_share for a in kinds.ALERT_LEVELS_SPEC})
    demand_multiplier: dict[Level, Multiplier] = Field(
        default_factory=lambda: {a.name: a.demand_multiplier for a in kinds.ALERT_LEVELS_SPEC})
    calendar: list[CalendarEntry] = Field(default_factory=list)
    thresholds: dict[RaisedLevel, Multiplier] = Field(
        default_factory=lambda: {a.name: a.threshold for a in kinds.ALERT_LEVELS_SPEC if a.threshold is not None})
    lookback_days: Annotated[int, Field(ge=1, le=60)] = 3
    decision_hour: Annotated[float, Field(ge=0, lt=24)] = 0.0

    @model_validator(mode="after")
    def _check(self) -> "AlertSpec":
        missing = [lvl for lvl in ALERT_LEVELS if lvl not in self.patrol_share]
        if missing:
            raise ValueError(f"patrol_share is missing {', '.join(missing)}")
        shares = [self.patrol_share[lvl] for lvl in ALERT_LEVELS]
        if any(b < a for a, b in zip(shares, shares[1:])):
            raise ValueError(f"patrol_share must not fall as the level rises ({' <= '.join(ALERT_LEVELS)})")
        lowest = ALERT_LEVELS[0]
        if self.patrol_share[lowest] < kinds.MIN_PATROL_SHARE - 1e-9:
            raise ValueError(f"patrol_share.{lowest} is below 1/5: the doctrine never puts less than "
                             "1/5 of the force on patrol")
        missing = [lvl for lvl in ALERT_LEVELS if lvl not in self.demand_multiplier]
        if missing:
            raise ValueError(f"demand_multiplier is missing {', '.join(missing)}")
        if self.mode == "calendar" and not self.calendar:
            raise ValueError("mode calendar needs a calendar: [{day: 0, level: green}, ...]")
        t = self.thresholds
        order = [t[k] for k in ALERT_LEVELS[1:] if k in t]
        if any(b <= a for a, b in zip(order, order[1:])):
            raise ValueError(f"thresholds must rise from {' to '.join(ALERT_LEVELS[1:])}")
        return self


class BeatsSpec(_Model):
    """How the town is divided: patrol areas (巡区), then segments (巡段, one per unit)."""

    areas: Literal["city", "stations", "grid", "geojson"] = "city"
    cell_km: Annotated[float, Field(gt=0.05, le=50)] = 1.0
    geojson: str | None = None
    segments: Literal["kmeans", "balanced"] = "kmeans"
    allocation: Literal["workload", "equal"] = "workload"

    @model_validator(mode="after")
    def _check(self) -> "BeatsSpec":
        if self.areas == "geojson" and not self.geojson:
            raise ValueError("areas: geojson needs beats.geojson: PATH")
        return self


class PatrolSpec(_Model):
    """How free units patrol their beat (警力跟着警情走: strategy hotspot)."""

    strategy: Literal["uniform", "hotspot"] = "uniform"
    circuit_stops: Annotated[int, Field(ge=1, le=200)] = 10


class EncirclementSpec(_Model):
    """合围: how fast units and checkpoints could hold every road leaving a radius around a major incident."""

    radius_m: Annotated[float, Field(gt=0, le=50_000)] = 1000.0
    roads: Literal["major", "all"] = "major"


class LinesSpec(_Model):
    response_s: Seconds = 300.0
    backup_s: Seconds = 600.0
    target_compliance: Annotated[float, Field(gt=0, le=1)] = 0.9
    # None: every priority counts; an empty list would leave the lines nothing to count
    priorities: Annotated[list[Annotated[int, Field(ge=1, le=9)]], Field(min_length=1)] | None = None


class AvailabilitySpec(_Model):
    """Time a unit on duty is not free for dispatch (zero by default: every free minute is free)."""

    out_of_service_per_h: Annotated[float, Field(ge=0, le=10)] = 0.0
    out_of_service_mean_s: Seconds = 1800.0
    officer_initiated_per_h: Annotated[float, Field(ge=0, le=10)] = 0.0
    officer_initiated_mean_s: Seconds = 900.0
    interrupt_officer_initiated: list[Annotated[int, Field(ge=1, le=9)]] = Field(default_factory=lambda: [1])
    interrupt_out_of_service: list[Annotated[int, Field(ge=1, le=9)]] = Field(default_factory=list)
    out_of_service_by_hour: tuple[Relative, ...] | None = None
    officer_initiated_by_hour: tuple[Relative, ...] | None = None

    @field_validator("out_of_service_by_hour", "officer_initiated_by_hour", mode="after")
    @classmethod
    def _hour_multipliers(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        """24 multipliers of the rate by hour of day (scaled to mean 1 by the engine)."""
        if v is None:
            return v
        if len(v) != 24:
            raise ValueError(f"needs 24 multipliers (one per hour from 00 to 23), got {len(v)}")
        if sum(v) <= 0:
            raise ValueError("needs at least one positive multiplier (they are scaled to mean 1)")
        return v


def _dispatch_kind_fields() -> dict:
    """The per-kind dispatch keys of the registry: ``<kind>_max_travel_s`` and ``<kind>_own_beat_only``."""
    out = {}
    for k in kinds.UNIT_KINDS:
        if k.max_travel is not None:
            out[f"{k.name}_max_travel_s"] = (Seconds | None, Field(k.max_travel.default_s,
                                                                         description=k.max_travel.doc))
    for k in kinds.UNIT_KINDS:
        if k.own_beat_only_doc is not None:
            out[f"{k.name}_own_beat_only"] = (bool, Field(False, description=k.own_beat_only_doc))
    return out


class _DispatchChecks(_Model):
    """Checks across the dispatch keys (the keys themselves are made by ``create_model`` below)."""

    @model_validator(mode="after")
    def _held_calls_queue(self):
        """A held call waits in the queue, so holding needs one (a loss system drops instead)."""
        if self.keep_free_for_priority and self.when_all_busy == "lost":
            raise ValueError("keep_free_for_priority holds calls in the queue: set when_all_busy: queue "
                             "or remove keep_free_for_priority")
        return self


#: Which unit the command centre sends (point-to-point dispatch, 一级处警); the per-kind keys come
#: from ``sim.kinds``.
DispatchSpec = create_model(
    "DispatchSpec", __base__=_DispatchChecks, __module__=__name__,
    policy=(Literal["nearest", "own_beat_first"], "nearest"),
    **_dispatch_kind_fields(),
    backup_kinds=(list[KindName], Field(default_factory=lambda: list(kinds.KIND_NAMES))),
    reserve_for=(list[Literal["major", "beyond_line"]], Field(default_factory=lambda: ["major", "beyond_line"])),
    when_all_busy=(Literal["queue", "lost"], "queue"),
    keep_free_for_priority=(dict[Annotated[int, Field(ge=1, le=9)], Annotated[int, Field(ge=0, le=10_000)]],
                            Field(default_factory=dict)))
DispatchSpec.__doc__ = "Which unit the command centre sends (point-to-point dispatch, 一级处警)."


class Scenario(_Model):
    """Everything a run needs. ``source_dir`` anchors relative paths (not a YAML key)."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str = ""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    horizon_days: Annotated[float, Field(gt=0, le=3660)] = 7.0
    warmup_days: Annotated[float, Field(ge=0, le=365)] = 1.0
    replications: Annotated[int, Field(ge=1, le=100_000)] = 5
    network: NetworkSpec = NetworkSpec(synthetic=SyntheticNetwork())
    demand: DemandSpec = DemandSpec()
    force: ForceSpec = ForceSpec()
    alert: AlertSpec = AlertSpec()
    lines: LinesSpec = LinesSpec()
    dispatch: DispatchSpec = DispatchSpec()
    beats: BeatsSpec = BeatsSpec()
    patrol: PatrolSpec = PatrolSpec()
    encirclement: EncirclementSpec = EncirclementSpec()
    availability: AvailabilitySpec = AvailabilitySpec()
    source_file: str | None = Field(default=None, exclude=True)

    @property
    def source_dir(self) -> Path:
        return Path(self.source_file).resolve().parent if self.source_file else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        """A path from the scenario, relative to the scenario file's folder."""
        p = Path(value).expanduser()
        return Path(os.path.normpath(p if p.is_absolute() else (self.source_dir / p)))

    def to_dict(self) -> dict:
        return self.model_dump(mode="json", exclude={"source_file"})

    def at_level(self, level: str) -> "Scenario":
        """The same scenario at a fixed alert level."""
        return self.model_copy(update={"alert": self.alert.model_copy(update={"level": level, "mode": "fixed"})})


def scenario_from_dict(data: dict, *, source_file: str | None = None) -> Scenario:
    """Validate a plain dict into a frozen Scenario, raising ScenarioError on any problem."""
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a mapping of keys to values", file=source_file,
                            fix="start the file with 'name: my-scenario'")
    if "source_file" in data:
        raise ScenarioError("unknown key", file=source_file, key="source_file", fix="remove it")
    try:
        scenario = Scenario.model_validate({**data, "source_file": source_file})
    except ValidationError as exc:
        raise validation_to_error(exc, file=source_file, model=Scenario) from None
    from sim.validate import check_scenario

    check_scenario(scenario)
    return scenario


ForceSpec.model_rebuild()
Scenario.model_rebuild()
