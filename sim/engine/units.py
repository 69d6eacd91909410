"""Unit state, drives and time accounting: where a unit is at time t, and what its time was spent on.

A patrolling unit makes no events: on its circuit its position follows from where
and when it joined it (``Circuit.where``); on a one-off drive (``Leg``: joining a
circuit, driving home) from the drive's ends and start. ``Movement`` moves units
between these states and books every second inside the measured window to one
account (patrol, travel, scene, station, off duty, post).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from sim.engine.intervals import PatrolIntervals
from sim.force import Unit
from sim.jit_entry import direct
from sim.kinds import Motion, Role, Status
from sim.network.travel import TravelOracle
from sim.patrol import Circuit

# module names (not Enum attribute look-ups): these are compared at every event
PATROL, STATION, BUSY, OFF, POST = Status.PATROL, Status.STATION, Status.BUSY, Status.OFF, Status.POST
CIRCUIT, LEG, STILL = Motion.CIRCUIT, Motion.LEG, Motion.STILL


@dataclass
class ModeTravel:
    """Response-speed oracle of one mode plus how much slower the same streets are at patrol speed."""

    oracle: TravelOracle
    patrol_scale: float            # patrol time = response time x patrol_scale
    offset_speed_mps: float        # for the last metres from a mode's node to the place itself

    def times_by_target(self) -> np.ndarray | None:
        """The oracle's full time matrix transposed, ``[target, source]`` (``TravelOracle.times_by_target``)."""
        return self.oracle.times_by_target()


def clip(a: float, b: float, lo: float, hi: float) -> float:
    """Length of [a, b] inside [lo, hi] (comparisons, not min/max calls: this runs for every event)."""
    if a < lo:
        a = lo
    if b > hi:
        b = hi
    return b - a if b > a else 0.0


@dataclass(slots=True)
class Leg:
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
    to_station: bool       # parks at the station at the end (else joins the circuit)
    scale: float           # patrol seconds per response second
    # a drive to a circuit: the lap time of ``dst`` on it (``Circuit.tau_at``), where the drive's maker had it at
    # hand; ``Movement.sync`` reads it rather than look the node up on the circuit (None: it looks)
    tau: float | None = None
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
    role: Role
    home_node: int
    kind: str = ""
    status: Status = Status.STATION
    moving: Motion = Motion.STILL  # meaningful while status is patrol
    circuit: Circuit | None = None
    circuit_key: tuple | None = None
    level: str | None = None       # the level whose assignment the unit follows
    beat: int = -1
    leg: Leg | None = None
    at_node: int = -1              # where a unit that just cleared a scene stands (moving STILL)
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
    work: str | None = None        # other work under way (sim.engine.availability), the unit then BUSY
    work_token: int = 0            # bumped when work starts or is interrupted: a stale end event is ignored
    out_of_service_s: float = 0.0
    officer_initiated_s: float = 0.0
    trips: list = field(default_factory=list)


class NearestOnCircuit:
    """``[node]``: the circuit node nearest to ``node`` in a straight line (where a unit rejoins).

    With ``lazy`` False (a graph with a full time matrix, whose batched shift change reads the
    table of every node: ``sim.engine.join_tables``) the answer for every node is computed at
    once (8 bytes a node). With ``lazy`` (graphs without a time matrix: the rejoin asks one
    node at a time) each node's answer is computed when first asked, and kept: on the
    13,002-node town a table per circuit cost about 1 ms (72 per replication of 14 days,
    cProfile), for the few dozen nodes a circuit is rejoined from. Both give the same node
    (``nearest_jit.nearest_one``: the table's arithmetic for one node).
    """

    def __init__(self, c: Circuit, graph, *, lazy: bool = False) -> None:
        self._cn = np.asarray(c.nodes[:-1], np.int64)
        self._x, self._y = graph.x_m, graph.y_m
        from sim.network.nearest_jit import nearest_of_set    # numba loads on first use
        if not lazy:
            # compiled (sim.network.nearest_jit: numpy's squared distances and argmin, the same node);
            # an array of machine ints: a unit rejoins at every clearance and shift change, and an
            # item is a Python int at once (no numpy scalar to convert), in a fifth of a list's memory
            self.table: array | None = array("q", nearest_of_set(self._x, self._y, self._cn)
                                             .astype(np.int64).tobytes())
        else:
            self.table = None
            self._known: dict[int, int] = {}
            self._cx, self._cy = self._x[self._cn], self._y[self._cn]
            self._one = None       # nearest_one's compiled code for these arrays (sim.jit_entry.direct)

    def __getitem__(self, node: int) -> int:
        if self.table is not None:
            return self.table[node]
        hit = self._known.get(node)
        if hit is None:
            args = (self._cx, self._cy, self._cn, self._x.item(node), self._y.item(node))
            one = self._one
            if one is None:        # the dispatcher once (it loads the code), then its code directly
                from sim.network.nearest_jit import nearest_one
                hit = nearest_one(*args)
                self._one = direct(nearest_one, args)
            else:
                hit = one(*args)
            hit = self._known[node] = int(hit)
        return hit


class Movement:
    """Moves units between circuit, drive, station and scene, and keeps their time accounts.

    ``on_change(st)`` is called whenever a unit's availability or movement changed
    (the dispatch index keeps its arrays up to date through it). After ``closed`` is
    set (the horizon), nothing more is booked.
    """

    def __init__(self, *, city, travel: dict[str, ModeTravel], turnout_s: float, warmup_s: float,
                 horizon_s: float, on_change) -> None:
        self.graphs = city.graphs
        self.travel = travel
        self.turnout_s = turnout_s
        self.warmup_s = warmup_s
        self.horizon_s = horizon_s
        self.on_change = on_change
        self.closed = False
        self.intervals = PatrolIntervals()  # (uid, t0, t1, circuit_key, anchor_t, anchor_tau) on a circuit
        self._join: dict = {}              # circuit_key -> NearestOnCircuit

    # ------------------------------------------------------------------ accounts
    def account_drive(self, st: UnitState, t0: float, t1: float, metres: float, *, patrol: bool) -> None:
        # clip(t0, t1, warmup, horizon), written out: this runs at least once per dispatch
        a = self.warmup_s if t0 < self.warmup_s else t0
        b = self.horizon_s if t1 > self.horizon_s else t1
        if not b > a:
            return
        inside = b - a
        st.distance_m += metres * inside / (t1 - t0)
        if patrol:
            st.patrol_s += inside
        else:
            st.travel_s += inside

    def account_idle(self, st: UnitState, t: float) -> None:
        """Close the station / off-duty / checkpoint time that ends at ``t``."""
        if self.closed:
            return
        inside = clip(st.since, t, self.warmup_s, self.horizon_s)
        status = st.status
        if status is STATION:
            st.station_s += inside
        elif status is OFF:
            st.off_s += inside
        elif status is POST:
            st.post_s += inside

    def end_overtime(self, st: UnitState, t: float) -> None:
        """Book the officer-seconds worked since the shift ended (up to ``t``)."""
        st.overtime_s += st.unit.crew * clip(st.overtime_from, t, self.warmup_s, self.horizon_s)

    def leave_patrol(self, st: UnitState, t: float) -> None:
        """Account the patrol (or a drive) that ends at ``t``."""
        if self.closed:      # accounts were closed at the horizon
            return
        if st.moving is LEG:
            leg = st.leg
            if t >= leg.t_end:
                done = leg.metres
            else:
                _, times, _, dist = leg.path(self.travel[st.mode].oracle)
                k = min(bisect_right(times, t) - 1, len(times) - 2)
                f = (t - times[k]) / (times[k + 1] - times[k]) if times[k + 1] > times[k] else 1.0
                done = dist[k] + f * (dist[k + 1] - dist[k])
            self.account_drive(st, leg.t_start, t, done, patrol=True)  # driving back, available: not busy
        elif st.moving is CIRCUIT:
            c = st.circuit
            speed = c.dist_m[-1] / c.t_s[-1]      # length_m / duration_s, without the two property calls
            anchor_t = st.anchor_t       # clip(anchor_t, t, warmup, horizon), written out
            a = self.warmup_s if anchor_t < self.warmup_s else anchor_t
            b = self.horizon_s if t > self.horizon_s else t
            inside = b - a if b > a else 0.0
            st.patrol_s += inside
            st.distance_m += inside * speed
            if t > st.anchor_t:
                self.intervals.append((st.uid, st.anchor_t, t, st.circuit_key, st.anchor_t, st.anchor_tau))

    def stop(self, st: UnitState, t: float) -> tuple[int, float] | None:
        """Book what a free unit has been doing until ``t`` and say where it is now.

        Patrol or a drive is booked up to ``t`` and the unit is located (node it heads to,
        response seconds before it is there); a unit standing at a scene it just cleared is
        there; a unit at the station, a post or off duty gets its idle time booked and is at
        its home node (no turnout: it is not being sent). None for a busy unit. The caller
        then gives the unit its next state (a shift change, the horizon).
        """
        if st.status is PATROL:
            moving = st.moving
            if moving is STILL:               # just cleared a scene
                return st.at_node, 0.0
            if moving is CIRCUIT:             # the common case (every patrol unit at a shift change)
                node, wait, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
            else:
                node, wait = self.where(st, t)
            self.leave_patrol(st, t)
            return node, wait
        if st.status is STATION or st.status is OFF or st.status is POST:
            self.account_idle(st, t)
            return st.home_node, 0.0
        return None

    def close(self, st: UnitState, horizon_s: float) -> None:
        """Close the unit's accounts at the horizon (what it is doing goes on, unbooked)."""
        self.sync(st, horizon_s)
        moving = st.status is PATROL and st.moving is not STILL
        if self.stop(st, horizon_s) is not None:
            if moving:
                st.anchor_tau += horizon_s - st.anchor_t
                st.anchor_t = horizon_s
            elif st.status is not PATROL:
                st.since = horizon_s
        if st.overtime_from is not None:
            self.end_overtime(st, horizon_s)
            st.overtime_from = horizon_s

    # ------------------------------------------------------------------ where a unit is
    def sync(self, st: UnitState, t: float, tell: bool = True) -> None:
        """Finish a drive that ended by ``t``: join the circuit or park at the station.

        ``tell=False``: the caller changes the unit's state again at once and tells the
        dispatch index then (sending it), so ``on_change`` is not called here.
        """
        if st.moving is LEG and st.status is PATROL and st.leg.t_end <= t:
            leg = st.leg
            if not self.closed:
                self.account_drive(st, leg.t_start, leg.t_end, leg.metres, patrol=True)
            if leg.to_station:
                st.status, st.moving, st.leg, st.since = STATION, STILL, None, leg.t_end
            else:
                st.moving, st.leg = CIRCUIT, None
                st.anchor_t = leg.t_end
                tau = leg.tau
                st.anchor_tau = tau if tau is not None else st.circuit.tau_at(leg.dst)
            if tell:
                self.on_change(st)

    def where(self, st: UnitState, t: float) -> tuple[int, float]:
        """(node the unit heads to, seconds before it is there or can leave) if sent at ``t``."""
        if st.status is STATION:
            return st.home_node, self.turnout_s
        if st.status is POST:
            return st.home_node, 0.0
        if st.moving is STILL:      # at a scene, just cleared
            return st.at_node, 0.0
        self.sync(st, t)
        if st.status is STATION:
            return st.home_node, self.turnout_s
        if st.moving is CIRCUIT:
            node, rem, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
            return node, rem
        nodes, times, resp, _ = st.leg.path(self.travel[st.mode].oracle)
        k = min(bisect_right(times, t) - 1, len(times) - 2)
        t0, t1 = times[k], times[k + 1]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return nodes[k + 1], (1.0 - f) * (resp[k + 1] - resp[k])

    # ------------------------------------------------------------------ drives
    def _start_leg(self, st: UnitState, node: int, dst: int, t: float, wait_s: float, to_station: bool) -> None:
        """Drive from ``node`` (reached after ``wait_s`` response-seconds) to ``dst``, at patrol speed."""
        mt = self.travel[st.mode]
        o = mt.oracle
        scale = mt.patrol_scale
        st.status, st.moving = PATROL, LEG
        travel_s, metres = o.time_and_metres(node, dst)        # o.time, o.metres: one look-up of the pair
        st.leg = Leg(node, dst, t, wait_s, t + (wait_s + travel_s) * scale, metres, to_station, scale)

    def nearest_on(self, key, circuit, mode: str) -> NearestOnCircuit:
        """The nearest node of ``circuit`` (``key`` = (uid, level, period)) from every node: built once per circuit."""
        join_at = self._join.get(key)
        if join_at is None:
            # a graph without a full time matrix has no batched switch to read a whole table: lazily
            join_at = self._join[key] = NearestOnCircuit(circuit, self.graphs[mode],
                                                         lazy=self.travel[mode].oracle.time_matrix is None)
        return join_at

    def join_circuit(self, st: UnitState, node: int, t: float, *, wait_s: float = 0.0) -> None:
        """Drive from ``node`` (reached after ``wait_s`` response-seconds) to the nearest node of the circuit."""
        join_at = self.nearest_on(st.circuit_key, st.circuit, st.mode)
        table = join_at.table
        self._start_leg(st, node, table[node] if table is not None else join_at[node], t, wait_s, False)
        self.on_change(st)
        if st.leg.t_end <= t:        # a drive of no length (already on the circuit): join it now
            self.sync(st, t)

    def drive_home(self, st: UnitState, node: int, t: float, *, wait_s: float = 0.0) -> None:
        """Drive from ``node`` (reached after ``wait_s`` response-seconds) back to the station."""
        if node == st.home_node and wait_s <= 0:
            st.status, st.moving, st.leg, st.since = STATION, STILL, None, t
            self.on_change(st)
            return
        self._start_leg(st, node, st.home_node, t, wait_s, True)
        st.since = t
        self.on_change(st)
