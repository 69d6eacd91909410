"""Encirclement (合围): which roads leave a circle, and how fast the free units could hold them all.

Measured at dispatch time for major incidents, with the free units' arrival times at
each exit; the result is a measure of capacity (could the cordon be closed within the
backup line?), not an order the engine carries out. ``exit_places`` and
``greedy_cordon_s`` are pure functions; ``Encirclement`` applies them to the units'
positions at the moment of dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import cordon_kernels as CK
from sim.engine import kernels as K
from sim.engine.cordon import SLOTS as CORDON_SLOTS
from sim.engine.cordon import CompiledCordon, PairCounter, best_first_cordon_s
from sim.engine.cordon_lazy import CircuitOrder, lazy_cordon
from sim.engine.warm import load_lazy_cordon
from sim.engine.positions import Located
from sim.engine.dispatch_index import DispatchIndex
from sim.engine.memo import made_once
from sim.engine.search import UnitSearch
from sim.engine.units import POST, ModeTravel, Movement, UnitState
from sim.kinds import MAJOR_ROAD_CLASSES as MAJOR_ROADS
from sim.kinds import Role


@dataclass(frozen=True)
class EncircleSettings:
    radius_m: float = 1000.0
    roads: str = "major"                       # major | all


def exit_places(graph, place: int, *, radius_m: float, road_mask: np.ndarray | None = None) -> np.ndarray:
    """Places just outside ``radius_m`` of ``place`` that a road from inside reaches.

    ``road_mask`` (one bool per edge) keeps only some roads, e.g. the major ones.
    """
    d = np.hypot(graph.x_m - graph.x_m[place], graph.y_m - graph.y_m[place])
    inside = d <= radius_m
    cross = inside[graph.edge_u] & ~inside[graph.edge_v]
    if road_mask is not None:
        cross &= road_mask
    return np.unique(graph.edge_v[cross]).astype(np.int64)


def greedy_cordon_s(eta_s: np.ndarray) -> float:
    """Seconds until every exit (column) is held, assigning units (rows) greedily, shortest first.

    Each unit holds at most one exit; with fewer units than exits the cordon cannot
    be closed (inf). Greedy is not always optimal, but it is what a dispatcher
    sending the closest free unit to each open road would achieve. Taking the
    shortest remaining (unit, exit) pair again and again is the same as walking all
    pairs once in order of time (ties: row-major order) and keeping each pair whose
    unit and exit are both still free.
    """
    eta = np.asarray(eta_s, float)
    n_units, n_exits = eta.shape
    if n_exits == 0:
        return 0.0
    if n_units < n_exits:
        return float("inf")
    flat = eta.ravel()
    order = flat.argsort(kind="stable").tolist()
    values = flat.tolist()
    used_units: set = set()
    used_exits: set = set()
    worst = 0.0
    for k in order:
        a, b = divmod(k, n_exits)
        if a in used_units or b in used_exits:
            continue
        used_units.add(a)
        used_exits.add(b)
        if values[k] > worst:
            worst = values[k]
        if len(used_exits) == n_exits:
            break
    return worst


#: ``seconds_s`` when no road of the measured class crosses the circle (no cordon to draw)
NOT_APPLICABLE = float("-inf")


def _road_ends(graph, roads: str) -> "_RoadEnds":
    """The ``_RoadEnds`` of the roads the cordon measures (``roads``: "major" or "all")."""
    return _RoadEnds(graph, np.isin(graph.edge_class, MAJOR_ROADS) if roads == "major" else None)


class _RoadEnds:
    """The measured roads (``road_mask``) by the grid cell of their inner end, for ``exit_places`` around a place.

    ``exit_places`` computes the distance of every node to the place; a road leaves the circle
    only if its inner end is within the radius and its outer end beyond it, so only the roads
    whose inner end lies in the ring from the radius less the longest road to the radius (plus a
    metre each way, against rounding) are looked at, with the same ``hypot`` of the same
    differences: the same exits (compiled: ``cordon_kernels.exits_in_cells``). The cells are
    about as many as the roads, and never narrower than the longest road.
    """

    def __init__(self, graph, road_mask: np.ndarray | None) -> None:
        keep = np.arange(graph.edge_u.size) if road_mask is None else np.flatnonzero(road_mask)
        x, y = graph.x_m, graph.y_m
        u, v = graph.edge_u[keep], graph.edge_v[keep]
        xu, yu, xv, yv = x[u], y[u], x[v], y[v]
        reach = float(np.hypot(xv - xu, yv - yu).max()) if keep.size else 0.0
        x0, y0 = (float(a.min()) if keep.size else 0.0 for a in (xu, yu))
        width, height = (float(a.max()) - b if keep.size else 0.0 for a, b in ((xu, x0), (yu, y0)))
        cell = max(reach, float(np.sqrt(width * height / max(keep.size, 1))), 1.0)
        nx, ny = int(width // cell) + 1, int(height // cell) + 1
        cx = np.minimum((xu - x0) // cell, nx - 1).astype(np.int64)
        cy = np.minimum((yu - y0) // cell, ny - 1).astype(np.int64)
        c = cy * nx + cx
        order = np.argsort(c, kind="stable")
        self.cell_ptr = np.searchsorted(c[order], np.arange(nx * ny + 1)).astype(np.int64)
        self.grid = np.array([x0, y0, cell, nx, ny, reach], np.float64)
        self.x, self.y = x, y
        self.v = np.ascontiguousarray(v[order], np.int64)
        self.xu, self.yu, self.xv, self.yv = (np.ascontiguousarray(a[order], np.float64) for a in (xu, yu, xv, yv))
        CK.compile_cordon_once()

    def exits(self, place: int, radius_m: float) -> np.ndarray:
        return CK.exits_in_cells(self.cell_ptr, self.xu, self.yu, self.xv, self.yv, self.v, self.grid,
                                 float(self.x[place]), float(self.y[place]), float(radius_m))


class Encirclement:
    """The encirclement measure over the engine's units (``seconds_s`` per major incident)."""

    COMPILED_WALK = True     # large graphs: the best-first walk compiled (False: in Python; tests compare)
    LAZY = True              # full matrices: the cordon best first (False: every pair read; tests compare)
    #: free units from which the best-first cordon costs less than reading every pair (``bench/cordon_ab.py``)
    LAZY_FROM_FREE = 112

    def __init__(self, settings: EncircleSettings, *, city, units: list[UnitState], index: DispatchIndex,
                 search: UnitSearch, movement: Movement, travel: dict[str, ModeTravel], target: dict,
                 extra_s: dict) -> None:
        self.settings = settings
        self.exhaustive = search.exhaustive     # every free unit in every cordon (tests compare)
        self.places = city.places
        self.units = units
        self.index = index
        self.search = search
        self.where = movement.where
        self.travel = travel
        self.target = target
        self.extra_s = extra_s
        self._posts = [st for st in units if st.role is Role.CHECKPOINT]
        self._exits: dict = {}
        # the roads measured, by grid cell (made once per process for the city's graph: sim.engine.memo)
        self._edges = made_once(_road_ends, self.places, args=(settings.roads,))
        self.pairs = PairCounter()         # pair searches of the best-first cordon (tests, benchmarks)
        self._t = -1.0                     # the time of the cordon being measured (``_locate``)
        # where the oracles stop their searches at a limit (the kernel backend): pair searches, best first
        self._limited = any(mt.oracle.stops_at_limit for mt in travel.values())
        # every mode on the kernel backend or a full matrix: the best-first walk in one compiled call (the same answers)
        self.walk: CompiledCordon | None = None
        if self._limited and self.COMPILED_WALK and not self.exhaustive and len(travel) <= CORDON_SLOTS \
                and all(mt.oracle._kernel is not None or mt.oracle.time_matrix is not None for mt in travel.values()):
            modes = list(travel)
            self.walk = CompiledCordon(modes, [travel[m].oracle for m in modes], target, extra_s)
            self._walk_slot = np.array([modes.index(st.mode) for st in units], np.int64)
        # full time matrices (the compiled dispatch search runs): every free unit's arrival at
        # every exit and the greedy walk in one compiled call, with the search's positions
        self._compiled = search.compiled and not self.exhaustive
        if self._compiled:
            self._modes = list(travel)
            self._slot = np.array([self._modes.index(st.mode) for st in units], np.int64)
            times = [np.ascontiguousarray(travel[m].oracle.time_matrix, dtype=float) for m in self._modes]
            self._times = tuple(times + [times[0]] * (K.MODE_SLOTS - len(times)))
            self._exit_rows: dict = {}     # open exits (bytes, or the place) -> targets and walks per mode
            self._circuits = CircuitOrder(index)    # the best-first form's circuits by bound per exit place
            # cordon_of_free_units' compiled code for the argument types of this engine (K.direct): the
            # arrays may be replaced by larger ones, never by ones of another type
            self._full_walk = None
            CK.compile_cordon_once()
            load_lazy_cordon()

    def exits(self, place: int) -> np.ndarray:
        """Places just outside the cordon radius reached by a road from inside it (cached per place)."""
        hit = self._exits.get(place)
        if hit is None:
            hit = self._exits[place] = self._edges.exits(place, self.settings.radius_m)
        return hit

    def seconds_s(self, place: int, t: float) -> float:
        """Seconds from ``t`` until units and checkpoints could hold every exit road (inf if never).

        A measure, not an order: the free units are assigned greedily (shortest arrival
        first) to the exits not already held by a checkpoint on duty. Returns
        ``NOT_APPLICABLE`` (-inf) when no road of the measured class crosses the circle:
        there is no cordon to draw, which is not the same as one drawn at once.

        Exact, not a shortlist, in every form. Three forms: (1) the cut (``_cut_cordon_s``;
        full matrices but no compiled dispatch search, e.g. a policy that reads every
        candidate): the greedy walk takes pairs in order of time and stops at
        the cordon's time ``W``, so a unit that cannot reach any exit by ``W`` changes
        nothing. Each unit gets a lower bound on its arrival at the nearest exit (its
        circuit's bound at the exits; a unit off a circuit is located and its exact times
        used), the cut starts with the 3k lowest and grows until every unit with a bound
        at most ``W`` is in it. Rows stay in unit order, so ties break as in the full
        assignment (``exhaustive`` computes that, for tests).

        (2) With full time matrices and the compiled dispatch search, the whole assignment over
        every free unit is one compiled call instead (``_compiled_cordon_s``): from
        ``LAZY_FROM_FREE`` free units best first (``sim.engine.cordon_lazy``: a unit's exact times
        read only when its circuit's bound at an exit comes first), below that every pair read. (3) Where the
        oracles stop their searches at a limit (large graphs, the kernel backend), the walk
        takes the (unit, exit) pairs best first by lower bounds and runs an A* pair search
        only for a pair whose bound comes first (``sim.engine.cordon``); when every mode is
        on the kernel backend or has a full time matrix, that walk runs in one compiled call
        (``CompiledCordon``).
        """
        exits = self.exits(place)
        if exits.size == 0:
            return NOT_APPLICABLE
        if self._posts:
            held = {st.home_node for st in self._posts if st.status is POST}
            todo = [p for p in exits.tolist() if p not in held]
            if not todo:
                return 0.0
            todo_arr = np.asarray(todo, np.int64)
            key = todo_arr.tobytes()
        else:                   # no checkpoints in the force: every exit is open, the same for the place
            todo_arr, key = exits, place
        if self._compiled:
            return self._compiled_cordon_s(todo_arr, t, key)
        code = self.index.code
        avail = np.flatnonzero(code > 0)
        if avail.size < todo_arr.size:
            return float("inf")
        self._t = t
        if self.exhaustive:
            return greedy_cordon_s(self._eta(avail, todo_arr, t))
        if self.walk is not None:
            index = self.index
            return self.walk.seconds_s(avail, todo_arr, t, slot=self._walk_slot[avail], code=code,
                                       locate=self._locate, count=self.pairs,
                                       circuits=(index.ui, index.uf, index.flat.flat, index.flat.seg))
        if self._limited:
            return best_first_cordon_s(avail, todo_arr, t, units=self.units, code=code,
                                       lb_rows=self.index.lb_rows, locate=self._locate, travel=self.travel,
                                       target=self.target, extra_s=self.extra_s, count=self.pairs)
        return self._cut_cordon_s(avail, code[avail] == 1, todo_arr, t)

    def _locate(self, uid: int) -> tuple[int, float]:
        """Where unit ``uid`` is (node it heads to, wait): as the dispatch search found it at this time, if it did."""
        hit = self.search.located.get(uid) if self.search.located_t == self._t else None
        return hit if hit is not None else self.where(self.units[uid], self._t)

    def _compiled_cordon_s(self, todo_arr: np.ndarray, t: float, key) -> float:
        """The full greedy assignment over every free unit, in one compiled call (full time matrices).

        ``key`` names the open exits ``todo_arr`` (their bytes, or the place when no checkpoint
        can hold one) for the cache of their rows.

        Every unit on a circuit or at a fixed node was located by the dispatch search a moment
        ago, at the same ``t``, in its arrays (``UnitSearch.where_rows``: node, wait), or skipped
        as unable to win (``cordon_kernels.cordon_of_free_units`` locates those on their circuit). The
        free units those rows leave unlocated (node -1: on a drive) are written into them here, in
        unit order: where the search located them in Python (``located.off``), else located now
        (``Movement.where``, which may end a drive). When no search ran at ``t`` (a request held
        by call stacking) every free unit is located here (the units on a drive stay located
        eagerly, in Python: ``Movement.where`` may end a drive, and the run must not depend on
        which pairs the walk reads).

        With fewer than ``LAZY_FROM_FREE`` free units (a few dozen units and a handful of exits)
        the whole matrix costs less than the bounds that would prune it: every pair is read
        (``cordon_kernels.cordon_of_free_units``). From there on the walk is best first
        (``sim.engine.cordon_lazy.lazy_cordon``): the same answer, bit for bit, reading only the
        pairs that can win an exit before it is held; the units the search skipped and this walk
        does not read stay unlocated (``SKIPPED``), which the ``Located`` of the search handles
        as before (it locates such a unit when asked).
        """
        search, code = self.search, self.index.code
        node, wait = search.where_rows
        located = search.located
        if isinstance(located, Located) and search.located_t == t:
            off = located.off
            # the search left no unit on a drive unlocated (the common case): none to find below
            scan = search.drives_unlocated > 0
        else:                   # the rows are another time's: every free unit located here
            off = {}
            node[code > 0] = -1.0
            scan = True
        if scan:
            for u in np.flatnonzero((node == -1.0) & (code > 0)).tolist():
                hit = off.get(u)
                node[u], wait[u] = hit if hit is not None else self.where(self.units[u], t)
        hit = self._exit_rows.get(key)
        if hit is None:         # per mode, the node driven to for each exit and the walk from it
            hit = self._exit_rows[key] = [
                np.array([self.target[m][todo_arr] for m in self._modes], np.int64),
                np.array([self.extra_s[m][todo_arr] for m in self._modes], np.float64), -1]
        targets, extras = hit[0], hit[1]
        if self.LAZY and np.count_nonzero(code) >= self.LAZY_FROM_FREE:
            c = self._circuits
            n_circ = self.index.flat.count
            if hit[2] != n_circ or self.index.bounds_by_place is not c.bounds:
                c.sort(todo_arr, n_circ)           # once per set of exits and number of circuits
                hit[2] = n_circ
            got = lazy_cordon(float(t), code, *search.circuit_arrays, self._slot, todo_arr, targets, extras,
                              c.bounds, n_circ, c.order, c.order_n, c.owner, *self._times)
            if got == got:      # nan: an arrival with no order, the full walk below decides
                return got
        args = (float(t), code, *search.circuit_arrays, self._slot, targets, extras, *self._times)
        walk = self._full_walk
        if walk is None:        # the dispatcher once, then its compiled code for these types (kernels.direct)
            walk = CK.cordon_of_free_units
            self._full_walk = K.direct(walk, args)
        return walk(*args)

    def _cut_cordon_s(self, avail: np.ndarray, on_circuit: np.ndarray, todo_arr: np.ndarray, t: float
                      ) -> float:
        """The greedy cordon time over the free units ``avail``, pruned by their lower bounds."""
        n_todo = todo_arr.size
        # a lower bound per free unit on its arrival at the nearest open exit
        bound = np.full(avail.size, np.inf)
        if on_circuit.any():
            bound[on_circuit] = self.index.lb_rows[np.ix_(avail[on_circuit], todo_arr)].min(axis=1)
        off = avail[~on_circuit]
        off_eta = self._eta(off, todo_arr, t) if off.size else np.empty((0, n_todo))
        if off.size:
            bound[~on_circuit] = off_eta.min(axis=1)
        exact = {int(u): row for u, row in zip(off.tolist(), off_eta)}
        order = bound.argsort(kind="stable")
        chosen = np.sort(order[:3 * n_todo])
        while True:
            uids = avail[chosen]
            need = [u for u in uids.tolist() if u not in exact]
            if need:
                rows = self._eta(np.asarray(need, np.int64), todo_arr, t)
                exact.update(zip(need, rows))
            worst = greedy_cordon_s(np.array([exact[u] for u in uids.tolist()]))
            grown = np.union1d(chosen, np.flatnonzero(bound <= worst))    # sorted: rows in unit order
            if grown.size == chosen.size:      # every unit that could matter is in the cut
                return worst
            chosen = grown

    def _eta(self, uids: np.ndarray, todo_arr: np.ndarray, t: float) -> np.ndarray:
        """Exact seconds for each unit in ``uids`` (located at ``t``) to reach each open exit."""
        free = [self.units[u] for u in uids.tolist()]
        # units located for this dispatch a moment ago (same time, same state) need no second look
        located = self.search.located if self.search.located_t == t else {}
        where = []
        for st in free:
            w = located.get(st.uid)
            where.append(w if w is not None else self.where(st, t))
        modes = {st.mode for st in free}
        if len(modes) == 1:
            groups = {modes.pop(): slice(None)}
        else:
            groups = {m: [a for a, st in enumerate(free) if st.mode == m] for m in sorted(modes)}
        eta = np.empty((len(free), todo_arr.size))
        nodes = np.array([w[0] for w in where], np.int64)
        waits = np.array([w[1] for w in where])
        for mode, rows in groups.items():
            targets = self.target[mode][todo_arr]
            eta[rows] = self.travel[mode].oracle.times_between(nodes[rows], targets) \
                + waits[rows, None] \
                + self.extra_s[mode][todo_arr][None, :]
        return eta
