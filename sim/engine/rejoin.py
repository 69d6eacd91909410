"""The shift change of a patrol unit that stays on patrol: book its patrol, switch circuits, drive to the new one.

At every shift change every patrol unit leaves the circuit of the period that ends for
the next period's (``Duty.apply``): in a large force this is most of the engine's work
(at 1,920 officers, 279 units, 57,000 such switches in 60 days). ``Duty.apply`` does it
in a dozen calls (``Movement.stop``, ``where``, ``sync``, ``leave_patrol``,
``join_circuit``, ``_start_leg``, two ``DispatchIndex.refresh``); ``Rejoin.take`` does the
same for the common unit (a patrol unit on its circuit, or whose drive to it has ended)
in one pass, with the same floating-point operations in the same order, and
``Rejoin.flush`` tells the dispatch index of all the units' drives at once, in arrays,
after the shift change's loop (nothing reads the index inside it).

What the plain path would do and this one skips: the index's row for the old circuit
(``DispatchIndex.refresh`` when the ended drive is booked) is not written, since the
unit leaves that circuit at once and the row is masked (``bias``) and rewritten when the
unit is next on a circuit; ``tests/test_rejoin.py`` checks the runs are the same.
"""

from __future__ import annotations

import numpy as np

from sim.engine.units import CIRCUIT, LEG, PATROL, STILL, Leg, UnitState
from sim.kinds import Role

RESERVE = Role.RESERVE
DAY_S = 86_400.0


class Rejoin:
    """The batched switch of circuits at a shift change (see the module's docstring).

    ``take(st, t, period)`` handles a unit or returns False (the caller then runs
    ``Duty.apply``); ``flush()`` must follow the last ``take`` of the shift change.
    """

    def __init__(self, duty) -> None:
        self.duty = duty
        move = duty.move
        self.move = move
        self.index = duty.index
        self.circuits = duty.circuits
        self.intervals = move.intervals
        self.warmup_s, self.horizon_s = move.warmup_s, move.horizon_s
        self.travel = move.travel
        self._seg_of = self.index.flat.seg_of
        self._rows: list = []                   # per unit on a new drive: the index's row values
        self._keys: list = []                   # and the keys of their circuits
        self._plans: dict = {}                  # (uid, level, period) -> what a switch reads (_plan)

    def take(self, st: UnitState, t: float, period: int) -> bool:
        """Switch ``st`` (status PATROL) to its circuit of ``period``, as ``Duty.apply`` would; False if not common."""
        moving = st.moving
        if moving is STILL or st.role is RESERVE:
            return False
        leg = st.leg
        if moving is LEG and (leg.to_station or leg.t_end > t):
            return False
        duty = self.duty
        level = duty.levels[0] if duty.n_scope == 1 else duty.level_of(st)
        if duty.wants(st, level) is not PATROL:
            return False
        plan = self._plans.get((st.uid, level, period))
        if plan is None:
            plan = self._plan(st, level, period)
        st.level = level
        st.beat = plan[1]
        lo, hi = self.warmup_s, self.horizon_s
        old = st.circuit
        if moving is LEG:                      # Movement.sync: the drive to the old circuit has ended
            t0, t1 = leg.t_start, leg.t_end
            a, b = (t0 if t0 > lo else lo), (t1 if t1 < hi else hi)       # clip(t0, t1, lo, hi)
            inside = b - a if b > a else 0.0
            if inside > 0:                     # Movement.account_drive
                st.distance_m += leg.metres * inside / (t1 - t0)
                st.patrol_s += inside
            anchor_t = st.anchor_t = t1
            anchor_tau = st.anchor_tau = old.tau_at(leg.dst)
            st.moving, st.leg = CIRCUIT, None
        else:
            anchor_t, anchor_tau = st.anchor_t, st.anchor_tau
        # Movement.stop then leave_patrol: where it is on the old circuit, and the patrol booked
        node, wait, _ = old.where(anchor_tau + (t - anchor_t))
        speed = old.length_m / old.duration_s
        a, b = (anchor_t if anchor_t > lo else lo), (t if t < hi else hi)
        inside = b - a if b > a else 0.0
        st.patrol_s += inside
        st.distance_m += inside * speed
        if t > anchor_t:
            self.intervals.append((st.uid, anchor_t, t, st.circuit_key, anchor_t, anchor_tau))
        self._drive(st, plan, node, wait, t, True)
        return True

    def take_cleared(self, st: UnitState, t: float) -> None:
        """``Duty.apply`` for a unit that just cleared a scene and whose duty is patrol (``Trips._free``)."""
        if st.role is RESERVE or not self.duty.batch:
            self.duty.apply(st, t)
            return
        duty = self.duty
        level = duty.levels[0] if duty.n_scope == 1 else duty.level_of(st)
        period = int((t % DAY_S) // duty.shift_s)
        plan = self._plans.get((st.uid, level, period))
        if plan is None:
            plan = self._plan(st, level, period)
        st.level = level
        st.beat = plan[1]
        self._drive(st, plan, st.at_node, 0.0, t, False)     # Movement.stop: where it stands, nothing booked

    def _drive(self, st: UnitState, plan: tuple, node: int, wait: float, t: float, batched: bool) -> None:
        """Movement.join_circuit of the plan's circuit from ``node`` (after ``wait``): the drive starts.

        ``batched``: the index is told by ``flush``; else at once (``on_change``), as join_circuit.
        """
        key, _, circuit, join_at, seg, time_m, metres_from, scale = plan
        st.circuit, st.circuit_key = circuit, key
        # Movement.join_circuit and _start_leg (TravelOracle.time and metres on a full matrix)
        table = join_at.table
        dst = table[node] if table is not None else join_at[node]
        t_end = t + (wait + (float(time_m[node, dst]) if time_m is not None
                             else self.travel[st.mode].oracle.time(node, dst))) * scale
        st.moving = LEG
        st.leg = Leg(node, dst, t, wait, t_end,
                     float(metres_from(node)[dst]) if time_m is not None
                     else self.travel[st.mode].oracle.metres(node, dst), False, scale)
        if t_end <= t or not batched:          # a drive of no length: on the circuit now, as join_circuit
            self.move.on_change(st)
            if t_end <= t:
                self.move.sync(st, t)
            return
        # DispatchIndex.refresh of a drive to a circuit, written by flush()
        self._rows.append((st.uid, node, t, wait, scale, t_end, circuit.tau_at(dst), seg))
        self._keys.append(key)

    def _plan(self, st: UnitState, level: str, period: int) -> tuple:
        """What a switch to the circuit of (unit, level, period) reads, looked up once per run.

        The circuit is built here when first needed, as ``Duty.apply`` builds it (same order).
        ``time_m`` is the mode's full time matrix (``TravelOracle.time`` reads it; None on
        large graphs, where the oracle is called), ``metres_from`` the oracle's cached rows
        (``TravelOracle.metres`` on a graph with a full matrix).
        """
        key = (st.uid, level, period)
        circuit = self.circuits.get(st, level, period)
        join_at = self.move.nearest_on(key, circuit, st.mode)
        mt = self.travel[st.mode]
        o = mt.oracle
        plan = self._plans[key] = (key, st.unit.assignment(level)[0], circuit, join_at, self._seg_of[key],
                                   o.time_matrix, o.metres_from, mt.patrol_scale)
        return plan

    def flush(self) -> None:
        """Tell the dispatch index of every drive started by ``take`` since the last flush."""
        if self._rows:
            self.index.legs_started(np.array(self._rows), self._keys)
            self._rows, self._keys = [], []
