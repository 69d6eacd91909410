"""The greedy cordon, best first: exact pair searches only where a lower bound says the pair could still count.

On graphs too large for the all-pairs matrix (the kernel backend) the cordon measure
(``sim.engine.encircle``) must not ask every free unit's time to every exit road: one
search per exit grown until the units asked about are settled reached about 3,900 nodes
per incident on a 13,000-node town. Here each (unit, exit) pair has one entry on a heap,
keyed by what is known of its arrival, and the smallest entry is taken again and again:

- tier 0, a unit on its circuit not located yet: the circuit's lower bound at the exit
  place (``DispatchIndex.lb_rows``), which costs nothing;
- tier 1, a located unit: its wait, plus the landmark (ALT) bound on the travel seconds
  from where it is to the exit (``TravelOracle.lower_bounds_s``), plus the walk from the
  road; taking it asks the pair's exact time (the hub labels: a look-up, no search);
- tier 2, the exact arrival (the same sum as ``Encirclement._eta``: travel + wait + walk).

Taking an exact entry whose unit and exit are both free assigns them. Every bound is
at most the exact arrival (less a margin for rounding) and, at equal keys, bounds come
before exact entries and exact entries in (unit, exit) order, so exact entries are taken
in the order of (arrival, unit, exit): the walk of the full greedy assignment
(``greedy_cordon_s``, rows in unit order), which this therefore equals. A pair whose
unit or exit is already taken is dropped without a question; a pair whose bound is above
the cordon's time is never asked.

The answer depends only on the exact arrivals, so any bounds that stay at most them give it:
``CompiledCordon`` runs the walk in one compiled call (``sim.engine.cordon_jit``) when every
mode travels on the kernel backend, its first tier one entry per unit under a bound at every
exit (cheaper than a circuit's bound at each exit): the answers are this walk's, bit for bit
(tests/doctrine/test_cordon_best_first.py, tests/network/test_compiled_walks.py).
"""

from __future__ import annotations

import heapq

import numpy as np

from sim.engine.kernels import FIXED_NODE, FIXED_WAIT, LEG_TEND
from sim.network.searches import ALT_MARGIN_S

INF = float("inf")
MARGIN_S = 1e-6          # bounds are lowered by this: rounding may put a bound a hair above the exact time

TIER_CIRCUIT, TIER_LOCATED, TIER_EXACT = 0, 1, 2


class PairCounter:
    """Pair searches the measure ran (``searched``) and those that gave an exact time (``exact``)."""
    __slots__ = ("searched", "exact")

    def __init__(self) -> None:
        self.searched = self.exact = 0


def best_first_cordon_s(avail: np.ndarray, todo: np.ndarray, t: float, *, units, code: np.ndarray,
                        lb_rows: np.ndarray, locate, travel: dict, target: dict, extra_s: dict,
                        count: PairCounter | None = None) -> float:
    """Seconds until every exit in ``todo`` is held by one of the free units ``avail`` (inf if never).

    ``avail``: free unit ids in ascending order (``code`` 1: on a circuit, whose ``lb_rows``
    bound the arrival at each place; 2: free elsewhere, located at once); ``locate(uid)``:
    (node it heads to, wait seconds) at ``t``. ``travel``/``target``/``extra_s`` per mode:
    the oracle, the node a unit drives to for each place and the seconds on foot from there.
    """
    n_exits = todo.size
    # per unit (index into avail): where it is and the bound row at the exits, once located
    node: list = [None] * avail.size
    wait: list = [0.0] * avail.size
    bound: list = [None] * avail.size
    modes = [units[u].mode for u in avail.tolist()]
    exit_t = {m: target[m][todo] for m in set(modes)}
    exit_x = {m: extra_s[m][todo] for m in set(modes)}
    exit_tl = {m: v.tolist() for m, v in exit_t.items()}
    exit_xl = {m: v.tolist() for m, v in exit_x.items()}

    def located(a: int) -> None:
        nd, w = locate(int(avail[a]))
        m = modes[a]
        node[a], wait[a] = nd, w
        bound[a] = ((travel[m].oracle.lower_bounds_s(nd, exit_t[m]) + w) + exit_x[m] - MARGIN_S).tolist()

    heap: list = []
    on_circuit = code[avail] == 1
    if on_circuit.any():
        rows = (lb_rows[np.ix_(avail[on_circuit], todo)] - MARGIN_S).tolist()
        for a, row in zip(np.flatnonzero(on_circuit).tolist(), rows):
            heap.extend([(k, TIER_CIRCUIT, a, e) for e, k in enumerate(row)])
    for a in np.flatnonzero(~on_circuit).tolist():
        located(a)
        heap.extend([(k, TIER_LOCATED, a, e) for e, k in enumerate(bound[a])])
    heapq.heapify(heap)
    unit_free = [True] * avail.size
    exit_free = [True] * n_exits
    left = n_exits
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        key, tier, a, e = pop(heap)
        if not (unit_free[a] and exit_free[e]):
            continue
        if tier == TIER_EXACT:
            if key == INF:                 # no free unit can reach the exits still open
                return INF
            unit_free[a] = exit_free[e] = False
            left -= 1
            if left == 0:
                return key
            continue
        if tier == TIER_CIRCUIT:
            if node[a] is None:
                located(a)
            push(heap, (max(key, bound[a][e]), TIER_LOCATED, a, e))
            continue
        # a located unit's bound came first: its exact arrival
        m = modes[a]
        w, x = wait[a], exit_xl[m][e]
        travel_s = travel[m].oracle.time(node[a], exit_tl[m][e])
        if count is not None:
            count.searched += 1
            count.exact += 1
        push(heap, ((travel_s + w) + x, TIER_EXACT, a, e))
    return INF


#: mode slots of the compiled walk (one signature for every force: unused slots repeat the first)
SLOTS = 4


class CompiledCordon:
    """``best_first_cordon_s`` in one compiled call (``cordon_jit.cordon_walk``), for one engine's modes.

    ``modes``: the engine's travel modes in slot order; ``oracles``: each one's ``TravelOracle``
    (the kernel backend or a full time matrix; at least one on the kernel backend);
    ``target``/``extra_s``: per mode, per place, the
    node driven to and the walk from it. Built once per engine: the graphs' arrays go into
    fixed tuples of ``SLOTS`` (so that one compiled signature serves every force).
    """

    #: where each free unit starts from in one compiled call (``cordon_jit.cordon_prep``; with the walk when
    #: no unit is left to locate, ``cordon_prep_walk``); False: with numpy (tests compare)
    COMPILED_PREP = True

    def __init__(self, modes: list, oracles: list, target: dict, extra_s: dict) -> None:
        from sim.engine import cordon_jit
        from sim.engine.walk_arrays import slot_arrays
        self._walk = cordon_jit.cordon_walk
        self._call = None
        self.slot_of = {m: i for i, m in enumerate(modes)}
        pad = list(range(len(modes))) + [0] * (SLOTS - len(modes))
        a = slot_arrays(oracles, SLOTS)
        self._graphs = (a["lm_from"], a["lm_to"], a["lm_exact"], a["lab_ptr"], a["lab_sec"], a["lab_hub"], a["tm"],
                        a["has_tm"])
        self._count_kernel = next(o._kernel for o in oracles if o._kernel is not None)
        self._target = np.array([target[modes[i]] for i in pad], np.int64)
        self._extra = np.array([extra_s[modes[i]] for i in pad], np.float64)
        self.searches = 0       # pairs the hub labels answered (also added to the first kernel's ``pair_asked``)
        self._no_circuits = (np.zeros((1, 6), np.int64), np.zeros((1, 9)), np.zeros((3, 1)), np.zeros((1, 3)))
        self._prep = None       # cordon_jit.cordon_prep_walk's compiled code (jit_entry.direct)
        self._buffers = None    # its output arrays (cordon_jit.prep_buffers), grown when a cordon needs more

    def seconds_s(self, avail: np.ndarray, todo: np.ndarray, t: float, *, slot: np.ndarray, code: np.ndarray,
                  locate, circuits: tuple | None, count: PairCounter | None = None) -> float:
        """``best_first_cordon_s``'s answer. ``slot[a]``: the mode slot of unit ``avail[a]``.

        ``circuits``: the dispatch index's ``(ui, uf, flat, seg)``, from which the units on their
        circuit are located in the compiled call (as ``Circuit.where``); None: ``locate`` every
        unit here (the tests' units have no circuit). With them, a unit waiting at a node (the
        station, a scene just cleared) is read from the index's arrays (``Movement.where``'s
        values), and a unit whose drive to its circuit has ended is located on that circuit in the
        compiled call, as the dispatch walk locates it (``best_first_jit``: the engine books the
        drive's end when it next touches the unit). The other units off their circuit (on a drive
        under way) are located here, in unit order, before the walk (``locate``, as the Python walk
        does: it may end a drive to the station).
        """
        n = avail.size
        slot = np.ascontiguousarray(slot, np.int64)
        avail = np.ascontiguousarray(avail, np.int64)
        todo = np.ascontiguousarray(todo, np.int64)
        if circuits is not None and self.COMPILED_PREP:
            # where each unit starts from, in one compiled call (cordon_prep), and the walk when it can
            buffers = self._buffers
            if buffers is None or buffers[0].size < n:
                from sim.engine.cordon_jit import prep_buffers
                buffers = self._buffers = prep_buffers(max(n, circuits[0].shape[0]))   # every unit of the index
            args = (avail, todo, float(t), code, circuits[0], circuits[1], *buffers, slot, self._target,
                    self._extra, circuits[2], circuits[3], *self._graphs, ALT_MARGIN_S, MARGIN_S)
            prep = self._prep
            if prep is None:
                from sim.engine.cordon_jit import cordon_prep_walk
                from sim.jit_entry import direct
                out = cordon_prep_walk(*args)
                self._prep = direct(cordon_prep_walk, args)
            else:
                out = prep(*args)
            n_rest = out[0]
            if n_rest == 0:
                return self._walked(out[1:], count)
            node, wait, ended, rest = buffers
            for a in rest[:n_rest].tolist():
                node[a], wait[a] = locate(int(avail[a]))
        else:
            c = code[avail]
            node = np.full(n, -1, np.int64)
            wait = np.zeros(n)
            if circuits is not None:
                ui, uf = circuits[0], circuits[1]
                fixed = ui[avail, FIXED_NODE]
                at_node = (c == 2) & (fixed >= 0)
                node[at_node] = fixed[at_node]
                wait[at_node] = uf[avail[at_node], FIXED_WAIT]
                ended = (c == 2) & (fixed < 0) & (uf[avail, LEG_TEND] <= t)
                rest = np.flatnonzero(~((c == 1) | ended | at_node)).tolist()
            else:
                ended = np.zeros(n, np.bool_)
                rest = range(n)
            for a in rest:
                node[a], wait[a] = locate(int(avail[a]))
        ui, uf, flat, seg = circuits if circuits is not None else self._no_circuits
        args = (avail, node, wait, ended, slot, self._target, self._extra, todo, float(t), ui, uf, flat, seg,
                *self._graphs, ALT_MARGIN_S, MARGIN_S)
        if self._call is None:        # the entry point for these argument types (they never change)
            from sim.jit_entry import direct
            self._call = direct(self._walk, args)
        return self._walked(self._call(*args), count)

    def _walked(self, out: tuple, count: PairCounter | None) -> float:
        """The walk's seconds from its ``(seconds, searched, exact, labels)``, its questions counted."""
        seconds, searched, exact, runs = out
        if count is not None:
            count.searched += searched
            count.exact += exact
        self.searches += runs
        self._count_kernel.count_walk(runs)     # the oracles' counts include the walk's
        return float(seconds)
