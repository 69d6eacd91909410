"""The discrete-event engine (SimPy): call handling, dispatch, travel, on-scene time, backup, return.

Patrolling makes no events: a free patrol unit follows its circuit
(``sim.patrol``) and its position at any moment is derived from where and when
it joined the circuit. SimPy events happen only for calls: handling, each unit's
arrival and clearance. Dispatch asks a pure policy (``sim.dispatch``) for the
unit with the smallest estimated arrival time; a lower bound per unit and place
lets it skip units that cannot win without locating them. Incidents needing k
units get the k nearest; requests no unit can take wait in a queue ordered by
priority, then call time. A unit that clears takes the head of the queue, else
rejoins its circuit (patrol units) or drives back to its station (standby).

Results are flat records (``EngineLog``).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.demand import IncidentTable
from sim.dispatch import choose_nearest
from sim.force import Deployment
from sim.network.graph import City
from sim.network.travel import TravelOracle
from sim.patrol import Circuit, build_circuit, choose_stops, circuit_lower_bound_s, order_stops
from sim.streams import stream

MAX_DRAIN_S = 86_400.0    # after the horizon, calls already made are served for at most a day


@dataclass
class ModeTravel:
    """Response-speed oracle of one mode plus how much slower the same streets are at patrol speed."""

    oracle: TravelOracle
    patrol_scale: float            # patrol time = response time x patrol_scale
    offset_speed_mps: float        # for the last metres from a mode's node to the place itself


@dataclass
class _Leg:
    """A one-off drive (rejoining the circuit, returning to the station) with absolute times."""

    nodes: list
    t: list
    resp: list
    dist: list
    then: str              # "circuit" or "station"


@dataclass
class UnitState:
    uid: int
    mode: str
    role: str
    home_node: int
    circuit: Circuit | None
    status: str = "patrol"         # patrol | station | busy
    moving: str = "circuit"        # circuit | leg | still   (while status is patrol)
    leg: _Leg | None = None
    anchor_t: float = 0.0          # on the circuit: at anchor_t the unit was at circuit time anchor_tau
    anchor_tau: float = 0.0
    since: float = 0.0
    patrol_s: float = 0.0
    travel_s: float = 0.0
    scene_s: float = 0.0
    station_s: float = 0.0
    distance_m: float = 0.0
    calls: int = 0
    trips: list = field(default_factory=list)


@dataclass
class EngineLog:
    """Flat results of one replication."""

    incidents: IncidentTable
    dispatch_s: np.ndarray           # first dispatch time (nan if never)
    arrivals_s: list                 # per incident: sorted arrival times
    units_sent: list                 # per incident: unit ids in order of dispatch
    clear_s: np.ndarray              # when the last unit left the scene
    units: list                      # UnitState per unit
    warmup_s: float
    horizon_s: float
    end_s: float


def _clip(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


class Engine:
    """One replication: ``Engine(...).run()`` returns an ``EngineLog``."""

    def __init__(self, *, city: City, deployment: Deployment, travel: dict[str, ModeTravel],
                 incidents: IncidentTable, rep: np.random.SeedSequence, warmup_s: float,
                 horizon_s: float, turnout_s: float, circuit_stops: int = 10) -> None:
        self.city = city
        self.dep = deployment
        self.travel = travel
        self.inc = incidents
        self.warmup_s = warmup_s
        self.horizon_s = horizon_s
        self.turnout_s = turnout_s
        self.env = simpy.Environment()
        n = len(incidents)
        self.dispatch_s = np.full(n, np.nan)
        self.arrivals: list[list[float]] = [[] for _ in range(n)]
        self.sent: list[list[int]] = [[] for _ in range(n)]
        self.clear_s = np.full(n, np.nan)
        self.queue: list = []
        self._seq = 0
        self.closed = False
        self.units: list[UnitState] = []
        # per mode, per place: the mode's node and the extra seconds from that node to the place
        self.target = {m: city.place_node[m] for m in travel}
        self.extra_s = {m: city.place_offset_m[m] / travel[m].offset_speed_mps for m in travel}
        n_units = len(deployment.units)
        self.lower_bound = np.zeros((n_units, city.n_places))
        for u in deployment.units:
            mt = travel[u.mode]
            home = int(self.target[u.mode][city.station_place[u.station]])
            circuit = None
            if u.role == "patrol":
                rng = stream(rep, f"patrol-unit-{u.uid}")
                beat_nodes = np.unique(self.target[u.mode][u.beat_places])
                stops = choose_stops(beat_nodes, rng, n_stops=circuit_stops)
                stops = order_stops(stops, mt.oracle.time)
                circuit = build_circuit(mt.oracle, stops, patrol_scale=mt.patrol_scale)
                self.lower_bound[u.uid] = circuit_lower_bound_s(
                    mt.oracle, [circuit], self.target[u.mode], self.extra_s[u.mode])
                start_tau = float(rng.random() * circuit.duration_s)
                st = UnitState(uid=u.uid, mode=u.mode, role=u.role, home_node=home, circuit=circuit,
                               anchor_t=0.0, anchor_tau=start_tau)
            else:
                st = UnitState(uid=u.uid, mode=u.mode, role=u.role, home_node=home, circuit=None,
                               status="station", moving="still")
            self.units.append(st)

    # ------------------------------------------------------------------ movement
    def _leave_patrol(self, st: UnitState, t: float) -> None:
        """Account the patrol (or return drive) that ends at ``t``."""
        if self.closed:      # accounts were closed at the horizon
            return
        if st.moving == "leg":
            leg = st.leg
            k = bisect_right(leg.t, t) - 1
            if k >= len(leg.t) - 1:
                done = leg.dist[-1]
            else:
                f = (t - leg.t[k]) / (leg.t[k + 1] - leg.t[k]) if leg.t[k + 1] > leg.t[k] else 1.0
                done = leg.dist[k] + f * (leg.dist[k + 1] - leg.dist[k])
            self._account_drive(st, leg.t[0], t, done, patrol=leg.then == "circuit")
        elif st.moving == "circuit":
            c = st.circuit
            speed = c.length_m / c.duration_s
            inside = _clip(st.anchor_t, t, self.warmup_s, self.horizon_s)
            st.patrol_s += inside
            st.distance_m += inside * speed

    def _account_drive(self, st: UnitState, t0: float, t1: float, metres: float, *, patrol: bool) -> None:
        inside = _clip(t0, t1, self.warmup_s, self.horizon_s)
        if inside <= 0:
            return
        st.distance_m += metres * inside / (t1 - t0)
        if patrol:
            st.patrol_s += inside
        else:
            st.travel_s += inside

    def _sync(self, st: UnitState, t: float) -> None:
        """Finish a drive that ended by ``t``: join the circuit or park at the station."""
        if st.moving == "leg" and st.leg.t[-1] <= t:
            leg = st.leg
            if not self.closed:
                self._account_drive(st, leg.t[0], leg.t[-1], leg.dist[-1], patrol=leg.then == "circuit")
            if leg.then == "station":
                st.status, st.moving, st.leg, st.since = "station", "still", None, leg.t[-1]
            else:
                node = leg.nodes[-1]
                st.moving, st.leg = "circuit", None
                st.anchor_t = leg.t[-1]
                st.anchor_tau = st.circuit.t_s[st.circuit.nodes.index(node)]

    def _from_here(self, st: UnitState, t: float) -> tuple[int, float]:
        """(node the unit heads to, seconds before it is there or can leave) if sent at ``t``."""
        if st.status == "station":
            return st.home_node, self.turnout_s
        if st.moving == "still":      # at a scene, just cleared
            return st.leg.nodes[0], 0.0
        self._sync(st, t)
        if st.status == "station":
            return st.home_node, self.turnout_s
        if st.moving == "circuit":
            node, rem, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
            return node, rem
        leg = st.leg
        k = bisect_right(leg.t, t) - 1
        t0, t1 = leg.t[k], leg.t[k + 1]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return leg.nodes[k + 1], (1.0 - f) * (leg.resp[k + 1] - leg.resp[k])

    def eta_s(self, st: UnitState, place: int, t: float) -> float:
        """Estimated seconds for ``st`` to reach ``place`` if sent at ``t``."""
        node, wait = self._from_here(st, t)
        return wait + self.travel[st.mode].oracle.time(node, int(self.target[st.mode][place])) \
            + self.extra_s[st.mode][place]

    # ------------------------------------------------------------------ dispatch
    def nearest_available(self, place: int, t: float) -> UnitState | None:
        """The available unit with the smallest ETA (ties by id), skipping units whose bound loses."""
        cand, bound = [], []
        for st in self.units:
            if st.status == "busy":
                continue
            cand.append(st)
            if st.status == "patrol" and st.moving == "circuit":
                bound.append(self.lower_bound[st.uid, place])
            else:
                bound.append(-1.0)   # locate exactly
        if not cand:
            return None
        order = np.argsort(np.asarray(bound), kind="stable")
        best_eta, best_ids, etas = np.inf, [], []
        for k in order:
            if bound[k] > best_eta:
                break
            e = self.eta_s(cand[k], place, t)
            etas.append(e)
            best_ids.append(cand[k].uid)
            best_eta = min(best_eta, e)
        j = choose_nearest(np.array(etas), np.array(best_ids))
        return self.units[best_ids[j]]

    def _send(self, st: UnitState, i: int, t: float) -> None:
        """Send ``st`` to incident ``i`` now: stop what it was doing, account it, start the trip."""
        mt = self.travel[st.mode]
        place = int(self.inc.place[i])
        node, wait = self._from_here(st, t)
        if st.status == "patrol":
            if st.moving != "still":
                # the rest of the current street edge is counted in time (wait), not in distance
                self._leave_patrol(st, t)
        elif st.status == "station":
            st.station_s += _clip(st.since, t, self.warmup_s, self.horizon_s)
        target = int(self.target[st.mode][place])
        _, resp, dist = mt.oracle.route(node, target)
        offset_m = float(self.city.place_offset_m[st.mode][place])
        eta = wait + resp[-1] + self.extra_s[st.mode][place]
        metres = dist[-1] + offset_m
        st.status, st.moving, st.leg, st.since = "busy", "still", None, t
        st.calls += 1
        self.sent[i].append(st.uid)
        if np.isnan(self.dispatch_s[i]):
            self.dispatch_s[i] = t
        self.env.process(self._trip(st, i, eta, metres, target))

    def _request(self, i: int, count: int) -> None:
        t = self.env.now
        place = int(self.inc.place[i])
        for _ in range(count):
            st = self.nearest_available(place, t)
            if st is None:
                heapq.heappush(self.queue, (int(self.inc.priority[i]), float(self.inc.call_s[i]), self._seq, i))
                self._seq += 1
            else:
                self._send(st, i, t)

    def _trip(self, st: UnitState, i: int, eta: float, metres: float, node: int):
        t0 = self.env.now
        yield self.env.timeout(eta)
        t1 = self.env.now
        arr = self.arrivals[i]
        arr.append(t1)
        arr.sort()
        self._account_drive(st, t0, t1, metres, patrol=False)
        yield self.env.timeout(float(self.inc.on_scene_s[i]))
        t2 = self.env.now
        st.scene_s += _clip(t1, t2, self.warmup_s, self.horizon_s)
        self.clear_s[i] = t2 if np.isnan(self.clear_s[i]) else max(self.clear_s[i], t2)
        st.trips.append((i, t0, t1, t2))
        self._free(st, node, t2)

    def _free(self, st: UnitState, node: int, t: float) -> None:
        """A unit clears the scene at ``node``: next queued call, else back to its circuit or station."""
        if self.queue:
            _, _, _, j = heapq.heappop(self.queue)
            st.status, st.moving, st.leg = "patrol", "still", _Leg([node], [t], [0.0], [0.0], "circuit")
            self._send(st, j, t)
            return
        mt = self.travel[st.mode]
        st.since = t
        if st.role == "patrol":
            st.status = "patrol"
            c = st.circuit
            nodes = np.asarray(c.nodes[:-1], np.int64)
            times = mt.oracle.times_from(node)[nodes]
            join = int(nodes[int(np.argmin(times))])
            then, to = "circuit", join
        elif node == st.home_node:
            st.status, st.moving, st.leg = "station", "still", None
            return
        else:
            st.status, then, to = "patrol", "station", st.home_node
        p_nodes, p_resp, p_dist = mt.oracle.route(node, to)
        scale = mt.patrol_scale
        st.moving = "leg"
        st.leg = _Leg(p_nodes, [t + r * scale for r in p_resp], p_resp, p_dist, then)
        if len(p_nodes) == 1:
            self._sync(st, t)

    # ------------------------------------------------------------------ incidents
    def _incident(self, i: int):
        yield self.env.timeout(float(self.inc.handling_s[i]))
        self._request(i, int(self.inc.units_needed[i]))

    def _arrivals(self):
        call = self.inc.call_s
        for i in range(len(self.inc)):
            yield self.env.timeout(float(call[i]) - self.env.now)
            self.env.process(self._incident(i))

    def run(self) -> EngineLog:
        self.env.process(self._arrivals())
        self.env.run(until=self.horizon_s)
        horizon = self.horizon_s
        for st in self.units:   # close the accounts of patrol and station time at the horizon
            if st.status == "patrol" and st.moving != "still":
                self._sync(st, horizon)
            if st.status == "patrol" and st.moving != "still":
                self._leave_patrol(st, horizon)
                st.anchor_tau += horizon - st.anchor_t
                st.anchor_t = horizon
            elif st.status == "station":
                st.station_s += _clip(st.since, horizon, self.warmup_s, horizon)
                st.since = horizon
        self.closed = True
        # drain: no new calls, serve those already made (bounded)
        limit = horizon + MAX_DRAIN_S
        while self.env.peek() < limit and (self.queue or any(u.status == "busy" for u in self.units)):
            self.env.step()
        return EngineLog(incidents=self.inc, dispatch_s=self.dispatch_s, arrivals_s=self.arrivals,
                         units_sent=self.sent, clear_s=self.clear_s, units=self.units,
                         warmup_s=self.warmup_s, horizon_s=self.horizon_s, end_s=self.env.now)
