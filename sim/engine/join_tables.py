"""Per plan of the batched shift change, in stacked arrays: the join table, the circuit's segment, the mode.

A plan is the circuit of one (unit, level, period) (``sim.engine.rejoin``). The compiled
switch (``sim.engine.shift_kernels.switch_circuits``) reads, for every unit of a shift
change at once, where its plan's circuit is joined from any node (the plan's row of
``join``: ``NearestOnCircuit.table`` as integers), the circuit's segment in
``FlatCircuits``, the travel mode's slot among the full time matrices and its patrol
scale; and, per old circuit, its patrol speed (metres per second of a lap).

The switch also reads the metres of each drive it starts (``Leg.metres``) from the mode's
all-pairs metres (``metres_table``): a row look-up per unit in Python (``TravelOracle.
metres_from``, a numpy scalar, a float) was a fifth of the switch's write-back.

Why stacked arrays: one compiled call per shift change reads them all; per-circuit
Python lists and dicts cost a call or a conversion per unit. The join rows cost 4 bytes
per node and plan (at 1,920 officers in the default town, 693 plans of 847 nodes: 2.3 MB).

A mode with hub labels and no full matrix (graphs above ``FULL_MATRIX_MAX_NODES``) has no join
table: its plans (``add_label_plan``) are joined in the switch as ``Rejoin._drive`` joins them
(the circuit's nearest node, the labels' seconds and metres: ``shift_kernels._join_by_labels``),
from the slot's node coordinates and labels (``labels``: per slot x, y and the four label arrays).
"""

from __future__ import annotations

import numpy as np

from sim.engine.positions import FlatCircuits
from sim.engine import shift_kernels as SK

MODE_SLOTS = 4                 # full time matrices the compiled switch takes (one argument each)
_NO_MATRIX = np.zeros((1, 1))  # an unused slot


class JoinTables:
    """What the compiled switch reads per plan (rows of ``join``, ``plan_i``, ``plan_f``) and per segment (``speed``)."""

    def __init__(self, flat: FlatCircuits) -> None:
        self.flat = flat
        self.count = 0
        self.join = np.zeros((16, 1), np.int32)
        self.plan_i = np.zeros((16, 3), np.int64)          # P_SEG, P_SLOT, P_LABELS
        self.plan_f = np.zeros((16, 1))                    # P_SCALE
        self.times: list = [_NO_MATRIX] * MODE_SLOTS       # per slot: a mode's full time matrix
        self.metres: list = [_NO_MATRIX] * MODE_SLOTS      # per slot: its all-pairs metres (metres_table)
        self.all_metres = True                             # every slot has its metres: the switch reads them
        self._slot_of: dict = {}                           # mode -> slot
        self.speed = np.full(64, np.nan)                   # per segment: patrol metres per second (nan: not learned)
        self.seg_speed: dict = {}                          # circuit key -> its segment, speed set
        self.key_of_seg: dict = {}                         # and back (the patrol intervals' blocks read it)
        # per label slot (modes with hub labels, no full matrix): x, y, ptr, hub, seconds, metres; unused slots
        # repeat the first (one compiled signature); the counters of the pairs asked (the oracles' search stores)
        self._label_slot_of: dict = {}                     # mode -> label slot
        self._label_arrays: list = []
        self.label_counters: list = []
        self.labels: tuple = _no_labels()

    def add_label_plan(self, seg: int, mode: str, graph, labels, scale: float, counter) -> int:
        """A plan's row for a mode joined by its hub labels (``labels``: ``HubLabels``; ``graph``: the mode's
        ``RoadGraph``, its nodes' coordinates; ``counter``: whose ``pair_asked`` counts the pairs asked),
        or -1 when every label slot is taken by other modes (the plan takes the per-unit path)."""
        slot = self._label_slot_of.get(mode)
        if slot is None:
            if len(self._label_slot_of) == MODE_SLOTS:
                return -1
            slot = self._label_slot_of[mode] = len(self._label_slot_of)
            self._label_arrays.append((graph.x_m, graph.y_m, *labels.arrays))
            self.label_counters.append(counter)
            padded = self._label_arrays + [self._label_arrays[0]] * (MODE_SLOTS - len(self._label_arrays))
            self.labels = tuple(tuple(a[k] for a in padded) for k in range(6))
        r = self._new_row(0)
        self.plan_i[r] = (seg, slot, 1)
        self.plan_f[r, SK.P_SCALE] = scale
        self.count = r + 1
        return r

    def _new_row(self, width: int) -> int:
        """The next plan's row, the arrays grown for it (``join`` at least ``width`` wide)."""
        r = self.count
        if r == self.join.shape[0] or width > self.join.shape[1]:
            rows = 2 * self.join.shape[0] if r == self.join.shape[0] else self.join.shape[0]
            join = np.zeros((rows, max(width, self.join.shape[1])), np.int32)
            join[:r, :self.join.shape[1]] = self.join[:r]
            self.join = join
            if rows > self.plan_i.shape[0]:
                self.plan_i = np.concatenate([self.plan_i, np.zeros_like(self.plan_i)])
                self.plan_f = np.concatenate([self.plan_f, np.zeros_like(self.plan_f)])
        return r

    def add_plan(self, table: list | None, seg: int, mode: str, time_m: np.ndarray | None, scale: float,
                 oracle=None) -> int:
        """A plan's row (-1: none, the plan takes the per-unit path: no full matrix or join table).

        ``oracle``: the mode's ``TravelOracle``, for its metres table (``metres_table``).
        """
        if table is None or time_m is None:
            return -1
        slot = self._slot_of.get(mode)
        if slot is None:
            if len(self._slot_of) == MODE_SLOTS:
                return -1
            slot = self._slot_of[mode] = len(self._slot_of)
            self.times[slot] = time_m
            metres = metres_table(oracle) if oracle is not None else None
            if metres is None:
                self.all_metres = False
            else:
                self.metres[slot] = metres
        r = self._new_row(len(table))
        self.join[r, :len(table)] = table
        self.plan_i[r] = (seg, slot, 0)
        self.plan_f[r, SK.P_SCALE] = scale
        self.count = r + 1
        return r

    def learn(self, key, circuit) -> int:
        """The segment of circuit ``key``, its patrol speed set (``Circuit.length_m / duration_s``, as leave_patrol)."""
        s = self.flat.seg_of[key]
        if s >= self.speed.size:
            self.speed = np.concatenate([self.speed, np.full(max(self.speed.size, s + 1), np.nan)])
        self.speed[s] = circuit.length_m / circuit.duration_s
        self.seg_speed[key] = s
        self.key_of_seg[s] = key
        return s


def _no_labels() -> tuple:
    """The switch's label arguments when no mode has labels: per kind a tuple of ``MODE_SLOTS`` arrays of
    the types real ones have (x, y, ptr, hub (int32), seconds, metres), never read."""
    kinds = (np.zeros(1), np.zeros(1), np.zeros(2, np.int64), np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
    return tuple((a,) * MODE_SLOTS for a in kinds)


def metres_table(oracle) -> np.ndarray | None:
    """The oracle's all-pairs metres as one ``(n, n)`` array, or None.

    ``TravelOracle.metres_from`` keeps, on a graph with all-pairs tables, every row as a
    view of one table made at its first call: that table is returned (checked: its first and
    last rows are the rows ``metres_from`` gives). Else (rows made one by one) None, and the
    switch looks metres up row by row as before.
    """
    n = oracle.n_nodes
    first, last = oracle.metres_from(0), oracle.metres_from(n - 1)
    base = first.base
    if not (isinstance(base, np.ndarray) and base.ndim == 2 and base.shape == (n, n) and base.dtype == np.float64
            and last.base is base):
        return None
    addr = base.__array_interface__["data"][0]
    if (first.__array_interface__["data"][0] != addr
            or last.__array_interface__["data"][0] != addr + (n - 1) * base.strides[0]):
        return None
    return base


def metres_reader(oracle):
    """``reader(source, target)``: the metres of the fastest path, as a Python float (``TravelOracle.metres``).

    With the all-pairs metres table (``metres_table``: a graph with a full time matrix, where the
    first row asked brings every row) it is the table's ``item``: one read, no row looked up
    first (sending a unit and every drive back to a circuit ask once). Else the oracle's own.
    """
    table = metres_table(oracle) if oracle.time_matrix is not None else None
    return table.item if table is not None else oracle.metres
