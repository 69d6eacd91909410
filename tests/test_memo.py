"""What engines make alike from a world's fixed parts is made once per process, and no engine changes it."""

from __future__ import annotations

import numpy as np

from sim.engine import memo
from sim.engine.core import place_columns
from sim.experiment import run_replication


def _pair(a, b):
    return [len(a), len(b)]


def _pair2(a, b, k):
    return [len(a), len(b), k]


def test_made_once_by_identity_and_arguments(monkeypatch):
    monkeypatch.setattr(memo, "_memo", memo.OrderedDict())
    a, b = [1, 2], [1, 2]                       # equal, not the same object
    first = memo.made_once(_pair, a, b)
    assert memo.made_once(_pair, a, b) is first
    assert memo.made_once(_pair, b, a) is not first
    with_args = memo.made_once(_pair2, a, b, args=(1,))                       # arguments are part of the key
    assert memo.made_once(_pair2, a, b, args=(1,)) is with_args
    assert memo.made_once(_pair2, a, b, args=(2,)) is not with_args
    monkeypatch.setattr(memo, "KEEP", 2)
    memo.made_once(_pair, a, a)
    memo.made_once(_pair, b, b)                 # the oldest entries go
    assert len(memo._memo) == 2 and memo.made_once(_pair, a, b) is not first


def test_engines_share_the_columns_and_leave_them_as_made(small_ctx):
    """Two replications in one process: the same per-place lists (one object), equal to fresh ones after."""
    one = run_replication(small_ctx, 0)
    before = {m: memo.made_once(place_columns, small_ctx.city.place_node[m], small_ctx.city.place_offset_m[m],
                                args=(float(mt.offset_speed_mps),)) for m, mt in small_ctx.travel.items()}
    two = run_replication(small_ctx, 1)
    again = run_replication(small_ctx, 0)
    for m, mt in small_ctx.travel.items():
        shared = memo.made_once(place_columns, small_ctx.city.place_node[m], small_ctx.city.place_offset_m[m],
                                args=(float(mt.offset_speed_mps),))
        assert shared is before[m]
        fresh = place_columns(small_ctx.city.place_node[m], small_ctx.city.place_offset_m[m],
                              float(mt.offset_speed_mps))
        np.testing.assert_array_equal(shared[0], fresh[0])
        assert shared[1:] == fresh[1:]
    assert len(two.incidents) > 0
    np.testing.assert_array_equal(one.incidents["first_arrival_s"], again.incidents["first_arrival_s"])
