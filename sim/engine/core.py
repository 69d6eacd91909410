"""The event core: the clock, the chain of dispatch requests, the call queue and the run loop.

Patrolling makes no events (``sim.engine.units``). SimPy events happen only for
dispatch requests (one chain in order of call + handling time: incidents are drawn in
advance), for each unit's clearance (nothing diverts a unit on its way, so its
arrival is recorded when it leaves) and for shift changes (``sim.engine.duty``).
Which unit goes is decided by the pure policy ``sim.dispatch.select_unit`` over the
units the one search (``sim.engine.search``) located. Requests that no unit can take
wait in a queue ordered by priority, then call time. ``Engine`` wires the pieces
together; a unit's trip (send, arrive, clear, free again) is in ``sim.engine.trips`` and
other work in ``sim.engine.work``; results are flat records (``sim.engine.log.EngineLog``).
"""

from __future__ import annotations

import heapq

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.alert import AlertPlan
from sim.demand import IncidentTable
from sim.dispatch import DispatchRules, search_needs, select_unit
from sim.engine.availability import AvailabilitySettings, draw_episodes
from sim.engine.collector import world_frozen
from sim.engine.duty import DAY_S, Circuits, Duty, PatrolSettings
from sim.engine.encircle import EncircleSettings, Encirclement
from sim.engine.event import Call, call_with_args
from sim.engine.log import EngineLog
from sim.engine.memo import made_once
from sim.engine.dispatch_index import DispatchIndex
from sim.engine.join_tables import metres_reader
from sim.engine.search import UnitSearch
from sim.engine.trips import MAX_DRAIN_S, Trips
from sim.engine.units import BUSY, OFF, ModeTravel, Movement, UnitState
from sim.engine.work import OtherWork
from sim.force import Deployment
from sim.kinds import Role
from sim.network.graph import City

NAN = float("nan")


def place_columns(node, offset_m, offset_speed_mps: float) -> tuple:
    """One mode's per-place columns an engine reads: seconds walked from the node driven to (an array),
    and as lists (Python items, which the engine reads one at a time faster) the node driven to, those
    seconds and the metres walked."""
    extra_s = offset_m / offset_speed_mps
    return extra_s, node.astype(np.int64).tolist(), extra_s.astype(float).tolist(), offset_m.astype(float).tolist()


class Engine(Trips, OtherWork):
    """One replication: ``Engine(...).run()`` returns an ``EngineLog``.

    The trips (``sim.engine.trips``) and other work (``sim.engine.work``) are its mixins.
    """

    def __init__(self, *, city: City, deployment: Deployment, travel: dict[str, ModeTravel],
                 incidents: IncidentTable, rep: np.random.SeedSequence, warmup_s: float,
                 horizon_s: float, turnout_s: float, circuit_stops: int = 10,
                 rules: DispatchRules | None = None, patrol: PatrolSettings | None = None,
                 alert: AlertPlan | None = None, response_line_s: float = 300.0,
                 major_types: np.ndarray | None = None, encircle: EncircleSettings | None = None,
                 exhaustive: bool = False, availability: AvailabilitySettings | None = None) -> None:
        self.city = city
        self.availability = availability if availability is not None and availability.active else None
        self._rep = rep
        self.inc = incidents
        self.warmup_s = warmup_s
        self.horizon_s = horizon_s
        self.rules = rules or DispatchRules()
        self._keep_free = dict(self.rules.keep_free)   # call stacking: priority -> units kept free
        self.response_line_s = response_line_s
        alert = alert or deployment.alert_plan or AlertPlan(mode="fixed", base_level=deployment.alert_level)
        # the incident columns as Python lists: the engine reads single items, which lists serve faster
        self._place = incidents.place.tolist()
        self._call_s = incidents.call_s.astype(float).tolist()
        self._priority = incidents.priority.tolist()
        self._on_scene_s = incidents.on_scene_s.astype(float).tolist()
        self._needed = incidents.units_needed.tolist()
        self._is_major = ([False] * len(incidents) if major_types is None
                          else np.asarray(major_types, bool)[incidents.type_idx].tolist())
        self.env = simpy.Environment()
        self._schedule = self.env.schedule
        n = len(incidents)
        # per incident; dispatch_s, first_unit, cross_area and clear_s are lists while the engine
        # runs (it reads and writes single items, which lists serve faster) and arrays after it
        self.dispatch_s: list | np.ndarray = [NAN] * n
        # arrivals and units sent, a list per incident: made when the run starts (``_run``), after
        # the world is frozen out of the garbage collector (two lists per incident are most of the
        # objects an engine makes before it runs, and made here they set off full collections)
        self.arrivals: list[list[float]] = []
        self.first_unit: list | np.ndarray = [-1] * n
        self.sent: list[list[int]] = []
        self.cross_area: list | np.ndarray = [False] * n
        self.clear_s: list | np.ndarray = [NAN] * n
        self.encircle_s = np.full(n, np.nan)
        self.lost = np.zeros(n, bool)      # requests dropped in a loss system
        self.queue: list = []              # (priority, call_s, seq, incident) waiting for a unit
        self._seq = 0
        # dispatch requests in time order (call + handling); ties keep the incidents' order
        self._request_s = (incidents.call_s + incidents.handling_s).astype(float).tolist()
        self._request_order = np.argsort(incidents.call_s + incidents.handling_s, kind="stable").tolist()
        self._requested = 0          # requests made so far

        # per mode, per place: the node a unit drives to and the seconds from there on foot
        # (made once per process for the city's arrays: ``sim.engine.memo``; no engine changes them)
        target = {m: city.place_node[m] for m in travel}
        columns = {m: made_once(place_columns, target[m], city.place_offset_m[m],
                                args=(float(travel[m].offset_speed_mps),)) for m in travel}
        extra_s = {m: columns[m][0] for m in travel}
        self._target_of = {m: columns[m][1] for m in travel}
        self._extra_of = {m: columns[m][2] for m in travel}
        self._offset_m = city.place_offset_m
        self.travel = travel
        # per mode, what sending a unit reads (``Trips._send``), one look-up: the node driven to per
        # place, the full time matrix (None on large graphs), the metres of a pair (read from the
        # all-pairs table where there is one: ``join_tables.metres_reader``), the metres and seconds
        # walked from that node per place, and the oracle
        self._trip_of = {m: (self._target_of[m], travel[m].oracle.time_matrix, metres_reader(travel[m].oracle),
                             columns[m][3], self._extra_of[m], travel[m].oracle)
                         for m in travel}
        self._drain_end_s = horizon_s + MAX_DRAIN_S    # the drain stops here: no arrival recorded after it
        self.units: list[UnitState] = []
        for u in deployment.units:
            home_place = u.home_place if u.home_place >= 0 else int(city.station_place[u.station])
            home = int(target[u.mode][home_place]) if u.mode in target else home_place
            self.units.append(UnitState(uid=u.uid, unit=u, mode=u.mode, role=Role(u.role), home_node=home,
                                        kind=u.kind, status=OFF))

        # the collaborators: dispatch index and search, movement, duty, encirclement
        self.index = DispatchIndex(self.units, city.n_places, turnout_s=turnout_s)
        self.move = Movement(city=city, travel=travel, turnout_s=turnout_s, warmup_s=warmup_s,
                             horizon_s=horizon_s, on_change=self.index.refresh)
        self.needs = search_needs(self.rules, has_reserve=self.index.any_reserve)
        self.search = UnitSearch(units=self.units, index=self.index, movement=self.move, deployment=deployment,
                                 rules=self.rules, needs=self.needs, target_of=self._target_of,
                                 extra_of=self._extra_of, exhaustive=exhaustive)
        self.circuits = Circuits(rep=rep, travel=travel, target=target, extra_s=extra_s,
                                 patrol=patrol or PatrolSettings(circuit_stops=circuit_stops), index=self.index,
                                 periods=max(1, int(round(DAY_S / deployment.shift_s))))
        areas = deployment.areas
        self.duty = Duty(units=self.units, deployment=deployment, alert=alert, movement=self.move,
                         index=self.index, circuits=self.circuits, rep=rep,
                         area_of_place=areas.label if areas is not None else np.zeros(city.n_places, np.int64),
                         n_days=int(np.ceil((horizon_s + MAX_DRAIN_S) / DAY_S)) + 1,
                         call_s=self._call_s, place=self._place)
        self.trace: list | None = None     # enable_trace(): every unit's state changes, for playback
        self.encircle = None if encircle is None else Encirclement(
            encircle, city=city, units=self.units, index=self.index, search=self.search, movement=self.move,
            travel=travel, target=target, extra_s=extra_s)

    def enable_trace(self) -> list:
        """Record each unit's movement as the engine knows it (off by default: costs nothing then).

        Appends ``("state", uid, UnitState fields...)`` after every change the dispatch index
        is told of, and ``("trip", uid, t0, node, wait_s, target, place, eta_s, incident)`` at
        every dispatch; ``sim.trace`` turns these into positions. Call before ``run``.
        """
        self.trace = trace = []
        refresh = self.index.refresh

        def traced(st):
            refresh(st)
            trace.append(("state", st.uid, st.status, st.moving, st.leg, st.circuit, st.anchor_t,
                          st.anchor_tau, st.at_node, st.since))
        self.index.refresh = self.move.on_change = traced
        self.duty.batch = False        # the batched shift change tells the index without refresh
        return trace

    # ------------------------------------------------------------------ events
    def _after(self, delay_s: float, fn, *args) -> None:
        """Call ``fn(*args)`` after ``delay_s`` simulated seconds (a ``Call`` event).

        Callbacks instead of generator processes halve the work per event; the order of
        events at equal times is still SimPy's (first scheduled, first run). The two
        events of every call (the next request, a clearance) use ``_at`` with a callback
        that takes the event itself.
        """
        self._at(delay_s, call_with_args, (fn, args))

    def _at(self, delay_s: float, callback, args: tuple) -> None:
        """``callback(event)`` after ``delay_s`` simulated seconds, ``args`` in ``event.args`` (no closure)."""
        if delay_s < 0:
            raise ValueError(f"Negative delay {delay_s}")     # as env.timeout
        ev = Call()
        ev.callbacks = [callback]
        ev.args = args
        self._schedule(ev, NORMAL, delay_s)

    def _next_request(self, ev: Call) -> None:
        """The ``k``-th dispatch request (in order of call + handling time), then the ones after it.

        All incidents are known in advance, so the requests form one chain of events;
        a call needs no event of its own (calls are counted when a level is decided).
        The next request's place among events at its time is taken before this one runs
        (its event id, as ``Environment.schedule`` would draw it), so the order is SimPy's.
        When, after this request, it comes strictly before every event in SimPy's queue
        (and before the drain's end), it is the event SimPy would run next: it runs here,
        at its time, without an event of its own (about half the requests of the default
        town). Else its event goes into the queue, with that id (``heapq.heappush``, as
        ``Environment.schedule`` does).
        """
        k = ev.args
        order, request_s, needed = self._request_order, self._request_s, self._needed
        n = len(order)
        env = self.env
        queue, eid_of = env._queue, env._eid
        limit = self._drain_end_s
        while True:
            i = order[k]
            k += 1
            if k < n:
                now = env._now
                delay_s = request_s[order[k]] - now
                if delay_s < 0:
                    raise ValueError(f"Negative delay {delay_s}")     # as env.timeout
                at = now + delay_s          # Environment.schedule's time, to the bit
                eid = next(eid_of)
            self._request(i, needed[i])
            if k >= n:
                return
            if at < limit and (not queue or at < queue[0][0]):
                env._now = at               # Environment.step of the next request, written out
                continue
            nxt = Call()
            nxt.callbacks = self._request_callbacks
            nxt.args = k
            heapq.heappush(queue, (at, NORMAL, eid, nxt))
            return

    def _shifts(self):
        duty = self.duty
        next_decision = duty.alert.decision_hour * 3600.0
        t = 0.0
        while True:
            if t >= next_decision:
                duty.decide_levels(t)
                while next_decision <= t:
                    next_decision += DAY_S
            duty.shift_change(t)
            if self._keep_free:
                self._release_held(t)
            t += duty.shift_s
            if t >= self.horizon_s:
                return
            yield self.env.timeout(t - self.env.now)

    # ------------------------------------------------------------------ dispatch
    def _request(self, i: int, count: int) -> None:
        self._requested += 1
        t = self.env.now
        place = self._place[i]
        search = self.search
        best_only = search.best_only
        # the compiled search is called directly (``search`` would call it), read here so that a test may wrap it
        search_fn = search._search_compiled if search.compiled else search.search
        for _ in range(count):
            if self._keep_free and self._held(i, self._n_free()):
                heapq.heappush(self.queue, (self._priority[i], self._call_s[i], self._seq, i))
                self._seq += 1
                continue
            if best_only:                # the search makes the choice (as _choose)
                uid = search_fn(place, t, is_backup=len(self.sent[i]) > 0)[0]
            else:
                uid = self._choose(i, t)
            if uid is None:
                if self.rules.lost_when_all_busy:
                    self.lost[i] = True
                    continue
                if self.availability is not None and self._interrupt(i, t):
                    continue
                heapq.heappush(self.queue, (self._priority[i], self._call_s[i], self._seq, i))
                self._seq += 1
            else:
                at = search.chosen_at
                if at is not None:          # the compiled search's choice: where it is and its arrival
                    self._send(self.units[uid], i, t, at, search.chosen_eta_s, search.chosen_metres)
                else:
                    self._send(self.units[uid], i, t, search.located.get(uid))
        if self.encircle is not None and self._is_major[i]:
            self.encircle_s[i] = t - self._call_s[i] + self.encircle.seconds_s(place, t)

    def _choose(self, i: int, t: float) -> int | None:
        """The unit to send to request ``i`` now (the search, then the policy), or None."""
        search = self.search
        is_backup = len(self.sent[i]) > 0
        uid, found = search.search(self._place[i], t, is_backup=is_backup)
        if not search.best_only:         # else the search made the choice
            time_left = self.response_line_s - (t - self._call_s[i])
            choice = select_unit(found, rules=self.rules, is_backup=is_backup, major=self._is_major[i],
                                 time_left_s=time_left)
            uid = None if choice is None else choice.uid
        return uid

    # ------------------------------------------------------------------ call stacking
    def _n_free(self) -> int:
        """Units free for dispatch now (on patrol or at the station, the reserve included)."""
        return int(np.count_nonzero(self.index.code))

    def _held(self, i: int, n_free: int) -> bool:
        """``dispatch.keep_free_for_priority``: request ``i`` waits unless more than K units are free.

        ``n_free`` counts the unit that would go, so K = 0 never holds and K = 2 sends
        only while at least three units are free.
        """
        k = self._keep_free.get(self._priority[i])
        return k is not None and n_free <= k

    def _release_held(self, t: float) -> None:
        """Units came on duty (a shift change): send the queued requests the rule now lets go.

        Only with stacking on: without it the queue is served at clearances alone (as
        before the rule existed, which the back tests pin).
        """
        if not self.queue:
            return
        waiting = sorted(self.queue)     # priority, then call time
        keep = []
        for item in waiting:
            i = item[3]
            uid = None if self._held(i, self._n_free()) else self._choose(i, t)
            if uid is None or uid in self.sent[i]:
                keep.append(item)
            else:
                self._send(self.units[uid], i, t, self.search.located.get(uid))
        self.queue[:] = keep             # a sorted list is a heap

    # ------------------------------------------------------------------ run
    def release(self) -> None:
        """Break the engine's reference cycles once its log is taken: the engine is unusable after.

        The engine and its collaborators refer to each other (callbacks, the shift process's
        generator, components that hold the engine's other components), so when dropped
        they are cyclic garbage: the collection that ends a replication
        (``sim.engine.collector.world_frozen``) then visits every object of the engine, some
        60 ms a simulated year of the default town. Emptying the attributes of the engine and
        of the collaborators it made (the clock, the dispatch index and search, movement,
        circuits, duty and its rejoin, encirclement) leaves nothing of it that reference
        counting cannot free. The log keeps what it holds (units, circuits, intervals, ...);
        objects the engine was given (scenario settings, travel tables) are not touched.
        ``run_replication`` calls it; a caller that inspects the engine after ``run`` does not.
        """
        duty = self.__dict__.get("duty")
        own = (self.__dict__.get("env"), self.__dict__.get("index"), self.__dict__.get("move"),
               self.__dict__.get("search"), self.__dict__.get("circuits"), duty,
               getattr(duty, "rejoin", None), self.__dict__.get("encircle"), self)
        for obj in own:
            if obj is not None and hasattr(obj, "__dict__"):
                obj.__dict__.clear()

    def run(self) -> EngineLog:
        """Run the replication to the horizon and drain it; the engine's log.

        The prepared world is frozen out of the garbage collector while the engine runs
        (``sim.engine.collector.world_frozen``; nothing more when the caller froze it, as
        ``run_replication`` does for the whole replication).
        """
        with world_frozen():
            return self._run()

    def _run(self) -> EngineLog:
        n = len(self.inc)
        # the callbacks of every clearance and request event: one list each, which SimPy reads and
        # never changes (``Trips._send``, ``_next_request``)
        self._clear_callbacks = [self._clear]
        self._request_callbacks = [self._next_request]
        self.arrivals = [[] for _ in range(n)]
        self.sent = [[] for _ in range(n)]
        # the shift process is created first, so the first shift is set up before any call at time 0
        self.env.process(self._shifts())
        if len(self.inc):
            self._at(self._request_s[self._request_order[0]], self._next_request, 0)
        if self.availability is not None:
            for st in self.units:
                eps = draw_episodes(self.availability, self._rep, st.uid, self.horizon_s)
                if eps:
                    self._after(eps[0][0], self._episodes, st, eps, 0)
        self.env.run(until=self.horizon_s)
        horizon = self.horizon_s
        for st in self.units:   # close the accounts at the horizon
            self.move.close(st, horizon)
            self.index.reanchor(st)
        self.move.closed = True
        limit = self._drain_end_s
        # calls still in handling at the horizon are dispatched too (the drain serves every call made)
        while self.env.peek() < limit and (self._requested < len(self._request_order) or self.queue
                                            or any(u.status is BUSY for u in self.units)):
            self.env.step()
        n = len(self.inc)
        self.dispatch_s = np.array(self.dispatch_s, np.float64).reshape(n)
        self.first_unit = np.array(self.first_unit, np.int64).reshape(n)
        self.cross_area = np.array(self.cross_area, bool).reshape(n)
        self.clear_s = np.array(self.clear_s, np.float64).reshape(n)
        return EngineLog(incidents=self.inc, dispatch_s=self.dispatch_s, arrivals_s=self.arrivals,
                         units_sent=self.sent, first_unit=self.first_unit, cross_area=self.cross_area,
                         clear_s=self.clear_s, encircle_s=self.encircle_s, units=self.units,
                         warmup_s=self.warmup_s, horizon_s=self.horizon_s, end_s=self.env.now,
                         staffing=self.duty.staffing_log, alert_log=self.duty.alert_log,
                         patrol_intervals=self.move.intervals, circuits=self.circuits.by_key, lost=self.lost)
