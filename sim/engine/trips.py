"""Trips: sending a unit to an incident, its arrival and clearance, and what it does when free again.

Part of ``Engine`` (``sim.engine.core``), kept apart because it is the one job every
dispatch repeats: stop what the unit was doing and book it, start the trip (one event, at
clearance: nothing diverts a unit on its way, so its arrival is known when it leaves),
and at clearance take the next queued call the unit may take or go where its duty wants
it (``sim.engine.duty``). ``Trips`` is a mixin: it reads the engine's state (``units``,
``queue``, ``sent``, ``arrivals`` ...), set up in ``Engine.__init__``.
"""

from __future__ import annotations

import heapq

from simpy.events import NORMAL

from sim.engine.event import Call
from sim.engine.units import BUSY, LEG, OFF, PATROL, STATION, STILL, UnitState
from sim.kinds import Role

MAX_DRAIN_S = 86_400.0    # after the horizon, calls already made are served for at most a day
ROLE_PATROL = Role.PATROL
INF = float("inf")


class Trips:
    """The trip of a unit to an incident and back to its duty (mixed into ``Engine``)."""

    def _send(self, st: UnitState, i: int, t: float, located: tuple[int, float] | None = None,
              eta_s: float | None = None, metres: float | None = None) -> None:
        """Send ``st`` to incident ``i`` now: stop what it was doing, account it, start the trip.

        ``located``: where the unit is now (node it heads to, seconds to it), if known;
        ``eta_s``: its arrival from there, if known (the compiled search's, the same sum
        ``wait + time + walk`` as here); ``metres``: the metres from there to the place's node,
        if known (the large graphs' compiled walk reads them from the hub labels as
        ``TravelOracle.metres`` does).

        The trip is one event, at clearance: nothing can divert a unit on its way, so its
        arrival is known when it leaves and is recorded now (unless it falls after the
        drain stops the run, like the clearance that would follow it).
        """
        move = self.move
        place = self._place[i]
        node, wait = located if located is not None else move.where(st, t)
        status = st.status
        if status is PATROL:
            moving = st.moving
            if moving is LEG:
                # the compiled search may have found a drive to the circuit ended without booking
                # its end: book it first (the same accounts, in the same order, as when it is located)
                move.sync(st, t, self.trace is not None)    # the index is told below (unavailable)
                moving = st.moving
            if moving is not STILL:
                # the rest of the current street edge is counted in time (wait), not in distance
                move.leave_patrol(st, t)
        elif status is STATION:
            move.account_idle(st, t)
        # the mode's per-place targets, time matrix, metres reader, walks and oracle
        target_of, T, metres_of, offset_of, extra_of, oracle = self._trip_of[st.mode]
        target = target_of[place]
        if eta_s is None:
            # TravelOracle.time, read from the full matrix
            resp_s = T.item(node, target) if T is not None else oracle.time(node, target)
            if not resp_s < INF:
                oracle.route(node, target)      # raises the one-line "no route" error
            eta = wait + resp_s + extra_of[place]
        else:
            eta = eta_s
            if not eta < INF:
                oracle.route(node, target)      # raises the one-line "no route" error
        metres = (metres_of(node, target) if metres is None else metres) + offset_of[place]   # TravelOracle.metres
        # the cross-area flag is the one thing a dispatch asks of the beats (patrol units only)
        cross = st.role is ROLE_PATROL and not self.search.in_beat(st, place)
        sent = self.sent[i]
        if not sent:
            self.dispatch_s[i] = t
            self.cross_area[i] = cross
        if cross:
            st.cross_area_calls += 1
        uid = st.uid
        st.status, st.moving, st.leg, st.since = BUSY, STILL, None, t
        self.index.unavailable(uid)
        st.calls += 1
        sent.append(uid)
        if self.trace is not None:
            self.trace.append(("trip", uid, t, node, wait, target, place, eta, i))
        # the trip: arrival recorded now, one event at clearance (``t`` is the clock's time)
        t1 = t + eta
        if t1 < self._drain_end_s:
            arr = self.arrivals[i]
            if not arr:
                self.first_unit[i] = uid
                arr.append(t1)
            else:
                if t1 < arr[0]:              # equal times: the unit sent first arrived first
                    self.first_unit[i] = uid
                arr.append(t1)
                arr.sort()
            # Movement.account_drive (not patrol), written out: this runs at every dispatch
            a = self.warmup_s if t < self.warmup_s else t
            b = self.horizon_s if t1 > self.horizon_s else t1
            if b > a:
                inside = b - a
                st.distance_m += metres * inside / (t1 - t)
                st.travel_s += inside
        ev = Call()                          # Engine._at, written out
        ev.callbacks = self._clear_callbacks
        ev.args = (st, i, t1, t, target)
        delay_s = t1 + self._on_scene_s[i] - t
        if delay_s < 0:
            raise ValueError(f"Negative delay {delay_s}")     # as env.timeout
        self._schedule(ev, NORMAL, delay_s)

    def _clear(self, ev) -> None:
        """The unit of ``ev.args`` = (unit, incident, arrival, sent at, node) clears the scene now."""
        st, i, t1, t0, node = ev.args
        t2 = self.env.now
        lo, hi = self.warmup_s, self.horizon_s       # clip(t1, t2, lo, hi), written out: every clearance
        a = lo if t1 < lo else t1
        b = hi if t2 > hi else t2
        st.scene_s += b - a if b > a else 0.0
        if not self.clear_s[i] >= t2:        # nan (first unit to clear) or earlier
            self.clear_s[i] = t2
        st.trips.append((i, t0, t1, t2))
        self._free(st, node, t2)             # tells the dispatch index where it left the unit

    def _next_queued_for(self, st: UnitState) -> int | None:
        """The first queued request (priority, then call time) this unit may take: never a second
        place at an incident it already served, nor, with call stacking, one the rule holds now
        (this unit counted among the free ones)."""
        keep_free = bool(self._keep_free)
        n_free = self._n_free() + (self.index.code[st.uid] == 0) if keep_free else 0
        skipped, found = [], None
        while self.queue:
            item = heapq.heappop(self.queue)
            if st.uid in self.sent[item[3]] or (keep_free and self._held(item[3], n_free)):
                skipped.append(item)
                continue
            found = item[3]
            break
        for item in skipped:
            heapq.heappush(self.queue, item)
        return found

    def _free(self, st: UnitState, node: int, t: float) -> None:
        """A unit clears the scene at ``node``: next queued call, else where its duty wants it.

        Every path tells the dispatch index once: sending it again makes it unavailable,
        ``Duty.apply`` and ``drive_home`` refresh it, going off duty here refreshes it.
        """
        if st.overtime_from is not None:
            self.move.end_overtime(st, t)
            st.overtime_from = None
        st.status, st.moving, st.since = PATROL, STILL, t
        st.leg, st.at_node = None, node
        duty = self.duty
        if st.pending:
            st.pending = False
            if duty.wants(st, duty.level_of(st)) is OFF:
                st.status, st.leg, st.since = OFF, None, t
                self.index.refresh(st)
                return
        j = self._next_queued_for(st) if self.queue else None
        if j is not None:
            self._send(st, j, t)
            return
        level = duty.levels[0] if duty.n_scope == 1 else duty.level_of(st)
        want = duty.wants(st, level)
        if want is PATROL:
            duty.rejoin.take_cleared(st, t, level)    # Duty.apply for a unit standing where it cleared
        elif want is OFF:
            st.status, st.leg, st.since = OFF, None, t
            self.index.refresh(st)
        else:
            st.leg = None
            self.move.drive_home(st, node, t)
