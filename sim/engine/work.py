"""Episodes of other work by units on duty (out of service or officer-initiated), applied as events.

``sim.engine.availability`` says what the settings are and draws each unit's episodes;
this part of ``Engine`` (``sim.engine.core``) applies them: an episode takes a free unit
off the dispatch index for its length (dropped if the unit is busy or off duty), and a
request no free unit can take may pull a unit off work its priority may interrupt.
``OtherWork`` is a mixin: it reads the engine's state, set up in ``Engine.__init__``.
"""

from __future__ import annotations

import numpy as np

from sim.dispatch import may_interrupt
from sim.engine.units import BUSY, PATROL, STATION, STILL, UnitState, clip


class OtherWork:
    """Episodes of other work and interrupting them (mixed into ``Engine``)."""

    def _episodes(self, st: UnitState, eps: list, k: int) -> None:
        """Episode ``k`` of ``st`` starts now (if the unit is free on duty), then schedule the next."""
        if k + 1 < len(eps):
            self._after(eps[k + 1][0] - self.env.now, self._episodes, st, eps, k + 1)
        if st.status is not PATROL and st.status is not STATION:
            return                     # busy, off duty or at a checkpoint: the episode is dropped
        t = self.env.now
        node, _ = self.move.where(st, t)
        if st.status is PATROL:
            if st.moving is not STILL:
                self.move.leave_patrol(st, t)
        else:
            self.move.account_idle(st, t)
        st.status, st.moving, st.leg, st.since, st.at_node = BUSY, STILL, None, t, node
        st.work = eps[k][2]
        st.work_token += 1
        self.index.unavailable(st.uid)
        self._after(eps[k][1], self._end_work, st, st.work_token)

    def _book_work(self, st: UnitState, t: float) -> None:
        inside = clip(st.since, t, self.warmup_s, self.horizon_s)
        if st.work == "out_of_service":
            st.out_of_service_s += inside
        else:
            st.officer_initiated_s += inside
        st.work = None
        st.work_token += 1

    def _end_work(self, st: UnitState, token: int) -> None:
        if st.work is None or st.work_token != token:
            return                     # the work was interrupted by a call
        t = self.env.now
        self._book_work(st, t)
        self._free(st, st.at_node, t)        # tells the dispatch index where it left the unit

    def _interrupt(self, i: int, t: float) -> bool:
        """No free unit: pull the nearest unit off work that request ``i``'s priority may interrupt."""
        prio, allowed = self._priority[i], self.availability.interrupt
        best = None
        for st in self.units:
            if st.work is None or st.uid in self.sent[i] or not may_interrupt(prio, st.work, allowed):
                continue
            place = self._place[i]
            eta = self.travel[st.mode].oracle.time(st.at_node, self._target_of[st.mode][place])
            if eta < np.inf and (best is None or (eta, st.uid) < best[0]):
                best = ((eta, st.uid), st)
        if best is None:
            return False
        st = best[1]
        self._book_work(st, t)
        self._send(st, i, t, (st.at_node, 0.0))
        return True
