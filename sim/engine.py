"""The discrete-event engine (SimPy): shifts, call handling, dispatch, travel, on-scene time, return.

Patrolling makes no events: a free patrol unit follows its circuit (``sim.patrol``)
and its position at any moment is derived from where and when it joined it.
SimPy events happen only for calls (handling, each unit's arrival and clearance)
and for shift changes, where the day's alert level (``sim.alert``) sets who is
on patrol, on standby, at checkpoints or off duty (``sim.force``), and crews of
busy units finish their call before they are relieved (overtime).

Dispatch asks a pure policy (``sim.dispatch.select_unit``) over the eligible
units' estimated arrival times; a lower bound per unit and place lets the engine
leave out units that cannot be the nearest without locating them. Requests that
no unit can take wait in a queue ordered by priority, then call time.

Results are flat records (``EngineLog``).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.alert import AlertPlan
from sim.demand import IncidentTable
from sim.dispatch import Candidate, DispatchRules, eligible, select_unit
from sim.encircle import exit_places, greedy_cordon_s
from sim.force import Deployment, Unit
from sim.network.graph import City
from sim.network.travel import TravelOracle
from sim.patrol import Circuit, build_circuit, choose_stops, circuit_lower_bound_s, order_stops
from sim.streams import stream

MAX_DRAIN_S = 86_400.0    # after the horizon, calls already made are served for at most a day
DAY_S = 86_400.0


@dataclass
class ModeTravel:
    """Response-speed oracle of one mode plus how much slower the same streets are at patrol speed."""

    oracle: TravelOracle
    patrol_scale: float            # patrol time = response time x patrol_scale
    offset_speed_mps: float        # for the last metres from a mode's node to the place itself


@dataclass(frozen=True)
class PatrolSettings:
    strategy: str = "uniform"                  # uniform | hotspot
    circuit_stops: int = 10
    period_weights: np.ndarray | None = None   # (periods per day, n_places) expected incidents, for hotspot


@dataclass(frozen=True)
class EncircleSettings:
    radius_m: float = 1000.0
    roads: str = "major"                       # major | all


@dataclass(slots=True)
class _Leg:
    """A one-off drive (joining a circuit, returning to the station) with absolute times.

    Only its ends are known when it starts: most drives finish undisturbed, and their
    duration and metres come from the travel matrices. The street-by-street path
    (``path``) is built only when someone asks where the unit is in the middle of it.
    The unit first needs ``wait_s`` response-seconds to reach ``src`` (the rest of
    the street it was on), then follows the fastest path to ``dst``.
    """

    src: int
    dst: int
    t_start: float         # when the drive began
    wait_s: float          # response seconds to reach src first
    t_end: float           # when dst is reached
    metres: float          # metres from src to dst
    then: str              # "circuit" or "station"
    scale: float           # patrol seconds per response second
    _path: tuple | None = None

    def path(self, oracle: TravelOracle) -> tuple[list, list, list, list]:
        """(nodes, absolute times, cumulative response seconds, cumulative metres)."""
        if self._path is None:
            p_nodes, p_resp, p_dist = oracle.route(self.src, self.dst)
            t0 = self.t_start + self.wait_s * self.scale
            times = [t0 + r * self.scale for r in p_resp]
            if self.wait_s > 0:
                self._path = ([self.src] + p_nodes, [self.t_start] + times, [-self.wait_s] + p_resp,
                              [0.0] + p_dist)
            else:
                self._path = (p_nodes, times, p_resp, p_dist)
        return self._path


@dataclass(slots=True)       # slots: the engine reads and writes these attributes at every event
class UnitState:
    uid: int
    unit: Unit
    mode: str
    role: str
    home_node: int
    kind: str = ""
    status: str = "station"        # patrol | station | busy | off | post
    moving: str = "still"          # circuit | leg | still   (while status is patrol)
    circuit: Circuit | None = None
    circuit_key: tuple | None = None
    level: str | None = None       # the level whose assignment the unit follows
    beat: int = -1
    leg: _Leg | None = None
    at_node: int = -1              # where a unit that just cleared a scene stands (moving "still")
    anchor_t: float = 0.0          # on the circuit: at anchor_t the unit was at circuit time anchor_tau
    anchor_tau: float = 0.0
    since: float = 0.0
    pending: bool = False          # a shift change waits for this unit to clear its call
    overtime_from: float | None = None
    patrol_s: float = 0.0
    travel_s: float = 0.0
    scene_s: float = 0.0
    station_s: float = 0.0
    off_s: float = 0.0
    post_s: float = 0.0
    overtime_s: float = 0.0        # officer-seconds worked past the end of a shift
    distance_m: float = 0.0
    calls: int = 0
    cross_area_calls: int = 0
    trips: list = field(default_factory=list)


@dataclass
class EngineLog:
    """Flat results of one replication."""

    incidents: IncidentTable
    dispatch_s: np.ndarray           # first dispatch time (nan if never)
    arrivals_s: list                 # per incident: sorted arrival times
    units_sent: list                 # per incident: unit ids in order of dispatch
    first_unit: np.ndarray           # unit id that arrived first (-1 if none)
    cross_area: np.ndarray           # per incident: the first unit sent came from outside its beat
    clear_s: np.ndarray              # when the last unit left the scene
    encircle_s: np.ndarray           # per incident: seconds from call to a full cordon (nan: not major)
    units: list                      # UnitState per unit
    warmup_s: float
    horizon_s: float
    end_s: float
    staffing: list                   # one dict per shift
    alert_log: list                  # one dict per decision (day, area, level, observed, expected)
    patrol_intervals: list           # (uid, t0, t1, circuit_key, anchor_t, anchor_tau)
    circuits: dict                   # circuit_key -> Circuit
    lost: np.ndarray | None = None   # per incident: a request was dropped (loss system)


def _clip(a: float, b: float, lo: float, hi: float) -> float:
    """Length of [a, b] inside [lo, hi] (comparisons, not min/max calls: this runs for every event)."""
    if a < lo:
        a = lo
    if b > hi:
        b = hi
    return b - a if b > a else 0.0


class _NearestOnCircuit:
    """``[node]``: the circuit node nearest to ``node`` in a straight line (where a unit rejoins).

    On graphs up to ``TABLE_MAX_NODES`` the answer for every node is computed at once;
    on larger ones each node's answer is computed when first asked, and kept.
    """

    TABLE_MAX_NODES = 10_000

    def __init__(self, c: Circuit, graph) -> None:
        self._cn = np.asarray(c.nodes[:-1], np.int64)
        self._x, self._y = graph.x_m, graph.y_m
        if graph.n_nodes <= self.TABLE_MAX_NODES:
            cx, cy = self._x[self._cn][None, :], self._y[self._cn][None, :]
            d2 = (self._x[:, None] - cx) ** 2 + (self._y[:, None] - cy) ** 2
            self._table = self._cn[np.argmin(d2, axis=1)].astype(np.int32)
        else:
            self._table = None
            self._known: dict[int, int] = {}

    def __getitem__(self, node: int) -> int:
        if self._table is not None:
            return int(self._table[node])
        hit = self._known.get(node)
        if hit is None:
            cn = self._cn
            d2 = (self._x[cn] - self._x[node]) ** 2 + (self._y[cn] - self._y[node]) ** 2
            hit = self._known[node] = int(cn[int(np.argmin(d2))])
        return hit


class Engine:
    """One replication: ``Engine(...).run()`` returns an ``EngineLog``."""

    def __init__(self, *, city: City, deployment: Deployment, travel: dict[str, ModeTravel],
                 incidents: IncidentTable, rep: np.random.SeedSequence, warmup_s: float,
                 horizon_s: float, turnout_s: float, circuit_stops: int = 10,
                 rules: DispatchRules | None = None, patrol: PatrolSettings | None = None,
                 alert: AlertPlan | None = None, response_line_s: float = 300.0,
                 major_types: np.ndarray | None = None, encircle: EncircleSettings | None = None,
                 exhaustive: bool = False) -> None:
        self.city = city
        self.dep = deployment
        self.travel = travel
        self.inc = incidents
        self.rep = rep
        self.warmup_s = warmup_s
        self.horizon_s = horizon_s
        self.turnout_s = turnout_s
        self.rules = rules or DispatchRules()
        self.patrol = patrol or PatrolSettings(circuit_stops=circuit_stops)
        self.alert = alert or deployment.alert_plan or AlertPlan(mode="fixed", base_level=deployment.alert_level)
        self.response_line_s = response_line_s
        self.encircle = encircle
        self.exhaustive = exhaustive
        # the incident columns as Python lists: the engine reads single items, which lists serve faster
        self._place = incidents.place.tolist()
        self._call_s = incidents.call_s.astype(float).tolist()
        self._priority = incidents.priority.tolist()
        self._on_scene_s = incidents.on_scene_s.astype(float).tolist()
        self._handling_s = incidents.handling_s.astype(float).tolist()
        self._needed = incidents.units_needed.tolist()
        self._is_major = ([False] * len(incidents) if major_types is None
                          else np.asarray(major_types, bool)[incidents.type_idx].tolist())
        self.shift_s = deployment.shift_s
        self.env = simpy.Environment()
        n = len(incidents)
        self.dispatch_s = np.full(n, np.nan)
        self.arrivals: list[list[float]] = [[] for _ in range(n)]
        self.first_unit = np.full(n, -1, np.int64)
        self.sent: list[list[int]] = [[] for _ in range(n)]
        self.cross_area = np.zeros(n, bool)
        self.clear_s = np.full(n, np.nan)
        self.encircle_s = np.full(n, np.nan)
        self.lost = np.zeros(n, bool)      # requests dropped in a loss system
        self.queue: list = []
        # dispatch requests in time order (call + handling); ties keep the incidents' order
        self._request_s = (incidents.call_s + incidents.handling_s).astype(float).tolist()
        self._request_order = np.argsort(incidents.call_s + incidents.handling_s, kind="stable").tolist()
        self._requested = 0          # requests made so far
        self._counted = 0            # calls counted into calls_by_day so far
        self._seq = 0
        self.closed = False
        self.staffing_log: list[dict] = []
        self.alert_log: list[dict] = []
        self.intervals: list = []
        self.circuits: dict = {}
        self._lb: dict = {}
        self._exits: dict = {}
        self._beat_sets: dict = {}
        self._lb_key: dict = {}
        self._major_edge = None
        self._join_cache: dict = {}
        r = self.rules
        self._owns_matters = r.policy == "own_beat_first"
        self._kinds_with_beat_rules = frozenset(
            ({"foot"} if (r.foot_max_travel_s is not None or r.foot_own_beat_only) else set())
            | ({"bicycle"} if r.bicycle_max_travel_s is not None else set()))
        # nearest-unit dispatch without a reserve: the choice is the eligible unit with the smallest
        # (arrival, unit id), found without building a list of candidates (``_nearest_unit``)
        self._plain_nearest = r.policy == "nearest" and not any(u.role == "reserve" for u in deployment.units)
        self._backup_kinds = frozenset(r.backup_kinds)
        self.target = {m: city.place_node[m] for m in travel}
        self.extra_s = {m: city.place_offset_m[m] / travel[m].offset_speed_mps for m in travel}
        areas = deployment.areas
        self.area_of_place = areas.label if areas is not None else np.zeros(city.n_places, np.int64)
        self.n_scope = (areas.n if areas is not None else 1) if self.alert.scope == "area" else 1
        n_days = int(np.ceil((horizon_s + MAX_DRAIN_S) / DAY_S)) + 1
        self.calls_by_day = np.zeros((self.n_scope, n_days))
        self.levels = [self.alert.known_level(0)] * self.n_scope
        # dispatch bookkeeping kept in arrays: 0 unavailable, 1 on a circuit (lower bound valid), 2 other
        self.code = np.zeros(len(deployment.units), np.int8)
        self.lb_rows = np.zeros((len(deployment.units), city.n_places))
        self.is_reserve = np.array([u.role == "reserve" for u in deployment.units], bool)
        self.any_reserve = bool(self.is_reserve.any())
        # added to a unit's lower bound: 0 on its circuit, -inf available elsewhere (always located),
        # +inf unavailable or the reserve (located separately)
        self.bias = np.full(len(deployment.units), np.inf)
        self._time = {m: travel[m].oracle.time for m in travel}
        self._T = {m: travel[m].oracle.time_matrix for m in travel}
        # per mode, per place: the node a unit drives to and the seconds from there on foot
        self._target_of = {m: self.target[m].astype(np.int64).tolist() for m in travel}
        self._extra_of = {m: self.extra_s[m].astype(float).tolist() for m in travel}
        self._located: dict[int, tuple[int, float]] = {}
        self._located_t = -1.0               # the time the units in _located were located
        self.units: list[UnitState] = []
        for u in deployment.units:
            home_place = u.home_place if u.home_place >= 0 else int(city.station_place[u.station])
            home = int(self.target[u.mode][home_place]) if u.mode in self.target else home_place
            self.units.append(UnitState(uid=u.uid, unit=u, mode=u.mode, role=u.role, home_node=home,
                                        kind=u.kind, status="off"))
        self._posts = [st for st in self.units if st.role == "checkpoint"]
        self._start_rng = {u.uid: stream(rep, f"patrol-start-{u.uid}") for u in deployment.units}

    def _refresh(self, st: UnitState) -> None:
        """Update the dispatch arrays after ``st`` changed status or movement."""
        u = st.uid
        if st.status == "patrol" and st.moving == "circuit" and st.role != "reserve":
            # the row stays while the unit is away from its circuit (its bias masks it then)
            if self._lb_key.get(u) != st.circuit_key:
                self.lb_rows[u] = self._lb[st.circuit_key]
                self._lb_key[u] = st.circuit_key
            self.code[u] = 1
            self.bias[u] = 0.0 if not self.is_reserve[u] else np.inf
        elif st.status in ("patrol", "station"):
            self.code[u] = 2
            self.bias[u] = -np.inf if not self.is_reserve[u] else np.inf
        else:
            self._unavailable(u)

    def _unavailable(self, u: int) -> None:
        self.code[u] = 0
        self.bias[u] = np.inf

    # ------------------------------------------------------------------ patrol circuits
    def _circuit_for(self, st: UnitState, level: str, period: int) -> Circuit:
        key = (st.uid, level, period)
        c = self.circuits.get(key)
        if c is None:
            self._build_circuits(st, level)
            c = self.circuits[key]
        return c

    def _periods(self) -> int:
        return max(1, int(round(DAY_S / self.shift_s)))

    def _build_circuits(self, st: UnitState, level: str) -> None:
        """All periods' circuits of a unit at a level, and the lower bound of each."""
        u = st.unit
        mt = self.travel[st.mode]
        bid, places = u.assignment(level) if st.role != "reserve" else (u.beat, u.beat_places)
        pn = self.target[st.mode]
        nodes = pn[places]
        beat_nodes = np.unique(nodes)
        for period in range(self._periods()):
            rng = stream(self.rep, f"patrol-unit-{u.uid}-{level}-{period}")
            weights = None
            pw = self.patrol.period_weights
            if self.patrol.strategy == "hotspot" and pw is not None:
                per_node = np.zeros(int(pn.max()) + 1)
                np.add.at(per_node, nodes, pw[period % pw.shape[0], places])
                weights = per_node[beat_nodes]
            stops = choose_stops(beat_nodes, rng, n_stops=self.patrol.circuit_stops, weights=weights)
            stops = order_stops(stops, mt.oracle.time)
            c = build_circuit(mt.oracle, stops, patrol_scale=mt.patrol_scale)
            self.circuits[(u.uid, level, period)] = c
            # the bound of the circuit alone: a unit with a lower bound in use is on that circuit
            self._lb[(u.uid, level, period)] = circuit_lower_bound_s(mt.oracle, [c], pn, self.extra_s[st.mode])

    # ------------------------------------------------------------------ movement
    def _leave_patrol(self, st: UnitState, t: float) -> None:
        """Account the patrol (or a drive) that ends at ``t``."""
        if self.closed:      # accounts were closed at the horizon
            return
        if st.moving == "leg":
            leg = st.leg
            if t >= leg.t_end:
                done = leg.metres
            else:
                _, times, _, dist = leg.path(self.travel[st.mode].oracle)
                k = min(bisect_right(times, t) - 1, len(times) - 2)
                f = (t - times[k]) / (times[k + 1] - times[k]) if times[k + 1] > times[k] else 1.0
                done = dist[k] + f * (dist[k + 1] - dist[k])
            self._account_drive(st, leg.t_start, t, done, patrol=True)  # driving back, available: not busy
        elif st.moving == "circuit":
            c = st.circuit
            speed = c.length_m / c.duration_s
            inside = _clip(st.anchor_t, t, self.warmup_s, self.horizon_s)
            st.patrol_s += inside
            st.distance_m += inside * speed
            if t > st.anchor_t:
                self.intervals.append((st.uid, st.anchor_t, t, st.circuit_key, st.anchor_t, st.anchor_tau))

    def _account_drive(self, st: UnitState, t0: float, t1: float, metres: float, *, patrol: bool) -> None:
        inside = _clip(t0, t1, self.warmup_s, self.horizon_s)
        if inside <= 0:
            return
        st.distance_m += metres * inside / (t1 - t0)
        if patrol:
            st.patrol_s += inside
        else:
            st.travel_s += inside

    def _account_idle(self, st: UnitState, t: float) -> None:
        """Close the station / off-duty / checkpoint time that ends at ``t``."""
        if self.closed:
            return
        inside = _clip(st.since, t, self.warmup_s, self.horizon_s)
        if st.status == "station":
            st.station_s += inside
        elif st.status == "off":
            st.off_s += inside
        elif st.status == "post":
            st.post_s += inside

    def _sync(self, st: UnitState, t: float) -> None:
        """Finish a drive that ended by ``t``: join the circuit or park at the station."""
        if st.moving == "leg" and st.status == "patrol" and st.leg.t_end <= t:
            leg = st.leg
            if not self.closed:
                self._account_drive(st, leg.t_start, leg.t_end, leg.metres, patrol=True)  # driving back, available: not busy
            if leg.then == "station":
                st.status, st.moving, st.leg, st.since = "station", "still", None, leg.t_end
            else:
                st.moving, st.leg = "circuit", None
                st.anchor_t = leg.t_end
                st.anchor_tau = st.circuit.tau_at(leg.dst)
            self._refresh(st)

    def _from_here(self, st: UnitState, t: float) -> tuple[int, float]:
        """(node the unit heads to, seconds before it is there or can leave) if sent at ``t``."""
        if st.status == "station":
            return st.home_node, self.turnout_s
        if st.status == "post":
            return st.home_node, 0.0
        if st.moving == "still":      # at a scene, just cleared
            return st.at_node, 0.0
        self._sync(st, t)
        if st.status == "station":
            return st.home_node, self.turnout_s
        if st.moving == "circuit":
            node, rem, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
            return node, rem
        nodes, times, resp, _ = st.leg.path(self.travel[st.mode].oracle)
        k = min(bisect_right(times, t) - 1, len(times) - 2)
        t0, t1 = times[k], times[k + 1]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return nodes[k + 1], (1.0 - f) * (resp[k + 1] - resp[k])

    def eta_s(self, st: UnitState, place: int, t: float) -> float:
        """Estimated seconds for ``st`` to reach ``place`` if sent at ``t``.

        Where the unit is (``_from_here``) is kept in ``_located`` for this dispatch, so
        that sending the chosen unit does not locate it again.
        """
        if st.moving == "circuit" and st.status == "patrol":     # the common case, without _from_here
            node, wait, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
        else:
            node, wait = self._from_here(st, t)
        self._located[st.uid] = (node, wait)
        mode = st.mode
        target = self._target_of[mode][place]
        T = self._T[mode]
        # float(): the sums and comparisons that follow are several times faster on Python floats
        return wait + (float(T[node, target]) if T is not None else self._time[mode](node, target)) \
            + self._extra_of[mode][place]

    def _start_leg(self, st: UnitState, node: int, dst: int, t: float, wait_s: float, then: str) -> None:
        """Drive from ``node`` (reached after ``wait_s`` response-seconds) to ``dst``, at patrol speed."""
        mt = self.travel[st.mode]
        o = mt.oracle
        scale = mt.patrol_scale
        st.status, st.moving = "patrol", "leg"
        st.leg = _Leg(node, dst, t, wait_s, t + (wait_s + o.time(node, dst)) * scale, o.metres(node, dst),
                      then, scale)

    def _join_circuit(self, st: UnitState, node: int, t: float, *, wait_s: float = 0.0) -> None:
        """Drive from ``node`` (reached after ``wait_s`` response-seconds) to the nearest node of the circuit."""
        join_at = self._join_cache.get(st.circuit_key)
        if join_at is None:
            join_at = self._join_cache[st.circuit_key] = _NearestOnCircuit(st.circuit, self.city.graphs[st.mode])
        self._start_leg(st, node, join_at[node], t, wait_s, "circuit")
        self._refresh(st)
        self._sync(st, t)

    def _drive_home(self, st: UnitState, node: int, t: float, *, wait_s: float = 0.0) -> None:
        """Drive from ``node`` (reached after ``wait_s`` response-seconds) back to the station."""
        if node == st.home_node and wait_s <= 0:
            st.status, st.moving, st.leg, st.since = "station", "still", None, t
            self._refresh(st)
            return
        self._start_leg(st, node, st.home_node, t, wait_s, "station")
        st.since = t
        self._refresh(st)

    # ------------------------------------------------------------------ shifts and alert levels
    def _level_of(self, st: UnitState) -> str:
        if self.n_scope == 1:
            return self.levels[0]
        return self.levels[int(st.unit.area)]

    def _duty(self, st: UnitState, level: str) -> str:
        u = st.unit
        if st.role == "reserve":
            return "patrol"
        if not u.on_duty(level):
            return "off"
        if st.role == "patrol":
            return "patrol" if u.assignment(level) is not None else "off"
        return {"standby": "station", "checkpoint": "post"}[st.role]

    def _apply_duty(self, st: UnitState, t: float) -> None:
        """Put a free unit where the current level and shift want it."""
        self._apply_duty_inner(st, t)
        self._refresh(st)

    def _apply_duty_inner(self, st: UnitState, t: float) -> None:
        level = self._level_of(st)
        want = self._duty(st, level)
        period = int((t % DAY_S) // self.shift_s)
        if want == "patrol":
            key_level = "all" if st.role == "reserve" else level
            st.level = key_level
            st.beat = st.unit.beat if st.role == "reserve" else st.unit.assignment(level)[0]
            circuit = self._circuit_for(st, key_level, period)
            if st.status == "patrol" and st.moving != "still":
                node, wait = self._from_here(st, t)
                self._leave_patrol(st, t)
            elif st.status == "patrol":          # just cleared a scene
                node, wait = st.at_node, 0.0
            elif st.status in ("station", "off", "post"):
                self._account_idle(st, t)
                node, wait = st.home_node, 0.0
            else:
                return
            st.circuit, st.circuit_key = circuit, (st.uid, key_level, period)
            if st.status != "patrol" and t == 0.0:
                # at the start every patrol unit is somewhere on its circuit already
                st.status, st.moving = "patrol", "circuit"
                st.anchor_t = 0.0
                st.anchor_tau = float(self._start_rng[st.uid].random() * circuit.duration_s)
                return
            self._join_circuit(st, node, t, wait_s=wait)
            return
        # station, post or off
        self._sync(st, t)     # a drive home that ended before now parks the unit first
        if st.status == "patrol":
            wait = 0.0
            if st.moving != "still":
                node, wait = self._from_here(st, t)
                self._leave_patrol(st, t)
            else:
                node = st.at_node
            st.leg, st.circuit = None, None
            if want == "station":
                self._drive_home(st, node, t, wait_s=wait)
                return
            st.status, st.moving, st.since = want, "still", t
            return
        if st.status != want:
            self._account_idle(st, t)
            st.status, st.moving, st.since = want, "still", t

    def _count_calls(self, t: float) -> None:
        """Add the calls made before ``t`` to ``calls_by_day`` (what the command centre has received)."""
        k = self._counted
        call_s = self._call_s
        n = len(call_s)
        while k < n and call_s[k] < t:
            a = int(self.area_of_place[self._place[k]]) if self.n_scope > 1 else 0
            self.calls_by_day[a, int(call_s[k] // DAY_S)] += 1
            k += 1
        self._counted = k

    def _decide_levels(self, t: float) -> None:
        day = int(t // DAY_S)
        self._count_calls(t)
        decided = self.alert.decide(day, self.calls_by_day)
        names = self.dep.areas.names if (self.dep.areas is not None and self.n_scope > 1) else ("city",)
        for a, (lvl, observed, expected) in enumerate(decided):
            self.levels[a] = lvl
            self.alert_log.append({"day": day, "area": names[a], "level": lvl, "decided_s": t,
                                   "observed_per_day": observed, "expected_per_day": expected})

    def _shift_change(self, t: float) -> None:
        for st in self.units:
            if st.status == "busy":
                st.pending = True
                if st.overtime_from is None:
                    st.overtime_from = t
            else:
                self._apply_duty(st, t)
        self._log_staffing(t)

    def _log_staffing(self, t: float) -> None:
        shift = int(t // self.shift_s)
        row = {"shift": shift, "start_s": t, "day": int(t // DAY_S),
               "period": int((t % DAY_S) // self.shift_s),
               "levels": ",".join(sorted(set(self.levels)))}
        lead = shift % max(1, self.dep.teams)
        row["lead_team"] = lead + 1
        staff = self.dep.staffing.get(self.levels[0]) if self.n_scope == 1 else None
        row["teams_on_duty"] = staff.teams_on_duty if staff else None
        for key in ("patrol", "station", "post", "off", "busy"):
            row[f"units_{key}"] = 0
        officers = 0
        for st in self.units:
            want = self._duty(st, self._level_of(st))
            row[f"units_{st.status}"] = row.get(f"units_{st.status}", 0) + 1
            if want != "off" and st.role != "reserve":
                officers += st.unit.crew
            if want == "patrol" and st.role != "reserve":
                row[f"patrol_{st.unit.kind}"] = row.get(f"patrol_{st.unit.kind}", 0) + 1
        row["officers_on_duty"] = officers
        self.staffing_log.append(row)

    def _shifts(self):
        next_decision = self.alert.decision_hour * 3600.0
        t = 0.0
        while True:
            if t >= next_decision:
                self._decide_levels(t)
                while next_decision <= t:
                    next_decision += DAY_S
            self._shift_change(t)
            t += self.shift_s
            if t >= self.horizon_s:
                return
            yield self.env.timeout(t - self.env.now)

    # ------------------------------------------------------------------ dispatch
    def _owns(self, st: UnitState, place: int) -> tuple[bool, bool]:
        if st.beat < 0:
            return False, False
        index = self.dep.beat_index.get((st.level, st.unit.kind)) if st.role == "patrol" else None
        if index is None:
            members = self._beat_sets.get(st.beat)
            if members is None:
                places = self.dep.beat_places.get(st.beat)
                if places is None:
                    places = st.unit.beat_places
                members = self._beat_sets[st.beat] = frozenset(int(p) for p in places)
            return place in members, False
        b = int(index[place])
        return b == st.beat, b in self.dep.beat_neighbours.get(st.beat, ())

    def _candidate(self, st: UnitState, place: int, t: float) -> Candidate:
        # beat ownership matters only to rules that read it; skip the look-up for the rest
        if self._owns_matters or st.unit.kind in self._kinds_with_beat_rules:
            own, nb = self._owns(st, place)
        else:
            own = nb = False
        return Candidate(st.uid, st.kind, st.role, self.eta_s(st, place, t), own, nb)

    def candidates(self, place: int, t: float, *, is_backup: bool) -> list[Candidate]:
        """Available units with exact ETAs, leaving out those whose lower bound cannot win.

        Units on their circuit have a lower bound per place (``sim.patrol``); they are
        visited in order of that bound and the search stops once the bound exceeds the
        best eligible arrival found. The reserve, and the beat owners and neighbours
        under ``own_beat_first``, are always located exactly.
        """
        code = self.code
        bound = self._bounds(place, t)
        if self.exhaustive:
            return [self._candidate(self.units[u], place, t) for u in np.flatnonzero(code > 0)]
        exact: list[Candidate] = []
        if self.any_reserve:
            for u in np.flatnonzero(self.is_reserve & (code > 0)):
                exact.append(self._candidate(self.units[u], place, t))
        if self._owns_matters:
            for u in np.flatnonzero((code > 0) & ~self.is_reserve):
                st = self.units[u]
                if any(self._owns(st, place)):
                    exact.append(self._candidate(st, place, t))
                    bound[u] = np.inf
        best = min((c.eta_s for c in exact if c.role != "reserve" and self._ok(c, is_backup)), default=np.inf) \
            if exact else np.inf
        values = bound.tolist()
        for u in bound.argsort(kind="stable").tolist():
            b = values[u]
            if b > best or b == np.inf:
                break
            c = self._candidate(self.units[u], place, t)
            exact.append(c)
            if c.eta_s < best and self._ok(c, is_backup):
                best = c.eta_s
        return exact

    def _bounds(self, place: int, t: float) -> np.ndarray:
        """Per unit, a lower bound on its arrival at ``place`` for a search starting at ``t``.

        On its circuit: the circuit's bound; available elsewhere: -inf (always located);
        unavailable or the reserve: +inf. Also starts a new ``_located`` for this search.
        """
        self._located, self._located_t = {}, t
        return self.lb_rows[:, place] + self.bias

    def _nearest_unit(self, place: int, t: float, is_backup: bool) -> int | None:
        """The uid ``select_unit`` would pick under ``_plain_nearest`` rules (None: no unit free).

        The same search as ``candidates`` (units by lower bound, stopping once a bound
        exceeds the best eligible arrival), keeping only the best (arrival, uid) instead
        of a list of candidates. Only units of a kind some rule applies to are checked
        with ``eligible``. Tests check the result against the exhaustive search.
        """
        bound = self._bounds(place, t)
        values = bound.tolist()
        units = self.units
        ruled = self._kinds_with_beat_rules
        best, best_uid = np.inf, None
        for u in bound.argsort(kind="stable").tolist():
            b = values[u]
            if b > best or b == np.inf:
                break
            st = units[u]
            eta = self.eta_s(st, place, t)
            if (st.kind in ruled or (is_backup and st.kind not in self._backup_kinds)) \
                    and not self._ok(Candidate(u, st.kind, st.role, eta, *self._owns(st, place)), is_backup):
                continue
            if best_uid is None or eta < best or (eta == best and u < best_uid):
                best, best_uid = eta, u
        return best_uid

    def _ok(self, c: Candidate, is_backup: bool) -> bool:
        return eligible(c, rules=self.rules, is_backup=is_backup)

    def _send(self, st: UnitState, i: int, t: float, located: tuple[int, float] | None = None) -> None:
        """Send ``st`` to incident ``i`` now: stop what it was doing, account it, start the trip.

        ``located``: where the unit is now (node it heads to, seconds to it), if known.
        """
        mt = self.travel[st.mode]
        place = self._place[i]
        own, _ = self._owns(st, place)
        node, wait = located if located is not None else self._from_here(st, t)
        if st.status == "patrol":
            if st.moving != "still":
                # the rest of the current street edge is counted in time (wait), not in distance
                self._leave_patrol(st, t)
        elif st.status == "station":
            self._account_idle(st, t)
        target = self._target_of[st.mode][place]
        resp_s = mt.oracle.time(node, target)
        if not resp_s < np.inf:
            mt.oracle.route(node, target)      # raises the one-line "no route" error
        eta = wait + resp_s + self._extra_of[st.mode][place]
        metres = mt.oracle.metres(node, target) + float(self.city.place_offset_m[st.mode][place])
        if not self.sent[i]:
            self.dispatch_s[i] = t
            self.cross_area[i] = st.role == "patrol" and not own
        if st.role == "patrol" and not own:
            st.cross_area_calls += 1
        st.status, st.moving, st.leg, st.since = "busy", "still", None, t
        self._unavailable(st.uid)
        st.calls += 1
        self.sent[i].append(st.uid)
        self._trip(st, i, eta, metres, target)

    def _request(self, i: int, count: int) -> None:
        self._requested += 1
        t = self.env.now
        place = self._place[i]
        for _ in range(count):
            is_backup = len(self.sent[i]) > 0
            if self._plain_nearest and not self.exhaustive:
                uid = self._nearest_unit(place, t, is_backup)
            else:
                time_left = self.response_line_s - (t - self._call_s[i])
                choice = select_unit(self.candidates(place, t, is_backup=is_backup), rules=self.rules,
                                     is_backup=is_backup, major=self._is_major[i], time_left_s=time_left)
                uid = None if choice is None else choice.uid
            if uid is None:
                if self.rules.lost_when_all_busy:
                    self.lost[i] = True
                    continue
                heapq.heappush(self.queue, (self._priority[i], self._call_s[i], self._seq, i))
                self._seq += 1
            else:
                self._send(self.units[uid], i, t, self._located.get(uid))
        if self.encircle is not None and self._is_major[i]:
            self.encircle_s[i] = self._encirclement(i, t)

    def _after(self, delay_s: float, fn, *args) -> None:
        """Call ``fn(*args)`` after ``delay_s`` simulated seconds (a SimPy timeout with a callback).

        Callbacks instead of generator processes halve the work per event; the order of
        events at equal times is still SimPy's (first scheduled, first run).
        """
        ev = self.env.timeout(delay_s)
        ev.callbacks.append(lambda _ev: fn(*args))

    def _trip(self, st: UnitState, i: int, eta: float, metres: float, node: int) -> None:
        """Drive to incident ``i`` and stay on scene; one event, at clearance.

        Nothing can divert a unit on its way, so its arrival is known when it leaves
        and is recorded now (unless it falls after the drain stops the run, like the
        clearance that would follow it).
        """
        t0 = self.env.now
        t1 = t0 + eta
        if t1 < self.horizon_s + MAX_DRAIN_S:
            arr = self.arrivals[i]
            if not arr or t1 < arr[0]:       # equal times: the unit sent first arrived first
                self.first_unit[i] = st.uid
            arr.append(t1)
            arr.sort()
            self._account_drive(st, t0, t1, metres, patrol=False)
        self._after(t1 + self._on_scene_s[i] - t0, self._clear, st, i, t1, t0, node)

    def _clear(self, st: UnitState, i: int, t1: float, t0: float, node: int) -> None:
        t2 = self.env.now
        st.scene_s += _clip(t1, t2, self.warmup_s, self.horizon_s)
        if not self.clear_s[i] >= t2:        # nan (first unit to clear) or earlier
            self.clear_s[i] = t2
        st.trips.append((i, t0, t1, t2))
        self._free(st, node, t2)

    def _next_queued_for(self, st: UnitState) -> int | None:
        """The first queued request this unit may take: never a second place at an incident it already served."""
        skipped, found = [], None
        while self.queue:
            item = heapq.heappop(self.queue)
            if st.uid in self.sent[item[3]]:
                skipped.append(item)
                continue
            found = item[3]
            break
        for item in skipped:
            heapq.heappush(self.queue, item)
        return found

    def _free(self, st: UnitState, node: int, t: float) -> None:
        """A unit clears the scene at ``node``: next queued call, else where its duty wants it."""
        self._free_inner(st, node, t)
        self._refresh(st)

    def _free_inner(self, st: UnitState, node: int, t: float) -> None:
        if st.overtime_from is not None:
            st.overtime_s += st.unit.crew * _clip(st.overtime_from, t, self.warmup_s, self.horizon_s)
            st.overtime_from = None
        st.status, st.moving, st.since = "patrol", "still", t
        st.leg, st.at_node = None, node
        if st.pending:
            st.pending = False
            want = self._duty(st, self._level_of(st))
            if want == "off":
                st.status, st.leg, st.since = "off", None, t
                return
        j = self._next_queued_for(st) if self.queue else None
        if j is not None:
            self._send(st, j, t)
            return
        want = self._duty(st, self._level_of(st))
        if want == "patrol":
            self._apply_duty(st, t)
        elif want == "off":
            st.status, st.leg, st.since = "off", None, t
        else:
            st.leg = None
            self._drive_home(st, node, t)

    # ------------------------------------------------------------------ encirclement (合围)
    def _exit_places(self, place: int) -> np.ndarray:
        """Places just outside the cordon radius reached by a road from inside it (cached per place)."""
        hit = self._exits.get(place)
        if hit is None:
            g = self.city.places
            if self.encircle.roads == "major" and self._major_edge is None:
                from sim.force import MAJOR_ROADS

                self._major_edge = np.isin(g.edge_class, MAJOR_ROADS)
            mask = self._major_edge if self.encircle.roads == "major" else None
            hit = self._exits[place] = exit_places(g, place, radius_m=self.encircle.radius_m, road_mask=mask)
        return hit

    def _encirclement(self, i: int, t: float) -> float:
        """Seconds from the call until units and checkpoints could hold every exit road (inf if never).

        A measure, not an order: the free units (for k exits, the 3k with the smallest
        lower bound on their arrival at the incident: the bound of the circuit they are
        on, and every unit off a circuit) are assigned greedily (shortest arrival first)
        to the exits not already held by a checkpoint on duty.
        """
        exits = self._exit_places(self._place[i])
        if exits.size == 0:
            return t - self._call_s[i]
        held = {st.home_node for st in self._posts if st.status == "post"}
        todo = [p for p in exits.tolist() if p not in held]
        if not todo:
            return t - self._call_s[i]
        avail = np.flatnonzero(self.code > 0)
        if avail.size < len(todo):
            return float("inf")
        # the 3k units nearest the incident (by their lower bound) are enough to hold k exits
        place = self._place[i]
        bound = np.where(self.code[avail] == 1, self.lb_rows[avail, place], -1.0)
        keep = avail[bound.argsort(kind="stable")[:3 * len(todo)]]
        free = [self.units[u] for u in keep.tolist()]
        # units located for this dispatch a moment ago (same time, same state) need no second look
        located = self._located if self._located_t == t else {}
        where = [located.get(st.uid) or self._from_here(st, t) for st in free]
        todo_arr = np.asarray(todo, np.int64)
        modes = {st.mode for st in free}
        if len(modes) == 1:
            groups = {modes.pop(): slice(None)}
        else:
            groups = {m: [a for a, st in enumerate(free) if st.mode == m] for m in sorted(modes)}
        eta = np.empty((len(free), len(todo)))
        nodes = np.array([w[0] for w in where], np.int64)
        waits = np.array([w[1] for w in where])
        for mode, rows in groups.items():
            targets = self.target[mode][todo_arr]
            eta[rows] = self.travel[mode].oracle.times_between(nodes[rows], targets) + waits[rows, None] \
                + self.extra_s[mode][todo_arr][None, :]
        return t - self._call_s[i] + greedy_cordon_s(eta)

    # ------------------------------------------------------------------ incidents
    def _next_request(self, k: int) -> None:
        """The ``k``-th dispatch request (in order of call + handling time), then schedule the next.

        All incidents are known in advance, so the requests form one chain of events;
        a call needs no event of its own (``_count_calls`` counts calls when a level is decided).
        """
        i = self._request_order[k]
        if k + 1 < len(self._request_order):
            self._after(self._request_s[self._request_order[k + 1]] - self.env.now, self._next_request, k + 1)
        self._request(i, self._needed[i])

    def run(self) -> EngineLog:
        # the shift process is created first, so the first shift is set up before any call at time 0
        self.env.process(self._shifts())
        if len(self.inc):
            self._after(self._request_s[self._request_order[0]], self._next_request, 0)
        self.env.run(until=self.horizon_s)
        horizon = self.horizon_s
        for st in self.units:   # close the accounts at the horizon
            self._sync(st, horizon)
            if st.status == "patrol" and st.moving != "still":
                self._leave_patrol(st, horizon)
                st.anchor_tau += horizon - st.anchor_t
                st.anchor_t = horizon
            elif st.status in ("station", "off", "post"):
                self._account_idle(st, horizon)
                st.since = horizon
            if st.overtime_from is not None:
                st.overtime_s += st.unit.crew * _clip(st.overtime_from, horizon, self.warmup_s, horizon)
                st.overtime_from = horizon
        self.closed = True
        limit = horizon + MAX_DRAIN_S
        # calls still in handling at the horizon are dispatched too (the drain serves every call made)
        while self.env.peek() < limit and (self._requested < len(self._request_order) or self.queue
                                            or any(u.status == "busy" for u in self.units)):
            self.env.step()
        return EngineLog(incidents=self.inc, dispatch_s=self.dispatch_s, arrivals_s=self.arrivals,
                         units_sent=self.sent, first_unit=self.first_unit, cross_area=self.cross_area,
                         clear_s=self.clear_s, encircle_s=self.encircle_s, units=self.units,
                         warmup_s=self.warmup_s, horizon_s=self.horizon_s, end_s=self.env.now,
                         staffing=self.staffing_log, alert_log=self.alert_log,
                         patrol_intervals=self.intervals, circuits=self.circuits, lost=self.lost)
