"""The large graphs' dispatch walk behind one handle: a call unboxes one object, not thirty arrays.

``best_first_jit.bounds`` takes 25 arguments and ``walk`` 30, nearly all arrays that stay the
same from one dispatch to the next (the dispatch index's, the graphs' landmarks and labels, the
walk's scratch). Calling compiled code from Python unboxes every argument, about 30 ns an array:
about 1 µs per call (``bounds`` took 2.7 µs a call over the 30 units of the 13,002-node town's cars,
an empty function of the same arguments 0.95 µs), twice per dispatch, with Python between the calls;
the handle's call costs 0.14 µs. Here the arrays are held in a numba
structure (``numba.experimental.structref``) made once per version of the index's arrays, and
one compiled call (``search``) makes the bounds and walks: Python unboxes the handle, a place,
a time and a flag. The compiled code is ``best_first_jit``'s own, called from compiled code
(no unboxing there): the same operations, the same answers.

When the walk needs Python (a unit at -inf to locate first, a NaN bound, a unit on a drive under
way, a unit the rules decide), ``search`` hands back as the two calls did, and ``resume`` goes on.
The handle's type is made from its arguments' types when the constructor is compiled (``make``,
cached on disk as every loop here), so it fits whatever arrays the engine passes.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.experimental import structref
from numba.extending import overload

from sim.engine.best_first_jit import FOUND, I_BEST_I, I_BEST_J, I_RUNS, I_STARTED, NO_WALK, bounds, walk


@structref.register
class WalkHandleType(types.StructRef):
    """The numba type of a :class:`WalkHandle`: its fields' types (literal values unliteralised)."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class WalkHandle(structref.StructRefProxy):
    """The dispatch walk's arrays, for compiled code (fields read only there; made by ``make``)."""


structref.define_boxing(WalkHandleType, WalkHandle)

#: the handle's fields, in ``make``'s order: per place (slot columns) the node driven to and the
#: walk from it; ``bounds``' arguments before ``target`` (after place and time) and after ``extra``;
#: ``walk``'s before ``checked``, between ``checked`` and ``t``, between ``t`` and ``target``, after
#: ``extra``; ``checked`` for a first unit and for a backup; the walk's integer state; per slot the
#: labels' metres (``chosen_metres``); the rules' verdicts per unit for a first unit and for a backup,
#: the beats' table and the units' travel limits (``walk``'s last arguments: ``sim.engine.owners``)
FIELDS = ("target", "extra", "b_head", "b_tail", "w_head", "w_code", "w_units", "w_tail", "checked",
          "checked_backup", "istate", "lab_met", "rule_ok", "rule_ok_backup", "owner_tab", "cap_u")


def _new(*args):          # pragma: no cover - replaced in compiled code by the overload below
    raise NotImplementedError


@overload(_new)
def _new_overload(*args):
    handle_type = WalkHandleType(list(zip(FIELDS, args)))

    def impl(*args):
        h = structref.new(handle_type)
        h.target, h.extra, h.b_head, h.b_tail = args[0], args[1], args[2], args[3]
        h.w_head, h.w_code, h.w_units, h.w_tail = args[4], args[5], args[6], args[7]
        h.checked, h.checked_backup, h.istate, h.lab_met = args[8], args[9], args[10], args[11]
        h.rule_ok, h.rule_ok_backup, h.owner_tab, h.cap_u = args[12], args[13], args[14], args[15]
        return h
    return impl


@njit(cache=True)
def _make(target, extra, b_head, b_tail, w_head, w_code, w_units, w_tail, checked, checked_backup, istate, lab_met,
          rule_ok, rule_ok_backup, owner_tab, cap_u):
    return _new(target, extra, b_head, b_tail, w_head, w_code, w_units, w_tail, checked, checked_backup, istate,
                lab_met, rule_ok, rule_ok_backup, owner_tab, cap_u)


def make(bounds_args: list, walk_args: list, checked: tuple, target: np.ndarray, extra: np.ndarray,
         istate: np.ndarray, lab_met: tuple, rules: tuple) -> WalkHandle:
    """The handle of ``bounds(*bounds_args)`` and ``walk(*walk_args)`` (their arguments in order up to
    ``walk``'s ``fstate``, the entries that change per call, place, time, target, extra and checked, as
    placeholders), ``checked`` for a first unit and for a backup, the per-place ``target``/``extra`` (a
    row per place), the walk's ``istate`` (also the last but one of ``walk_args``), per slot the labels'
    metres (``slot_arrays``' ``lab_met``) and ``rules``: ``rule_ok`` for a first unit and for a backup,
    ``owner_tab`` and ``cap_u`` (``walk``'s last arguments)."""
    return _make(target, extra, tuple(bounds_args[2:8]), tuple(bounds_args[10:]), tuple(walk_args[0:3]),
                 walk_args[4], tuple(walk_args[6:11]), tuple(walk_args[13:]), checked[0], checked[1], istate,
                 lab_met, *rules)


@njit(cache=True, nogil=True, inline="always")
def _walk(h, place, t, backup):
    """``walk``, and with its choice (a unit of a slot with hub labels) the metres of its pair, as
    ``TravelOracle.metres`` gives them: ``hub_labels.seconds_metres``' sum at the hub the walk's own
    merge of the pair found (``hub_labels.seconds_at``; no second merge); else nan. Last, the pairs the
    labels answered (``istate[I_RUNS]``, returned: read from Python it cost a numpy scalar's look-up)."""
    checked = h.checked_backup if backup else h.checked
    rule_ok = h.rule_ok_backup if backup else h.rule_ok
    target = h.target[place]
    status, uid, eta, at, w, travel_s = walk(*h.w_head, checked, h.w_code, t, *h.w_units, target, h.extra[place],
                                              *h.w_tail, place, rule_ok, h.owner_tab, h.cap_u)
    metres = np.nan
    if status == FOUND and uid >= 0:
        m = h.w_units[4][uid]                 # the unit's slot
        has_tm = h.w_tail[9]
        i = h.istate[I_BEST_I]
        if not has_tm[m] and i >= 0:          # the walk's merge of the pair kept where its hub is
            metres = h.lab_met[m][i] + h.lab_met[m][h.istate[I_BEST_J]]
    return status, uid, eta, at, w, travel_s, metres, h.istate[I_RUNS]


@njit(cache=True, nogil=True)
def search(h, place, t, backup):
    """``bounds`` then, unless it leaves units for Python, a new ``walk``: ``_walk``'s answer, or
    ``(NO_WALK, units at -inf, 0.0, 1 if a bound is NaN else 0, 0.0, 0.0, nan, 0)``."""
    drives, python = bounds(place, t, *h.b_head, h.target[place], h.extra[place], *h.b_tail)
    h.istate[I_STARTED] = 0
    if drives > 0 or python:
        return NO_WALK, np.int64(drives), 0.0, np.int64(1 if python else 0), 0.0, 0.0, np.nan, np.int64(0)
    return _walk(h, place, t, backup)


@njit(cache=True, nogil=True)
def resume(h, place, t, backup):
    """``walk`` called again: a new walk after ``search``'s ``NO_WALK``, or where it paused."""
    return _walk(h, place, t, backup)


def warm(slots: int = 4) -> None:
    """Load (or compile) ``search`` and ``resume`` for the handle ``UnitSearch`` makes (``slots`` mode slots),
    and ``best_first_jit``'s loops (``best_first_jit.warm``: ``lb_rows``' bounds on demand among them)."""
    from sim.engine import best_first_jit
    from sim.engine.best_first_jit import F_SIZE_ALL, I_SIZE_ALL
    from sim.engine.walk_arrays import on_demand_arrays, rule_arrays, warm_graph_arrays

    best_first_jit.warm(slots)

    z1, zi = np.zeros(1), np.zeros(1, np.int64)
    ui, uf = np.zeros((1, 6), np.int64), np.zeros((1, 9))
    lm = tuple(np.zeros((2, 1)) for _ in range(slots))
    exact = np.zeros(slots, np.bool_)
    code = np.zeros(1, np.int8)
    pairs, tm = warm_graph_arrays(slots)
    bound, node, wait = np.full(1, np.inf), np.full(1, -1, np.int64), np.zeros(1)
    istate = np.zeros(I_SIZE_ALL, np.int64)
    state = (np.zeros(1, np.int64), np.zeros(2), np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros(1), istate,
             np.zeros(F_SIZE_ALL))
    for on_demand in (False, True):
        bounds_args = [0, 0.0, code, np.zeros(1), ui, uf, np.zeros((0, 2)), zi, None, None, lm, lm, exact, exact, exact,
                       0.0, 0.0, bound, on_demand, *on_demand_arrays(slots)]
        walk_args = [bound, node, wait, None, code, 0.0, ui, uf, np.zeros((3, 2)), np.zeros((1, 3)), zi, None, None,
                     lm, lm, exact, 0.0, 0.0, *pairs, tm, exact, exact, *state]
        h = make(bounds_args, walk_args, (np.zeros(1, np.bool_), np.zeros(1, np.bool_)),
                 np.zeros((1, slots), np.int64), np.zeros((1, slots)), istate, tuple(np.zeros(0) for _ in range(slots)),
                 (rule_arrays(1)[0], *rule_arrays(1)))
        for backup in (False, True):
            search(h, 0, 0.0, backup)
            resume(h, 0, 0.0, backup)
