"""The named random streams of patrol circuits, made from their replication's mixed prefix.

Every patrol circuit draws its stops from its own stream (``sim.streams.stream(rep,
"patrol-unit-{uid}-{level}-{period}")``): at 1,920 officers in the default town that is
693 streams per replication, and numpy makes each in about 40 us (``SeedSequence`` mixes
its whole entropy in Cython with Python-level conversions, ``PCG64`` draws its seed
through an ``errstate`` context): a sixth of a circuit's build, and a cost that grows
with the force.

A stream's ``SeedSequence`` is ``(rep.entropy, rep.spawn_key + (crc32(name),))``, and its
mixing (NumPy's documented ``SeedSequence`` algorithm, NEP 19) takes the entropy words in
order: the replication's words first, the name's one word last. So the pool after the
replication's words is the same for every name (``StreamPrefix`` mixes it once); per name
only its word is mixed in (four steps), the state generated (eight) and the ``PCG64``
seeded (``pcg_setseq_128_srandom_r``: two steps of the 128-bit LCG), all in plain integer
arithmetic, and the state set on one reused generator.

``StreamPrefix.check`` compares the state with ``sim.streams.stream`` for a name; ``duty``
checks once per replication and falls back to ``stream`` if they ever differ (a NumPy
that changed the algorithm), so results cannot silently move. ``tests/test_stream_prefix.py``
compares the states for many seeds, spawn keys and names.
"""

from __future__ import annotations

import zlib

import numpy as np

M32 = 0xFFFF_FFFF
M128 = (1 << 128) - 1
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875     # numpy.random.bit_generator (SeedSequence)
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = 16
POOL_SIZE = 4
PCG_MULT_128 = (2549297995355413924 << 64) + 4865540595714422341   # PCG_DEFAULT_MULTIPLIER_128


def _words(x) -> list[int]:
    """``_coerce_to_uint32_array`` of a non-negative int or a sequence of them: 32-bit words, low first."""
    if isinstance(x, (int, np.integer)):
        x = int(x)
        if x < 0:
            raise ValueError("entropy must be non-negative")
        out = [x & M32]
        x >>= 32
        while x:
            out.append(x & M32)
            x >>= 32
        return out
    return [w for v in x for w in _words(v)]


class StreamPrefix:
    """The streams ``sim.streams.stream(rep, name)`` of one replication ``rep``, made faster.

    ``generator(name)`` returns one reused ``numpy.random.Generator`` set to the state the
    named stream starts in: use it before asking for the next name.
    """

    def __init__(self, rep: np.random.SeedSequence) -> None:
        if rep.pool_size != POOL_SIZE:
            raise ValueError("StreamPrefix mixes pools of 4 words only")
        run = _words(rep.entropy)
        spawn = _words(tuple(rep.spawn_key))
        # the name's word comes after the spawn key, so the run's words are padded to the pool
        if len(run) < POOL_SIZE:
            run = run + [0] * (POOL_SIZE - len(run))
        words = run + spawn
        h = INIT_A
        pool = [0] * POOL_SIZE
        for i in range(POOL_SIZE):                        # mix_entropy: the first words fill the pool
            pool[i], h = _hashmix(words[i], h)
        for i_src in range(POOL_SIZE):                    # every word of the pool into every other
            for i_dst in range(POOL_SIZE):
                if i_src != i_dst:
                    v, h = _hashmix(pool[i_src], h)
                    pool[i_dst] = _mix(pool[i_dst], v)
        for w in words[POOL_SIZE:]:                       # the rest of the entropy, word by word
            for i_dst in range(POOL_SIZE):
                v, h = _hashmix(w, h)
                pool[i_dst] = _mix(pool[i_dst], v)
        self._pool, self._h = tuple(pool), h
        self._bits = np.random.PCG64(0)
        self._gen = np.random.Generator(self._bits)
        self._rep = rep

    def state(self, name: str) -> tuple[int, int]:
        """The ``PCG64`` (state, inc) the named stream starts in."""
        key = zlib.crc32(name.encode("utf-8"))        # one word (< 2**32), as sim.streams.stream
        h = self._h
        p0, p1, p2, p3 = self._pool
        # mix_entropy: the name's word into each pool word (hashmix, then mix)
        v = (key ^ h) & M32
        h = (h * MULT_A) & M32
        v = (v * h) & M32
        v ^= v >> XSHIFT
        r = (MIX_MULT_L * p0 - MIX_MULT_R * v) & M32
        p0 = r ^ (r >> XSHIFT)
        v = (key ^ h) & M32
        h = (h * MULT_A) & M32
        v = (v * h) & M32
        v ^= v >> XSHIFT
        r = (MIX_MULT_L * p1 - MIX_MULT_R * v) & M32
        p1 = r ^ (r >> XSHIFT)
        v = (key ^ h) & M32
        h = (h * MULT_A) & M32
        v = (v * h) & M32
        v ^= v >> XSHIFT
        r = (MIX_MULT_L * p2 - MIX_MULT_R * v) & M32
        p2 = r ^ (r >> XSHIFT)
        v = (key ^ h) & M32
        h = (h * MULT_A) & M32
        v = (v * h) & M32
        v ^= v >> XSHIFT
        r = (MIX_MULT_L * p3 - MIX_MULT_R * v) & M32
        p3 = r ^ (r >> XSHIFT)
        # generate_state(4, uint64): eight 32-bit words cycling over the pool, paired low word first
        hb = INIT_B
        out = []
        for src in (p0, p1, p2, p3, p0, p1, p2, p3):
            d = (src ^ hb) & M32
            hb = (hb * MULT_B) & M32
            d = (d * hb) & M32
            out.append(d ^ (d >> XSHIFT))
        s0, s1 = out[0] | (out[1] << 32), out[2] | (out[3] << 32)
        i0, i1 = out[4] | (out[5] << 32), out[6] | (out[7] << 32)
        # pcg64_set_seed: pcg_setseq_128_srandom_r(state = s0:s1, seq = i0:i1)
        inc = (((i0 << 64) | i1) << 1 | 1) & M128
        state = (inc * 1) & M128                         # state 0, one step: 0 * mult + inc
        state = (state + ((s0 << 64) | s1)) & M128
        state = (state * PCG_MULT_128 + inc) & M128
        return state, inc

    def generator(self, name: str) -> np.random.Generator:
        """The reused generator, set to the start of the named stream (as ``sim.streams.stream`` makes it)."""
        state, inc = self.state(name)
        self._bits.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                            "has_uint32": 0, "uinteger": 0}
        return self._gen

    def check(self, name: str) -> bool:
        """Whether ``name``'s state is the one ``sim.streams.stream`` gives (one stream made the slow way)."""
        from sim.streams import stream
        state, inc = self.state(name)
        want = stream(self._rep, name).bit_generator.state
        return (want["state"]["state"], want["state"]["inc"], want["has_uint32"]) == (state, inc, 0)


def _hashmix(value: int, h: int) -> tuple[int, int]:
    """SeedSequence's ``hashmix``: (mixed value, next hash constant), 32-bit."""
    value = (value ^ h) & M32
    h = (h * MULT_A) & M32
    value = (value * h) & M32
    return value ^ (value >> XSHIFT), h


def _mix(x: int, y: int) -> int:
    """SeedSequence's ``mix`` of two 32-bit words."""
    r = (MIX_MULT_L * x - MIX_MULT_R * y) & M32
    return r ^ (r >> XSHIFT)
