"""The circuit arrays of the compiled dispatch path (``sim.engine.positions.FlatCircuits``).

They start with room for the circuits a run is expected to build and grow past it; either
way every circuit's segment and bound row must read back as written. On a large graph the
bound rows live in small pages (``rows_written_one_by_one``): still a plain float64 array that
the compiled search can take.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.dispatch_index import CIRCUITS_PER_UNIT_HINT, DispatchIndex
from sim.engine.positions import FlatCircuits, rows_written_one_by_one


class _Circuit:
    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.t_s = np.cumsum(rng.random(n))
        self.nodes = rng.integers(0, 1000, n)
        self.resp_s = rng.random(n)
        self.duration_s = float(self.t_s[-1]) + 1.0


@pytest.mark.parametrize("hint, n_circuits, n_places", [(4, 3, 50), (4, 11, 50), (2, 9, 300_000)])
def test_rows_read_back_within_and_past_the_room(hint, n_circuits, n_places):
    """Within the hint the arrays are made once (one version: the first bound row's); past it they
    grow (new versions) and keep every row."""
    rng = np.random.default_rng(hint + n_circuits)
    flat = FlatCircuits(circuits_hint=hint)
    written = []
    for k in range(n_circuits):
        c = _Circuit(rng, int(rng.integers(2, 40)))
        bound = rng.random(n_places)
        assert flat.add(("u", k), c, bound) == k
        written.append((c, bound))
    assert (flat.version == 1) == (n_circuits <= hint)
    assert flat.bound.dtype == np.float64 and flat.bound.flags.c_contiguous and flat.bound.flags.writeable
    for s, (c, bound) in enumerate(written):
        lo, hi, lap = flat.seg[s]
        np.testing.assert_array_equal(flat.flat[0, int(lo):int(hi)], c.t_s)
        np.testing.assert_array_equal(flat.flat[1, int(lo):int(hi)], c.nodes)
        assert lap == c.duration_s
        np.testing.assert_array_equal(flat.bound[s + 1], bound)
    np.testing.assert_array_equal(flat.bound[0], 0.0)       # segment -1: no circuit


def test_large_rows_are_a_plain_array():
    """Above 4 MB the rows come from an anonymous mapping: zeros, writable, shaped as asked."""
    rows = rows_written_one_by_one(40, 20_000)
    assert rows.shape == (40, 20_000) and rows.dtype == np.float64
    assert not rows.any()
    rows[3] = 1.5
    assert rows.sum() == 1.5 * 20_000


def test_dispatch_index_gives_room_for_three_circuits_per_unit():
    """The index sizes the arrays by its units, and the place-major copy likewise."""

    class _Unit:
        role = None

    ix = DispatchIndex([_Unit() for _ in range(7)], n_places=20)
    assert ix.flat.seg.shape[0] == CIRCUITS_PER_UNIT_HINT * 7
    ix.keep_bounds_by_place()
    assert ix.bounds_by_place.shape == (20, CIRCUITS_PER_UNIT_HINT * 7 + 1)
