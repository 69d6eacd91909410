"""Where every unit was, second by second, from the engine's own record of one replication.

Why: a playback must show what the engine did, not a second simulation. The engine
(``Engine.enable_trace``) records each unit's state changes (a circuit joined at time t,
a drive ``Leg``, a trip to an incident with its route, at station / post / off duty);
here those records become movement *segments* and each segment answers "where at t"
with the engine's own geometry (``Circuit.where``, ``Leg.path``, ``TravelOracle.route``).
So a unit stands at an incident exactly from the arrival time in incidents.parquet.

``trace_table`` samples every unit at a fixed step inside a window, plus an exact row at
every state change and at every arrival: unit, time_s, lon, lat, state.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import metrics, visibility
from sim.demand import sample_incidents
from sim.kinds import Motion, Status
from sim.streams import replication_seed

#: display states, in legend order (off duty is in the table but not drawn)
STATES = ("patrolling", "to incident", "on scene", "returning", "standby", "at post", "off duty")
_IDLE = {Status.STATION: "standby", Status.POST: "at post", Status.OFF: "off duty"}


@dataclass
class Traced:
    """One traced replication: the engine's log and trace, and the incident table of the run."""

    log: object
    trace: list
    incidents: pd.DataFrame


def run_traced(world, replication: int = 0) -> Traced:
    """Run one replication exactly as ``patrolsim run`` does, with the engine's trace on."""
    from sim.experiment.replicate import make_engine

    sc = world.scenario
    rep = replication_seed(sc.seed, replication)
    incidents = sample_incidents(world.demand, rep, horizon_s=world.horizon_s)
    engine = make_engine(world, incidents, rep)
    trace = engine.enable_trace()
    log = engine.run()
    modes = {u.uid: u.mode for u in world.deployment.units}
    saw = visibility.seen_within(log, city=world.city, modes=modes)
    inc = metrics.incident_records(log, city=world.city, deployment=world.deployment, demand=world.demand,
                                   replication=replication, lines=sc.lines, saw_patrol=saw)
    return Traced(log=log, trace=trace, incidents=inc)


def _lerp(p, q, f: float):
    return (p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f)


class Segment:
    """From ``t0`` on (until the unit's next segment): a state and a way to say where it is."""

    def __init__(self, t0: float, state: str) -> None:
        self.t0, self.state = t0, state

    def at(self, t: float):           # -> (lon, lat, state)
        raise NotImplementedError


class Still(Segment):
    def __init__(self, t0, state, pt):
        super().__init__(t0, state)
        self.pt = pt

    def at(self, t):
        return self.pt[0], self.pt[1], self.state


class OnCircuit(Segment):
    """On a patrol circuit: at ``anchor_t`` the unit was at circuit time ``anchor_tau``."""

    def __init__(self, t0, circuit, anchor_t, anchor_tau, xy):
        super().__init__(t0, "patrolling")
        self.c, self.anchor_t, self.anchor_tau, self.xy = circuit, anchor_t, anchor_tau, xy

    def at(self, t):
        c = self.c
        tau = self.anchor_tau + (t - self.anchor_t)
        _, _, k1 = c.where(tau)               # the engine's own look-up of the street edge
        tm = tau % c.duration_s
        t0, t1 = c.t_s[k1 - 1], c.t_s[k1]
        f = min(max((tm - t0) / (t1 - t0), 0.0), 1.0) if t1 > t0 else 1.0
        p = _lerp(self.xy(c.nodes[k1 - 1]), self.xy(c.nodes[k1]), f)
        return p[0], p[1], self.state


class Along(Segment):
    """Along a path of nodes with absolute times; before the first time, closing in from ``start``."""

    def __init__(self, t0, state, start, points, times, end_state=None):
        super().__init__(t0, state)
        self.start, self.points, self.times, self.end_state = start, points, times, end_state

    def at(self, t):
        pts, times = self.points, self.times
        if t >= times[-1]:
            return pts[-1][0], pts[-1][1], self.end_state or self.state
        if t < times[0]:
            f = (t - self.t0) / (times[0] - self.t0) if times[0] > self.t0 else 1.0
            p = _lerp(self.start, pts[0], min(max(f, 0.0), 1.0))
            return p[0], p[1], self.state
        k = bisect_right(times, t) - 1
        dt = times[k + 1] - times[k]
        p = _lerp(pts[k], pts[k + 1], (t - times[k]) / dt if dt > 0 else 1.0)
        return p[0], p[1], self.state


def unit_segments(world, traced: Traced) -> dict[int, list[Segment]]:
    """Every unit's segments in time order, from the engine's trace records."""
    city, travel = world.city, world.travel
    units = {u.uid: u for u in world.deployment.units}
    places = city.places
    place_pt = lambda p: (float(places.lon[p]), float(places.lat[p]))  # noqa: E731
    segs: dict[int, list[Segment]] = {uid: [] for uid in units}

    def node_xy(mode):
        g = city.graphs[mode]
        return lambda n: (float(g.lon[n]), float(g.lat[n]))

    def here(uid, t):
        s = segs[uid]
        return s[-1].at(t)[:2] if s else None

    for rec in traced.trace:
        uid = rec[1]
        mode = units[uid].mode
        xy = node_xy(mode)
        if rec[0] == "trip":
            _, _, t0, node, wait, target, place, eta, _i = rec
            nodes, resp, _ = travel[mode].oracle.route(node, target)
            start = here(uid, t0) or xy(node)
            pts = [xy(n) for n in nodes] + [place_pt(place)]
            times = [t0 + wait + r for r in resp] + [t0 + eta]
            segs[uid].append(Along(t0, "to incident", start, pts, times, end_state="on scene"))
            continue
        _, _, status, moving, leg, circuit, anchor_t, anchor_tau, at_node, since = rec
        if status is Status.BUSY:
            continue                            # its trip record says where it is
        if status is Status.PATROL and moving is Motion.CIRCUIT:
            seg = OnCircuit(anchor_t, circuit, anchor_t, anchor_tau, xy)
        elif status is Status.PATROL and moving is Motion.LEG:
            nodes, times, _, _ = leg.path(travel[mode].oracle)
            if leg.wait_s > 0:                  # first the rest of the street it was on: close in from here
                nodes, times = nodes[1:], times[1:]
            start = here(uid, leg.t_start) or xy(leg.src)
            seg = Along(leg.t_start, "returning" if leg.to_station else "patrolling", start,
                        [xy(n) for n in nodes], list(times))
            if leg.to_station:                  # parks at the end (the engine books it when next asked)
                segs[uid].append(seg)
                seg = Still(leg.t_end, "standby", xy(nodes[-1]))
        elif status is Status.PATROL:           # standing where it cleared a scene
            seg = Still(since, "patrolling", xy(at_node))
        else:
            home = world_home_node(world, units[uid])
            seg = Still(since, _IDLE[status], xy(home))
        segs[uid].append(seg)
    for uid, s in segs.items():
        s.sort(key=lambda g: g.t0)              # stable: at equal times the later record wins
    return segs


def world_home_node(world, unit) -> int:
    """The node of the unit's graph where it is based (as the engine computes ``home_node``)."""
    city = world.city
    home_place = unit.home_place if unit.home_place >= 0 else int(city.station_place[unit.station])
    return int(city.place_node[unit.mode][home_place]) if unit.mode in city.place_node else home_place


def position(segs: list[Segment], t: float):
    """(lon, lat, state) of a unit at ``t``; off duty before its first segment."""
    k = bisect_right([s.t0 for s in segs], t) - 1
    if k < 0:
        return math.nan, math.nan, "off duty"
    return segs[k].at(t)


def trace_table(world, traced: Traced, *, start_s: float, end_s: float, step_s: float = 10.0) -> pd.DataFrame:
    """Rows (unit, uid, time_s, lon, lat, state): every ``step_s`` and at every change, in [start_s, end_s]."""
    segs = unit_segments(world, traced)
    names = {u.uid: u.name for u in world.deployment.units}
    grid = np.arange(start_s, end_s + 1e-9, step_s)
    arrivals = {}
    for rec in traced.trace:
        if rec[0] == "trip":
            arrivals.setdefault(rec[1], []).append(rec[2] + rec[7])
    cols = {"unit": [], "uid": [], "time_s": [], "lon": [], "lat": [], "state": []}
    for uid, s in segs.items():
        extra = [g.t0 for g in s] + arrivals.get(uid, []) + [g.times[0] for g in s if isinstance(g, Along)]
        ts = np.unique(np.concatenate([grid, [t for t in extra if start_s <= t <= end_s]]))
        for t in ts.tolist():
            lon, lat, state = position(s, t)
            cols["unit"].append(names[uid])
            cols["uid"].append(uid)
            cols["time_s"].append(t)
            cols["lon"].append(lon)
            cols["lat"].append(lat)
            cols["state"].append(state)
    df = pd.DataFrame(cols)
    df["uid"] = df["uid"].astype(np.int32)
    df["state"] = pd.Categorical(df["state"], categories=list(STATES))
    return df


def shift_window(world, *, start_hour: float | None, hours: float) -> tuple[float, float]:
    """[start_s, end_s] of the shift to show: from ``start_hour`` on the first whole day after warm-up."""
    from sim.errors import InputError

    day_s = 86_400.0
    first_day = math.ceil(world.warmup_s / day_s - 1e-9)
    hour = 8.0 if start_hour is None else float(start_hour)
    start = first_day * day_s + hour * 3600.0
    end = start + hours * 3600.0
    if end > world.horizon_s + 1e-6:
        raise InputError(f"the playback window (day {first_day}, {hour:g} h + {hours:g} h) ends after the "
                         f"run's horizon ({world.horizon_s / day_s:g} days)",
                         fix="lower --start-hour/--hours or raise horizon_days with --set horizon_days=N")
    return start, end
