"""The shift change in steady state: the loop over the units as column operations, not a Python loop.

Once the circuits of a level and period have been built and planned (``Rejoin._plan``, from
the second shift change of a period on), a shift change decides nothing that needs Python
unit by unit: which units are busy, which stay where they are, which go through
``Duty.apply`` and which switch circuits in the batch follow from a few attributes of each
unit. In a large force that loop was the engine's main cost growing with the units (at
1,920 officers in the default town, 279 units, about 230 of them switched at each of three
shift changes a day: 560 bytecodes per dispatch in ``Rejoin.shift_change`` and ``_switch``).

Here the attributes are read, and the results written back, by C-level iterators
(``map`` with ``operator.attrgetter`` and ``setattr``, ``itertools.compress``): the same
values in the same order, with no bytecode per unit. The switch itself is the batch's
compiled call (``sim.engine.shift_kernels.switch_circuits``). What stays in Python, unit by
unit, is what is rare: busy crews (``Duty.hold_for_call``), units whose duty changes
(``Duty.apply``, in the units' order), drives of no length.

Order kept from the plain loop (``Rejoin.shift_change``): ``Movement.intervals`` gets the
batch's patrol intervals and ``Duty.apply``'s in the units' order (the batch's as
placeholders, filled after the compiled call); the index is told of the batch's drives
after every ``apply`` (``DispatchIndex.legs_started``). ``run`` returns False, having
changed nothing, when a plan is still to be built (circuits are built in the loop's order),
with areas deciding their own levels, or on a graph without full time matrices: the plain
loop then does the shift change.
"""

from __future__ import annotations

from collections import deque
from itertools import compress, repeat
from operator import attrgetter, getitem, is_, is_not, itemgetter

import numpy as np

from sim.engine import shift_kernels as SK
from sim.engine.units import BUSY, LEG, PATROL, STILL, Leg
from sim.kinds import Role

RESERVE = Role.RESERVE
# plan tuple fields (sim.engine.rejoin._plan)
KEY, BEAT, CIRCUIT_, JOIN, SEG, TIME_M, METRES_FROM, SCALE, ROW = range(9)

_status, _moving, _leg, _uid = (attrgetter(a) for a in ("status", "moving", "leg", "uid"))
_to_station, _t_end, _t_start, _metres, _dst = (attrgetter(a) for a in ("to_station", "t_end", "t_start",
                                                                          "metres", "dst"))
_anchor_t, _anchor_tau, _patrol_s, _distance_m, _circuit_key = (
    attrgetter(a) for a in ("anchor_t", "anchor_tau", "patrol_s", "distance_m", "circuit_key"))
_p_key, _p_beat, _p_circuit, _p_row, _p_scale, _p_metres_from = (
    itemgetter(i) for i in (KEY, BEAT, CIRCUIT_, ROW, SCALE, METRES_FROM))


def _run(it) -> None:
    """Exhaust an iterator of side effects (``map(setattr, ...)``) in C."""
    deque(it, maxlen=0)


def _set(objs: list, name: str, values) -> None:
    """``obj.name = value`` for each pair, in C."""
    deque(map(setattr, objs, repeat(name), values), maxlen=0)


def _floats(getter, objs: list) -> np.ndarray:
    return np.fromiter(map(getter, objs), np.float64, len(objs))


class SteadyShift:
    """``run(t, period)``: the shift change of ``Rejoin`` without a loop over the units (module docstring)."""

    def __init__(self, rejoin) -> None:
        self.rejoin = rejoin
        self.duty = rejoin.duty
        units = self.duty.units
        # the units' positions are their uids (Duty.wants_table and the plan lists are indexed so)
        self.ok = all(st.uid == i for i, st in enumerate(units))
        self.steady = 0                     # shift changes done here (the others by the plain loop)

    def run(self, t: float, period: int) -> bool:
        rj, duty = self.rejoin, self.duty
        if not self.ok or duty.n_scope != 1 or rj.tables.per_unit_plans:
            return False
        units = duty.units
        n = len(units)
        level = duty.levels[0]
        want_of = duty.wants_table(level)
        plan_of = rj._plan_list(level, period)
        statuses = list(map(_status, units))
        patrol = np.fromiter(map(is_, statuses, repeat(PATROL)), bool, n)
        busy = np.fromiter(map(is_, statuses, repeat(BUSY)), bool, n)
        # off duty, at the station or a post: through apply only if its duty changes
        to_apply = np.fromiter(map(is_not, statuses, want_of), bool, n) & ~patrol & ~busy
        p_uid = np.flatnonzero(patrol)
        p_sts = list(compress(units, patrol))
        moving = list(map(_moving, p_sts))
        on_leg = np.fromiter(map(is_, moving, repeat(LEG)), bool, len(p_sts))
        still = np.fromiter(map(is_, moving, repeat(STILL)), bool, len(p_sts))
        legs = list(map(_leg, compress(p_sts, on_leg)))
        # a drive home, or one to the circuit still under way: apply (as the plain loop)
        leg_apply = (np.fromiter(map(_to_station, legs), bool, len(legs))
                     | (np.fromiter(map(_t_end, legs), np.float64, len(legs)) > t))
        p_apply = still.copy()
        p_apply[on_leg] = leg_apply
        common = ~p_apply
        c_uid = p_uid[common].tolist()
        plans = list(map(plan_of.__getitem__, c_uid))
        known = np.fromiter(map(bool, plans), bool, len(plans))
        if not known.all():
            for uid, plan in zip(compress(c_uid, ~known), compress(plans, ~known)):
                if plan is None and units[uid].role is not RESERVE and want_of[uid] is PATROL:
                    return False            # a circuit to build: the plain loop builds it in order
            for uid, plan in zip(compress(c_uid, ~known), compress(plans, ~known)):
                plan_of[uid] = False        # the reserve, or off patrol at this level: apply
            idx = np.flatnonzero(common)
            p_apply[idx[~known]] = True
            common[idx[~known]] = False
            plans = list(compress(plans, known))
        to_apply[p_uid[p_apply]] = True
        for st in compress(units, busy):
            duty.hold_for_call(st, t)
        b_mask = np.zeros(n, bool)
        b_mask[p_uid[common]] = True
        self.steady += 1
        rj.batched += len(plans)
        if not plans:
            for st in compress(units, to_apply):
                duty.apply(st, t)
            return True
        self._switch(t, units, b_mask, on_leg[common], plans, to_apply)
        return True

    def _switch(self, t: float, units: list, b_mask: np.ndarray, on_leg: np.ndarray, plans: list,
                to_apply: np.ndarray) -> None:
        """The batch (``b_mask``; ``on_leg``: its drive to the old circuit ended) switches; apply the others."""
        rj = self.rejoin
        tables, move, intervals = rj.tables, rj.move, rj.intervals
        sts = list(compress(units, b_mask))
        nb = len(sts)
        uids = np.flatnonzero(b_mask)
        leg_sts = list(compress(sts, on_leg))
        on_c = ~on_leg
        c_sts = list(compress(sts, on_c))
        legs = list(map(_leg, leg_sts))
        old_keys = list(map(_circuit_key, sts))
        seg_of = tables.seg_speed
        segs = list(map(seg_of.get, old_keys))
        if None in segs:
            segs = [tables.learn(k, st.circuit) if s is None else s for k, s, st in zip(old_keys, segs, sts)]
        batch = np.zeros((nb, SK.U_COLUMNS))
        batch[:, SK.U_LEG] = on_leg
        batch[:, SK.U_SEG] = segs
        batch[on_leg, SK.U_T1] = _floats(_t_end, legs)
        batch[on_leg, SK.U_T0] = _floats(_t_start, legs)
        batch[on_leg, SK.U_METRES] = _floats(_metres, legs)
        batch[on_leg, SK.U_DST] = _floats(_dst, legs)
        batch[on_c, SK.U_T1] = _floats(_anchor_t, c_sts)
        batch[on_c, SK.U_TAU] = _floats(_anchor_tau, c_sts)
        batch[on_c, SK.U_DST] = -1.0
        batch[:, SK.U_PATROL] = _floats(_patrol_s, sts)
        batch[:, SK.U_DIST] = _floats(_distance_m, sts)
        batch[:, SK.U_PLAN] = list(map(_p_row, plans))
        batch[:, SK.U_UID] = uids
        # the patrol intervals the switch closes (t after the anchor), in the units' order with
        # apply's: placeholders before each unit applied, filled after the compiled call
        t1 = batch[:, SK.U_T1]
        has_iv = t > t1
        iv_uid = uids[has_iv]
        runs, done = [], 0
        apply, hold = self.duty.apply, np.flatnonzero(to_apply)
        if hold.size:
            cuts = np.searchsorted(iv_uid, hold).tolist()
            for u, c in zip(hold.tolist(), cuts):
                if c > done:
                    runs.append((len(intervals), done, c))
                    intervals.extend(repeat(None, c - done))
                    done = c
                apply(units[u], t)
        if iv_uid.size > done:
            runs.append((len(intervals), done, iv_uid.size))
            intervals.extend(repeat(None, iv_uid.size - done))
        out_i = np.empty((nb, SK.O_I_COLUMNS), np.int64)
        out_f = np.empty((nb, SK.O_F_COLUMNS))
        SK.switch_circuits(t, rj.warmup_s, rj.horizon_s, batch, tables.speed, tables.flat.flat,
                           tables.flat.seg, tables.join, tables.plan_i, tables.plan_f, *tables.times,
                           out_i, out_f)
        anchor_tau = out_f[:, SK.O_ANCHOR_TAU]
        if runs:
            t1_iv = t1[has_iv].tolist()
            ivs = list(zip(iv_uid.tolist(), t1_iv, repeat(t), compress(old_keys, has_iv), t1_iv,
                           anchor_tau[has_iv].tolist()))
            for pos, a, b in runs:
                intervals[pos:pos + b - a] = ivs[a:b]
        # what the engine reads of each unit (as Rejoin._switch writes it)
        _set(sts, "patrol_s", out_f[:, SK.O_PATROL].tolist())
        _set(sts, "distance_m", out_f[:, SK.O_DIST].tolist())
        _set(leg_sts, "anchor_t", t1[on_leg].tolist())          # Movement.sync of the ended drive
        _set(leg_sts, "anchor_tau", anchor_tau[on_leg].tolist())
        keys = list(map(_p_key, plans))
        _set(sts, "level", map(itemgetter(1), keys))
        _set(sts, "beat", map(_p_beat, plans))
        _set(sts, "circuit", map(_p_circuit, plans))
        _set(sts, "circuit_key", keys)
        _set(sts, "moving", repeat(LEG, nb))
        nodes, dsts = out_i[:, SK.O_NODE].tolist(), out_i[:, SK.O_DST].tolist()
        t_end = out_f[:, SK.O_TEND]
        metres_from = set(map(_p_metres_from, plans))
        if len(metres_from) == 1:
            rows = map(metres_from.pop(), nodes)
        else:
            rows = map(_call, map(_p_metres_from, plans), nodes)
        metres = map(float, map(getitem, rows, dsts))
        _set(sts, "leg", map(Leg, nodes, dsts, repeat(t), out_f[:, SK.O_WAIT].tolist(), t_end.tolist(), metres,
                             repeat(False), map(_p_scale, plans)))
        zero = t_end <= t
        if zero.any():                       # a drive of no length: on the circuit now, as join_circuit
            for st in compress(sts, zero):
                move.on_change(st)
                move.sync(st, t)
        pr = batch[:, SK.U_PLAN].astype(np.int64)
        rows = np.column_stack([batch[:, SK.U_UID], out_i[:, SK.O_NODE], np.full(nb, t), out_f[:, SK.O_WAIT],
                                tables.plan_f[pr, SK.P_SCALE], t_end, out_f[:, SK.O_TAU],
                                tables.plan_i[pr, SK.P_SEG]])
        if zero.any():
            rows = rows[~zero]
        if len(rows):
            rj.index.legs_started(rows)


def _call(fn, arg):
    return fn(arg)
