"""Which OpenStreetMap ways each travel mode may use, and at what speed.

The filters follow the spirit of osmnx's network types: cars on public roads
(no service alleys or parking aisles, nothing tagged private), bicycles on roads
without motorways plus cycleways and paths, people on foot everywhere except
motorways and trunk roads. Where ``maxspeed`` is tagged it is used for cars;
otherwise ``DEFAULT_SPEED_KPH`` by highway class (typical urban limits).
"""

from __future__ import annotations

import re

DRIVE_CLASSES = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "road",
})
BIKE_CLASSES = frozenset((DRIVE_CLASSES - {"motorway", "motorway_link", "trunk", "trunk_link"})
                         | {"cycleway", "path", "service", "track", "pedestrian", "bridleway"})
WALK_CLASSES = frozenset((DRIVE_CLASSES - {"motorway", "motorway_link", "trunk", "trunk_link"})
                         | {"footway", "pedestrian", "path", "steps", "service", "track",
                            "cycleway", "corridor", "bridleway", "elevator"})
MODE_CLASSES = {"drive": DRIVE_CLASSES, "bike": BIKE_CLASSES, "walk": WALK_CLASSES}

#: Car speed by highway class where maxspeed is not tagged (km/h; typical urban limits).
DEFAULT_SPEED_KPH = {
    "motorway": 90.0, "motorway_link": 50.0, "trunk": 70.0, "trunk_link": 45.0,
    "primary": 50.0, "primary_link": 40.0, "secondary": 45.0, "secondary_link": 35.0,
    "tertiary": 40.0, "tertiary_link": 30.0, "unclassified": 30.0, "residential": 30.0,
    "living_street": 10.0, "road": 30.0, "service": 15.0, "track": 15.0,
}
FALLBACK_SPEED_KPH = 25.0
BLOCKED_ACCESS = frozenset({"private", "no"})

_MPH = 1.609344


def first_tag(value) -> str | None:
    """osmnx merges ways into lists of tag values; take the first non-empty one."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        for v in value:
            if v not in (None, ""):
                return str(v)
        return None
    s = str(value)
    return s if s and s.lower() != "nan" else None


def parse_maxspeed_kph(value) -> float | None:
    """'25 mph' -> 40.2, '50' -> 50.0, ['30 mph', '25 mph'] -> the smaller; None if not a number."""
    values = value if isinstance(value, (list, tuple)) else [value]
    speeds = []
    for v in values:
        if v is None:
            continue
        m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", str(v).lower())
        if m:
            x = float(m.group(1))
            speeds.append(x * _MPH if m.group(2) == "mph" else x)
    return min(speeds) if speeds else None


#: Road hierarchy, most important first: a simplified edge that merges ways of several
#: classes takes the most important one (osmnx merges their values into a list in set
#: order, which changes from run to run; a rank makes the choice the same every time).
CLASS_RANK = (
    "motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link", "trunk_link",
    "primary_link", "secondary_link", "tertiary_link", "unclassified", "residential", "road",
    "living_street", "service", "track", "cycleway", "pedestrian", "bridleway", "path", "footway",
    "steps", "corridor", "elevator",
)
_RANK = {c: k for k, c in enumerate(CLASS_RANK)}


def highway_class(value) -> str | None:
    """The class of a way (or of ways merged by osmnx: the most important, by ``CLASS_RANK``).

    Values outside the known classes (and 'planned' or 'razed') are ignored.
    """
    values = value if isinstance(value, (list, tuple)) else [value]
    known = [str(v) for v in values if v is not None and str(v) in _RANK]
    if not known:
        return None
    return min(known, key=_RANK.__getitem__)


def allowed(mode: str, cls: str | None, tags: dict) -> bool:
    """May ``mode`` use a way of class ``cls`` with these tags?"""
    if cls is None:
        return False
    access = first_tag(tags.get("access"))
    specific = first_tag(tags.get({"drive": "motor_vehicle", "bike": "bicycle", "walk": "foot"}[mode]))
    if specific in ("yes", "designated", "permissive"):
        return True
    if specific in BLOCKED_ACCESS:
        return False
    if access in BLOCKED_ACCESS:
        return False
    if mode == "bike" and cls == "footway":
        return False
    return cls in MODE_CLASSES[mode]


def car_speed_kph(cls: str, tags: dict) -> float:
    tagged = parse_maxspeed_kph(tags.get("maxspeed"))
    if tagged is not None and tagged > 0:
        return tagged
    return DEFAULT_SPEED_KPH.get(cls, FALLBACK_SPEED_KPH)


def is_oneway_for(mode: str, tags: dict) -> bool:
    """Walkers ignore oneway; cyclists too where ``oneway:bicycle=no``; cars obey it."""
    if mode == "walk":
        return False
    ow = str(first_tag(tags.get("oneway")) or "").lower()
    if mode == "bike" and str(first_tag(tags.get("oneway:bicycle")) or "").lower() == "no":
        return False
    return ow in ("yes", "true", "1", "-1", "reverse")
