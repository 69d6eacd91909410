"""The scenario key reference: one line per key path, generated into docs/scenarios.md.

Every key of ``sim.scenario.Scenario`` must have an entry here; a test checks it,
so a new key cannot ship undocumented.
"""

from __future__ import annotations

import json
import typing

from pydantic import BaseModel

from sim import kinds
from sim.scenario import Scenario

KEY_DOCS = {
    "name": "Name of the scenario; results go to results/<name>/. Letters, digits, '.', '_' and '-'.",
    "description": "Free text shown in summaries.",
    "seed": "Random seed. Same seed and scenario, same numbers on any machine and any number of workers.",
    "horizon_days": "Simulated days per replication (time 0 is a Monday 00:00).",
    "warmup_days": "Days at the start that are simulated but not measured (units settle onto their beats). Must be shorter than `horizon_days`.",
    "replications": "Independent replications; metrics are means with 95% t-intervals across them.",
    "network": "The road network: exactly one of `synthetic` or `osm`.",
    "network.synthetic": "The embedded synthetic county town (no download); with `county`, a whole county.",
    "network.synthetic.seed": "Seed of the town's layout (independent of the run seed).",
    "network.synthetic.area_km2": "Area of the town's street grid (Guanghan's urban area is 17.4 km²). At least 4 blocks (`block_m`) a side.",
    "network.synthetic.population": "Residents; spread over street nodes with a dense core.",
    "network.synthetic.block_m": "Street spacing in metres.",
    "network.synthetic.arterial_every": "Every n-th street is an arterial (45-50 km/h); the outer ring is a 60 km/h road.",
    "network.synthetic.stations": "Police stations (派出所), on a ring around the centre; the city bureau is at the centre.",
    "network.synthetic.exits": "Roads leaving the town (city exits, where checkpoints stand).",
    "network.synthetic.drop_share": "Share of local street segments left out, so blocks are irregular.",
    "network.synthetic.county": "A whole county around the town, which becomes its city core at the centre: townships joined by rural roads (docs/county.md). Each township and the core must lie inside the box, clear of each other.",
    "network.synthetic.county.width_km": "East-west size of the county box, centred on the core (Guanghan: 27 x 20.3 km = 548 km²).",
    "network.synthetic.county.height_km": "North-south size of the county box.",
    "network.synthetic.county.rural_road_km": "Spacing of the rural roads, a grid of straight roads across the box (positions jittered by up to 20%).",
    "network.synthetic.county.rural_node_km": "Longest stretch of rural road between two nodes (places); long edges keep the node count low.",
    "network.synthetic.county.county_road_every": "Every n-th rural road (counted from the one through the core) is a county road at `county_road_kph`; the others run at `rural_kph`.",
    "network.synthetic.county.rural_kph": "Speed of the village roads (km/h).",
    "network.synthetic.county.county_road_kph": "Speed of the county roads, and of the link roads from the core's exits (km/h).",
    "network.synthetic.county.rural_population": "Residents outside the towns, spread along the rural roads (uniform per road metre). The county's people are the core's `population`, the townships' and these.",
    "network.synthetic.county.townships": "Townships (镇) as a list of {name (unique), x_km and y_km east and north of the core's centre, area_km2 (1.5; a square grid), population (20,000), block_m (200)}; each gets a street grid, one police station at its centre, and the rural roads that reach it.",
    "network.osm": "A real network from OpenStreetMap: exactly one of `file` or `place`, or `bbox` alone (download); `bbox` with `file` crops the file.",
    "network.osm.file": "An .osm, .osm.gz or .osm.bz2 XML export (a non-empty file, not a folder); relative paths start at the scenario file's folder.",
    "network.osm.place": "A place name for osmnx to download (needs a machine that is online).",
    "network.osm.bbox": "[south, west, north, east] in degrees: download this box, or crop `file` to it.",
    "network.osm.stations": "Police stations as a list of {name, lat, lon}; snapped to the nearest drivable node (error beyond `max_snap_m`).",
    "network.osm.n_stations": "Without `stations`: this many stations placed by population-weighted k-means.",
    "network.osm.bureau": "The city bureau {name, lat, lon} (base of the mobile reserve); default: the weighted centre.",
    "network.osm.exits": "City exits {name, lat, lon} for checkpoints; default: where major roads leave the extract.",
    "network.osm.population": "Residents, spread along the streets (uniform per street metre).",
    "network.speeds": "Travel speeds of each unit kind.",
    "network.max_snap_m": "Largest distance from a given station, bureau or exit to the road network.",
    "demand": "Where, when and what incidents happen.",
    "demand.incidents_per_day": "Mean incidents needing a unit per day (before alert-level multipliers).",
    "demand.hour_profile": "24 relative intensities by hour of day (00-23).",
    "demand.day_profile": "7 relative intensities by day of week (Monday first).",
    "demand.spatial": "`population`: incidents where people live; `uniform`: every street node alike.",
    "demand.call_handling_mean_s": "Mean seconds from the call to dispatch (exponential).",
    "demand.types": "Incident types: name, share, priority (1 most urgent), units_needed (2+ means backup), on_scene_mean_s, on_scene_cv and on_scene_dist (lognormal, or exponential as queueing theory assumes), major (counts for encirclement and may call the reserve).",
    "demand.hotspots": "Hot spots by time and place: {name, lat, lon, radius_m (<= 50,000), multiplier (<= 100), hours: [start, end)}; each within its radius of the network's bounding box.",
    "demand.fitted": "A fitted demand file written by `patrolsim fit` (replaces profile, places and types).",
    "demand.replay": "A call-data CSV to replay as it happened (trace-driven).",
    "demand.replay_columns": "Column mapping (YAML) for a replay file in a format patrolsim does not recognise (default: CALLS.columns.yaml beside the calls).",
    "demand.start_date": "Calendar date of simulated day 0 (a Monday, YYYY-MM-DD) for a fitted file's season and trend (docs/demand.md). Default: the Monday on or after the end of the fitting window (the weeks just after the data). Ignored by demand without a season.",
    "demand.replay_start": "Replay from this date (YYYY-MM-DD): time 0 becomes Monday 00:00 of its week.",
    "force": "The police force.",
    "force.total_officers": "All patrol-capable officers of the stations, across the four teams. Checked against the network once it loads: each unit of a kind needs at least 2 street nodes for its beat.",
    "force.crew": f"Officers per unit of each kind {{{', '.join(kinds.KIND_NAMES)}}}; a kind left out keeps its default.",
    "force.mix": f"Share of patrol officers in each kind {{{', '.join(kinds.KIND_NAMES)}}}.",
    "force.teams": "Teams in the roster (四班三运转: four); one leads each shift.",
    "force.max_duty_hours_per_day": "Most hours an officer may be on duty in any 24 hours. Levels that call in more teams than this allows get fewer (a warning names the level; its patrol share is then what the limit allows). Default 16: one double shift (two 8-hour shifts), never the 24-hour duty four teams on every shift would mean; see docs/model.md.",
    "force.shift_hours": "Length of a shift; crews change and alert levels take effect at shift changes. Must divide 24 hours (1, 2, 3, 4, 6, 8, 12, 24).",
    "force.turnout_s": "Seconds for a unit waiting at a station to leave after dispatch.",
    "force.standby_kind": "Kind of the standby units formed by on-duty officers not on patrol.",
    "force.checkpoints": "Fixed checkpoints (卡口): where, how many officers each, at which levels.",
    "force.checkpoints.at": "`exits` and/or `stations`.",
    "force.checkpoints.officers_each": "Officers at each checkpoint (taken from the officers on duty).",
    "force.checkpoints.levels": "Alert levels at which checkpoints are staffed.",
    "force.reserve": "The city bureau's mobile reserve (机动应急力量), in addition to `total_officers`.",
    "force.reserve.units": "Reserve units; they patrol the main roads and answer major incidents and calls no patrol unit can reach in time.",
    "force.reserve.kind": "Kind of the reserve units.",
    "force.reserve.crew": "Officers per reserve unit.",
    "alert": "Four-colour alert levels (四色警情, 等级布警).",
    "alert.level": "The level (fixed mode) or the starting level (calendar, adaptive).",
    "alert.mode": "`fixed`, `calendar` (levels from given days) or `adaptive` (decided daily from the previous days' incidents).",
    "alert.scope": "`city`: one level for all; `area`: each patrol area decides its own (adaptive).",
    "alert.patrol_share": "Share of the whole force on patrol at each level (doctrine: at least 1/5, 2/5, 3/5; red 4/5 is an assumption).",
    "alert.demand_multiplier": "Demand multiplier at each level (fixed and calendar modes).",
    "alert.calendar": "List of {day, level}: the level from that day on.",
    "alert.thresholds": "Adaptive mode: ratio of observed to expected daily incidents that raises the level {yellow, orange, red}.",
    "alert.lookback_days": "Adaptive mode: days of incidents averaged for the daily decision.",
    "alert.decision_hour": "Hour of the daily decision; it takes effect at the next shift change.",
    "lines": "The two lines of defence.",
    "lines.response_s": "Response line: first unit on scene within this many seconds of the call (5 minutes).",
    "lines.backup_s": "Backup line: second unit on scene within this many seconds of the call (10 minutes).",
    "lines.target_compliance": "A line holds when this share of incidents meets it.",
    "lines.priorities": "Priorities the two lines apply to (e.g. `[1, 2]`); incidents of other priorities are reported (`by_priority`) but not counted in the lines' compliance. Default (null): every priority.",
    "dispatch": "How the command centre picks units (point-to-point, 一级处警).",
    "dispatch.policy": "`nearest`: nearest available unit anywhere; `own_beat_first`: the beat's owner, then neighbouring beats, then anywhere.",
    "dispatch.backup_kinds": "Kinds that may be sent as second and further units.",
    "dispatch.reserve_for": "When the reserve is sent: `major` incidents, calls no patrol unit reaches within the line (`beyond_line`).",
    "dispatch.when_all_busy": "`queue`: requests wait for the next free unit (priority, then call time); `lost`: they are dropped (a loss system, as in Erlang B).",
    "dispatch.keep_free_for_priority": "Call stacking: `{priority: K}` sends a call of that priority only while at least K+1 units are free (on patrol or at the station, counting the one that would go); otherwise it is held in the queue until a clearance, the end of other work or a shift change leaves enough free. Each unit a call needs is held alike. Empty (default): no holding. A held call waits as long as that takes (with K at least the units on duty, until the drain ends).",
    "beats": "Grid deployment (网格化布警): patrol areas (巡区) and segments (巡段).",
    "beats.areas": "`city` (one area), `stations` (catchments by drive time), `grid` (cells of `cell_km`), `geojson` (your polygons).",
    "beats.cell_km": "Cell size for `areas: grid`.",
    "beats.geojson": "GeoJSON FeatureCollection of polygons (lon/lat) for `areas: geojson`; property `name` names each area.",
    "beats.segments": "`kmeans` (compact beats weighted by expected incidents) or `balanced` (even expected workload).",
    "beats.allocation": "Units per area by expected `workload` or `equal` numbers.",
    "patrol": "How free units patrol their beat (警力跟着警情走).",
    "patrol.strategy": "`uniform`: any beat street alike; `hotspot`: streets weighted by the expected incidents of each shift.",
    "patrol.circuit_stops": "Beat nodes on each shift's patrol circuit.",
    "encirclement": "合围: measuring how fast a major incident could be sealed off.",
    "encirclement.radius_m": "Radius of the cordon around the incident.",
    "availability": "Time a unit on duty is not free for dispatch. Episodes start at random (Poisson, per unit, each unit from its own random stream) while the unit is free on duty; one that falls while the unit is busy or off duty is dropped. All rates default to 0 (every unit always free when not on an incident): typical values below are guidance from the literature, not measured here.",
    "availability.out_of_service_per_h": "Out-of-service episodes (meals, reports, station and vehicle duty) per unit-hour. Assumption for guidance: 0.3 to 0.5 a unit-hour with 30 min mean puts a unit out of service 15-25% of its shift (patrol workload studies commonly find a third or more of a shift on non-call work; not measured here).",
    "availability.out_of_service_mean_s": "Mean length (exponential) of an out-of-service episode.",
    "availability.officer_initiated_per_h": "Officer-initiated activities (stops, checks) per unit-hour. Assumption for guidance: 0.3 to 1 a unit-hour, about 15 min each (US patrol data often show officer-initiated events as a third to half of all events; not measured here).",
    "availability.officer_initiated_mean_s": "Mean length (exponential) of an officer-initiated activity.",
    "availability.interrupt_officer_initiated": "Priorities that may pull a unit off officer-initiated work when no unit is free (the nearest such unit goes).",
    "availability.interrupt_out_of_service": "Priorities that may pull a unit out of service (a meal, a report) when no unit is free; default none.",
    "availability.out_of_service_by_hour": "24 multipliers of the out-of-service rate by hour of day (00 first; non-negative, at least one positive), scaled to mean 1 so `out_of_service_per_h` stays the daily average; e.g. meal breaks around 12-13 and 18-19 (docs/model.md). Default null: the same rate at every hour.",
    "availability.officer_initiated_by_hour": "24 multipliers of the officer-initiated rate by hour of day, as `out_of_service_by_hour`. Default null: the same rate at every hour.",
    "encirclement.roads": "Which roads leaving the radius must be held: `major` roads or `all`.",
}

# the keys each unit kind brings (network.speeds.*, dispatch.<kind>_*) are documented in sim.kinds
KEY_DOCS.update({f"network.speeds.{s.key}": s.doc for k in kinds.UNIT_KINDS for s in (k.response, k.patrol)})
KEY_DOCS.update({f"dispatch.{k.name}_max_travel_s": k.max_travel.doc for k in kinds.UNIT_KINDS if k.max_travel})
KEY_DOCS.update({f"dispatch.{k.name}_own_beat_only": k.own_beat_only_doc for k in kinds.UNIT_KINDS
                 if k.own_beat_only_doc})

LEAF_MODELS = ("Place",)  # {name, lat, lon}: documented as one value


def key_paths(model: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, object, object]]:
    """(key path, annotation, default) for every key, depth first."""
    out = []
    for name, field in model.model_fields.items():
        if name == "source_file":
            continue
        path = f"{prefix}{name}"
        out.append((path, field.annotation, field.get_default(call_default_factory=True)))
        for sub in _models_in(field.annotation):
            if sub.__name__ in LEAF_MODELS:
                continue
            out.extend(key_paths(sub, prefix=f"{path}."))
    return out


def _models_in(ann) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    if typing.get_origin(ann) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [a for a in typing.get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)]
    return []


def _type_text(ann) -> str:
    text = str(ann).replace("typing.", "").replace("<class '", "").replace("'>", "")
    text = text.replace("sim.scenario.", "").replace("Annotated[", "").replace("NoneType", "null")
    return text if len(text) < 60 else text[:57] + "..."


def _default_text(value) -> str:
    if type(value).__name__ == "PydanticUndefinedType":
        return "required"
    if isinstance(value, BaseModel):
        return "(section)"
    try:
        text = json.dumps(value if not isinstance(value, tuple) else list(value), default=str)
    except TypeError:
        text = str(value)
    return text if len(text) < 60 else text[:57] + "..."


def _bounds(items) -> list[str]:
    """'>= 0', '<= 86400', ... from pydantic constraint objects (annotated_types)."""
    out = []
    for m in items:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("max_length", "length <=")):
            v = getattr(m, attr, None)
            if v is not None and not isinstance(v, type):
                out.append(f"{sign} {v:,}" if isinstance(v, (int, float)) else f"{sign} {v}")
    return out


def _inner_bounds(ann) -> list[str]:
    """Bounds on the items of a list, tuple or dict value (e.g. each hour_profile entry)."""
    out = []
    for a in typing.get_args(ann):
        if typing.get_origin(a) is typing.Annotated:
            out += _bounds(a.__metadata__)
        elif typing.get_args(a):
            out += _inner_bounds(a)
    return out


def key_ranges(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, str]:
    """The allowed range of every numeric key, as documented in docs/scenarios.md ("" when none).

    Every number must also be finite: .inf and .nan are refused everywhere.
    """
    out = {}
    for name, field in model.model_fields.items():
        if name == "source_file":
            continue
        path = f"{prefix}{name}"
        bounds = _bounds(field.metadata)
        if not bounds:
            inner = _inner_bounds(field.annotation)
            bounds = [f"each {b}" for b in dict.fromkeys(inner)]
        out[path] = ", ".join(bounds)
        for sub in _models_in(field.annotation):
            if sub.__name__ not in LEAF_MODELS:
                out.update(key_ranges(sub, prefix=f"{path}."))
    return out


def markdown_table() -> str:
    rows = ["| key | default | range | meaning |", "|---|---|---|---|"]
    ranges = key_ranges()
    for path, _, default in key_paths():
        doc = KEY_DOCS.get(path, "")
        d = _default_text(default)
        rows.append(f"| `{path}` | {d if d == 'required' else f'`{d}`'} | {ranges.get(path, '')} | {doc} |")
    return "\n".join(rows)
