"""The shift change of patrol units that stay on patrol: book their patrol, switch circuits, drive to the new ones.

At every shift change every patrol unit leaves the circuit of the period that ends for
the next period's (``Duty.apply``): in a large force this is most of the engine's work
(at 1,920 officers, 279 units, 40,000 such switches in 60 days). ``Duty.apply`` does it
in a dozen calls per unit (``Movement.stop``, ``where``, ``sync``, ``leave_patrol``,
``join_circuit``, ``_start_leg``, two ``DispatchIndex.refresh``). Here the common unit (a
patrol unit on its circuit, or whose drive to it has ended) is switched as part of a
batch, with the same floating-point operations in the same order:

- the shift change's loop over the units checks a unit is common, looks up its plan
  (the new circuit, built here when first needed, in the loop's order as ``Duty.apply``
  builds it) and notes what the switch reads: one row of floats. Where one level holds
  everywhere and every plan is made, one compiled pass finds the common units and their
  rows in the dispatch index's arrays first (``_common_by_arrays``), and the loop looks
  only at the others. The
  patrol interval the switch closes gets its place in ``Movement.intervals`` at once (a
  placeholder: its lap time is yet to be found), so the records keep the plain path's
  order between units whatever ``Duty.apply`` appends for the others; ``flush`` hands
  the records over as one block of arrays (``PatrolIntervals.add_block``).
- ``flush`` (after the loop) switches them all in one compiled call
  (``sim.engine.shift_kernels.switch_circuits``: locate on the old circuit, book the
  patrol, pick the join node in the plan's stacked join table, time the drive on the full
  matrix, the lap time at the join node), writes back per unit only what the rest of the
  engine reads (its accounts, circuit and ``Leg``), and tells the dispatch index of
  every drive at once (``DispatchIndex.legs_started``).

A mode without a full time matrix but with hub labels (graphs above ``FULL_MATRIX_MAX_NODES``)
switches in the same batch: the compiled switch joins its plans as ``_drive`` joins them (the
circuit's nearest node, the labels' seconds and metres: ``shift_kernels._join_by_labels``).
A mode with neither (or past the switch's four slots) takes the per-unit path
(``_take_one``), with the oracle's calls in the plain path's order. What the plain path
would do and this one skips: the index's row for the old circuit (``DispatchIndex.refresh``
when the ended drive is booked) is not written, since the unit leaves that circuit at
once and the row is masked (``bias``) and rewritten when the unit is next on a circuit;
``tests/test_rejoin.py`` checks the runs are the same.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter

import numpy as np

from sim.engine import shift_kernels as SK
from sim.engine.join_drive import LabelJoin
from sim.engine.join_tables import JoinTables, metres_reader
from sim.engine.units import BUSY, CIRCUIT, LEG, PATROL, STILL, Leg, UnitState
from sim.kinds import Role

RESERVE = Role.RESERVE
DAY_S = 86_400.0
# plan tuple fields (see _plan)
KEY, BEAT, CIRCUIT_, JOIN, SEG, TIME_M, METRES_OF, SCALE, ROW, BY_LABELS, WRITTEN = range(11)
#: a plan's ``WRITTEN``: what the batch's write-back sets on the unit, (level, beat, circuit, key, patrol scale)
_WRITTEN = itemgetter(WRITTEN)
#: a batch row's columns a closed patrol interval reads (``PatrolIntervals.add_block``)
_INTERVAL_COLUMNS = [SK.U_UID, SK.U_T1, SK.U_SEG]
#: a unit's plan row (``_rows_of``) when its plan is not made yet, and when it has none (the reserve, or not on
#: patrol at the level: ``Duty.apply`` moves it)
UNKNOWN, NO_PLAN = SK.PLAN_UNKNOWN, -3
_NONE_ASKED = np.zeros(1, np.int64)     # the switch's pair counts when no mode joins by labels (never written)


class Rejoin:
    """The batched switch of circuits at a shift change (see the module's docstring).

    ``shift_change(t, period)`` is ``Duty.shift_change``'s loop with the batch;
    ``take_cleared`` rejoins one unit after a clearance.
    """

    #: plans of modes with hub labels (no full matrix) switch in the batch, joined by the labels in the
    #: compiled switch; False: one by one (``_take_one``; tests compare)
    LABEL_BATCH = True

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
        self.tables = JoinTables(self.index.flat)
        self._plans: dict = {}                  # (uid, level, period) -> what a switch reads (_plan)
        self._plan_lists: dict = {}             # (level, period) -> per unit its plan or None
        self._plan_rows: dict = {}              # (level, period) -> per unit its plan's ROW, UNKNOWN or NO_PLAN
        self._patrol_wanted: dict = {}          # level -> per unit: duty wants it on patrol, and not the reserve
        self._metres_of: dict = {}              # mode -> metres of a pair (join_tables.metres_reader)
        self._label_joins: dict = {}            # mode -> a LabelJoin whose compiled code the next ones take
        self.batched = self.one_by_one = 0      # units switched at shift changes: in batches, one by one
        # the batch of the shift change under way (shift_change fills it, flush empties it)
        self._batch: list = []                  # per unit: a row of floats (shift_kernels' U_ columns), flat
        self._sts: list = []                    # its UnitState
        self._batch_plans: list = []            # its plan
        self._rows: list = []                   # per unit on a new drive of the per-unit path: index row
        self._arrays: tuple | None = None       # the units the index shows common: (uids, their rows, plans)

    def shift_change(self, t: float, period: int) -> None:
        """``Duty.shift_change``'s loop over the units, the common ones switched as a batch.

        The same order as the plain loop: busy crews are marked, a common patrol unit joins
        the batch (its new circuit built here when first needed, in the loop's order, as
        ``Duty.apply`` builds it), every other unit whose duty changes goes through
        ``Duty.apply`` at once; ``flush`` then switches the batch.

        Where one level holds everywhere, the common units are found first in the dispatch
        index's arrays (``_common_by_arrays``: one compiled pass, where the loop's checks
        cost most of a microsecond per unit in a large force), their rows read from there; the
        loop then looks at the other units only, the common ones' patrol records given their
        places in runs between them.
        """
        duty = self.duty
        apply, wants, level_of = duty.apply, duty.wants, duty.level_of
        one_scope = duty.n_scope == 1
        found = None
        if one_scope:
            level = duty.levels[0]
            want_of = duty.wants_table(level)
            plan_of = self._plan_list(level, period)
            rows_of = self._rows_of(level, period)
            found = self._common_by_arrays(t, level, period)
        # the units the loop looks at, each after the placeholders of the batch's records before it (those the
        # arrays found), and the placeholders after the last of them
        if found is None:
            todo, gaps, trailing = duty.units, repeat(0), 0
        else:
            others, gaps, trailing = found
            todo = map(duty.units.__getitem__, others)
        plans = self._plans
        intervals = self.intervals
        add_interval, add_placeholders = intervals.append, intervals.extend
        add_row, add_st, add_plan = self._batch.extend, self._sts.append, self._batch_plans.append
        tables = self.tables
        seg_of = tables.seg_speed
        n = 0
        for st, gap in zip(todo, gaps):
            if gap:
                add_placeholders(repeat(None, gap))
            status = st.status
            if status is BUSY:
                duty.hold_for_call(st, t)
                continue
            if status is not PATROL:       # off duty, at the station or a post: only a change of duty moves it
                if (want_of[st.uid] if one_scope else wants(st, level_of(st))) is not status:
                    apply(st, t)
                continue
            # a common unit: on its circuit, or its drive to it ended; not the reserve; stays on patrol
            moving = st.moving
            if moving is LEG:
                leg = st.leg
                if leg.to_station or leg.t_end > t:
                    apply(st, t)
                    continue
            elif moving is STILL:
                apply(st, t)
                continue
            uid = st.uid
            if one_scope:
                plan = plan_of[uid]
                if not plan:                   # not known yet, or False: the reserve, or off patrol at this level
                    if plan is False or st.role is RESERVE or want_of[uid] is not PATROL:
                        plan_of[uid] = False
                        rows_of[uid] = NO_PLAN
                        apply(st, t)
                        continue
                    plan = self._plan(st, level, period)
            else:
                lvl = level_of(st)
                if st.role is RESERVE or wants(st, lvl) is not PATROL:
                    apply(st, t)
                    continue
                plan = plans.get((uid, lvl, period))
                if plan is None:
                    plan = self._plan(st, lvl, period)
            row = plan[ROW]
            if row < 0:                        # no full matrix: this unit at once
                self._take_one(st, t, plan, moving, st.leg)
                continue
            key = st.circuit_key
            seg = seg_of.get(key)
            if seg is None:
                seg = tables.learn(key, st.circuit)
            if moving is LEG:                  # its drive to the old circuit has ended: booked in the batch
                t1 = leg.t_end
                if t > t1:                     # the patrol interval since then (a block's record: flush)
                    add_interval(None)
                add_row((1.0, seg, t1, 0.0, leg.t_start, leg.metres, leg.dst, row, uid))
            else:
                anchor_t, anchor_tau = st.anchor_t, st.anchor_tau
                if t > anchor_t:               # the patrol interval since then (a block's record: flush)
                    add_interval(None)
                add_row((0.0, seg, anchor_t, anchor_tau, 0.0, 0.0, -1.0, row, uid))
            add_st(st)
            add_plan(plan)
            n += 1
        if trailing:
            add_placeholders(repeat(None, trailing))
        if self._arrays is not None:
            n += self._arrays[0].size
        self.batched += n
        self.flush(t)

    def _common_by_arrays(self, t: float, level: str, period: int) -> tuple | None:
        """The units the dispatch index shows common, for one level everywhere (``shift_kernels.common_units``).

        Returns the other units' uids in order, the placeholders of the common units' patrol records
        before each (a unit closes one if it has been on its circuit since before ``t``), and those after
        the last; the common units' batch rows are kept in ``_arrays`` for ``flush``.

        Common, as the loop decides it: a unit on its circuit (``code`` 1) or whose drive to it has
        ended (``code`` 2, no fixed node, ``LEG_TEND`` at most ``t``: a drive home has inf there), that
        duty wants on patrol at ``level`` and is not the reserve (``_wanted``), whose plan for
        (``level``, ``period``) is made and switches in the batch (a row of the join tables). The index
        holds what the loop would read off the unit (``refresh`` runs after every change of it): the
        segment, the anchor or the drive's end, start, metres and node. None (the loop looks at every
        unit) when a unit's plan is not made yet (the loop makes plans, and builds circuits, in its
        order) or a circuit a unit leaves has not been left before (``JoinTables.learn`` in the loop).
        """
        index = self.index
        n = len(self.duty.units)
        rows = np.empty((n, SK.U_COLUMNS))
        others, gaps = np.empty(n, np.int64), np.empty(n, np.int64)
        k, n_others, trailing = SK.common_units(t, index.code, index.ui, index.uf, self._wanted(level),
                                                self._rows_of(level, period), self.tables.speed, rows, others, gaps)
        if k <= 0:
            return None
        rows = rows[:k]
        self._arrays = (rows[:, SK.U_UID].astype(np.int64), rows, self._plan_list(level, period))
        return others[:n_others].tolist(), gaps[:n_others].tolist(), trailing

    def _wanted(self, level: str) -> np.ndarray:
        """Per unit: duty wants it on patrol at ``level``, and it is not the reserve (a function of the level)."""
        hit = self._patrol_wanted.get(level)
        if hit is None:
            hit = self._patrol_wanted[level] = np.array(
                [w is PATROL for w in self.duty.wants_table(level)], bool) & ~self.index.is_reserve
        return hit

    def _rows_of(self, level: str, period: int) -> np.ndarray:
        """Per unit, its plan's ``ROW`` at (``level``, ``period``), or ``UNKNOWN``/``NO_PLAN`` (``_plan_list``'s None/False)."""
        hit = self._plan_rows.get((level, period))
        if hit is None:
            hit = self._plan_rows[(level, period)] = np.full(len(self.duty.units), UNKNOWN, np.int64)
        return hit

    def _take_one(self, st: UnitState, t: float, plan: tuple, moving, leg) -> None:
        """The switch of one unit at once (no full time matrix): the batch's operations, in Python."""
        self.one_by_one += 1
        level, beat = plan[KEY][1], plan[BEAT]
        if st.level != level or st.beat != beat:   # the index's beat columns follow the level and beat only
            st.level, st.beat = level, beat
            self.index.beat_changed(st)
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

    def take_cleared(self, st: UnitState, t: float, level: str) -> None:
        """``Duty.apply`` for a unit that just cleared a scene and whose duty is patrol (``Trips._free``).

        ``level`` is the unit's level now (``Duty.level_of``: the caller has it). It drives from
        where it stands (``Movement.stop``: nothing booked) to its circuit; with a full matrix
        inline (this runs at every clearance), else through ``_drive``.
        """
        duty = self.duty
        if st.role is RESERVE or not duty.batch:
            duty.apply(st, t)
            return
        period = int((t % DAY_S) // duty.shift_s)
        plan = self._plans.get((st.uid, level, period))
        if plan is None:
            plan = self._plan(st, level, period)
        key, beat, circuit, join_at, seg, time_m, metres_of, scale, row, _, _ = plan
        if st.level != level or st.beat != beat:   # the index's beat columns follow the level and beat only
            st.level, st.beat = level, beat
            self.index.beat_changed(st)
        if row < 0 or time_m is None:          # no join table (the labels' plans: in the shift change's batch)
            self._drive(st, plan, st.at_node, 0.0, t, False)
            return
        node = st.at_node
        st.circuit, st.circuit_key = circuit, key
        dst = join_at.table[node]               # Movement.join_circuit, _start_leg (TravelOracle.time, metres)
        t_end = t + (0.0 + time_m.item(node, dst)) * scale
        tau = circuit.tau_at(dst)
        if t_end <= t:
            # a drive of no length (it cleared on its circuit): Movement.sync ends it at once, booking
            # nothing (no time inside it), and the unit is on its circuit, at the lap time of ``dst``.
            # The index's drive columns are not written: a unit on its circuit has them read by nothing,
            # and every later drive or stop writes its own
            st.moving, st.leg = CIRCUIT, None
            st.anchor_t, st.anchor_tau = t_end, tau
            self.index.on_circuit(st.uid, seg, t_end, tau)
            return
        st.moving = LEG
        metres = metres_of(node, dst)
        st.leg = Leg(node, dst, t, 0.0, t_end, metres, False, scale, tau)
        # DispatchIndex.refresh of the drive, its values at hand
        self.index.drive_started(st.uid, node, t, 0.0, t_end, scale, tau, seg, dst, metres)

    def _drive(self, st: UnitState, plan: tuple, node: int, wait: float, t: float, batched: bool) -> None:
        """Movement.join_circuit of the plan's circuit from ``node`` (after ``wait``): the drive starts.

        ``batched``: the index is told by ``flush``; else at once, as join_circuit tells it
        (``DispatchIndex.refresh`` of a drive to a circuit, with the values at hand: ``drive_started``,
        as ``take_cleared`` does; only ``take_cleared`` passes False, and only when the engine keeps no
        trace, whose ``on_change`` records every change). Without a full matrix the drive's seconds and
        metres come from one look-up of the pair (``TravelOracle.time_and_metres``); with hub labels
        the join node, its lap time and the look-up are one compiled call (``sim.engine.join_drive``).
        """
        key, _, circuit, join_at, seg, time_m, metres_of, scale, _, by_labels, _ = plan
        st.circuit, st.circuit_key = circuit, key
        # Movement.join_circuit and _start_leg (TravelOracle.time and metres on a full matrix)
        tau = None
        if by_labels is not None:
            dst, tau, travel_s, metres = by_labels(node)
        else:
            table = join_at.table
            dst = table[node] if table is not None else join_at[node]
            if time_m is not None:
                travel_s, metres = time_m.item(node, dst), metres_of(node, dst)
            else:
                travel_s, metres = self.travel[st.mode].oracle.time_and_metres(node, dst)
        t_end = t + (wait + travel_s) * scale
        st.moving = LEG
        st.leg = Leg(node, dst, t, wait, t_end, metres, False, scale)
        if t_end <= t:                         # a drive of no length: on the circuit now, as join_circuit
            self.move.on_change(st)
            self.move.sync(st, t)
            return
        if tau is None:
            tau = circuit.tau_at(dst)
        st.leg.tau = tau
        if not batched:
            self.index.drive_started(st.uid, node, t, wait, t_end, scale, tau, seg, dst, metres)
            return
        # DispatchIndex.refresh of a drive to a circuit, written by flush()
        self._rows.append((st.uid, node, t, wait, scale, t_end, tau, seg, dst, metres))

    def _plan(self, st: UnitState, level: str, period: int) -> tuple:
        """What a switch to the circuit of (unit, level, period) reads, looked up once per run.

        The circuit is built here when first needed, as ``Duty.apply`` builds it (same order).
        ``time_m`` is the mode's full time matrix (``TravelOracle.time`` reads it; None on
        large graphs, where the oracle is called), ``metres_of(source, target)`` the metres of a
        pair (``join_tables.metres_reader``). ``ROW``: the plan's row in the
        stacked join tables (``JoinTables``), -1 if it takes the per-unit path. ``BY_LABELS``: on a
        graph with hub labels and no full matrix, the drive's compiled look-ups (``join_drive.LabelJoin``);
        else None.
        """
        key = (st.uid, level, period)
        circuit = self.circuits.get(st, level, period)
        join_at = self.move.nearest_on(key, circuit, st.mode)
        mt = self.travel[st.mode]
        o = mt.oracle
        seg = self._seg_of[key]
        if key not in self.tables.seg_speed:   # its patrol speed, for the switch away from it (``_common_by_arrays``)
            self.tables.learn(key, circuit)
        row = self.tables.add_plan(join_at.table, seg, st.mode, o.time_matrix, mt.patrol_scale, o)
        metres_of = self._metres_of.get(st.mode)
        if metres_of is None:
            metres_of = self._metres_of[st.mode] = metres_reader(o)
        kernel = o._kernel if o.time_matrix is None else None
        by_labels = None
        if kernel is not None:
            # the compiled code of the mode's first join, for every later one (the same argument types)
            first = self._label_joins.get(st.mode)
            graph = self.move.graphs[st.mode]
            by_labels = LabelJoin(circuit, graph, kernel.labels, kernel, None if first is None else first.call)
            if first is None or first.call is None:
                self._label_joins[st.mode] = by_labels
            if row < 0 and self.LABEL_BATCH:   # the shift change's switch joins it by the labels, in the batch
                row = self.tables.add_label_plan(seg, st.mode, graph, kernel.labels, mt.patrol_scale, kernel)
        beat = st.unit.assignment(level)[0]
        plan = self._plans[key] = (key, beat, circuit, join_at, seg, o.time_matrix, metres_of, mt.patrol_scale, row,
                                   by_labels, (level, beat, circuit, key, mt.patrol_scale))
        self._plan_list(level, period)[st.uid] = plan
        self._rows_of(level, period)[st.uid] = row
        return plan

    def _plan_list(self, level: str, period: int) -> list:
        """Per unit, its plan at (``level``, ``period``) or None: one look-up per shift change, not per unit."""
        plans = self._plan_lists.get((level, period))
        if plans is None:
            plans = self._plan_lists[(level, period)] = [None] * len(self.duty.units)
        return plans

    def flush(self, t: float) -> None:
        """Switch the batch of the shift change at ``t``, and tell the dispatch index of every drive it started."""
        parts = []
        if self._sts or self._arrays is not None:
            parts.append(self._switch(t))
        if self._rows:
            parts.append(np.array(self._rows))
            self._rows = []
        rows = parts[0] if len(parts) == 1 else (np.concatenate(parts) if parts else None)
        if rows is not None and len(rows):
            self.index.legs_started(rows)

    def _switch(self, t: float) -> np.ndarray:
        """The batch's switch (``shift_kernels.switch_circuits``), then per unit what the engine reads.

        Returns the index rows of the drives started (``DispatchIndex.legs_started``).
        """
        if self._arrays is None:               # the loop found the batch
            sts, plans = self._sts, self._batch_plans
            batch = np.array(self._batch, np.float64).reshape(len(sts), SK.U_COLUMNS)
        else:                                  # the index's arrays did: the loop looked only at the other units
            assert not self._sts, "a unit the index's arrays left out was batched by the loop"
            uids, batch, plan_of = self._arrays
            self._arrays = None
            ul = uids.tolist()
            sts, plans = list(map(self.duty.units.__getitem__, ul)), list(map(plan_of.__getitem__, ul))
        n = len(sts)
        tables = self.tables
        out_i = np.empty((n, SK.O_I_COLUMNS), np.int64)
        out_f = np.empty((n, SK.O_F_COLUMNS))
        asked = np.zeros(len(tables.label_counters), np.int64) if tables.label_counters else _NONE_ASKED
        SK.switch_circuits(t, self.warmup_s, self.horizon_s, batch, tables.speed, tables.flat.flat,
                           tables.flat.seg, tables.join, tables.plan_i, tables.plan_f, *tables.times,
                           *tables.metres, tables.all_metres, *tables.labels, asked, out_i, out_f)
        for counter, k in zip(tables.label_counters, asked.tolist()):   # the pairs the labels answered
            counter.pair_asked += k
        # the patrol intervals closed (their placeholders, in row order): from the anchor to t, on the old circuit
        self.intervals.add_block(batch[:, _INTERVAL_COLUMNS], out_f[:, SK.O_ANCHOR_TAU].copy(), t, tables.key_of_seg)
        # columns as lists (Python ints and floats, as the plain path has them; no list per unit)
        move, leg_cls = self.move, Leg
        # an index that keeps no beats (``owners``, kept for the large graphs' walk) needs no word per unit
        beat_changed = self.index.beat_changed if self.index.owners is not None else None
        zero = False
        nodes, dsts = out_i[:, SK.O_NODE].tolist(), out_i[:, SK.O_DST].tolist()
        # each drive's metres: read by the compiled switch (always by the labels' plans), else pair by pair
        # (join_tables.metres_reader)
        metres = out_f[:, SK.O_METRES].tolist()
        if not tables.all_metres:
            by_labels = tables.plan_i[batch[:, SK.U_PLAN].astype(np.int64), SK.P_LABELS].tolist()
            metres = [m if lab else plan[METRES_OF](node, dst)
                      for plan, node, dst, m, lab in zip(plans, nodes, dsts, metres, by_labels)]
        # The anchor (anchor_t, anchor_tau) is not written: Movement.sync of an ended drive would
        # set it, but a unit on a drive has it read by nothing before Movement.sync of the new
        # drive sets it afresh; the patrol interval it closes has it (the placeholders above)
        # the accounts gain the ended drive's seconds and metres, then the patrol's, in that order (the plain path's)
        for st, (level, beat, circuit, key, scale), node, dst, wait, t_end, drive_s, drive_m, patrol_s, patrol_m, m, \
                tau in zip(sts, map(_WRITTEN, plans), nodes, dsts, out_f[:, SK.O_WAIT].tolist(),
                           out_f[:, SK.O_TEND].tolist(), out_f[:, SK.O_DRIVE_S].tolist(),
                           out_f[:, SK.O_DRIVE_M].tolist(), out_f[:, SK.O_PATROL_S].tolist(),
                           out_f[:, SK.O_PATROL_M].tolist(), metres, out_f[:, SK.O_TAU].tolist()):
            st.patrol_s = st.patrol_s + drive_s + patrol_s
            st.distance_m = st.distance_m + drive_m + patrol_m
            if st.level != level or st.beat != beat:   # the index's beat columns follow the level and beat only
                st.level = level
                st.beat = beat
                if beat_changed is not None:
                    beat_changed(st)
            st.circuit = circuit
            st.circuit_key = key
            st.moving = LEG
            leg = st.leg
            if leg is None:                    # it was on its circuit
                st.leg = leg_cls(node, dst, t, wait, t_end, m, False, scale, tau)
            else:
                # its ended drive's Leg, reused for the new drive (a fifth of a new one's cost): only the unit
                # holds it (the engine's trace keeps every Leg it sees, and turns the batch off); a drive to its
                # circuit, so ``to_station`` is False already (the loop sends a drive home through Duty.apply)
                leg.src = node                 # one statement a field: a tuple assigned at once cost 70% more
                leg.dst = dst
                leg.t_start = t
                leg.wait_s = wait
                leg.t_end = t_end
                leg.metres = m
                leg.scale = scale
                leg.tau = tau
                leg._path = None
            if t_end <= t:                     # a drive of no length: on the circuit now, as join_circuit
                move.on_change(st)
                move.sync(st, t)
                zero = True
        self._batch, self._sts, self._batch_plans = [], [], []
        pr = batch[:, SK.U_PLAN].astype(np.int64)
        rows = np.column_stack([batch[:, SK.U_UID], out_i[:, SK.O_NODE], np.full(n, t), out_f[:, SK.O_WAIT],
                                tables.plan_f[pr, SK.P_SCALE], out_f[:, SK.O_TEND], out_f[:, SK.O_TAU],
                                tables.plan_i[pr, SK.P_SEG], out_i[:, SK.O_DST],
                                out_f[:, SK.O_METRES] if tables.all_metres else np.asarray(metres, np.float64)])
        if zero:
            rows = rows[out_f[:, SK.O_TEND] > t]
        return rows
