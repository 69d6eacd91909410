"""Shortest travel times and routes on one mode's graph, with caches.

The engine asks two questions thousands of times per simulated day: "how long
from every node to this incident?" (dispatch) and "which streets lead from here
to there?" (patrol). Both are answered with scipy.sparse.csgraph.dijkstra on
arrays and cached. Small graphs (up to ``FULL_MATRIX_MAX_NODES``) get the full
matrix at once, which costs one call and then makes every dispatch a lookup.

Larger graphs have three backends, chosen by ``backend=`` or the environment
variable ``PATROLSIM_TRAVEL_BACKEND``:

* ``kernel`` (the default): a pair's seconds and metres from hub labels built once per
  graph (``sim.network.hub_labels``), a route's nodes from an A* search with landmark
  bounds, and every node's seconds to one target from a search on the reversed graph
  (``sim.network.searches``);
* ``bounded`` (the backend before it, kept for the scale benchmark): one scipy search
  per target stopped at a guessed limit and restarted with a doubled one
  (``sim.network.bounded``);
* ``per-target`` (the backend before that): a full scipy search per target for times
  and a full search per source for routes and metres.

All give exact shortest-path times (the kernel's equal scipy's within 1e-6 s: the
order of additions may differ between paths of equal time); routes of equal time may
differ between them.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.errors import NetworkError
from sim.network.bounded import BoundedColumns
from sim.network.graph import RoadGraph
from sim.network.searches import SearchColumns
from sim.network.hub_labels import cached_labels
from sim.network.travel_tables import all_pairs, derived_table

FULL_MATRIX_MAX_NODES = 4000
# Up to this many nodes, ``metres_from`` computes every row at its first call (at most 32 MB,
# about 60 ms; a long run holds every row in the end anyway); above, each row when first asked.
METRES_TABLE_MAX_NODES = 2000
BACKENDS = ("kernel", "bounded", "per-target")
BACKEND_ENV = "PATROLSIM_TRAVEL_BACKEND"
MAX_ROUTE_NODES = 1_000_000      # nodes kept in cached routes (about 75 MB of Python lists)


def backend_from_env() -> str:
    """The large-graph backend named by ``PATROLSIM_TRAVEL_BACKEND`` (default ``kernel``)."""
    name = os.environ.get(BACKEND_ENV, "").strip() or BACKENDS[0]
    if name not in BACKENDS:
        raise NetworkError(f"environment variable {BACKEND_ENV}={name!r} is not a travel backend",
                           fix=f"set it to one of {', '.join(BACKENDS)} or leave it unset")
    return name


class TravelOracle:
    """Travel times (seconds) and routes on ``graph`` at ``speed_factor`` x road speed.

    ``speed_kph_override`` replaces road speeds by one speed (bicycles, walkers).
    ``backend``: how graphs above ``FULL_MATRIX_MAX_NODES`` are searched (see the module
    docstring; None reads ``PATROLSIM_TRAVEL_BACKEND``). ``cache_tables``: read and keep the
    full matrix on disk (``sim.network.travel_tables``); False searches it in memory.
    """

    def __init__(self, graph: RoadGraph, *, speed_factor: float = 1.0,
                 speed_kph_override: float | None = None, max_cached_rows: int = 3000,
                 backend: str | None = None, cache_tables: bool = True) -> None:
        self.graph = graph
        self.backend = backend_from_env() if backend is None else backend
        if self.backend not in BACKENDS:
            raise NetworkError(f"travel backend {self.backend!r} is unknown",
                               fix=f"use one of {', '.join(BACKENDS)}")
        if speed_kph_override is not None:
            edge_time_s = graph.edge_length_m / (speed_kph_override / 3.6)
        else:
            edge_time_s = graph.edge_time_s(speed_factor=speed_factor)
        self.edge_time_s = edge_time_s
        self._w = graph.matrix(edge_time_s)
        self._wt = self._w.T.tocsr()
        # edge lookup by key u*n+v: the fastest edge between two nodes, its seconds and metres
        n = self._n_nodes = graph.n_nodes
        order = np.lexsort((edge_time_s, graph.edge_v, graph.edge_u))
        key = graph.edge_u[order].astype(np.int64) * n + graph.edge_v[order]
        first = np.ones(key.size, bool)
        first[1:] = key[1:] != key[:-1]
        self._edge_key = key[first]
        self._edge_s = np.maximum(edge_time_s[order][first], 1e-6)
        self._edge_m = graph.edge_length_m[order][first]
        # where each node's keys begin (the compiled path sums read a node's few keys, not all of them)
        self._edge_ptr = np.searchsorted(self._edge_key, np.arange(n + 1, dtype=np.int64) * n)
        # the same edges by their second end: a node's incoming edges (``metres_row_in_edges``)
        by_v = np.argsort(self._edge_key % n, kind="stable")
        self._in_ptr = np.searchsorted(self._edge_key[by_v] % n, np.arange(n + 1, dtype=np.int64))
        self._in_from = self._edge_key[by_v] // n
        self._in_s = self._edge_s[by_v]
        self._in_m = self._edge_m[by_v]
        self._routes: dict[tuple[int, int], tuple[list, list, list]] = {}
        self._max_routes = 200_000
        self._route_nodes = 0
        self._bounded: BoundedColumns | None = None
        self._kernel: SearchColumns | None = None
        self._full: np.ndarray | None = None
        self._by_target: np.ndarray | None = None       # the full matrix transposed (times_by_target)
        self._pred_full: np.ndarray | None = None
        self._cols: OrderedDict[int, np.ndarray] = OrderedDict()
        self._preds: OrderedDict[int, np.ndarray] = OrderedDict()
        self._max_rows = max_cached_rows
        self._m_rows: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_tables = cache_tables
        if graph.n_nodes <= FULL_MATRIX_MAX_NODES:
            # one all-pairs search gives the seconds and, for little more, the predecessors
            # that routes and metres need
            # (kept on disk and shared between processes: sim.network.travel_tables; read only)
            self._full, self._pred_full = all_pairs(self._w, cached=cache_tables)
        elif self.backend == "kernel":
            # a pair's seconds and metres from hub labels (built once per graph and speeds, kept on disk)
            labels = cached_labels(self._w, self._wt, lambda u, v: self.edge_lookup(u, v)[1], cached=cache_tables)
            self._kernel = SearchColumns(self._w, self._wt, labels)
        elif self.backend == "bounded":
            self._bounded = BoundedColumns(self._w, self._wt)

    @property
    def n_nodes(self) -> int:
        return self.graph.n_nodes

    @property
    def stops_at_limit(self) -> bool:
        """Whether a ``limit_s`` given to ``time``/``times_between`` saves work (the kernel backend)."""
        return self._kernel is not None

    def lower_bounds_s(self, source: int, targets: np.ndarray) -> np.ndarray:
        """Lower bounds on ``time(source, t)`` for each of ``targets``, without a search.

        The exact times where the all-pairs matrix is kept; the landmark (ALT) bounds on the
        kernel backend (``SearchColumns.lower_bounds``: already lowered by a margin for
        rounding, and 0 where the landmarks do not bound); else 0. Callers order questions
        by it and stop where it passes the best so far (the cordon measure, the stop order).
        """
        targets = np.asarray(targets, np.int64)
        if self._full is not None:
            return self._full[source, targets]
        if self._kernel is not None:
            return self._kernel.lower_bounds(int(source), targets)
        return np.zeros(len(targets))

    def lower_bound_s(self, source: int, target: int) -> float:
        """``lower_bounds_s`` of one pair, as a float: exact on small graphs, the landmarks' bound on the kernel."""
        if self._full is not None:
            return float(self._full[source, target])
        if self._kernel is not None:
            return self._kernel.lower_bound(source, target)
        return 0.0

    def _no_route(self, source: int, target: int) -> NetworkError:
        """The error for a pair with no path (a graph should be one strongly connected part)."""
        return NetworkError(f"no route from node {source} to node {target} on the {self.graph.mode} network",
                            fix="keep only the largest strongly connected part")

    def lower_bounds_to_s(self, sources: np.ndarray, target: int) -> np.ndarray:
        """``lower_bounds_s`` from each of ``sources`` to one ``target`` (same bounds, one call)."""
        sources = np.asarray(sources, np.int64)
        if self._full is not None:
            return self._full[sources, target]
        if self._kernel is not None:
            return self._kernel.lower_bounds_to(sources, int(target))
        return np.zeros(len(sources))

    def raise_fixed_bounds_s(self, bound: np.ndarray, fixed_node: np.ndarray, fixed_wait: np.ndarray,
                             of_mode: np.ndarray, target: int, extra_s: float, margin_s: float) -> None:
        """In place, for the units ``u`` of ``of_mode`` with ``bound[u] == -inf`` and ``fixed_node[u] >= 0``:
        ``bound[u] = (fixed_wait[u] + lower_bounds_to_s(fixed_node[u], target) + extra_s) - margin_s``.

        The dispatch search's bound for units waiting at a node on a large graph; on the
        kernel backend one compiled pass, else the same sums in numpy.
        """
        if self._kernel is not None:
            self._kernel.raise_fixed_bounds(bound, fixed_node, fixed_wait, of_mode, target, extra_s, margin_s)
            return
        sel = np.flatnonzero((bound == -np.inf) & (fixed_node >= 0) & of_mode)
        if sel.size:
            bound[sel] = (fixed_wait[sel] + self.lower_bounds_to_s(fixed_node[sel], target) + extra_s) - margin_s

    @property
    def time_matrix(self) -> np.ndarray | None:
        """All-pairs seconds ``[source, target]`` on small graphs (read only), else None."""
        return self._full

    def times_by_target(self) -> np.ndarray | None:
        """The full time matrix transposed, ``[target, source]`` (C order), or None without one.

        The compiled dispatch search reads, for one target, the seconds from every unit's
        node: in this layout one row, a few kilobytes, instead of one cache line (and often
        one memory page) per unit in a matrix of megabytes. Made once per oracle (so once per
        process and network: a sweep's worker shares its oracles between points) and, by
        ``sim.world.prepare``, with the other travel tables: it costs as much memory as the matrix.
        """
        if self._by_target is None and self._full is not None:
            # kept on disk beside the tables (travel_tables.derived_table): a copy-on-write map, shared
            self._by_target = derived_table(self._w, "by_target", (),
                                            lambda: np.ascontiguousarray(self._full.T, dtype=float),
                                            cached=self._cache_tables)
        return self._by_target

    def metres_from(self, source: int) -> np.ndarray:
        """Metres from ``source`` to every node along the fastest paths (nan where unreachable).

        Summed from the predecessor row by pointer jumping: ``up[t]`` is a node on the
        path to ``t`` and ``m[t]`` the metres from it to ``t``; each round doubles the
        stretch covered, so a path of L edges takes log2(L) rounds (compiled, one pass
        per round: ``sim.network.metres_jit``). Rows are cached like predecessor rows: a
        patrol's units start from the same nodes all day. With the all-pairs tables of a
        graph of up to ``METRES_TABLE_MAX_NODES`` nodes, the first row asked brings every
        row, in one compiled pass (a run soon asks for most of them: 953 of 985 in 30 days
        of the Seattle benchmark), in a third of the time of reading them one by one.
        """
        row = self._m_rows.get(source)
        if row is not None:
            return row
        # the pointer jumping compiled (sim.network.metres_jit: numpy's steps, the same bits;
        # imported here, so that numba loads on first use)
        from sim.network.metres_jit import metres_row, metres_row_in_edges, metres_table
        if self._pred_full is not None and self.n_nodes <= METRES_TABLE_MAX_NODES and not self._m_rows:
            # kept on disk beside the tables (travel_tables.derived_table; the edges' metres in its key)
            table = derived_table(self._w, "metres", (self._in_ptr, self._in_from, self._in_m),
                                  lambda: metres_table(self._pred_full, self._in_ptr, self._in_from, self._in_m),
                                  cached=self._cache_tables)
            if table is not None:     # else a predecessor without its edge: row by row below
                self._m_rows.update(enumerate(table))
                return self._m_rows[source]
        pred = self._pred_row(source)
        m = metres_row_in_edges(pred, int(source), self._in_ptr, self._in_from, self._in_m)
        if m is None:       # a predecessor without an edge to the node (not from a search of this graph)
            m = metres_row(pred, int(source), self._edge_key, self._edge_m)
        self._m_rows[source] = m
        if len(self._m_rows) > self._max_rows and self._full is None:
            self._m_rows.popitem(last=False)
        return m

    def make_metres_table(self) -> None:
        """Make now the table of every row ``metres_from`` makes at its first question (a graph with the
        all-pairs tables of at most ``METRES_TABLE_MAX_NODES`` nodes; else nothing): a travel table,
        made once per oracle by ``sim.world.prepare`` with the others (a sweep's worker shares it between
        its replications), not inside the first replication."""
        if self._pred_full is not None and self.n_nodes <= METRES_TABLE_MAX_NODES and not self._m_rows:
            self.metres_from(0)

    def metres(self, source: int, target: int) -> float:
        """Metres along the fastest path (the one ``route`` returns; nan when unreachable).

        On the kernel backend the hub labels' metres (``HubLabels.metres``: those of the fastest
        path through the first hub, by rank, that gives the least time), without a search: every
        unit sent and every drive back asks this once (8,729 times in 14 days of the 13,002-node
        town). Where two paths tie for the least time ``route`` may take the other one; and the
        metres are summed in two parts, so they may differ from ``route``'s in the last bits.
        """
        if self._kernel is not None:
            return float(self._kernel.labels.metres(source, target))
        cols = self._bounded
        if cols is not None:
            if cols.time(source, target) == np.inf:
                return float("nan")
            return float(self.route(source, target)[2][-1])
        return float(self.metres_from(source)[target])

    def time_and_metres(self, source: int, target: int) -> tuple[float, float]:
        """``(time(source, target), metres(source, target))`` in one call, the same two numbers.

        A drive back to a circuit (``sim.engine.rejoin``) asks both of every pair; on the kernel
        backend both come from one look-up of the hub labels (``SearchColumns.time_and_metres``).
        """
        kernel = self._kernel
        if kernel is None or source == target:
            return self.time(source, target), self.metres(source, target)
        return kernel.time_and_metres(source, target)

    def times_to(self, target: int) -> np.ndarray:
        """Seconds from every node to ``target``."""
        if self._full is not None:
            return self._full[:, target]
        if self._kernel is not None:
            return self._kernel.full(target)
        if self._bounded is not None:
            return self._bounded.full(target)
        col = self._cols.get(target)
        if col is None:
            col = dijkstra(self._wt, directed=True, indices=target)
            self._cols[target] = col
            if len(self._cols) > self._max_rows:
                self._cols.popitem(last=False)
        return col

    def time(self, source: int, target: int, *, limit_s: float = np.inf) -> float:
        """Seconds from ``source`` to ``target``.

        ``limit_s``: the caller needs the time only if it is at most this; above it the
        answer may be inf (the kernel backend then stops its search there).
        """
        if self._full is not None:
            return float(self._full[source, target])
        if self._kernel is not None:
            return self._kernel.time(source, target, limit_s=limit_s)
        if self._bounded is not None:
            return self._bounded.time(source, target)
        return float(self.times_to(target)[source])

    def times_between(self, sources: np.ndarray, targets: np.ndarray, *, limit_s: float = np.inf) -> np.ndarray:
        """(len(sources), len(targets)) seconds.

        ``limit_s``: the caller needs only times up to it; an entry above it may come back
        as inf (the kernel backend then stops its searches there), every other is exact.
        """
        sources, targets = np.asarray(sources), np.asarray(targets)
        if self._full is not None:
            return self._full[sources[:, None], targets[None, :]]
        if self._kernel is not None:
            return self._kernel.between(sources.astype(np.int64), targets.astype(np.int64), limit_s=limit_s)
        if self._bounded is not None and targets.size:
            return self._bounded.between(sources, targets)
        return np.column_stack([self.times_to(int(t))[sources] for t in targets]) if targets.size else \
            np.empty((sources.size, 0))

    @property
    def stop_order(self):
        """``sim.patrol.order_stops`` of distinct stops in one compiled call where the oracle can
        (``SearchColumns.stop_order`` on the kernel backend), else None."""
        return self._kernel.stop_order if self._kernel is not None else None

    def times_from(self, source: int) -> np.ndarray:
        if self._full is not None:
            return self._full[source]
        if self._kernel is not None:
            return self._kernel.from_sources(np.array([source], np.int64))[0]
        return dijkstra(self._w, directed=True, indices=source)

    def times_from_set(self, sources: np.ndarray) -> np.ndarray:
        """Seconds from the nearest of ``sources`` to every node (one multi-source search)."""
        if self._full is not None:
            return self._full[np.asarray(sources)].min(axis=0)
        if self._kernel is not None:
            return self._kernel.from_sources(np.unique(np.asarray(sources, np.int64)))[0]
        return dijkstra(self._w, directed=True, indices=np.asarray(sources), min_only=True)

    def lower_bounds_from_set(self, sources: np.ndarray, nodes: np.ndarray, *, exact_within_s: float
                              ) -> np.ndarray:
        """Lower bounds on the seconds from the nearest of ``sources`` to each of ``nodes``.

        Exact (``times_from_set``) where a look-up or a full search is all there is; the
        kernel backend searches only to ``exact_within_s`` and bounds the nodes beyond
        (``SearchColumns.lower_bounds_from_set``), so a bound costs the neighbourhood of the
        sources rather than the whole graph.
        """
        if self._kernel is not None:
            return self._kernel.lower_bounds_from_set(sources, nodes, exact_within_s=exact_within_s)
        return self.times_from_set(sources)[np.asarray(nodes)]

    @property
    def bounds_on_demand(self) -> bool:
        """Whether a circuit's bound can be kept as a few numbers and worked out at a node when asked
        (``bound_params_from_set``; the kernel backend), rather than as a row of every place."""
        return self._kernel is not None

    def bound_params_from_set(self, sources: np.ndarray, *, exact_within_s: float) -> tuple:
        """``SearchColumns.bound_params_from_set`` (kernel backend only: ``bounds_on_demand``)."""
        return self._kernel.bound_params_from_set(sources, exact_within_s=exact_within_s)

    def _pred_row(self, source: int) -> np.ndarray:
        if self._pred_full is not None:
            return self._pred_full[source]
        row = self._preds.get(source)
        if row is None:
            _, row = dijkstra(self._w, directed=True, indices=source, return_predecessors=True)
            self._preds[source] = row
            if len(self._preds) > self._max_rows:
                self._preds.popitem(last=False)
        return row

    def edge_lookup(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Seconds and metres of the edges u->v (which must exist)."""
        k = np.searchsorted(self._edge_key, u.astype(np.int64) * self.graph.n_nodes + v)
        return self._edge_s[k], self._edge_m[k]

    def route(self, source: int, target: int) -> tuple[list, list, list]:
        """Nodes from ``source`` to ``target``, cumulative seconds and cumulative metres at each.

        Routes are cached: patrol units pick among a few dozen beat nodes, so the
        same pairs recur all day.
        """
        key = (source, target)
        hit = self._routes.get(key)
        if hit is not None:
            return hit
        if source == target:
            out = ([source], [0.0], [0.0])
        elif self._pred_full is not None and (tour := self._tour_compiled([source, target], False)) is not None:
            out = tour        # the predecessor walk and the sums below, compiled (the same numbers)
        elif self._kernel is not None:
            path = self._kernel.path_array(source, target)
            if path is None:
                raise self._no_route(source, target)
            # one compiled pass: the same edge look-ups and sums as below
            cum_s, cum_m = self._kernel._jit.path_sums(path, self._edge_ptr, self._edge_key, self._edge_s, self._edge_m,
                                                       self._n_nodes)
            out = (path.tolist(), cum_s.tolist(), cum_m.tolist())
        elif self._bounded is not None:
            nodes = self._bounded.path(source, target)
            if nodes is None:
                raise self._no_route(source, target)
            path = np.array(nodes, np.int64)
            step_s, step_m = self.edge_lookup(path[:-1], path[1:])
            out = (nodes, [0.0] + np.cumsum(step_s).tolist(), [0.0] + np.cumsum(step_m).tolist())
        else:
            pred = self._pred_row(source)
            nodes = [target]
            while nodes[-1] != source:
                p = pred[nodes[-1]]
                if p < 0:
                    raise self._no_route(source, target)
                nodes.append(int(p))
            nodes.reverse()
            path = np.array(nodes, np.int64)
            step_s, step_m = self.edge_lookup(path[:-1], path[1:])
            out = (nodes, [0.0] + np.cumsum(step_s).tolist(), [0.0] + np.cumsum(step_m).tolist())
        if len(self._routes) >= self._max_routes or self._route_nodes > MAX_ROUTE_NODES:
            self._routes.clear()
            self._route_nodes = 0
        self._routes[key] = out
        self._route_nodes += len(out[0])
        return out

    def tour(self, stops: list[int], *, close: bool = True) -> tuple[list, list, list]:
        """``route`` through ``stops`` in order (and back to the first if ``close``), as one path.

        Nodes, cumulative response seconds and cumulative metres: each leg's sums from 0 in
        path order (``route``'s), added to where the previous leg ended; a leg between equal
        stops adds nothing. With the all-pairs tables the whole tour is one compiled call
        (``sim.network.paths_jit.tour_from_pred``, the same numbers); so it is on the kernel backend
        (``SearchColumns.tour``: an A* search per leg, as ``route`` searches each); else leg by leg.
        """
        if self._pred_full is not None:
            out = self._tour_compiled(stops, close)
            if out is not None:
                return out
        elif self._kernel is not None and len(stops) > 1:
            # an A* search per leg and the sums along it, in one compiled call (the same numbers as route's)
            nodes, cum_s, cum_m, bad = self._kernel.tour(stops, close, self._edge_ptr, self._edge_key, self._edge_s,
                                                          self._edge_m)
            if bad >= 0:
                raise self._no_route(int(stops[bad]), int(stops[(bad + 1) % len(stops)]))
            return nodes.tolist(), cum_s.tolist(), cum_m.tolist()
        return join_legs(self.route, stops, close=close)

    def _tour_compiled(self, stops: list[int], close: bool) -> tuple[list, list, list] | None:
        """``tour`` from the all-pairs predecessors in one compiled call; None if a leg needs the plain way."""
        from sim.network.paths_jit import TOUR_OK, tour_from_pred    # numba loads on first use
        nodes, resp, dist, status = tour_from_pred(self._pred_full, np.asarray(stops, np.int64), close,
                                                   self._in_ptr, self._in_from, self._in_s, self._in_m)
        if status != TOUR_OK:      # no path (the plain walk raises the error) or a predecessor without its edge
            return None
        return nodes.tolist(), resp.tolist(), dist.tolist()


def join_legs(route, stops: list[int], *, close: bool = True) -> tuple[list, list, list]:
    """The paths ``route(a, b)`` between consecutive ``stops`` (and back to the first if ``close``)
    joined end to end: each leg's sums added to where the previous leg ended, in Python.

    ``TravelOracle.tour`` without the all-pairs tables; the tests and benchmarks of the
    compiled tour (``sim.network.paths_jit``) compare it with this, given a plain ``route``.
    """
    nodes, resp, dist = [stops[0]], [0.0], [0.0]
    ends = stops[1:] + stops[:1] if close else stops[1:]
    for a, b in zip(stops, ends):
        p_nodes, p_resp, p_dist = route(a, b)
        base_r, base_d = resp[-1], dist[-1]
        nodes.extend(p_nodes[1:])
        resp.extend(base_r + r for r in p_resp[1:])
        dist.extend(base_d + d for d in p_dist[1:])
    return nodes, resp, dist
