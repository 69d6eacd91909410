"""Travel times on large graphs from compiled searches (exact; the ``kernel`` backend).

On a graph too large for an all-pairs matrix the engine asks, for each incident,
the time from the few units near it ("how long from this unit's node to the
incident?"), the route of the unit sent, and for a major incident the times from
the free units to the roads leaving a circle around it (the cordon). scipy's
Dijkstra spends about 250 µs per call on arrays of the whole graph before it
explores anything, and a search bounded by a guessed limit must start again from
scratch when the guess was short (``sim.network.bounded``).

A pair's seconds (``time``, and ``times``/``between`` for a few sources and targets) come from
the graph's hub labels (``sim.network.hub_labels``, built by ``TravelOracle``): two sorted lists
merged, about a microsecond, where an A* search cost 10 to 70 µs (``bench/hub_labels.py``);
exact whatever limit the caller gives (a limit only says which answers it needs).

A route's nodes (``path``) are read from the same labels (``sim.network.label_paths``): each
label entry keeps the next node of its path, so the path through the pair's hub is followed
from both ends, a binary search a node, no search of the graph (an A* search reached about
490 nodes for a drive of the 13,002-node scale town, ``astar`` below, kept as the reference
the benchmarks compare with). Each answer is cached with its path.

The nodes' seconds from and to 8 landmarks (computed once) give lower bounds by the triangle
inequality; they are kept a node per row, the layout the A* loop reads (``toward_rows``).

Lower bounds without a search of the whole graph (``lower_bounds``: a pair's landmark
bound, a look-up; ``lower_bounds_from_set``: from the nearest of a set of sources, exact
within a radius and bounded by the landmarks beyond) serve callers that only order or
prune by them: a patrol circuit's bound per place and the order of its stops
(``sim.patrol``), the walks' order of units.

For every node's seconds to one target (``full``) the store keeps, per target, a
*column*: one Dijkstra search on the reversed graph (so its ``dist`` is the time from
each node to the target and its predecessors are the next node towards it) held
together with its frontier, so that it can be resumed (``sim.network.dijkstra_jit``):
the same additions along a shortest path as a full search, so equal to scipy's up to
the order of additions among paths of equal time (tested: within 1e-6 s,
tests/network/test_searches.py).

Each kind of question always takes the same way to its answer: a pair's time always the
labels, a route always the labels' steps, every node's time always the target's column. Two ways add
the same edges in other orders and can differ in the last bit, and which one answered
would then depend on what was asked before; so each answer is a function of the
question alone and a replication's numbers do not depend on what ran before it in the process.

A column holds two arrays of the graph's size (seconds and next node, 12 bytes
per node), the list of the nodes it reached and its frontier. Columns are kept in a
least-recently-used store sized by memory; an evicted column's arrays are cleared
at just the nodes it reached and given to the next new column, so once the store is
full no array of the graph's size is allocated or cleared: a question costs the
nodes its search settles, not the graph's size. (Fresh arrays cost far more than
their size suggests: the pages are faulted in on first touch.)
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

DEFAULT_BUDGET_BYTES = 48 * 2**20    # memory for cached columns, per oracle (mode)
N_LANDMARKS = 8                      # landmarks of the lower bounds (two searches each when built)
MAX_PAIRS = 50_000                   # point-to-point answers kept (with their paths)
ALT_MARGIN_S = 1e-6                  # landmark bounds are differences of computed times: room for rounding
_NO_STOP = np.empty(0, np.int64)


def _jit():
    """The compiled loop (numba is imported, and the loop loaded or compiled, on first use)."""
    from sim.network import dijkstra_jit
    return dijkstra_jit


def csr_arrays(matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr int64, indices int32, weights float64) of a scipy CSR matrix: one compiled signature."""
    return (np.ascontiguousarray(matrix.indptr, np.int64), np.ascontiguousarray(matrix.indices, np.int32),
            np.ascontiguousarray(matrix.data, np.float64))


def _warm(jit) -> None:
    """Load (or compile) the loop now, on a 2-node graph, so that the first question does not pay it."""
    dist, pred = np.full(2, np.inf), np.full(2, -1, np.int32)
    heap_s, heap_node, size, touched, n_touched = jit.seed(
        dist, pred, np.empty(4, np.float64), np.empty(4, np.int32), np.empty(4, np.int32), np.array([0], np.int64))
    csr = (np.array([0, 1, 1], np.int64), np.array([1], np.int32), np.array([1.0]))
    jit.advance(*csr, dist, pred, heap_s, heap_node, size, touched, n_touched, np.inf, _NO_STOP)
    dist[:], pred[:] = np.inf, -1
    jit.toward_rows(*csr, dist, pred, np.zeros(2), touched, 1, 0, np.inf, np.zeros((2, 1)), np.zeros((2, 1)))
    jit.path_sums(np.array([0, 1], np.int32), np.array([0, 1, 1], np.int64), np.array([1], np.int64), np.ones(1),
                  np.ones(1), 2)
    jit.set_bounds(dist, 0.0, np.array([0], np.int64), np.array([0, 1], np.int64), np.zeros((2, 1)),
                   np.zeros((2, 1)), 0.0)
    jit.bound_params(dist, 0.0, np.array([0], np.int64), np.zeros(4, np.int32), 0, np.zeros((2, 1)), np.zeros((2, 1)))
    jit.bound_params_at_zero(*csr, dist, np.array([0], np.int64), np.zeros(4, np.int32), np.zeros((2, 1)),
                             np.zeros((2, 1)))
    jit.unique_nodes(np.zeros(2, np.int64))
    from sim.network import nearest_jit       # the lazy rejoin table of graphs without a matrix (NearestOnCircuit)
    nearest_jit.nearest_one(np.zeros(1), np.zeros(1), np.zeros(1, np.int64), 0.0, 0.0)
    from sim.network import stop_order_jit    # a circuit's stops in order (SearchColumns.stop_order)
    stop_order_jit.nearest_neighbour_order(np.array([0, 1], np.int64), np.zeros((2, 1)), np.zeros((2, 1)), True, 0.0,
                                           np.zeros(4, np.int64), np.zeros(0), np.zeros(0, np.int32))


class _Column:
    """One resumable search: exact for every node whose ``dist`` is at most ``radius_s``.

    ``dist``/``pred`` are arrays of the graph's size; ``nodes[:n]`` the nodes reached,
    so that the arrays can be cleared (and reused) in the time the search took.
    """
    __slots__ = ("dist", "pred", "nodes", "n", "heap_s", "heap_node", "size", "radius_s")

    def __init__(self, dist: np.ndarray, pred: np.ndarray) -> None:
        self.dist, self.pred = dist, pred
        self.nodes = np.empty(64, np.int32)
        self.n = 0
        self.heap_s, self.heap_node, self.size = np.empty(64, np.float64), np.empty(64, np.int32), 0
        self.radius_s = 0.0

    def complete(self) -> bool:
        return self.radius_s == np.inf


class SearchColumns:
    """Exact seconds to a target (and the next node towards it) from resumable reversed searches.

    ``w``, ``wt``: the weight matrix and its transpose (scipy CSR, seconds).
    ``labels``: the graph's ``HubLabels`` (``sim.network.hub_labels``), which answer ``time``.
    ``budget_bytes`` bounds the memory of the cached columns.
    """

    #: a circuit's bound search of radius 0 in one pass (``dijkstra_jit.bound_params_at_zero``); False: the
    #: search itself (the tests compare both)
    BOUND_AT_ZERO = True

    def __init__(self, w, wt, labels, *, budget_bytes: int | None = None) -> None:
        budget_bytes = DEFAULT_BUDGET_BYTES if budget_bytes is None else budget_bytes
        self._fwd = csr_arrays(w)
        self._rev = csr_arrays(wt)
        # every street as fast both ways (a walk graph): a node's seconds to a target equal the target's
        # to it, so a unit's drive is also bounded from its end (``best_first_jit``: ``sym``)
        self.symmetric = all(np.array_equal(a, b) for a, b in zip(self._fwd, self._rev))
        self.n = n = wt.shape[0]
        self._jit = _jit()
        _warm(self._jit)
        self._max_cols = max(8, int(budget_bytes // (n * 12)))    # float64 seconds + int32 node
        self._cols: OrderedDict[int, _Column] = OrderedDict()
        self._pool: list[tuple[np.ndarray, np.ndarray]] = []     # cleared arrays of evicted columns
        self.steps = 0          # compiled calls run (for the benchmark and tests)
        self.settled = 0        # nodes reached by column searches (for the benchmark and tests)
        self.evicted = 0        # columns evicted (their arrays reused)
        # landmark bounds (and ``astar``: towards the source with them, on a scratch pair)
        self._lm_from, self._lm_to = self._landmarks(N_LANDMARKS)
        # the same seconds a node per row, for the A* loop (``toward_rows``: one cache line a node)
        self._lm_from_rows = np.ascontiguousarray(self._lm_from.T)
        self._lm_to_rows = np.ascontiguousarray(self._lm_to.T)
        from sim.network import alt_jit       # the landmarks' pair bounds, compiled (numba is loaded above)
        self._alt = alt_jit
        alt_jit.warm()
        self._sh = np.zeros(n)      # the A* loop's bound per node reached (scratch)
        self._sd = np.full(n, np.inf)
        self._sp = np.full(n, -1, np.int32)
        self._touched = np.empty(1024, np.int32)
        self._n_around = 0                         # nodes reached by the last _around search (_touched[:n])
        # answers in the order found; when full the oldest goes (a hit does not reorder: the
        # bookkeeping of least-recently-used cost more than the searches it saved)
        self._pairs: dict[tuple[int, int], np.ndarray | None] = {}
        # a pair's seconds: from the hub labels, here and in the compiled walks (``walk_labels``)
        self.labels = labels
        self.walk_labels = labels.walk_arrays
        labels.warm()
        self._paths = labels.path_arrays
        from sim.network import label_paths     # a route's nodes from the labels' steps
        self._label_paths = label_paths
        label_paths.warm(labels)
        self.pair_asked = 0     # pairs answered by the labels (``time``, ``times``, the compiled walks)
        self.paths_read = 0     # routes' nodes read from the labels (``path``, ``tour``'s legs)
        self.path_nodes = 0     # their nodes (for the benchmark and tests)
        self.bound_reached = 0  # nodes reached by lower-bound searches (``lower_bounds_from_set``)

    def count_walk(self, asked: int) -> None:
        """Count a compiled walk's pair questions (``sim.engine.best_first_jit``, ``cordon_jit``: the labels,
        no search) with this oracle's own (``pair_asked``: benchmarks)."""
        self.pair_asked += asked

    def _landmarks(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from and to ``k`` landmarks spread by farthest-point selection (deterministic)."""
        k = min(k, self.n)
        lm_from = np.empty((k, self.n))
        lm_to = np.empty((k, self.n))
        spread = self.from_sources(np.array([0], np.int64))[0]      # start: the node farthest from node 0
        for i in range(k):
            far = np.where(np.isfinite(spread), spread, -1.0)
            node = int(np.argmax(far))
            lm_from[i] = self.from_sources(np.array([node], np.int64))[0]
            lm_to[i] = self._full_reverse(node)
            spread = lm_from[i] if i == 0 else np.minimum(spread, lm_from[i])
        # an unreachable pair gives no bound (inf - inf): count it as 0 (then the bounds of sets
        # and pairs are not used: on a graph that is not strongly connected they may not hold)
        self._lm_exact = bool(np.isfinite(lm_from).all() and np.isfinite(lm_to).all())
        lm_from[~np.isfinite(lm_from)] = 0.0
        lm_to[~np.isfinite(lm_to)] = 0.0
        return np.ascontiguousarray(lm_from), np.ascontiguousarray(lm_to)

    def _full_reverse(self, target: int) -> np.ndarray:
        dist, pred = np.full(self.n, np.inf), np.full(self.n, -1, np.int32)
        heap_s, heap_node, size, touched, n_touched = self._jit.seed(
            dist, pred, np.empty(64, np.float64), np.empty(64, np.int32), np.empty(64, np.int32),
            np.array([target], np.int64))
        self._jit.advance(*self._rev, dist, pred, heap_s, heap_node, size, touched, n_touched, np.inf, _NO_STOP)
        return dist

    def _pair(self, source: int, target: int) -> np.ndarray | None:
        """A fastest path's nodes from ``source`` to ``target`` (None: no route), read from the labels; cached."""
        key = (source, target)
        hit = self._pairs.get(key, False)
        if hit is not False:
            return hit
        path = self._label_paths.label_path(*self._paths, source, target)
        self.paths_read += 1
        self.path_nodes += path.size
        out = path if path.size else None
        if len(self._pairs) >= MAX_PAIRS:
            del self._pairs[next(iter(self._pairs))]
        self._pairs[key] = out
        return out

    def astar(self, source: int, target: int) -> tuple[float, np.ndarray | None]:
        """(seconds, path) from ``source`` to ``target`` by A* with the landmark bounds (inf, None: no route).

        Not the engine's way (``_pair``): the reference ``bench/hub_labels.py`` times the labels against.
        """
        d, path, self._touched, _ = self._jit.toward_rows(
            *self._rev, self._sd, self._sp, self._sh, self._touched, target, source, np.inf,
            self._lm_from_rows, self._lm_to_rows)
        return float(d), (path if d < np.inf else None)

    def _advance(self, col: _Column, *, limit_s: float = np.inf, stop: np.ndarray = _NO_STOP) -> None:
        """Run ``col`` on until ``limit_s`` or until all of ``stop`` are settled."""
        if col.complete():
            return
        n0 = col.n
        self.steps += 1
        col.heap_s, col.heap_node, col.size, col.nodes, col.n, radius = self._jit.advance(
            *self._rev, col.dist, col.pred, col.heap_s, col.heap_node, col.size, col.nodes, col.n,
            float(limit_s), stop)
        self.settled += col.n - n0
        col.radius_s = float(radius)
        if col.radius_s == np.inf:      # finished: the frontier is no longer needed
            col.heap_s = col.heap_node = None

    def column(self, target: int) -> _Column:
        """The cached column of ``target`` (a new, unexplored one if not cached)."""
        col = self._cols.get(target)
        if col is not None:
            self._cols.move_to_end(target)
            return col
        if len(self._cols) >= self._max_cols:
            _, old = self._cols.popitem(last=False)
            nodes = old.nodes[:old.n]
            old.dist[nodes] = np.inf          # clear just what the old search reached
            old.pred[nodes] = -1
            self._pool.append((old.dist, old.pred))
            self.evicted += 1
        dist, pred = self._pool.pop() if self._pool else (np.full(self.n, np.inf), np.full(self.n, -1, np.int32))
        col = self._cols[target] = _Column(dist, pred)
        col.heap_s, col.heap_node, col.size, col.nodes, col.n = self._jit.seed(
            dist, pred, col.heap_s, col.heap_node, col.nodes, np.array([target], np.int64))
        return col

    # ------------------------------------------------------------------ questions
    def time(self, source: int, target: int, *, limit_s: float = np.inf) -> float:
        """Exact seconds from ``source`` to ``target`` (inf when unreachable), whatever ``limit_s``.

        Always the hub labels (``HubLabels.time``), never a column or a search: the same pair
        always gets the same bits. ``limit_s`` (the most the caller needs) costs nothing to ignore.
        """
        if source == target:
            return 0.0
        self.pair_asked += 1
        return self.labels.time(source, target)

    def time_and_metres(self, source: int, target: int) -> tuple[float, float]:
        """``time`` and the metres of the same fastest path (``HubLabels.metres``), from one look-up."""
        self.pair_asked += 1
        return self.labels.time_and_metres(source, target)

    def times(self, sources: np.ndarray, target: int, *, limit_s: float = np.inf) -> np.ndarray:
        """Seconds from each of ``sources`` to ``target``: ``time`` of each (exact, whatever ``limit_s``)."""
        sources = np.ascontiguousarray(sources, np.int64)
        return self.between(sources, np.array([target], np.int64), limit_s=limit_s)[:, 0]

    def between(self, sources: np.ndarray, targets: np.ndarray, *, limit_s: float = np.inf) -> np.ndarray:
        """``(len(sources), len(targets))`` seconds: ``time`` of each pair (the labels, in one compiled loop)."""
        from sim.network.hub_labels import seconds_of_pairs
        src = np.repeat(np.ascontiguousarray(sources, np.int64), len(targets))
        dst = np.tile(np.ascontiguousarray(targets, np.int64), len(sources))
        out = np.empty(src.size)
        self.pair_asked += src.size
        seconds_of_pairs(*self.walk_labels, src, dst, out)
        out[src == dst] = 0.0
        return out.reshape(len(sources), len(targets))

    def full(self, target: int) -> np.ndarray:
        """Seconds from every node to ``target`` (the column run to its end; read only)."""
        col = self.column(target)
        self._advance(col)
        return col.dist

    def from_sources(self, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A full forward search from ``sources`` (seconds from the nearest, predecessors); not cached."""
        dist, pred = np.full(self.n, np.inf), np.full(self.n, -1, np.int32)
        heap_s, heap_node, size, touched, n_touched = self._jit.seed(
            dist, pred, np.empty(64, np.float64), np.empty(64, np.int32), np.empty(64, np.int32),
            np.ascontiguousarray(sources, np.int64))
        self.steps += 1
        self._jit.advance(*self._fwd, dist, pred, heap_s, heap_node, size, touched, n_touched, np.inf, _NO_STOP)
        return dist, pred

    def lower_bounds(self, source: int, targets: np.ndarray) -> np.ndarray:
        """Lower bounds on the seconds from ``source`` to each of ``targets`` (the landmarks' bound).

        The bound that guides the A* searches (for every landmark L: d(s, t) >= d(L, t) - d(L, s)
        and >= d(s, L) - d(t, L)), less ``ALT_MARGIN_S`` for rounding, at least 0: a look-up,
        no search. Callers time the pairs in order of it and stop where it passes the best.
        """
        targets = np.asarray(targets, np.int64)
        if not self._lm_exact:
            return np.zeros(targets.size)
        return self._alt.bounds_from(self._lm_from_rows, self._lm_to_rows, int(source), targets, ALT_MARGIN_S)

    def lower_bound(self, source: int, target: int) -> float:
        """``lower_bounds`` of one pair, as a float (the same bits; no arrays for one question)."""
        if not self._lm_exact:
            return 0.0
        return self._alt.pair_bound(self._lm_from_rows, self._lm_to_rows, source, target, ALT_MARGIN_S)

    def lower_bounds_to(self, sources: np.ndarray, target: int) -> np.ndarray:
        """``lower_bounds`` the other way round: from each of ``sources`` to one ``target``.

        For the dispatch search's units waiting at a station or a cleared scene: one
        look-up for all of them (margin and the check that the landmarks bound as there).
        """
        sources = np.asarray(sources, np.int64)
        if not self._lm_exact:
            return np.zeros(sources.size)
        return self._alt.bounds_to(self._lm_from_rows, self._lm_to_rows, sources, int(target), ALT_MARGIN_S)

    def raise_fixed_bounds(self, bound: np.ndarray, fixed_node: np.ndarray, fixed_wait: np.ndarray,
                           of_mode: np.ndarray, target: int, extra_s: float, margin_s: float) -> None:
        """In place: ``bound[u] = (fixed_wait[u] + lower_bounds_to(fixed_node[u], target) + extra_s) - margin_s``
        for every ``u`` of ``of_mode`` whose bound is -inf and whose fixed node is set (>= 0).

        The dispatch search's bound for units waiting at a station or a cleared scene, in
        one compiled pass (``alt_jit.raise_fixed_bounds``) instead of a dozen small-array steps.
        """
        self._alt.raise_fixed_bounds(bound, fixed_node, fixed_wait, of_mode, int(target), float(extra_s),
                                     float(margin_s), self._lm_from_rows, self._lm_to_rows, ALT_MARGIN_S,
                                     self._lm_exact)

    def lower_bounds_from_set(self, sources: np.ndarray, nodes: np.ndarray, *, exact_within_s: float
                              ) -> np.ndarray:
        """Lower bounds on the seconds from the nearest of ``sources`` to each of ``nodes``.

        One forward search from ``sources`` stopped at ``exact_within_s``: a node it settled
        gets its exact time (the same additions as the full search of ``from_sources``, so
        the same bits). A node beyond it is at least the search's radius away, and at least
        the landmarks' bound (for every landmark L, a source c and a node x: d(c, x) >=
        d(L, x) - d(L, c) and >= d(c, L) - d(x, L), taken at the worst c of the set), less
        ``ALT_MARGIN_S`` for rounding; it gets the larger of the two. Costs the nodes within
        ``exact_within_s`` of the sources instead of the whole graph.
        """
        sources = np.unique(np.asarray(sources, np.int64))
        nodes = np.asarray(nodes, np.int64)
        lm_from, lm_to = self.bound_landmarks
        return self._around(sources, exact_within_s, lambda radius: self._jit.set_bounds(
            self._sd, radius, sources, nodes, lm_from, lm_to, ALT_MARGIN_S))

    def bound_params_from_set(self, sources: np.ndarray, *, exact_within_s: float) -> tuple:
        """What ``lower_bounds_from_set`` reads to bound every node, without bounding every node:
        ``(far_from, near_to, radius, nodes within it (sorted), their seconds)``. ``dijkstra_jit.bound_at``
        gives from them the bound of any node, the same bits as the row ``lower_bounds_from_set``
        makes of all of them (one search of the same neighbourhood; no pass over the graph's nodes)."""
        sources = self._jit.unique_nodes(np.ascontiguousarray(sources, np.int64))     # np.unique's array
        lm_from, lm_to = self.bound_landmarks
        if exact_within_s == 0.0 and self.BOUND_AT_ZERO:
            # the search of radius 0 in one pass (dijkstra_jit.bound_params_at_zero): the same bits
            ok, far_from, near_to, radius, nodes, seconds, self._touched, n_t = self._jit.bound_params_at_zero(
                *self._fwd, self._sd, sources, self._touched, lm_from, lm_to)
            if ok:
                self.steps += 1
                self.bound_reached += n_t
                return far_from, near_to, radius, nodes, seconds

        def kept(radius: float) -> tuple:
            far_from, near_to, nodes, seconds = self._jit.bound_params(
                self._sd, radius, sources, self._touched, self._n_around, lm_from, lm_to)
            return far_from, near_to, radius, nodes, seconds
        return self._around(sources, exact_within_s, kept)

    def _around(self, sources: np.ndarray, exact_within_s: float, read):
        """One forward search from ``sources`` stopped at ``exact_within_s``; ``read(radius)`` reads the
        scratch arrays it leaves (``_sd``; ``_touched[:_n_around]`` the nodes reached) before they are reset."""
        jit = self._jit
        self.steps += 1
        heap_s, heap_node, size, touched, n_t = jit.seed(
            self._sd, self._sp, np.empty(64, np.float64), np.empty(64, np.int32), self._touched, sources)
        heap_s, heap_node, size, touched, n_t, radius = jit.advance(
            *self._fwd, self._sd, self._sp, heap_s, heap_node, size, touched, n_t, float(exact_within_s),
            _NO_STOP)
        self._touched, self._n_around = touched, n_t
        self.bound_reached += n_t
        try:
            return read(float(radius))
        finally:
            reached = touched[:n_t]
            self._sd[reached] = np.inf          # leave the scratch arrays as they came
            self._sp[reached] = -1

    @property
    def bound_landmarks(self) -> tuple[np.ndarray, np.ndarray]:
        """The landmark tables a circuit's bound reads (a node per row); no columns when they do not bound."""
        if self._lm_exact:
            return self._lm_from_rows, self._lm_to_rows
        empty = np.empty((self.n, 0))
        return empty, empty

    def stop_order(self, stops: np.ndarray) -> list[int]:
        """``sim.patrol.order_stops`` of distinct ``stops`` by ``time`` in one compiled call
        (``stop_order_jit.nearest_neighbour_order``: the landmarks' bounds, the hub labels' seconds)."""
        from sim.network.stop_order_jit import nearest_neighbour_order
        order, asked = nearest_neighbour_order(np.ascontiguousarray(stops, np.int64), self._lm_from_rows,
                                               self._lm_to_rows, self._lm_exact, ALT_MARGIN_S, *self.walk_labels)
        self.pair_asked += asked
        return order.tolist()

    def tour(self, stops: np.ndarray, close: bool, edge_ptr: np.ndarray, edge_key: np.ndarray, edge_s: np.ndarray,
             edge_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """``TravelOracle.tour`` in one compiled call (``label_paths.tour_by_labels``): each leg's path from the labels.

        Returns the tour's nodes, cumulative seconds and metres, and the first leg with no path
        (-1 if none). The legs count as ``_pair``'s paths do (none is cached: a circuit's legs
        join random stops, which seldom come again).
        """
        nodes, cum_s, cum_m, bad, paths, path_nodes = self._label_paths.tour_by_labels(
            *self._paths, np.ascontiguousarray(stops, np.int64), bool(close), edge_ptr, edge_key, edge_s, edge_m, self.n)
        self.paths_read += paths
        self.path_nodes += path_nodes
        return nodes, cum_s, cum_m, int(bad)

    def path(self, source: int, target: int) -> list[int] | None:
        """Nodes of the fastest path from ``source`` to ``target`` (None when unreachable)."""
        if source == target:
            return [source]
        path = self._pair(source, target)
        return None if path is None else path.tolist()

    def path_array(self, source: int, target: int) -> np.ndarray | None:
        """``path`` as the search's array (int32; read only), for callers that sum along it."""
        if source == target:
            return np.array([source], np.int32)
        return self._pair(source, target)
