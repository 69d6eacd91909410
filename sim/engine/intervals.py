"""The patrol intervals of a run: one record per stretch a unit spent on a circuit, in the order they closed.

A record is ``(uid, t0, t1, circuit_key, anchor_t, anchor_tau)``: on the circuit ``circuit_key``
from ``t0`` to ``t1``, at lap time ``anchor_tau`` at ``anchor_t``. ``sim.visibility`` reads them
as columns. Most records of a large force close at shift changes, where the batched switch
(``sim.engine.rejoin``) has their numbers in arrays already (at 1,920 officers in the default
town, 40,179 of 60 days' 57,421 records). A tuple per record, its lap time filled in after the
switch and its times and key read back out for the tables, cost 13 ms of those 60 days' tables
alone (``visibility.interval_columns``). So such records are kept as a block of arrays
(``add_block``), with a placeholder (None) in the list where each record goes, and ``columns``
reads the tuples and the blocks into the same columns, in the same order (7 ms).

``PatrolIntervals`` is a sequence of the records as tuples (``len``, iteration, indexing,
``==`` and ``repr`` as the list of them): the tuples of a block are made when first asked for.
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter, not_

import numpy as np

_TIMES = itemgetter(1, 2, 4, 5)
_KEY = itemgetter(3)


class PatrolIntervals:
    """The records in closing order: tuples appended one by one (``append``) and blocks (``add_block``)."""

    def __init__(self) -> None:
        self.rows: list = []           # a record's tuple, or None where a block's record goes
        self.append = self.rows.append
        self.extend = self.rows.extend     # placeholders by the run (``extend(repeat(None, n))``)
        # per block, in order: (rows: uid, anchor time, segment; anchor_tau; t1; key of a segment);
        # its records (the rows anchored before t1) fill the next placeholders in order
        self._blocks: list = []

    @classmethod
    def of(cls, records: list) -> PatrolIntervals:
        """The records of a plain list (a log made elsewhere), as a sequence without blocks."""
        held = cls()
        held.extend(records)
        return held

    def add_block(self, rows: np.ndarray, anchor_tau: np.ndarray, t1: float, key_of_seg: dict) -> None:
        """The records of the placeholders appended since the last block, in their order.

        ``rows``: per unit of a batched switch at ``t1``, (uid, anchor time, segment of the
        circuit it left); ``anchor_tau`` its lap time then. Only the units whose anchor time is
        before ``t1`` closed a record (each ``(uid, t0, t1, key_of_seg[segment], t0, anchor_tau)``);
        they are picked out when the records are read, as is ``key_of_seg`` (one dict for
        every block of a run, that only grows).
        """
        self._blocks.append((rows, anchor_tau, t1, key_of_seg))

    def _block_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The blocks' records in order: (uid, t0, t1, segment, anchor_tau), every block at once."""
        blocks = self._blocks
        rows = np.concatenate([b[0] for b in blocks])
        t1 = np.repeat([b[2] for b in blocks], [b[0].shape[0] for b in blocks])
        closed = rows[:, 1] < t1
        rows = rows[closed]
        return (rows[:, 0].astype(np.int64), rows[:, 1], t1[closed], rows[:, 2].astype(np.int64),
                np.concatenate([b[1] for b in blocks])[closed])

    def columns(self) -> tuple[np.ndarray, object, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every record's columns, in order: (key codes, ``key_at``, t0, t1, anchor_t, anchor_tau).

        The four times of the tuples are read in one pass into one flat array: transposing 10^5
        tuples in Python allocates enough objects to set off the garbage collector many times over,
        and a pass per field reads the records (scattered over a year's memory) four times.

        A record's circuit key is given as an integer code, equal for records that share the
        key object: ``id`` of a tuple's key, ``-1 - segment`` for a block's record (a segment
        has one key object). ``key_at(i)`` is record ``i``'s key. The times are float arrays.
        """
        rows = self.rows
        n = len(rows)
        tuples = list(filter(None, rows)) if self._blocks else rows
        m = len(tuples)
        times = np.fromiter(chain.from_iterable(map(_TIMES, tuples)), float, count=4 * m).reshape(m, 4).T
        ids = np.fromiter(map(id, map(_KEY, tuples)), np.int64, count=m)
        if m == n:
            t0, t1, anchor_t, anchor_tau = (np.ascontiguousarray(c) for c in times)
            return ids, lambda i: rows[i][3], t0, t1, anchor_t, anchor_tau
        held = np.fromiter(map(not_, rows), bool, count=n)          # the placeholders: the blocks' records
        _, t0, t1, segs, tau = self._block_columns()
        out = np.empty((4, n))
        out[:, ~held] = times
        out[0, held] = t0
        out[1, held] = t1
        out[2, held] = t0
        out[3, held] = tau
        codes = np.empty(n, np.int64)
        codes[~held] = ids
        codes[held] = -1 - segs
        key_of_seg = self._blocks[-1][3]

        def key_at(i: int):
            r = rows[i]
            return r[3] if r is not None else key_of_seg[-1 - int(codes[i])]
        return codes, key_at, out[0], out[1], out[2], out[3]

    def tuples(self) -> list:
        """Every record as its tuple, in order (the blocks' made now)."""
        if not self._blocks:
            return list(self.rows)
        uid, t0, t1, segs, tau = self._block_columns()
        key_of_seg = self._blocks[-1][3]
        made = zip(uid.tolist(), t0.tolist(), t1.tolist(), map(key_of_seg.__getitem__, segs.tolist()), t0.tolist(),
                   tau.tolist())
        return [r if r is not None else next(made) for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.tuples())

    def __getitem__(self, i):
        return self.tuples()[i]

    def __eq__(self, other) -> bool:
        if isinstance(other, PatrolIntervals):
            other = other.tuples()
        return isinstance(other, list) and self.tuples() == other

    __hash__ = None

    def __repr__(self) -> str:
        return repr(self.tuples())
