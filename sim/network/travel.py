"""Shortest travel times and routes on one mode's graph, with caches.

The engine asks two questions thousands of times per simulated day: "how long
from every node to this incident?" (dispatch) and "which streets lead from here
to there?" (patrol). Both are answered with scipy.sparse.csgraph.dijkstra on
arrays and cached: a column per target (times from all nodes, on the reversed
graph) and a predecessor row per source. Small graphs get the full matrix at
once, which costs one call and then makes every dispatch a lookup.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.errors import NetworkError
from sim.network.graph import RoadGraph

FULL_MATRIX_MAX_NODES = 4000


class TravelOracle:
    """Travel times (seconds) and routes on ``graph`` at ``speed_factor`` x road speed.

    ``speed_kph_override`` replaces road speeds by one speed (bicycles, walkers).
    """

    def __init__(self, graph: RoadGraph, *, speed_factor: float = 1.0,
                 speed_kph_override: float | None = None, max_cached_rows: int = 3000) -> None:
        self.graph = graph
        if speed_kph_override is not None:
            edge_time_s = graph.edge_length_m / (speed_kph_override / 3.6)
        else:
            edge_time_s = graph.edge_time_s(speed_factor=speed_factor)
        self.edge_time_s = edge_time_s
        self._w = graph.matrix(edge_time_s)
        self._wt = self._w.T.tocsr()
        # edge lookup by key u*n+v: the fastest edge between two nodes, its seconds and metres
        n = graph.n_nodes
        order = np.lexsort((edge_time_s, graph.edge_v, graph.edge_u))
        key = graph.edge_u[order].astype(np.int64) * n + graph.edge_v[order]
        first = np.ones(key.size, bool)
        first[1:] = key[1:] != key[:-1]
        self._edge_key = key[first]
        self._edge_s = np.maximum(edge_time_s[order][first], 1e-6)
        self._edge_m = graph.edge_length_m[order][first]
        self._routes: dict[tuple[int, int], tuple[list, list, list]] = {}
        self._max_routes = 200_000
        self._full: np.ndarray | None = None
        self._pred_full: np.ndarray | None = None
        self._cols: OrderedDict[int, np.ndarray] = OrderedDict()
        self._preds: OrderedDict[int, np.ndarray] = OrderedDict()
        self._max_rows = max_cached_rows
        self._m_rows: OrderedDict[int, np.ndarray] = OrderedDict()
        if graph.n_nodes <= FULL_MATRIX_MAX_NODES:
            # one all-pairs search gives the seconds and, for little more, the predecessors
            # that routes and metres need
            full, pred = dijkstra(self._w, directed=True, return_predecessors=True)
            self._full = full.astype(np.float64)
            self._pred_full = pred.astype(np.int32)

    @property
    def n_nodes(self) -> int:
        return self.graph.n_nodes

    @property
    def time_matrix(self) -> np.ndarray | None:
        """All-pairs seconds ``[source, target]`` on small graphs (read only), else None."""
        return self._full

    def metres_from(self, source: int) -> np.ndarray:
        """Metres from ``source`` to every node along the fastest paths (nan where unreachable).

        Summed from the predecessor row by pointer jumping: ``up[t]`` is a node on the
        path to ``t`` and ``m[t]`` the metres from it to ``t``; each round doubles the
        stretch covered, so a path of L edges takes log2(L) vector rounds. Rows are
        cached like predecessor rows: a patrol's units start from the same nodes all day.
        """
        row = self._m_rows.get(source)
        if row is not None:
            return row
        pred = self._pred_row(source)
        up = pred.astype(np.int64)
        reach = up >= 0
        up[~reach] = source
        m = np.zeros(up.size)
        dst = np.flatnonzero(reach)
        m[dst] = self.edge_lookup(up[dst], dst)[1]
        while True:
            nxt = up[up]
            if np.array_equal(nxt, up):
                break
            m += m[up]
            up = nxt
        m[~reach] = np.nan
        m[source] = 0.0
        self._m_rows[source] = m
        if len(self._m_rows) > self._max_rows and self._full is None:
            self._m_rows.popitem(last=False)
        return m

    def metres(self, source: int, target: int) -> float:
        """Metres along the fastest path (the one ``route`` returns)."""
        return float(self.metres_from(source)[target])

    def times_to(self, target: int) -> np.ndarray:
        """Seconds from every node to ``target``."""
        if self._full is not None:
            return self._full[:, target]
        col = self._cols.get(target)
        if col is None:
            col = dijkstra(self._wt, directed=True, indices=target)
            self._cols[target] = col
            if len(self._cols) > self._max_rows:
                self._cols.popitem(last=False)
        return col

    def time(self, source: int, target: int) -> float:
        if self._full is not None:
            return float(self._full[source, target])
        return float(self.times_to(target)[source])

    def times_between(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(len(sources), len(targets)) seconds."""
        sources, targets = np.asarray(sources), np.asarray(targets)
        if self._full is not None:
            return self._full[sources[:, None], targets[None, :]]
        return np.column_stack([self.times_to(int(t))[sources] for t in targets]) if targets.size else \
            np.empty((sources.size, 0))

    def times_from(self, source: int) -> np.ndarray:
        if self._full is not None:
            return self._full[source]
        return dijkstra(self._w, directed=True, indices=source)

    def times_from_set(self, sources: np.ndarray) -> np.ndarray:
        """Seconds from the nearest of ``sources`` to every node (one multi-source search)."""
        if self._full is not None:
            return self._full[np.asarray(sources)].min(axis=0)
        return dijkstra(self._w, directed=True, indices=np.asarray(sources), min_only=True)

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
        else:
            pred = self._pred_row(source)
            nodes = [target]
            while nodes[-1] != source:
                p = pred[nodes[-1]]
                if p < 0:
                    raise NetworkError(f"no route from node {source} to node {target} on the "
                                       f"{self.graph.mode} network",
                                       fix="keep only the largest strongly connected part")
                nodes.append(int(p))
            nodes.reverse()
            path = np.array(nodes, np.int64)
            step_s, step_m = self.edge_lookup(path[:-1], path[1:])
            out = (nodes, [0.0] + np.cumsum(step_s).tolist(), [0.0] + np.cumsum(step_m).tolist())
        if len(self._routes) >= self._max_routes:
            self._routes.clear()
        self._routes[key] = out
        return out
