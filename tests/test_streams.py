"""Named streams (``sim.streams.stream``) draw exactly what numpy's own ``SeedSequence`` of the name gives.

The seed is worked out per replication and name without making the sequence (``_Prefix``,
``sim.seed_jit.named_state``); any difference in one word would change every draw, so the
draws are compared exactly, over entropies of one to three 32-bit words and spawn keys of
none to three items, as a replication's and a user's seeds make them.
"""

from __future__ import annotations

import subprocess
import sys
import zlib

import numba  # noqa: F401  (loaded: the compiled path is the one a run takes)
import numpy as np
import pytest

from sim import streams
from sim.streams import replication_seed, stream


def numpy_stream(rep: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The stream as numpy makes it from the sequence itself (what ``stream`` did before)."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(rep.entropy, spawn_key=tuple(rep.spawn_key) + (key,))))


def seeds(n: int) -> list[np.random.SeedSequence]:
    rng = np.random.default_rng(2026)
    out = [replication_seed(0, 0), replication_seed(20260101, 31), np.random.SeedSequence(7)]
    for i in range(n):
        entropy = int(rng.integers(0, 2**63)) if i % 3 else int(rng.integers(0, 1000))
        if i % 5 == 0:
            entropy = entropy * 2**64 + int(rng.integers(0, 2**32))     # three words
        spawn = tuple(int(v) for v in rng.integers(0, 2**40, int(rng.integers(0, 4))))
        out.append(np.random.SeedSequence(entropy, spawn_key=spawn))
    return out


def test_streams_draw_what_numpy_sequences_give():
    for i, rep in enumerate(seeds(400)):
        for name in (f"patrol-unit-{i}-green-{i % 3}", f"patrol-start-{i}", "places"):
            got, want = stream(rep, name), numpy_stream(rep, name)
            assert np.array_equal(got.random(4), want.random(4)), (rep, name)
            assert np.array_equal(got.integers(0, 10**9, 3), want.integers(0, 10**9, 3)), (rep, name)
    assert all(v is not False for v in streams._PREFIXES.values())   # every replication on the fast path


def test_the_fast_path_is_taken_and_its_sequence_answers_like_numpys():
    rep = replication_seed(42, 3)
    g = stream(rep, "patrol-unit-5-red-1")
    seq = g.bit_generator.seed_seq
    assert isinstance(seq, streams._Seeded)
    want = np.random.SeedSequence(rep.entropy, spawn_key=(3, zlib.crc32(b"patrol-unit-5-red-1")))
    for n, dtype in ((4, np.uint64), (2, np.uint64), (8, np.uint32), (3, np.uint32)):
        assert np.array_equal(seq.generate_state(n, dtype), want.generate_state(n, dtype))


def test_a_replication_whose_words_differ_takes_numpys_sequence():
    rep = replication_seed(11, 0)
    streams._PREFIXES[(rep.entropy, tuple(rep.spawn_key))] = False      # as the check records a mismatch
    try:
        g = stream(rep, "arrival-counts")
        assert isinstance(g.bit_generator.seed_seq, np.random.SeedSequence)
        assert np.array_equal(g.random(3), numpy_stream(rep, "arrival-counts").random(3))
    finally:
        streams._PREFIXES.clear()


def test_entropy_given_as_words_takes_numpys_sequence():
    rep = np.random.SeedSequence([3, 1 << 40], spawn_key=(2,))
    g = stream(rep, "types")
    assert isinstance(g.bit_generator.seed_seq, np.random.SeedSequence)
    assert np.array_equal(g.random(3), numpy_stream(rep, "types").random(3))


@pytest.mark.parametrize("name", ["on-scene", "patrol-start-0"])
def test_without_numba_loaded_streams_are_the_same_and_numba_stays_unloaded(name):
    rep = replication_seed(5, 1)
    code = ("import sys, numpy as np\n"
            "from sim.streams import stream, replication_seed\n"
            f"print(repr(stream(replication_seed(5, 1), {name!r}).random(3).tolist()))\n"
            "print('numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == repr(numpy_stream(rep, name).random(3).tolist())
    assert out[1] == "False"
