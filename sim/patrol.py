"""Patrol routes as pure functions: which streets a free unit drives, and where it is at a time.

A patrol unit follows a closed circuit through its beat: a handful of beat
nodes (stops) drawn from the unit's own random stream, in nearest-neighbour
order, joined by shortest paths and driven at patrol speed. Its position at any
time follows from the circuit and the moment it joined it, so patrolling makes
no simulation events at all. ``circuit_lower_bound_s`` gives, for every place,
a travel time no position on the circuits can beat; dispatch uses it to skip
units that cannot be the nearest without computing their exact position.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

import numpy as np

MIN_CIRCUIT_S = 60.0   # a one-node "circuit" (a unit standing at a post) lasts this long per lap
# Large graphs: a circuit's lower bound is searched exactly this far from it, and bounded by the
# landmarks beyond. While a pair's time at dispatch was an A* search, 60 s paid (the seventh session's
# note in docs/performance.md, "Scale"); since the hub labels answer a pair in about 2 µs, the search
# around every new circuit (about 1,300 nodes at 60 s) costs more than the looser bound near the
# circuit: with 0 s (the landmarks alone) 3-day runs of the 13,002-node town took 5-15% less CPU for
# every force and 14-day runs and the county's week the same, with the same results
# (docs/performance.md, eighth session). The bound changes no result, only how many units are located.
BOUND_EXACT_WITHIN_S = 0.0
TIE_MARGIN_S = 1e-3    # ordering stops: a time this far above the nearest so far still comes back exact


@dataclass(frozen=True)
class Path:
    """Nodes with cumulative response seconds and metres (from ``TravelOracle.route``)."""

    nodes: list
    resp_s: list
    dist_m: list


@dataclass(frozen=True)
class Circuit:
    """A closed route: ``nodes[0] == nodes[-1]``; ``t_s`` cumulative patrol seconds."""

    nodes: list
    t_s: list
    resp_s: list
    dist_m: list

    def __post_init__(self) -> None:
        # where() runs for every unit considered at every dispatch: keep its inputs plain attributes
        object.__setattr__(self, "_period_s", self.t_s[-1])
        object.__setattr__(self, "_last_k", len(self.t_s) - 2)

    @property
    def duration_s(self) -> float:
        return self._period_s

    @property
    def length_m(self) -> float:
        return self.dist_m[-1]

    def node_set(self) -> np.ndarray:
        return np.unique(np.asarray(self.nodes, np.int64))

    @cached_property
    def _first_index(self) -> dict:
        # node -> index of its first visit: built backwards in C (an earlier visit overwrites a later one)
        nodes = self.nodes
        return dict(zip(reversed(nodes), range(len(nodes) - 1, -1, -1)))

    def tau_at(self, node: int) -> float:
        """Circuit time at the first visit of ``node`` (which must be on the circuit)."""
        return self.t_s[self._first_index[node]]

    def where(self, tau_s: float) -> tuple[int, float, int]:
        """At circuit time ``tau_s`` (any real): (next node, response seconds to it, its index)."""
        t_s = self.t_s
        tau = tau_s % self._period_s
        k = bisect_right(t_s, tau) - 1
        if k > self._last_k:
            k = self._last_k
        t0, t1 = t_s[k], t_s[k + 1]
        f = (tau - t0) / (t1 - t0) if t1 > t0 else 1.0
        resp = self.resp_s
        return self.nodes[k + 1], (1.0 - f) * (resp[k + 1] - resp[k]), k + 1


def choose_stops(beat_nodes: np.ndarray, rng: np.random.Generator, *, n_stops: int,
                 weights: np.ndarray | None = None) -> np.ndarray:
    """Distinct beat nodes to visit, drawn with probability proportional to ``weights``."""
    beat_nodes = np.asarray(beat_nodes, np.int64)
    k = min(n_stops, beat_nodes.size)
    if weights is None or not np.any(weights > 0):
        p = None
    else:
        w = np.asarray(weights, float) + 1e-12
        p = w / w.sum()
        k = min(k, int((w > 1e-9).sum()) or 1)
    return rng.choice(beat_nodes, size=k, replace=False, p=p)


def order_stops(stops: np.ndarray, time_fn, bounds_fn=None, *, time_m: np.ndarray | None = None,
                order_fn=None) -> list[int]:
    """Greedy nearest-neighbour order starting from the first stop (ties: the lower node).

    ``bounds_fn(here, nodes)``, when given, bounds ``time_fn(here, n)`` from below for each
    node without a search (the oracle's ``lower_bounds_s``): the stops left are then
    timed in order of their bound, each only up to the nearest so far (``limit_s``), and no
    further once a bound passes it. A stop skipped so has a time above the nearest, so the
    order is the one of timing every pair, for fewer and shorter searches.
    ``time_m``: the full time matrix ``time_fn`` reads (``TravelOracle.time_matrix``), if
    any: the same order in one compiled call (``sim.circuit_jit``). ``order_fn(stops)``: that order
    of distinct stops computed by the oracle in one call, if it can (``TravelOracle.stop_order``:
    the kernel backend's bounds and hub labels, compiled).
    """
    if time_m is not None and len(stops) > 2:
        from sim.circuit_jit import nearest_neighbour_order     # numba loads on first use
        return nearest_neighbour_order(time_m, np.asarray(stops, np.int64)).tolist()
    if order_fn is not None and len(stops) > 2:
        return order_fn(stops)
    left = [int(s) for s in stops[1:]]
    order = [int(stops[0])]
    while left:
        here = order[-1]
        if bounds_fn is None:
            j = min(range(len(left)), key=lambda i: (time_fn(here, left[i]), left[i]))
        else:
            j = _nearest(here, left, time_fn, bounds_fn(here, left))
        order.append(left.pop(j))
    return order


def _nearest(here: int, left: list[int], time_fn, bound_s: np.ndarray) -> int:
    """Index in ``left`` of the smallest (time from ``here``, node), timing only what could win."""
    bounds = bound_s.tolist()
    best_s, best_node, best_j = float("inf"), None, 0
    for i in sorted(range(len(left)), key=lambda i: (bounds[i], left[i])):
        if bounds[i] > best_s:
            break
        # an equal time must come back exact (ties go to the lower node): a margin above the best
        t = time_fn(here, left[i], limit_s=best_s + TIE_MARGIN_S)
        if best_node is None or t < best_s or (t == best_s and left[i] < best_node):
            best_s, best_node, best_j = t, left[i], i
    return best_j


def build_circuit(oracle, stops: list[int], *, patrol_scale: float) -> Circuit:
    """Join the stops (and back to the first) with shortest paths; patrol time = response time x scale."""
    if len(stops) == 1:
        n = stops[0]
        return Circuit([n, n], [0.0, MIN_CIRCUIT_S], [0.0, 0.0], [0.0, 0.0])
    # the legs' routes joined end to end (TravelOracle.tour: with the all-pairs tables in one compiled call)
    nodes, resp, dist = oracle.tour(stops)
    # patrol seconds: numpy's products are the same IEEE products as Python's, without a bytecode per node
    return Circuit(nodes, (np.asarray(resp, np.float64) * float(patrol_scale)).tolist(), resp, dist)


def circuit_lower_bound_s(oracle, circuits: list[Circuit], place_node: np.ndarray,
                          place_extra_s: np.ndarray, *, exact_within_s: float = BOUND_EXACT_WITHIN_S,
                          time_m: np.ndarray | None = None) -> np.ndarray:
    """Per place, at most the fewest seconds from any node of any of the circuits.

    A unit on a circuit is always heading to one of its nodes, so its arrival
    time at a place is at least this bound. It need only be a lower bound: dispatch
    visits units in its order and stops once it passes the best arrival found, and the
    exact times come from the oracle. On small graphs it is the exact minimum (a look-up);
    on large ones (``oracle.lower_bounds_from_set``) it is exact for places within
    ``exact_within_s`` of the circuit and the landmarks' bound beyond, so that a new
    circuit costs a search of its neighbourhood, not of the whole graph. ``time_m``: the
    oracle's full time matrix, if any (its ``lower_bounds_from_set`` is then this minimum):
    the same bound in one compiled pass (``sim.circuit_jit.bound_from_nodes``).
    """
    if time_m is not None and place_node.dtype == np.int64 and place_extra_s.dtype == np.float64:
        from sim.circuit_jit import bound_from_nodes             # numba loads on first use
        nodes = circuits[0].nodes if len(circuits) == 1 else [n for c in circuits for n in c.nodes]
        return bound_from_nodes(time_m, np.asarray(nodes, np.int64), place_node, place_extra_s)
    sources = circuits[0].node_set() if len(circuits) == 1 else \
        np.unique(np.concatenate([c.node_set() for c in circuits]))
    return oracle.lower_bounds_from_set(sources, place_node, exact_within_s=exact_within_s) + place_extra_s
