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
        out: dict = {}
        for k, n in enumerate(self.nodes):
            out.setdefault(n, k)
        return out

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


def order_stops(stops: np.ndarray, time_fn) -> list[int]:
    """Greedy nearest-neighbour order starting from the first stop."""
    left = [int(s) for s in stops[1:]]
    order = [int(stops[0])]
    while left:
        here = order[-1]
        j = min(range(len(left)), key=lambda i: (time_fn(here, left[i]), left[i]))
        order.append(left.pop(j))
    return order


def build_circuit(oracle, stops: list[int], *, patrol_scale: float) -> Circuit:
    """Join the stops (and back to the first) with shortest paths; patrol time = response time x scale."""
    if len(stops) == 1:
        n = stops[0]
        return Circuit([n, n], [0.0, MIN_CIRCUIT_S], [0.0, 0.0], [0.0, 0.0])
    nodes, resp, dist = [stops[0]], [0.0], [0.0]
    for a, b in zip(stops, stops[1:] + stops[:1]):
        p_nodes, p_resp, p_dist = oracle.route(a, b)
        base_r, base_d = resp[-1], dist[-1]
        nodes.extend(p_nodes[1:])
        resp.extend(base_r + r for r in p_resp[1:])
        dist.extend(base_d + d for d in p_dist[1:])
    return Circuit(nodes, [r * patrol_scale for r in resp], resp, dist)


def circuit_lower_bound_s(oracle, circuits: list[Circuit], place_node: np.ndarray,
                          place_extra_s: np.ndarray) -> np.ndarray:
    """Per place, the fewest seconds from any node of any of the circuits.

    A unit on a circuit is always heading to one of its nodes, so its arrival
    time at a place is at least this bound.
    """
    sources = np.unique(np.concatenate([c.node_set() for c in circuits]))
    from_set = oracle.times_from_set(sources)
    return from_set[place_node] + place_extra_s
