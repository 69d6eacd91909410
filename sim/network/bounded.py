"""Travel-time columns on large graphs from bounded searches (exact within their bound).

On a graph too large for an all-pairs matrix, the engine still asks "how long from
this unit's node to the incident?" for the few units near each incident, and "which
streets lead back to the circuit?" for the unit that served it. A full Dijkstra
search per incident costs the whole graph (5 ms on 13,000 nodes) although the answers
all lie within a few minutes of the incident.

A ``BoundedColumns`` store answers both from one search per target on the reversed
graph with ``scipy.sparse.csgraph.dijkstra(limit=...)``. Dijkstra settles nodes in
order of their time, and every node on a shortest path of time d has time at most d,
so every node whose true time to the target is at most the limit gets its exact time
(the same additions along the same path as a full search); nodes beyond get inf. A
query beyond the limit doubles the limit and searches again (at most to a full
search), so answers are always exact shortest-path times: tolerance 0, tested against
full searches on random pairs (tests/network/test_travel_bounded.py).

The reversed search's predecessor of a node is its next node towards the target,
so the same column gives routes (and their metres) to the target without a second
search. The first limit of a new column follows what recent columns needed (twice the
median of the largest time asked of each), so most targets take one search.

Some sources are asked about far targets again and again: units waiting at a
station, units stopped somewhere. A source that a column failed to cover twice
gets a full forward search of its own (a row, with predecessors for its routes),
which then answers every later question from it with a look-up. Columns and rows
are kept in least-recently-used stores sized by memory, not by count.
"""

from __future__ import annotations

from collections import OrderedDict, deque

import numpy as np
from scipy.sparse.csgraph import dijkstra

DEFAULT_BUDGET_BYTES = 128 * 2**20   # memory for cached columns and rows, per oracle (mode)
FIRST_LIMIT_S = 240.0                # the first column's limit, before anything was asked
MIN_LIMIT_S = 30.0


class _Column:
    __slots__ = ("dist", "succ", "limit_s", "asked_s")

    def __init__(self, dist: np.ndarray, succ: np.ndarray, limit_s: float) -> None:
        self.dist, self.succ, self.limit_s, self.asked_s = dist, succ, limit_s, 0.0


class BoundedColumns:
    """Exact seconds to a target (and the next node towards it) from bounded reversed searches.

    ``w``, ``wt``: the weight matrix and its transpose (csr, seconds). ``budget_bytes``
    bounds the memory of the cached columns and rows (half each).
    """

    def __init__(self, w, wt, *, budget_bytes: int | None = None) -> None:
        budget_bytes = DEFAULT_BUDGET_BYTES if budget_bytes is None else budget_bytes
        self._w, self._wt = w, wt
        n = wt.shape[0]
        self._max_cols = max(8, int(0.5 * budget_bytes // (n * 12)))   # float64 seconds + int32 node
        self._max_rows = max(8, int(0.5 * budget_bytes // (n * 12)))
        self._cols: OrderedDict[int, _Column] = OrderedDict()
        self._rows: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._misses: dict[int, int] = {}
        self._recent_s: deque[float] = deque(maxlen=64)
        self._last: _Column | None = None     # the column searched last for a new target
        self.searches = 0        # searches run (for the benchmark and tests)

    def _first_limit_s(self) -> float:
        if not self._recent_s:
            return FIRST_LIMIT_S
        return max(MIN_LIMIT_S, 2.0 * float(np.median(self._recent_s)))

    def _search(self, target: int, limit_s: float) -> _Column:
        self.searches += 1
        if limit_s == np.inf:
            dist, succ = dijkstra(self._wt, directed=True, indices=target, return_predecessors=True)
        else:
            dist, succ = dijkstra(self._wt, directed=True, indices=target, limit=limit_s,
                                  return_predecessors=True)
        if limit_s != np.inf and np.isfinite(dist).all():
            limit_s = np.inf      # everything was within the limit: nothing more to find
        return _Column(dist, succ.astype(np.int32), limit_s)

    def column(self, target: int) -> _Column:
        """The cached column of ``target`` (searched with the first limit if new)."""
        col = self._cols.get(target)
        if col is None:
            last = self._last
            if last is not None and last.asked_s > 0.0:
                self._recent_s.append(last.asked_s)
            if len(self._cols) >= self._max_cols:
                self._cols.popitem(last=False)
            col = self._cols[target] = self._last = self._search(target, self._first_limit_s())
        else:
            self._cols.move_to_end(target)
        return col

    def _extend(self, target: int, col: _Column, need_s: float = 0.0) -> _Column:
        new = self._search(target, max(2.0 * col.limit_s, need_s))
        new.asked_s = col.asked_s
        if self._last is col:
            self._last = new
        self._cols[target] = new
        return new

    def row(self, source: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The full forward search from ``source`` (seconds, predecessors), if it has one."""
        row = self._rows.get(source)
        if row is not None:
            self._rows.move_to_end(source)
        return row

    def _missed(self, source: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Count a column that did not reach ``source``; its row once that happened twice."""
        k = self._misses.get(source, 0) + 1
        self._misses[source] = k
        if k < 2:
            return None
        return self._row(source)

    def _row(self, source: int) -> tuple[np.ndarray, np.ndarray]:
        row = self._rows.get(source)
        if row is None:
            self.searches += 1
            dist, pred = dijkstra(self._w, directed=True, indices=source, return_predecessors=True)
            if len(self._rows) >= self._max_rows:
                self._rows.popitem(last=False)
            row = self._rows[source] = (dist, pred.astype(np.int32))
        return row

    def time(self, source: int, target: int) -> float:
        """Exact seconds from ``source`` to ``target`` (inf when unreachable)."""
        row = self._rows.get(source)
        if row is not None:
            return float(row[0][target])
        col = self.column(target)
        d = col.dist[source]
        if d == np.inf and col.limit_s != np.inf:
            row = self._missed(source)
            if row is not None:
                return float(row[0][target])
        while d == np.inf and col.limit_s != np.inf:
            col = self._extend(target, col)
            d = col.dist[source]
        d = float(d)
        if col.asked_s < d < np.inf:
            col.asked_s = d
        return d

    def times(self, sources: np.ndarray, target: int) -> np.ndarray:
        """Exact seconds from each of ``sources`` to ``target``."""
        col = self.column(target)
        d = col.dist[sources]
        if col.limit_s != np.inf and np.isinf(d).any():
            d = d.copy()
            for k in np.flatnonzero(np.isinf(d)).tolist():
                row = self._rows.get(int(sources[k])) or self._missed(int(sources[k]))
                if row is not None:
                    d[k] = row[0][target]
            if np.isinf(d).any():
                # many sources (a cordon's units) far away: one full search, not doubling steps
                col = self._extend(target, col, np.inf)
                return col.dist[sources]
        return d

    def between(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Exact ``(len(sources), len(targets))`` seconds, from one full row per distinct source.

        The caller (a cordon: every free unit to every exit road around an incident) needs
        far pairs; rows of units' nodes recur (stations, circuit nodes, far questions of
        dispatch), while exit roads differ from incident to incident. Measured on the
        scale benchmark, rows beat columns per exit even where there are more units.
        """
        if not sources.size:
            return np.empty((0, targets.size))
        rows = {s: self._row(s)[0][targets] for s in np.unique(sources).tolist()}
        return np.stack([rows[s] for s in sources.tolist()])

    def full(self, target: int) -> np.ndarray:
        """Seconds from every node to ``target`` (the column searched without a limit)."""
        col = self.column(target)
        if col.limit_s != np.inf:
            col = self._extend(target, col, np.inf)
        return col.dist

    def path(self, source: int, target: int) -> list[int] | None:
        """Nodes of the fastest path from ``source`` to ``target`` (None when unreachable)."""
        if self.time(source, target) == np.inf:
            return None
        row = self._rows.get(source)
        if row is not None:
            pred = row[1]
            nodes = [target]
            while nodes[-1] != source:
                nodes.append(int(pred[nodes[-1]]))
            nodes.reverse()
            return nodes
        succ = self._cols[target].succ
        nodes = [source]
        while nodes[-1] != target:
            nodes.append(int(succ[nodes[-1]]))
        return nodes
