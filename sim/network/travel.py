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
        self._full: np.ndarray | None = None
        self._cols: OrderedDict[int, np.ndarray] = OrderedDict()
        self._preds: OrderedDict[int, np.ndarray] = OrderedDict()
        self._max_rows = max_cached_rows
        if graph.n_nodes <= FULL_MATRIX_MAX_NODES:
            self._full = dijkstra(self._w, directed=True).astype(np.float64)

    @property
    def n_nodes(self) -> int:
        return self.graph.n_nodes

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

    def times_from(self, source: int) -> np.ndarray:
        if self._full is not None:
            return self._full[source]
        return dijkstra(self._w, directed=True, indices=source)

    def _pred_row(self, source: int) -> np.ndarray:
        row = self._preds.get(source)
        if row is None:
            _, row = dijkstra(self._w, directed=True, indices=source, return_predecessors=True)
            self._preds[source] = row
            if len(self._preds) > self._max_rows:
                self._preds.popitem(last=False)
        return row

    def route(self, source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
        """Nodes from ``source`` to ``target`` and the cumulative seconds at each."""
        if source == target:
            return np.array([source], np.int64), np.zeros(1)
        pred = self._pred_row(source)
        nodes = [target]
        while nodes[-1] != source:
            p = pred[nodes[-1]]
            if p < 0:
                raise NetworkError(f"no route from node {source} to node {target} on the "
                                   f"{self.graph.mode} network",
                                   fix="keep only the largest strongly connected part")
            nodes.append(int(p))
        path = np.array(nodes[::-1], np.int64)
        step = np.asarray(self._w[path[:-1], path[1:]]).ravel()
        return path, np.concatenate([[0.0], np.cumsum(step)])
