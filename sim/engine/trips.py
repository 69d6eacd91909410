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
from sim.engine.units import BUSY, LEG, OFF, PATROL, STATION, STILL, UnitState, clip
from sim.kinds import Role

MAX_DRAIN_S = 86_400.0    # after the horizon, calls already made are served for at most a day
ROLE_PATROL = Role.PATROL
INF = float("inf")


class Trips:
    """The trip of a unit to an incident and back to its duty (mixed into ``Engine``)."""

    def _send(self, st: UnitState, i: int, t: float, located: tuple[int, float] | None = None,
              eta_s: float | None = None) -> None:
        """Send ``st`` to incident ``i`` now: stop what it was doing, account it, start the trip.

        ``located``: where the unit is now (node it heads to, seconds to it), if known;
        ``eta_s``: its arrival from there, if known (the compiled search's, the same sum
        ``wait + time + walk`` as here).

        The trip is one event, at clearance: nothing can divert a unit on its way, so its
        arrival is known when it leaves and is recorded now (unless it falls after the
        drain stops the run, like the clearance that would follow it).
        """
        move = self.move
        mode = st.mode
        place = self._place[i]
        node, wait = located if located is not None else move.where(st, t)
        status = st.status
        if status is PATROL:
            if st.moving is LEG:
                # the compiled search may have found a drive to the circuit ended without booking
                # its end: book it first (the same accounts, in the same order, as when it is located)
                move.sync(st, t, self.trace is not None)    # the index is told below (unavailable)
            if st.moving is not STILL:
                # the rest of the current street edge is counted in time (wait), not in distance
                move.leave_patrol(st, t)
        elif status is STATION:
            move.account_idle(st, t)
        target = self._target_of[mode][place]
        T = self._time_of[mode]
        if eta_s is None:
            # TravelOracle.time, read from the full matrix
            resp_s = float(T[node, target]) if T is not None else self.travel[mode].oracle.time(node, target)
            if not resp_s < INF:
                self.travel[mode].oracle.route(node, target)      # raises the one-line "no route" error
            eta = wait + resp_s + self._extra_of[mode][place]
        else:
            eta = eta_s
            if not eta < INF:
                self.travel[mode].oracle.route(node, target)      # raises the one-line "no route" error
        if T is not None:           # TravelOracle.metres, from the metres rows read so far
            rows = self._metres_rows[mode]
            row = rows.get(node)
            if row is None:
                row = rows[node] = self.travel[mode].oracle.metres_from(node)
            metres = float(row[target]) + self._offset_of[mode][place]
        else:
            metres = self.travel[mode].oracle.metres(node, target) + self._offset_of[mode][place]
        # the cross-area flag is the one thing a dispatch asks of the beats (patrol units only)
        cross = st.role is ROLE_PATROL and not self.search.in_beat(st, place)
        sent = self.sent[i]
        if not sent:
            self.dispatch_s[i] = t
            self.cross_area[i] = cross
        if cross:
            st.cross_area_calls += 1
        st.status, st.moving, st.leg, st.since = BUSY, STILL, None, t
        self.index.unavailable(st.uid)
        st.calls += 1
        sent.append(st.uid)
        if self.trace is not None:
            self.trace.append(("trip", st.uid, t, node, wait, target, place, eta, i))
        # the trip: arrival recorded now, one event at clearance
        t0 = self.env.now
        t1 = t0 + eta
        if t1 < self.horizon_s + MAX_DRAIN_S:
            arr = self.arrivals[i]
            if not arr or t1 < arr[0]:       # equal times: the unit sent first arrived first
                self.first_unit[i] = st.uid
            arr.append(t1)
            arr.sort()
            move.account_drive(st, t0, t1, metres, patrol=False)
        ev = Call()                          # Engine._at, written out
        ev.callbacks = [self._clear]
        ev.args = (st, i, t1, t0, target)
        delay_s = t1 + self._on_scene_s[i] - t0
        if delay_s < 0:
            raise ValueError(f"Negative delay {delay_s}")     # as env.timeout
        self._schedule(ev, NORMAL, delay_s)

    def _clear(self, ev) -> None:
        """The unit of ``ev.args`` = (unit, incident, arrival, sent at, node) clears the scene now."""
        st, i, t1, t0, node = ev.args
        t2 = self.env.now
        st.scene_s += clip(t1, t2, self.warmup_s, self.horizon_s)
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
        want = duty.wants(st, duty.level_of(st))
        if want is PATROL:
            duty.rejoin.take_cleared(st, t)       # Duty.apply for a unit standing where it cleared
        elif want is OFF:
            st.status, st.leg, st.since = OFF, None, t
            self.index.refresh(st)
        else:
            st.leg = None
            self.move.drive_home(st, node, t)
