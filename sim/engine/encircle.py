"""Encirclement (合围): which roads leave a circle, and how fast the free units could hold them all.

Measured at dispatch time for major incidents, with the free units' arrival times at
each exit; the result is a measure of capacity (could the cordon be closed within the
backup line?), not an order the engine carries out. ``exit_places`` and
``greedy_cordon_s`` are pure functions; ``Encirclement`` applies them to the units'
positions at the moment of dispatch.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from sim.engine.search import DispatchIndex, UnitSearch
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
FIRST_LIMIT_S = 600.0        # the first travel-time limit of a cordon, before any was measured
MAX_LIMIT_S = 4 * 3600.0     # a limit past this is dropped (the times are then searched in full)


class Encirclement:
    """The encirclement measure over the engine's units (``seconds_s`` per major incident)."""

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
        self._road_mask = np.isin(self.places.edge_class, MAJOR_ROADS) if settings.roads == "major" else None
        self._exits: dict = {}
        self._recent_s: deque[float] = deque(maxlen=32)     # recent cordon times (the first limit)
        # a limit saves work only where the oracle stops its searches there; elsewhere one pass
        self._limited = any(mt.oracle.stops_at_limit for mt in travel.values())

    def exits(self, place: int) -> np.ndarray:
        """Places just outside the cordon radius reached by a road from inside it (cached per place)."""
        hit = self._exits.get(place)
        if hit is None:
            hit = self._exits[place] = exit_places(self.places, place, radius_m=self.settings.radius_m,
                                                   road_mask=self._road_mask)
        return hit

    def seconds_s(self, place: int, t: float) -> float:
        """Seconds from ``t`` until units and checkpoints could hold every exit road (inf if never).

        A measure, not an order: the free units are assigned greedily (shortest arrival
        first) to the exits not already held by a checkpoint on duty. Returns
        ``NOT_APPLICABLE`` (-inf) when no road of the measured class crosses the circle:
        there is no cordon to draw, which is not the same as one drawn at once.

        Exact, not a shortlist: the greedy walk takes pairs in order of time and stops at
        the cordon's time ``W``, so a unit that cannot reach any exit by ``W`` changes
        nothing. Each unit gets a lower bound on its arrival at the nearest exit (its
        circuit's bound at the exits; a unit off a circuit is located and its exact times
        used), the cut starts with the 3k lowest and grows until every unit with a bound
        at most ``W`` is in it. Rows stay in unit order, so ties break as in the full
        assignment (``exhaustive`` computes that, for tests).

        On large graphs the travel times are asked only up to a limit (1.25 times the
        median of recent cordon times), so that the searches from the exits stop there;
        a cordon that needs more (its greedy time above the limit) is computed again with
        the limit doubled (``_cut_cordon_s`` says why the result is the same).
        """
        exits = self.exits(place)
        if exits.size == 0:
            return NOT_APPLICABLE
        held = {st.home_node for st in self._posts if st.status is POST}
        todo = [p for p in exits.tolist() if p not in held]
        if not todo:
            return 0.0
        code = self.index.code
        avail = np.flatnonzero(code > 0)
        if avail.size < len(todo):
            return float("inf")
        todo_arr = np.asarray(todo, np.int64)
        if self.exhaustive:
            return greedy_cordon_s(self._eta(avail, todo_arr, t))
        limit_s = np.inf if not self._limited else \
            1.25 * float(np.median(self._recent_s)) if self._recent_s else FIRST_LIMIT_S
        while True:
            worst = self._cut_cordon_s(avail, code[avail] == 1, todo_arr, t, limit_s)
            if worst <= limit_s or limit_s == np.inf:
                if worst < np.inf:
                    self._recent_s.append(worst)
                return worst
            limit_s = max(2.0 * limit_s, worst if worst < np.inf else 0.0)
            if limit_s > MAX_LIMIT_S:
                limit_s = np.inf

    def _cut_cordon_s(self, avail: np.ndarray, on_circuit: np.ndarray, todo_arr: np.ndarray, t: float,
                      limit_s: float) -> float:
        """The greedy cordon time over the free units ``avail``, travel times known up to ``limit_s``.

        Travel times above ``limit_s`` count as inf (the oracle stops its searches there).
        When the result ``W`` is at most ``limit_s`` it is the cordon time of the exact
        times: a pair left out has a travel time above ``limit_s``, so an arrival above
        ``W`` (waits and walks only add), and the greedy walk in order of time stops at
        ``W`` before reaching it, in the same order as with every time known.
        """
        n_todo = todo_arr.size
        # a lower bound per free unit on its arrival at the nearest open exit
        bound = np.full(avail.size, np.inf)
        if on_circuit.any():
            bound[on_circuit] = self.index.lb_rows[np.ix_(avail[on_circuit], todo_arr)].min(axis=1)
        off = avail[~on_circuit]
        off_eta = self._eta(off, todo_arr, t, limit_s) if off.size else np.empty((0, n_todo))
        if off.size:
            bound[~on_circuit] = off_eta.min(axis=1)
        exact = {int(u): row for u, row in zip(off.tolist(), off_eta)}
        order = bound.argsort(kind="stable")
        chosen = np.sort(order[:3 * n_todo])
        while True:
            uids = avail[chosen]
            need = [u for u in uids.tolist() if u not in exact]
            if need:
                rows = self._eta(np.asarray(need, np.int64), todo_arr, t, limit_s)
                exact.update(zip(need, rows))
            worst = greedy_cordon_s(np.array([exact[u] for u in uids.tolist()]))
            grown = np.union1d(chosen, np.flatnonzero(bound <= worst))    # sorted: rows in unit order
            if grown.size == chosen.size:      # every unit that could matter is in the cut
                return worst
            chosen = grown

    def _eta(self, uids: np.ndarray, todo_arr: np.ndarray, t: float, limit_s: float = np.inf) -> np.ndarray:
        """Exact seconds for each unit in ``uids`` (located at ``t``) to reach each open exit.

        Where the travel time is above ``limit_s`` the entry may be inf instead.
        """
        free = [self.units[u] for u in uids.tolist()]
        # units located for this dispatch a moment ago (same time, same state) need no second look
        located = self.search.located if self.search.located_t == t else {}
        where = [located.get(st.uid) or self.where(st, t) for st in free]
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
            eta[rows] = self.travel[mode].oracle.times_between(nodes[rows], targets, limit_s=limit_s) \
                + waits[rows, None] \
                + self.extra_s[mode][todo_arr][None, :]
        return eta
