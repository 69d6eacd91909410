"""Where every unit on its patrol circuit is, for all units at once (the compiled dispatch path).

``FlatCircuits`` keeps every circuit built in the run in three flat arrays (cumulative
patrol seconds, nodes, cumulative response seconds), one segment per circuit, so that
``sim.engine.kernels.locate_on_circuits`` can locate all units in one call. The
per-unit anchors it reads live in ``sim.engine.dispatch_index.DispatchIndex``. ``Located`` is
what a search leaves behind: where each unit was at that moment, read lazily (by
the rules' walk, sending a unit the compiled call did not choose, call stacking).
"""

from __future__ import annotations

import mmap

import numpy as np

from sim.patrol import Circuit

# numpy asks the kernel for huge pages (2 MB) for an array of 4 MB or more; where that is honoured
# with compaction on the first write (seen on the virtual machines we measure on) a row written into a
# new huge page costs about 0.5 ms on a 13,000-place graph, against about 0.1 ms in small pages
NO_HUGE_PAGES = getattr(mmap, "MADV_NOHUGEPAGE", None)


def rows_written_one_by_one(n_rows: int, n_cols: int) -> np.ndarray:
    """An uninitialised (n_rows, n_cols) float64 array whose rows are written one at a time over a run.

    In small pages where the platform lets us ask (Linux): its rows are written a circuit at a
    time, each into memory not touched before, and most rows never are (room for the circuits
    a run may build). Elsewhere ``np.empty``.
    """
    size = n_rows * n_cols * 8
    if NO_HUGE_PAGES is None or size < (4 << 20):
        return np.empty((n_rows, n_cols))
    buf = mmap.mmap(-1, size)               # anonymous: zero pages, given when first written
    try:
        buf.madvise(NO_HUGE_PAGES)
    except OSError:                          # a kernel without transparent huge pages
        pass
    return np.frombuffer(buf, np.float64).reshape(n_rows, n_cols)


class CircuitBounds:
    """Each circuit's lower bound kept as what its bound search found, for graphs on the kernel backend.

    A row of every place per circuit (``FlatCircuits.bound``) cost a pass over every place when
    the circuit was built and 100 KB of memory written, on the 13,002-node town about 180 µs a
    circuit, most of what a circuit cost there; a search asks the bound at one place for each
    unit. Kept instead, per circuit (segment ``s``): the worst sources per landmark (``ff``,
    ``nt``: ``n_lm`` columns, of which the mode's landmarks use the first), the search's
    ``radius``, and the nodes within it with their seconds (``nodes[ptr[s]:ptr[s + 1]]``,
    sorted). ``sim.network.dijkstra_jit.bound_at`` gives from them the same bits as the row.
    """

    def __init__(self, circuits_hint: int, n_lm: int) -> None:
        cap = max(int(circuits_hint), 1)
        self.ff = np.empty((cap, n_lm))
        self.nt = np.empty((cap, n_lm))
        self.radius = np.empty(cap)
        self.ptr = np.zeros(cap + 1, np.int64)
        self.nodes = np.empty(1024, np.int64)
        self.seconds = np.empty(1024)

    def add(self, s: int, params: tuple) -> bool:
        """Keep segment ``s``'s bound (``TravelOracle.bound_params_from_set``); True when an array was replaced."""
        far_from, near_to, radius, nodes, seconds = params
        grown = False
        if s >= self.radius.size:
            cap = 2 * self.radius.size
            self.ff, self.nt = (np.concatenate([a, np.empty_like(a)]) for a in (self.ff, self.nt))
            self.radius = np.concatenate([self.radius, np.empty_like(self.radius)])
            self.ptr = np.concatenate([self.ptr, np.zeros(cap + 1 - self.ptr.size, np.int64)])
            grown = True
        lo = int(self.ptr[s])
        hi = lo + nodes.size
        while hi > self.nodes.size:
            self.nodes = np.concatenate([self.nodes, np.empty_like(self.nodes)])
            self.seconds = np.concatenate([self.seconds, np.empty_like(self.seconds)])
            grown = True
        k = far_from.size
        self.ff[s, :k], self.nt[s, :k] = far_from, near_to
        self.radius[s] = radius
        self.nodes[lo:hi], self.seconds[lo:hi] = nodes, seconds
        self.ptr[s + 1] = hi
        return grown

    @property
    def arrays(self) -> tuple:
        """What the compiled walks read (``bound_at``'s per-circuit arguments)."""
        return self.ff, self.nt, self.radius, self.ptr, self.nodes, self.seconds


class FlatCircuits:
    """Every circuit of the run as a segment of flat, growing arrays.

    ``flat`` rows: cumulative patrol seconds, nodes, cumulative response seconds (nodes as
    floats: exact, and one array is one argument of the compiled call); ``seg`` per
    circuit: first column, end column (exclusive), lap seconds; ``bound`` per circuit (row
    ``s + 1`` for segment ``s``; row 0 is zeros, the row of segment -1: no circuit), if given,
    its lower bound of the seconds to every place: a unit's bound row is then its segment
    number plus one, so that a shift change writes one integer per unit instead of copying a
    row of every place.

    ``circuits_hint``: the circuits a run is expected to build (``DispatchIndex`` passes three
    per unit: one per shift of a day at one level). ``seg`` and ``bound`` start with room for
    that many, so that the common run never grows them: on a large graph growing ``bound``
    copied every row written so far into new memory (a row of every place is 100 KB at 13,000
    places), which cost as much as building the circuits. Rows never written cost no memory
    (the pages of ``np.empty`` are touched only when written).
    """

    def __init__(self, circuits_hint: int = 64) -> None:
        self.flat = np.empty((3, 4096))
        self.size = 0
        self.seg = np.empty((max(int(circuits_hint), 1), 3))
        self.count = 0
        self.seg_of: dict = {}             # circuit_key -> segment
        self.bound = np.zeros((0, 0))      # segment + 1 -> lower bound per place (made at the first bound)
        self.bounds: CircuitBounds | None = None   # or each circuit's bound kept small (bounds_on_demand)
        self.version = 0                   # bumped when the arrays are replaced by larger ones

    def bounds_on_demand(self, n_lm: int) -> None:
        """Keep each circuit's bound as ``CircuitBounds`` (``add_bound``), not as a row of every place."""
        self.bounds = CircuitBounds(self.seg.shape[0], n_lm)

    def add_bound(self, key, c: Circuit, params: tuple) -> int:
        """``add`` of a circuit whose bound is kept on demand (``CircuitBounds.add``)."""
        s = self.add(key, c)
        if self.bounds.add(s, params):
            self.version += 1
        return s

    def add(self, key, c: Circuit, bound: np.ndarray | None = None) -> int:
        n = len(c.t_s)
        while self.size + n > self.flat.shape[1]:
            self.flat = np.concatenate([self.flat, np.empty_like(self.flat)], axis=1)
            self.version += 1
        if self.count == self.seg.shape[0]:
            self.seg = np.concatenate([self.seg, np.empty_like(self.seg)])
            self.version += 1
        lo = self.size
        self.flat[0, lo:lo + n] = c.t_s
        self.flat[1, lo:lo + n] = c.nodes
        self.flat[2, lo:lo + n] = c.resp_s
        s = self.count
        self.seg[s] = (lo, lo + n, c.duration_s)
        if bound is not None:
            if self.bound.shape[0] <= s + 1:
                # rows past the last circuit's are never read: not zeroed (on a large graph a row
                # of every place is 100 KB, and zeroing rows ahead cost more than the rows written)
                grown = rows_written_one_by_one(self.seg.shape[0] + 1, bound.shape[0])
                if self.bound.shape[0]:
                    grown[:s + 1] = self.bound[:s + 1]
                else:
                    grown[0] = 0.0
                self.bound = grown
                self.version += 1
            self.bound[s + 1] = bound
        self.size += n
        self.count += 1
        self.seg_of[key] = s
        return s


class Located:
    """Where the units were at the last search: ``get(uid)`` -> (node it heads to, wait seconds) or None.

    Units located in Python (on a drive) are in ``off``; the others are read from the
    compiled search's arrays (``node``, as floats, is -1 for units it did not locate). Most
    searches ask once or twice; from the third question on ``get`` is a dict's (built from the
    arrays then: they are reused by the next search, which comes after every question about
    this one). The encirclement measure reads the arrays themselves (``UnitSearch.where_rows``).
    One object serves every search of a run: ``reset`` (by the search) starts it afresh.
    """

    __slots__ = ("off", "_node", "_wait", "_asked", "get", "_locate", "_t", "_locate_args")

    def __init__(self, node: np.ndarray, wait: np.ndarray, locate=None) -> None:
        self._node, self._wait = node, wait
        # locate(uids, t, *locate_args): locate, into node and wait, the units on their circuit the
        # search skipped because they could not win (``kernels.locate_on_circuit``, at the search's time)
        self._locate = locate
        self.reset({}, 0.0, ())

    def reset(self, off: dict, t: float, locate_args: tuple) -> None:
        """A new search at ``t``: ``off`` the units it located in Python, ``locate_args`` the kernel's arrays."""
        self.off = off
        self._t, self._locate_args = t, locate_args
        self._asked = 0
        self.get = self._get

    def _relocate(self, uids: np.ndarray) -> None:
        if self._locate is not None:
            self._locate(uids, self._t, *self._locate_args)

    def _get(self, uid: int, default=None):
        hit = self.off.get(uid)
        if hit is not None:
            return hit
        self._asked += 1
        if self._asked > 2:
            self._relocate(np.arange(self._node.size))
            found = np.flatnonzero(self._node >= 0)
            table = dict(zip(found.tolist(), zip(self._node[found].astype(np.int64).tolist(),
                                                 self._wait[found].tolist())))
            table.update(self.off)
            self.get = table.get
            return table.get(uid, default)
        node = int(self._node[uid])
        if node < 0 and self._locate is not None:
            self._relocate(np.array([uid], np.int64))
            node = int(self._node[uid])
        if node < 0:
            return default
        return node, float(self._wait[uid])
