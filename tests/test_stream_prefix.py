"""``StreamPrefix`` gives the named streams of ``sim.streams.stream``, state for state.

The patrol circuits' streams are made from the replication's mixed prefix
(``sim.engine.stream_prefix``: NumPy's ``SeedSequence`` mixing and ``PCG64`` seeding in
plain integers). Every state must be the one ``stream`` gives, for small, 32-bit-edge,
64-bit and 128-bit seeds, spawn keys of one and two words and names of any length; the
reused generator must draw what a fresh one draws; ``Circuits`` falls back to ``stream``
when the check fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import duty as D
from sim.engine.stream_prefix import StreamPrefix
from sim.streams import replication_seed, stream

SEEDS = (0, 1, 11, 2**32 - 1, 2**32, 2**64 + 3, 10**30)
NAMES = ("patrol-unit-0-green-0", "patrol-unit-278-red-2", "patrol-start-17", "", "x", "ünï-cödé " * 20)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("replication", (0, 3, 2**40))
def test_states_are_the_named_streams(seed, replication):
    rep = replication_seed(seed, replication)
    prefix = StreamPrefix(rep)
    for name in NAMES:
        want = stream(rep, name)
        state, inc = prefix.state(name)
        assert (state, inc) == (want.bit_generator.state["state"]["state"], want.bit_generator.state["state"]["inc"])
        # the reused generator draws what the stream draws, after any earlier use of it
        got = prefix.generator(name)
        assert np.array_equal(got.choice(50, size=10, replace=False), want.choice(50, size=10, replace=False))
        assert got.random() == want.random()


def test_an_entropy_drawn_from_the_os_and_a_longer_spawn_key():
    rep = np.random.SeedSequence(None, spawn_key=(5, 2**33))
    prefix = StreamPrefix(rep)
    assert all(prefix.check(name) for name in NAMES)


def test_a_changed_algorithm_falls_back_to_the_streams(monkeypatch):
    rep = replication_seed(11, 0)
    assert D.prefix_streams(rep) is not None
    monkeypatch.setattr(StreamPrefix, "state", lambda self, name: (1, 3))    # a numpy whose states differ
    assert D.prefix_streams(rep) is None
    with pytest.raises(ValueError):
        StreamPrefix(np.random.SeedSequence(1, pool_size=8))
    assert D.prefix_streams(np.random.SeedSequence(1, pool_size=8)) is None
