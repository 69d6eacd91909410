"""Duty: shifts, alert levels and patrol circuits, i.e. where each free unit should be, and on what route.

At every shift change the day's alert level (``sim.alert``, decided once a day from
the calls received) sets who is on patrol, on standby, at a checkpoint or off duty
(``sim.force``); busy crews finish their call first (overtime). Each patrol unit
drives one circuit per level and period of the day, drawn from its own named random
stream (``patrol-unit-{uid}-{level}-{period}``; its start point at time 0 from
``patrol-start-{uid}``), so the routes do not depend on what else happens in the run.
"""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from dataclasses import dataclass

import numpy as np

from sim.alert import AlertPlan
from sim.engine.rejoin import Rejoin
from sim.engine.dispatch_index import DispatchIndex
from sim.engine.units import BUSY, CIRCUIT, OFF, PATROL, POST, STATION, STILL, ModeTravel, Movement, UnitState
from sim.force import Deployment
from sim.kinds import Role, Status
from sim.patrol import (BOUND_EXACT_WITHIN_S, Circuit, build_circuit, choose_stops, circuit_lower_bound_s,
                        order_stops)
from sim.roster import shift_index, teams_for_shift
from sim.streams import stream

DAY_S = 86_400.0
ALL_LEVELS = "all"       # the reserve's circuits do not depend on the level
ROLE_PATROL, RESERVE = Role.PATROL, Role.RESERVE    # module names: compared at every clearance
_BY_ROLE = {Role.STANDBY: STATION, Role.CHECKPOINT: POST}
_STATUS = attrgetter("status")
_COUNT_KEY = {status: f"units_{status}" for status in Status}   # staffing-log columns, formatted once


@dataclass(frozen=True)
class PatrolSettings:
    strategy: str = "uniform"                  # uniform | hotspot
    circuit_stops: int = 10
    period_weights: np.ndarray | None = None   # (periods per day, n_places) expected incidents, for hotspot


class Circuits:
    """Every unit's patrol circuits (built when first needed) and the lower bound of each."""

    def __init__(self, *, rep: np.random.SeedSequence, travel: dict[str, ModeTravel], target: dict,
                 extra_s: dict, patrol, index: DispatchIndex, periods: int) -> None:
        self.rep = rep
        self.travel = travel
        self.target = target
        self.extra_s = extra_s
        self.patrol = patrol
        self.index = index
        self.periods = periods
        self.by_key: dict = {}         # (uid, level, period) -> Circuit

    def get(self, st: UnitState, level: str, period: int) -> Circuit:
        c = self.by_key.get((st.uid, level, period))
        if c is None:
            self._build(st, level)
            c = self.by_key[(st.uid, level, period)]
        return c

    def _build(self, st: UnitState, level: str) -> None:
        """All periods' circuits of a unit at a level, and the lower bound of each."""
        u = st.unit
        mt = self.travel[st.mode]
        bid, places = u.assignment(level) if st.role is not RESERVE else (u.beat, u.beat_places)
        pn = self.target[st.mode]
        nodes = pn[places]
        # np.unique(nodes), as a mask of the graph's nodes: 6 against 79 µs for a beat of 1,300 places
        # (the 13,002-node town; a sort there, the nodes once here)
        seen = np.zeros(mt.oracle.n_nodes, np.bool_)
        seen[nodes] = True
        beat_nodes = np.flatnonzero(seen)
        for period in range(self.periods):
            rng = stream(self.rep, f"patrol-unit-{u.uid}-{level}-{period}")
            weights = None
            pw = self.patrol.period_weights
            if self.patrol.strategy == "hotspot" and pw is not None:
                per_node = np.zeros(int(pn.max()) + 1)
                np.add.at(per_node, nodes, pw[period % pw.shape[0], places])
                weights = per_node[beat_nodes]
            stops = choose_stops(beat_nodes, rng, n_stops=self.patrol.circuit_stops, weights=weights)
            # large graphs: lower bounds (no search) spare most of the pairs' questions, in one compiled
            # call on the kernel backend (TravelOracle.stop_order); the same order
            stops = order_stops(stops, mt.oracle.time,
                                mt.oracle.lower_bounds_s if mt.oracle.stops_at_limit else None,
                                time_m=mt.oracle.time_matrix, order_fn=mt.oracle.stop_order)
            c = build_circuit(mt.oracle, stops, patrol_scale=mt.patrol_scale)
            self.by_key[(u.uid, level, period)] = c
            # the bound of the circuit alone: a unit with a lower bound in use is on that circuit
            if self.index.on_demand is not None:     # kept as its bound search found it, worked out when read
                self.index.add_circuit_bound((u.uid, level, period), c, mt.oracle.bound_params_from_set(
                    np.asarray(c.nodes, np.int64), exact_within_s=BOUND_EXACT_WITHIN_S))   # made unique there
            else:
                self.index.add_circuit((u.uid, level, period), c, circuit_lower_bound_s(
                    mt.oracle, [c], pn, self.extra_s[st.mode], time_m=mt.oracle.time_matrix))


class Duty:
    """Alert levels, shift changes and where each unit's duty puts it."""

    def __init__(self, *, units: list[UnitState], deployment: Deployment, alert: AlertPlan,
                 movement: Movement, index: DispatchIndex, circuits: Circuits, rep: np.random.SeedSequence,
                 area_of_place: np.ndarray, n_days: int, call_s: list, place: list) -> None:
        self.units = units
        self.dep = deployment
        self.alert = alert
        self.move = movement
        self.index = index
        self.circuits = circuits
        self.shift_s = deployment.shift_s
        self.area_of_place = area_of_place
        self.n_scope = ((deployment.areas.n if deployment.areas is not None else 1)
                        if alert.scope == "area" else 1)
        self.calls_by_day = np.zeros((self.n_scope, n_days))
        self.levels = [alert.known_level(0)] * self.n_scope
        self._call_s, self._place = call_s, place
        self._counted = 0            # calls counted into calls_by_day so far
        self._call_arr: np.ndarray | None = None
        self._calls_in_order = True  # call times ascending (checked with the arrays): counted by binary search
        self.staffing_log: list[dict] = []
        self._wants: dict = {}       # level -> per unit: where its duty puts it (see wants)
        self._on_duty_at: dict = {}  # levels -> (officers on duty, patrol units per kind): see _on_duty
        self.alert_log: list[dict] = []
        # each unit's start point: a draw of its own stream, made when first drawn from: only units
        # on patrol at time 0 draw (in the default town 30 of 36 units at 240 officers, 231 of 279
        # at 1,920)
        self._rep = rep
        self._start_rng: dict = {}   # uid -> its stream, made at its first draw
        # officers on duty in a shift under the normal rota (one team): beyond it, teams called in
        # a patrol unit that stays on patrol switches circuits in one pass (sim.engine.rejoin);
        # False: every unit through apply (the engine's trace, which records each refresh, sets it)
        self.batch = True
        self.rejoin = Rejoin(self)
        self._normal_officers = min((-(-s.on_duty_officers // max(1, s.teams_on_duty))
                                     for s in deployment.staffing.values()), default=0)

    # ------------------------------------------------------------------ what duty wants
    def level_of(self, st: UnitState) -> str:
        if self.n_scope == 1:
            return self.levels[0]
        return self.levels[int(st.unit.area)]

    def wants(self, st: UnitState, level: str) -> Status:
        """Where the unit's duty puts it at ``level`` (``level_of(st)``: its area's level now).

        A function of the unit and the level only, so it is tabled per level (it is asked at
        every clearance and for every unit at every shift change).
        """
        table = self._wants.get(level)
        if table is None:
            table = self.wants_table(level)
        return table[st.uid]

    def wants_table(self, level: str) -> list:
        """Per unit (by uid), where its duty puts it at ``level``."""
        table = self._wants.get(level)
        if table is None:
            table = self._wants[level] = [self._want(u, level) for u in self.units]
        return table

    def _want(self, st: UnitState, level: str) -> Status:
        role = st.role
        if role is RESERVE:
            return PATROL
        u = st.unit
        if not u.on_duty(level):
            return OFF
        if role is ROLE_PATROL:
            return PATROL if u.assignment(level) is not None else OFF
        return _BY_ROLE[role]

    def apply(self, st: UnitState, t: float) -> None:
        """Put a free unit where the current level and shift want it, and tell the dispatch index.

        The index is told once per change: a drive started or finished tells it through
        ``Movement.on_change``; the other paths here call ``refresh`` themselves (a second
        call with nothing changed would cost a few microseconds per unit and shift).
        """
        move = self.move
        level = self.level_of(st)
        want = self.wants(st, level)
        period = int((t % DAY_S) // self.shift_s)
        if want is PATROL:
            reserve = st.role is RESERVE
            key_level = ALL_LEVELS if reserve else level
            st.level = key_level
            st.beat = st.unit.beat if reserve else st.unit.assignment(level)[0]
            self.index.beat_changed(st)
            circuit = self.circuits.get(st, key_level, period)
            where = move.stop(st, t)
            if where is None:                  # busy (the index knows): the shift change waits for it
                return
            node, wait = where
            st.circuit, st.circuit_key = circuit, (st.uid, key_level, period)
            if st.status is not PATROL and t == 0.0:
                # at the start every patrol unit is somewhere on its circuit already
                st.status, st.moving = PATROL, CIRCUIT
                st.anchor_t = 0.0
                st.anchor_tau = float(self._start_draw(st.uid) * circuit.duration_s)
                self.index.refresh(st)
                return
            move.join_circuit(st, node, t, wait_s=wait)     # tells the index
            return
        # station, post or off
        move.sync(st, t)     # a drive home that ended before now parks the unit first (tells the index)
        if st.status is PATROL:
            node, wait = move.stop(st, t)
            st.leg, st.circuit = None, None
            if want is STATION:
                move.drive_home(st, node, t, wait_s=wait)   # tells the index
                return
            st.status, st.moving, st.since = want, STILL, t
            self.index.refresh(st)
            return
        if st.status is not want:
            move.account_idle(st, t)
            st.status, st.moving, st.since = want, STILL, t
            self.index.refresh(st)

    def _start_draw(self, uid: int) -> float:
        """The next draw (``random()``) of the unit's stream of its start point, ``patrol-start-{uid}``."""
        rng = self._start_rng.get(uid)
        if rng is None:
            rng = self._start_rng[uid] = stream(self._rep, f"patrol-start-{uid}")
        return rng.random()

    # ------------------------------------------------------------------ alert levels
    def _count_calls(self, t: float) -> None:
        """Add the calls made before ``t`` to ``calls_by_day`` (what the command centre has received)."""
        k = self._counted
        if self._call_arr is None:         # once per run: the columns as arrays
            self._call_arr = np.asarray(self._call_s, np.float64)
            self._calls_in_order = bool(np.all(self._call_arr[1:] >= self._call_arr[:-1]))
        calls = self._call_arr
        # counted: the calls from k up to the first made at t or later; with call times in order (as
        # sample_incidents makes them) a binary search, not a pass over every call left (15-20 ms a
        # simulated year of the default town)
        if self._calls_in_order:
            j = max(k, int(np.searchsorted(calls, t, side="left")))
        else:
            late = np.flatnonzero(calls[k:] >= t)
            j = k + int(late[0]) if late.size else calls.size
        if j > k:
            area = (self.area_of_place[np.asarray(self._place[k:j], np.int64)].astype(np.int64)
                    if self.n_scope > 1 else np.zeros(j - k, np.int64))
            # whole counts (exact in floats, any order): one bincount over (area, day), not np.add.at per call
            by_day = self.calls_by_day
            cell = area * by_day.shape[1] + (calls[k:j] // DAY_S).astype(np.int64)
            by_day += np.bincount(cell, minlength=by_day.size).reshape(by_day.shape)
        self._counted = j

    def decide_levels(self, t: float) -> None:
        day = int(t // DAY_S)
        self._count_calls(t)
        decided = self.alert.decide(day, self.calls_by_day)
        names = self.dep.areas.names if (self.dep.areas is not None and self.n_scope > 1) else ("city",)
        for a, (lvl, observed, expected) in enumerate(decided):
            self.levels[a] = lvl
            self.alert_log.append({"day": day, "area": names[a], "level": lvl, "decided_s": t,
                                   "observed_per_day": observed, "expected_per_day": expected})

    # ------------------------------------------------------------------ shifts
    def shift_change(self, t: float) -> None:
        """Every free unit to where the new shift wants it; busy crews finish their call first.

        A unit off duty, at the station or at a post that stays so is skipped: ``apply``
        would change nothing for it (its idle time is booked when it next moves), and in a
        large force most units are such at any shift change. With ``batch`` (the default) a
        patrol unit that stays on patrol switches circuits in a batch
        (``sim.engine.rejoin.Rejoin.shift_change``, the same loop); else every unit that
        changes goes through ``apply``.
        """
        period = int((t % DAY_S) // self.shift_s)
        if self.batch:
            self.rejoin.shift_change(t, period)
        else:
            wants, level_of, apply = self.wants, self.level_of, self.apply
            for st in self.units:
                status = st.status
                if status is BUSY:
                    self.hold_for_call(st, t)
                elif status is PATROL or wants(st, level_of(st)) is not status:
                    apply(st, t)
        self._log_staffing(t)

    @staticmethod
    def hold_for_call(st: UnitState, t: float) -> None:
        """A busy crew at a shift change finishes its call first: the change waits for it, in overtime from ``t``."""
        st.pending = True
        if st.overtime_from is None:
            st.overtime_from = t

    def _on_duty(self, levels: tuple) -> tuple[int, dict]:
        """(officers on duty, patrol units per kind as staffing-log columns) under ``levels``.

        A function of the levels only (where duty wants each unit), so it is tabled: the
        loop over every unit ran at every shift change. The columns keep the order of the
        units' first appearance, as the staffing log always had them.
        """
        hit = self._on_duty_at.get(levels)
        if hit is None:
            officers, by_kind = 0, {}
            for st in self.units:
                want = self.wants(st, self.level_of(st))
                if want is not OFF and st.role is not RESERVE:
                    officers += st.unit.crew
                if want is PATROL and st.role is not RESERVE:
                    key = f"patrol_{st.unit.kind}"
                    by_kind[key] = by_kind.get(key, 0) + 1
            hit = self._on_duty_at[levels] = (officers, by_kind)
        return hit

    def _log_staffing(self, t: float) -> None:
        shift = shift_index(t, shift_s=self.shift_s)
        row = {"shift": shift, "start_s": t, "day": int(t // DAY_S),
               "period": int((t % DAY_S) // self.shift_s),
               "levels": ",".join(sorted(set(self.levels)))}
        staff = self.dep.staffing.get(self.levels[0]) if self.n_scope == 1 else None
        on_duty = teams_for_shift(shift, teams=max(1, self.dep.teams),
                                  n_teams_on_duty=staff.teams_on_duty if staff else 1)
        row["lead_team"] = on_duty[0] + 1
        row["teams_on_duty"] = staff.teams_on_duty if staff else None
        counts = Counter(map(_STATUS, self.units))     # one C loop over the units
        for status in (PATROL, STATION, POST, OFF, BUSY):
            row[_COUNT_KEY[status]] = counts[status]
        officers, patrol_by_kind = self._on_duty(tuple(self.levels))
        row.update(patrol_by_kind)
        row["officers_on_duty"] = officers
        # officer-hours of this shift, and those beyond the normal rota (one team a shift): called-in teams
        shift_h = self.shift_s / 3600.0
        row["officer_h"] = officers * shift_h
        row["overtime_officer_h"] = max(0, officers - self._normal_officers) * shift_h
        self.staffing_log.append(row)
