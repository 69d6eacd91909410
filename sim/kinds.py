"""The one registry of unit kinds, unit states and roles, alert levels and major road classes.

Why one place: a unit kind (car, bicycle, foot, ...) used to be spelled out in about ten
modules (scenario schema, force, travel, analytic estimate, ...). Here each kind is one
``UnitKind`` entry; the scenario schema (``sim.scenario``: the allowed kind names, the
``network.speeds`` keys, the crew and mix defaults, the per-kind dispatch keys) and the key
reference (``sim.scenario_docs``) are generated from ``UNIT_KINDS``, the travel of each kind
(``sim.world``) is built from its speeds, and the force forms units of every kind in the mix.
To add a kind, add one entry to ``UNIT_KINDS`` (docs/architecture.md, "Where to add a unit kind").

Nothing here imports anything but the standard library: every other module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# --------------------------------------------------------------------------- plain string enums
class PlainEnum(str, Enum):
    """A string enum that prints, formats and compares as its plain value."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# --------------------------------------------------------------------------- unit states and roles
class Role(PlainEnum):
    """What a unit is for (fixed for the run; ``sim.force`` assigns it)."""

    PATROL = "patrol"          # drives a circuit through its beat
    STANDBY = "standby"        # waits at its station
    CHECKPOINT = "checkpoint"  # holds a fixed post; never dispatched
    RESERVE = "reserve"        # mobile reserve: patrols, answers by the reserve rules


class Status(PlainEnum):
    """What a unit is doing now (changes at shifts, dispatches and clearances)."""

    PATROL = "patrol"          # free and moving (on its circuit, or driving to it or home)
    STATION = "station"        # free at its station
    BUSY = "busy"              # sent to an incident, until it clears the scene
    OFF = "off"                # off duty
    POST = "post"              # at its checkpoint


class Motion(PlainEnum):
    """How a unit with status ``patrol`` moves."""

    CIRCUIT = "circuit"        # on its patrol circuit
    LEG = "leg"                # a one-off drive to the circuit or to the station
    STILL = "still"            # standing where it just cleared a scene (or not moving at all)


# --------------------------------------------------------------------------- travel graphs
#: The road graphs a city has, one per way of moving (built by ``sim.network``): ``drive``
#: (streets cars may use, with road speeds), ``bike`` and ``walk`` (their own OSM ways; one
#: fixed speed each). A kind travels on one of them.
GRAPHS = ("drive", "bike", "walk")


# --------------------------------------------------------------------------- unit kinds
@dataclass(frozen=True)
class Speed:
    """How a kind's speed derives from one scenario key under ``network.speeds``.

    ``per`` is ``"road"`` (the key is a factor on each street's road speed: maxspeed or the
    class table) or ``"kph"`` (the key is one speed in km/h on every street).
    ``gt``/``ge``/``le`` bound the key in the schema.
    """

    key: str
    default: float
    per: str                        # road | kph
    doc: str
    gt: float | None = None
    ge: float | None = None
    le: float | None = None


@dataclass(frozen=True)
class MaxTravel:
    """A dispatch rule of a kind: it answers calls outside its own beat only within ``default_s``
    seconds of travel (``dispatch.<kind>_max_travel_s``; null in a scenario lifts the limit)."""

    default_s: float | None
    doc: str


@dataclass(frozen=True)
class UnitKind:
    """One kind of patrol unit.

    ``travel`` is the key the engine looks a unit's travel up by (its ``Unit.mode``): kinds
    that move on the same graph at different speeds need different keys; a key that is not a
    graph name is given the graph's places by ``sim.world`` (``City.with_travel``).
    ``last_metres_on_foot``: from the graph node nearest a place to the place itself the crew
    walks (at the foot kind's response speed) instead of riding at its own speed.
    """

    name: str
    graph: str                      # one of GRAPHS
    travel: str
    response: Speed                 # speed on a call
    patrol: Speed                   # speed while patrolling (same ``per`` as ``response``)
    crew: int                       # default officers per unit (force.crew)
    mix: float                      # default share of patrol officers (force.mix)
    doc: str
    last_metres_on_foot: bool = False
    max_travel: MaxTravel | None = None
    own_beat_only_doc: str | None = None   # the kind has a dispatch.<kind>_own_beat_only switch

    def patrol_scale(self, speeds) -> float:
        """Patrol time over response time on the same streets (response speed / patrol speed)."""
        return getattr(speeds, self.response.key) / getattr(speeds, self.patrol.key)

    def response_kph(self, speeds, *, road_kph: float) -> float:
        """Typical response speed: ``road_kph`` (a typical road speed of the graph) times the
        factor, or the fixed speed."""
        value = getattr(speeds, self.response.key)
        return road_kph * value if self.response.per == "road" else value


UNIT_KINDS: tuple[UnitKind, ...] = (
    UnitKind(
        name="car", graph="drive", travel="drive", crew=2, mix=0.6, last_metres_on_foot=True,
        doc="Patrol car on the drive graph at road speeds.",
        response=Speed("emergency_speed_factor", 1.25, "road", ge=0.5, le=3,
                       doc="Cars on a call drive at this multiple of the road speed (maxspeed, else the class table)."),
        patrol=Speed("car_patrol_factor", 0.6, "road", gt=0, le=1.5,
                     doc="Patrolling cars drive at this multiple of the road speed.")),
    UnitKind(
        name="bicycle", graph="bike", travel="bike", crew=1, mix=0.2,
        doc="Bicycle unit on the bike graph at one speed.",
        response=Speed("bicycle_kph", 15.0, "kph", ge=1, le=60, doc="Bicycle speed on a call."),
        patrol=Speed("bicycle_patrol_kph", 10.0, "kph", ge=1, le=60, doc="Bicycle speed on patrol."),
        max_travel=MaxTravel(900.0, "Bicycle units answer calls outside their beat only within this "
                                    "travel time (null: no limit).")),
    UnitKind(
        name="foot", graph="walk", travel="walk", crew=2, mix=0.2,
        doc="Foot patrol on the walk graph at one speed.",
        response=Speed("foot_kph", 6.0, "kph", ge=0.5, le=25, doc="Walking speed on a call (brisk walk or jog)."),
        patrol=Speed("foot_patrol_kph", 4.0, "kph", ge=0.5, le=25, doc="Walking speed on patrol."),
        max_travel=MaxTravel(600.0, "Foot units answer calls outside their beat only within this travel "
                                    "time (null: no limit)."),
        own_beat_only_doc="Foot units answer only calls in their own beat."),
    UnitKind(
        name="motorbike", graph="drive", travel="motorbike", crew=1, mix=0.0, last_metres_on_foot=True,
        doc="Motorbike (摩托车巡逻) on the drive graph at its own factor on road speeds: one officer, "
            "quicker through traffic than a car, slower on patrol.",
        response=Speed("motorbike_speed_factor", 1.35, "road", ge=0.5, le=3,
                       doc="Motorbikes on a call ride at this multiple of the road speed."),
        patrol=Speed("motorbike_patrol_factor", 0.5, "road", gt=0, le=1.5,
                     doc="Patrolling motorbikes ride at this multiple of the road speed.")),
)

KIND_NAMES: tuple[str, ...] = tuple(k.name for k in UNIT_KINDS)
#: Default kind of the standby units at the stations and of the mobile reserve.
DEFAULT_STATION_KIND = "car"
#: The kind whose response speed is walking speed (the last metres of a car's trip).
FOOT = "foot"


def kind(name: str) -> UnitKind:
    """The registry entry of ``name`` (KeyError naming the known kinds otherwise)."""
    for k in UNIT_KINDS:
        if k.name == name:
            return k
    raise KeyError(f"unknown unit kind {name!r}; known: {', '.join(KIND_NAMES)}")


def travel_of(name: str) -> str:
    """The travel key of a unit kind; checkpoints (not a patrol kind) stand on the drive graph."""
    return "drive" if name == "checkpoint" else kind(name).travel


def graph_of_travel(units: tuple[UnitKind, ...] = UNIT_KINDS) -> dict[str, str]:
    """Travel key -> graph name, for every kind (and the drive graph for checkpoints)."""
    out = {"drive": "drive"}
    for k in units:
        out[k.travel] = k.graph
    return out


def check_registry(units: tuple[UnitKind, ...] = UNIT_KINDS) -> None:
    """Registry mistakes fail at import, naming the entry, not deep inside a run."""
    names, keys, travel = set(), set(), {}
    for k in units:
        if k.name in names or k.name == "checkpoint":
            raise ValueError(f"unit kind {k.name!r} is registered twice or is a reserved name")
        names.add(k.name)
        if k.graph not in GRAPHS:
            raise ValueError(f"unit kind {k.name!r}: graph {k.graph!r} is not one of {GRAPHS}")
        if k.response.per != k.patrol.per or k.response.per not in ("road", "kph"):
            raise ValueError(f"unit kind {k.name!r}: response and patrol speeds must both be 'road' or 'kph'")
        for s in (k.response, k.patrol):
            if s.key in keys:
                raise ValueError(f"unit kind {k.name!r}: speed key {s.key!r} is used twice")
            keys.add(s.key)
        prev = travel.setdefault(k.travel, (k.graph, k.response.key, k.patrol.key))
        if prev != (k.graph, k.response.key, k.patrol.key):
            raise ValueError(f"unit kind {k.name!r}: travel key {k.travel!r} is shared with a kind of other "
                             "graph or speeds; give it its own travel key")
        if k.travel in GRAPHS and k.travel != k.graph:
            raise ValueError(f"unit kind {k.name!r}: travel key {k.travel!r} names another graph")
    if FOOT not in names or next(k for k in units if k.name == FOOT).response.per != "kph":
        raise ValueError("the registry needs the foot kind with a km/h speed (walking speed for the last metres)")


check_registry()


# --------------------------------------------------------------------------- alert levels
@dataclass(frozen=True)
class AlertLevel:
    """One of the four colours (四色警情), in rising order."""

    name: str
    patrol_share: float             # default share of the whole force on patrol
    demand_multiplier: float = 1.0  # default demand multiplier
    threshold: float | None = None  # default adaptive threshold (observed / expected daily calls)


ALERT_LEVELS_SPEC: tuple[AlertLevel, ...] = (
    AlertLevel("green", 0.2),
    AlertLevel("yellow", 0.4, threshold=1.25),
    AlertLevel("orange", 0.6, threshold=1.5),
    AlertLevel("red", 0.8, threshold=2.0),
)
#: The levels, lowest first (green < yellow < orange < red).
LEVELS: tuple[str, ...] = tuple(a.name for a in ALERT_LEVELS_SPEC)
RANK = {lvl: i for i, lvl in enumerate(LEVELS)}
#: Default levels at which checkpoints are staffed.
DEFAULT_CHECKPOINT_LEVELS: tuple[str, ...] = ("orange", "red")
#: The doctrine's floor: never less than 1/5 of the force on patrol.
MIN_PATROL_SHARE = 0.2


# --------------------------------------------------------------------------- road classes
#: OSM highway classes counted as major roads: where the mobile reserve patrols, which roads an
#: encirclement must hold (``encirclement.roads: major``), and where OSM city exits are sought
#: when none are given. The synthetic town's ring, arterials and exits are primary, secondary
#: and trunk. (One set: the two former copies differed only by ``secondary_link``, which changes
#: no exit of the stored check networks.)
MAJOR_ROAD_CLASSES: tuple[str, ...] = ("motorway", "trunk", "primary", "secondary", "motorway_link",
                                       "trunk_link", "primary_link", "secondary_link")
