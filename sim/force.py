"""The force: which units exist, of what kind, where they are based, which beat each owns at each level.

For every alert level the plan can meet (one for a fixed level, all four for
adaptive levels) the roster (``sim.roster``) gives the officers on duty, on patrol,
at checkpoints and on standby. Patrol officers form units of each kind by
``force.mix`` and ``force.crew``, every officer in a unit (``sim.crews``: the officers
left over form one short crew of the kind); units are split across patrol areas by expected
workload (or equally), and each area's units of a kind split its places into
segments (``sim.beats``). Units form a pool: unit ``j`` of an area and kind is on
patrol at a level when the level needs at least ``j + 1`` such units, and then
owns segment ``j`` of that level's division. Standby units wait at the stations
and respond after a turnout delay; checkpoints stand at city exits (and/or
stations) and never move; the mobile reserve patrols the main roads from the
bureau. Nothing here imports simpy: the plan is data the engine executes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim import beats as beatlib
from sim import kinds as kindreg
from sim.alert import AlertPlan
from sim.kinds import LEVELS, MAJOR_ROAD_CLASSES
from sim.errors import ScenarioError
from sim.beats import weighted_kmeans  # noqa: F401  (re-exported: part of this module's API)
from sim.crews import crews_per_kind, slot_levels, split_crews, units_per_kind  # noqa: F401  (re-exported)
from sim.network.graph import City
from sim.roster import DutyLimitWarning, Staffing, staffing

if TYPE_CHECKING:
    from sim.scenario import Scenario

KINDS = kindreg.KIND_NAMES            # patrol unit kinds, in registry order (sim.kinds)
MAJOR_ROADS = MAJOR_ROAD_CLASSES      # where the reserve patrols and cordons hold (sim.kinds)


@dataclass(frozen=True)
class Unit:
    """One unit of the pool.

    ``beat``/``beat_places`` are its assignment at the deployment's nominal level;
    ``assignments`` maps every level at which it patrols to (beat id, places);
    ``duty_levels`` are the levels at which it is on duty at all (None: always).
    """

    uid: int
    name: str
    kind: str                 # a kind of sim.kinds (checkpoints: "checkpoint")
    role: str                 # patrol | standby | checkpoint | reserve
    crew: int
    station: int              # index into city.station_place (-1: the bureau or an exit)
    beat: int                 # beat id at the nominal level (-1 if none)
    beat_places: np.ndarray   # place indices of that beat
    home_place: int = -1      # where it is based; -1 means the station's place
    area: int = 0
    assignments: dict = field(default_factory=dict)
    duty_levels: frozenset | None = None

    @property
    def mode(self) -> str:
        """The travel key (sim.kinds): which graph and speeds the unit moves with."""
        return kindreg.travel_of(self.kind)

    def on_duty(self, level: str) -> bool:
        return self.duty_levels is None or level in self.duty_levels

    def assignment(self, level: str) -> tuple[int, np.ndarray] | None:
        if self.assignments:
            return self.assignments.get(level)
        return (self.beat, self.beat_places) if self.role in ("patrol", "reserve") else None


@dataclass(frozen=True)
class Deployment:
    units: tuple[Unit, ...]
    alert_level: str
    patrol_officers: int
    standby_officers: int
    on_duty_officers: int
    staffing: dict[str, Staffing] = field(default_factory=dict)
    areas: beatlib.Areas | None = None
    beats: list = field(default_factory=list)     # one dict per beat (level, kind, area, stats)
    beat_places: dict = field(default_factory=dict)  # beat id -> places
    beat_neighbours: dict = field(default_factory=dict)  # beat id -> set of beat ids sharing a street
    beat_index: dict = field(default_factory=dict)   # (level, kind) -> beat id per place (-1 none)
    alert_plan: AlertPlan | None = None
    shift_s: float = 8 * 3600.0
    teams: int = 4

    def count(self, *, kind: str | None = None, role: str | None = None, level: str | None = None) -> int:
        """Units on duty at ``level`` (default: the nominal level) of a kind and role."""
        level = level or self.alert_level
        return sum(1 for u in self.units if (kind is None or u.kind == kind)
                   and (role is None or u.role == role) and u.on_duty(level)
                   and (u.role not in ("patrol",) or u.assignment(level) is not None))

    def officers(self, *, kind: str | None = None, role: str | None = None, level: str | None = None) -> int:
        """Officers in the units ``count`` counts (the sum of their crews)."""
        level = level or self.alert_level
        return sum(u.crew for u in self.units if (kind is None or u.kind == kind)
                   and (role is None or u.role == role) and u.on_duty(level)
                   and (u.role not in ("patrol",) or u.assignment(level) is not None))


def alert_plan_for(scenario: Scenario, areas: beatlib.Areas, expected_per_place: np.ndarray) -> AlertPlan:
    a = scenario.alert
    if a.scope == "area":
        expected = tuple(float(expected_per_place[areas.label == k].sum()) for k in range(areas.n))
    else:
        expected = (float(expected_per_place.sum()),)
    return AlertPlan(mode=a.mode, base_level=a.level, scope=a.scope,
                     calendar=tuple((c.day, c.level) for c in a.calendar),
                     thresholds=tuple(sorted(a.thresholds.items())), lookback_days=a.lookback_days,
                     decision_hour=a.decision_hour, expected_per_day=expected)


def make_areas(scenario: Scenario, city: City, travel_time_fn=None) -> beatlib.Areas:
    spec = scenario.beats
    g = city.places
    if spec.areas == "city":
        return beatlib.city_area(g.n_nodes)
    if spec.areas == "grid":
        return beatlib.grid_areas(g.x_m, g.y_m, cell_km=spec.cell_km)
    if spec.areas == "stations":
        times = np.vstack([travel_time_fn(int(s)) for s in city.station_place])
        return beatlib.station_areas(times, city.station_name)
    path = scenario.resolve_path(spec.geojson)
    return beatlib.polygon_areas(g.lon, g.lat, beatlib.read_geojson_polygons(path), file=str(path))


def _neighbours(beat_index: np.ndarray, graph) -> dict[int, set]:
    a, b = beat_index[graph.edge_u], beat_index[graph.edge_v]
    m = (a != b) & (a >= 0) & (b >= 0)
    out: dict[int, set] = {}
    for x, y in zip(a[m].tolist(), b[m].tolist()):
        out.setdefault(x, set()).add(y)
    return out


def deploy(scenario: Scenario, city: City, *, level: str | None = None, expected_per_place: np.ndarray | None = None,
           on_scene_mean_s: float = 1800.0, travel_time_fn=None) -> Deployment:
    """The unit pool, beats and staffing for a scenario.

    ``expected_per_place`` (expected incidents per day at each place) weights beats
    and areas by workload; without it, population weights are used.
    ``travel_time_fn(place) -> seconds from that place to every place`` is needed for
    station catchment areas.
    """
    from sim.validate import check_against_network

    check_against_network(scenario, city)  # a force that fits the network, hot spots on it (one-line errors)
    force = scenario.force
    nominal = level or scenario.alert.level
    g = city.places
    w = expected_per_place if expected_per_place is not None else city.place_weight / max(
        city.place_weight.sum(), 1e-12)
    areas = make_areas(scenario, city, travel_time_fn)
    plan = alert_plan_for(scenario, areas, w)
    levels = plan.levels_used() if level is None else (nominal,)
    if nominal not in levels:
        levels = tuple(sorted({*levels, nominal}, key=LEVELS.index))
    area_weight = np.array([w[areas.label == a].sum() for a in range(areas.n)], float)
    if scenario.beats.allocation == "equal":
        area_weight = np.ones(areas.n)

    # checkpoints: where, and at which levels they are staffed
    cp_places = []
    if "exits" in force.checkpoints.at:
        cp_places += [(int(p), -1, f"checkpoint-exit-{i + 1}") for i, p in enumerate(city.exit_place)]
    if "stations" in force.checkpoints.at:
        cp_places += [(int(p), s, f"checkpoint-{city.station_name[s]}") for s, p in enumerate(city.station_place)]
    cp_levels = frozenset(force.checkpoints.levels)
    cp_officers = len(cp_places) * force.checkpoints.officers_each

    staff = {lvl: staffing(level=lvl, patrol_share=scenario.alert.patrol_share[lvl],
                           total_officers=force.total_officers, teams=force.teams,
                           checkpoint_officers=cp_officers if lvl in cp_levels else 0,
                           max_duty_hours_per_day=force.max_duty_hours_per_day,
                           shift_s=force.shift_hours * 3600.0) for lvl in levels}
    for s in staff.values():
        if not s.share_met:
            warnings.warn(f"force.max_duty_hours_per_day = {force.max_duty_hours_per_day:g} h allows "
                          f"{s.teams_on_duty} of the {s.teams_wanted} teams the {s.level} level calls in: "
                          f"{s.patrol_officers} officers on patrol, not {s.patrol_officers_wanted}",
                          DutyLimitWarning, stacklevel=2)

    stations_xy = np.column_stack([g.x_m[city.station_place], g.y_m[city.station_place]])
    units: list[Unit] = []
    beats: list[dict] = []
    beat_places: dict[int, np.ndarray] = {}
    beat_index: dict[tuple, np.ndarray] = {}
    # per (area, kind): list over levels of the segment labelling and the number of units
    per_level_crews = {lvl: crews_per_kind(staff[lvl].patrol_officers, mix=force.mix, crew=force.crew)
                       for lvl in levels}
    assignments: dict[tuple[int, str, int, int], dict] = {}
    for lvl in levels:
        for kind in KINDS:
            crews = per_level_crews[lvl].get(kind, ())
            n_kind = len(crews)
            index = np.full(g.n_nodes, -1, np.int64)
            if n_kind > 0:
                split = beatlib.split_units(n_kind, area_weight)
                # the short crew (if any) takes the last segment of the last area that has units
                staffed = [a for a in range(areas.n) if split[a] > 0 and areas.places(a).size > 0]
                short = (staffed[-1], int(split[staffed[-1]]) - 1) if staffed and crews[-1] != crews[0] else None
                for a in range(areas.n):
                    n = int(split[a])
                    places = areas.places(a)
                    if n <= 0 or places.size == 0:
                        continue
                    if scenario.beats.segments == "balanced":
                        lab = beatlib.balanced_segments(g.x_m[places], g.y_m[places], w[places], n)
                    else:
                        lab = weighted_kmeans(g.x_m[places], g.y_m[places], w[places], n)
                    for j in range(n):
                        seg = places[lab == j]
                        bid = len(beats)
                        beats.append({"beat": bid, "level": lvl, "kind": kind, "area": areas.names[a],
                                      "segment": j})
                        index[seg] = bid
                        c = crews[-1] if (a, j) == short else crews[0]
                        assignments.setdefault((a, kind, j, c), {})[lvl] = bid
                # areas with no unit of this kind join the nearest beat of the kind, so every
                # place has an owner of every kind on patrol
                gap = index < 0
                if gap.any() and (~gap).any():
                    from scipy.spatial import cKDTree

                    have = np.flatnonzero(~gap)
                    _, nn = cKDTree(np.column_stack([g.x_m[have], g.y_m[have]])).query(
                        np.column_stack([g.x_m[gap], g.y_m[gap]]))
                    index[gap] = index[have[nn]]
                for bid in np.unique(index[index >= 0]):
                    seg = np.flatnonzero(index == bid)
                    beat_places[int(bid)] = seg
                    beats[int(bid)].update(places=int(seg.size), **beatlib.beat_stats(
                        seg, g, incidents_per_day=w, on_scene_mean_s=on_scene_mean_s))
            beat_index[(lvl, kind)] = index
    assignments = {key: {lvl: (bid, beat_places[bid]) for lvl, bid in per.items()}
                   for key, per in assignments.items()}

    for (a, kind, j, c), assign in sorted(assignments.items(),
                                          key=lambda kv: (KINDS.index(kv[0][1]), kv[0][0], kv[0][2], -kv[0][3])):
        first_places = next(iter(assign.values()))[1]
        cx, cy = g.x_m[first_places].mean(), g.y_m[first_places].mean()
        station = int(np.argmin(((stations_xy - [cx, cy]) ** 2).sum(1)))
        uid = len(units)
        nominal_assign = assign.get(nominal, (-1, np.empty(0, np.int64)))
        area_tag = "" if areas.n == 1 else f"{areas.names[a]}-"
        tag = "" if c == force.crew[kind] else f"-crew{c}"
        units.append(Unit(uid=uid, name=f"{kind}-{area_tag}{j + 1:02d}{tag}", kind=kind, role="patrol",
                          crew=c, station=station, beat=nominal_assign[0],
                          beat_places=nominal_assign[1], home_place=int(city.station_place[station]),
                          area=a, assignments=assign, duty_levels=frozenset(assign)))

    crew = force.crew[force.standby_kind]
    standby_crews = {lvl: split_crews(staff[lvl].standby_officers, crew) for lvl in levels}
    for (j, c), duty in slot_levels(standby_crews).items():
        st = j % len(city.station_place)
        tag = "" if c == crew else f"-crew{c}"
        units.append(Unit(uid=len(units), name=f"standby-{j + 1:02d}{tag}", kind=force.standby_kind, role="standby",
                          crew=c, station=st, beat=-1, beat_places=np.empty(0, np.int64),
                          home_place=int(city.station_place[st]), duty_levels=duty))
    # checkpoint posts in order, each with ``officers_each``; when the level has fewer checkpoint
    # officers than posts need (sim.roster), the last staffed post is short and later posts are empty
    each = force.checkpoints.officers_each
    post_crews = {lvl: split_crews(staff[lvl].checkpoint_officers, each)[:len(cp_places)] for lvl in levels}
    for (i, c), duty in slot_levels(post_crews).items():
        place, st, name = cp_places[i]
        units.append(Unit(uid=len(units), name=name if c == each else f"{name}-crew{c}", kind="checkpoint",
                          role="checkpoint", crew=c, station=st, beat=-1,
                          beat_places=np.empty(0, np.int64), home_place=place, duty_levels=duty))
    if force.reserve.units:
        major = np.zeros(g.n_nodes, bool)
        m = np.isin(g.edge_class, MAJOR_ROADS)
        major[g.edge_u[m]] = True
        major[g.edge_v[m]] = True
        road_places = np.flatnonzero(major) if major.any() else np.arange(g.n_nodes)
        lab = weighted_kmeans(g.x_m[road_places], g.y_m[road_places], w[road_places], force.reserve.units)
        for j in range(force.reserve.units):
            seg = road_places[lab == j]
            bid = len(beats)
            beats.append({"beat": bid, "level": "all", "kind": f"reserve-{force.reserve.kind}", "area": "main roads",
                          "segment": j, "places": int(seg.size),
                          **beatlib.beat_stats(seg, g, incidents_per_day=w, on_scene_mean_s=on_scene_mean_s)})
            beat_places[bid] = seg
            uid = len(units)
            units.append(Unit(uid=uid, name=f"reserve-{j + 1:02d}", kind=force.reserve.kind, role="reserve",
                              crew=force.reserve.crew, station=-1, beat=bid, beat_places=seg,
                              home_place=int(city.bureau_place), duty_levels=None))

    responders = [u for u in units if u.role in ("patrol", "standby", "reserve") and u.on_duty(nominal)
                  and (u.role != "patrol" or u.assignment(nominal) is not None)]
    if not responders:
        raise ScenarioError(f"{force.total_officers} officers at the {nominal} level form no unit that can "
                            f"respond (patrol share {scenario.alert.patrol_share[nominal]:g}, crews {dict(force.crew)})",
                            file=scenario.source_file, key="force.total_officers",
                            fix="raise force.total_officers or make crews smaller")
    neighbours: dict[int, set] = {}
    for idx in beat_index.values():
        neighbours.update(_neighbours(idx, g))
    s = staff[nominal]
    return Deployment(units=tuple(units), alert_level=nominal, patrol_officers=s.patrol_officers,
                      standby_officers=s.standby_officers, on_duty_officers=s.on_duty_officers,
                      staffing=staff, areas=areas, beats=beats,
                      beat_places=beat_places, beat_neighbours=neighbours,
                      beat_index=beat_index, alert_plan=plan, shift_s=force.shift_hours * 3600.0,
                      teams=force.teams)
