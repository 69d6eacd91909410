"""Where every unit on its patrol circuit is, for all units at once (the compiled dispatch path).

``FlatCircuits`` keeps every circuit built in the run in three flat arrays (cumulative
patrol seconds, nodes, cumulative response seconds), one segment per circuit, so that
``sim.engine.kernels.locate_on_circuits`` can locate all units in one call. The
per-unit anchors it reads live in ``sim.engine.search.DispatchIndex``. ``Located`` is
what a search leaves behind: where each unit was at that moment, read lazily by
sending the chosen unit and by the encirclement measure.
"""

from __future__ import annotations

import numpy as np

from sim.patrol import Circuit


class FlatCircuits:
    """Every circuit of the run as a segment of flat, growing arrays."""

    def __init__(self) -> None:
        self.t = np.empty(4096)
        self.node = np.empty(4096, np.int64)
        self.resp = np.empty(4096)
        self.size = 0
        self.start = np.empty(64, np.int64)
        self.end = np.empty(64, np.int64)
        self.period = np.empty(64)
        self.count = 0
        self.seg_of: dict = {}             # circuit_key -> segment
        self.version = 0                   # bumped when the arrays are replaced by larger ones

    def add(self, key, c: Circuit) -> int:
        n = len(c.t_s)
        while self.size + n > self.t.size:
            self.t, self.node, self.resp = (np.concatenate([a, np.empty_like(a)])
                                            for a in (self.t, self.node, self.resp))
            self.version += 1
        if self.count == self.start.size:
            self.start, self.end, self.period = (np.concatenate([a, np.empty_like(a)])
                                                 for a in (self.start, self.end, self.period))
            self.version += 1
        lo = self.size
        self.t[lo:lo + n] = c.t_s
        self.node[lo:lo + n] = c.nodes
        self.resp[lo:lo + n] = c.resp_s
        s = self.count
        self.start[s], self.end[s], self.period[s] = lo, lo + n, c.duration_s
        self.size += n
        self.count += 1
        self.seg_of[key] = s
        return s


class Located:
    """Where the units were at the last search: ``get(uid)`` -> (node it heads to, wait seconds) or None.

    Units located in Python (on a drive) are in ``off``; the others are read from the
    compiled search's arrays (``node`` is -1 for units it did not locate). Sending the
    chosen unit asks once or twice; the encirclement measure asks for every free unit,
    so from the third question on ``get`` is a dict's (built from the arrays then: they
    are reused by the next search, which comes after every question about this one).
    """

    __slots__ = ("off", "_node", "_wait", "_asked", "get")

    def __init__(self, off: dict, node: np.ndarray, wait: np.ndarray) -> None:
        self.off = off
        self._node, self._wait = node, wait
        self._asked = 0
        self.get = self._get

    def _get(self, uid: int, default=None):
        hit = self.off.get(uid)
        if hit is not None:
            return hit
        self._asked += 1
        if self._asked > 2:
            found = np.flatnonzero(self._node >= 0)
            table = dict(zip(found.tolist(), zip(self._node[found].tolist(), self._wait[found].tolist())))
            table.update(self.off)
            self.get = table.get
            return table.get(uid, default)
        node = int(self._node[uid])
        if node < 0:
            return default
        return node, float(self._wait[uid])
