"""Named random streams: one SeedSequence per run, one child per replication, one
generator per named source inside a replication.

Each source (arrivals, places, types, on-scene times, patrol choices of unit 7,
...) draws from its own stream, so changing how one source is used never shifts
another, and replication ``i`` of two scenarios sees the same incidents (common
random numbers) as long as their demand is the same. Names are hashed with
crc32, which is stable across machines and Python versions.

A stream is numpy's ``PCG64`` seeded by ``SeedSequence(rep.entropy, spawn_key=rep.spawn_key +
(crc32(name),))``. Making that sequence and drawing the seed from it took 7 of a stream's 8.5 us,
and a replication of a large force makes a stream per circuit (924 at 1,920 officers in the
default town). The entropy words before the name's are the replication's, so they are mixed once
per replication (``_Prefix``: ``SeedSequence.mix_entropy``'s steps), and the rest per name in one
compiled call (``sim.seed_jit.named_state``) whose words are handed to ``PCG64`` (``_Seeded``): the
same seed, so the same draws. Each replication's first stream is checked against numpy's own
``SeedSequence``; if they ever differ (another numpy), numpy's is used for that replication.
The compiled call is used once numba is loaded (a run's engine loads it; a process that only
reads scenarios or samples demand never imports numba for this), numpy's sequence before.
"""

from __future__ import annotations

import sys
import zlib

import numpy as np
from numpy.random.bit_generator import ISeedSequence

_MASK = 0xFFFFFFFF
# numpy's SeedSequence constants (numpy/random/bit_generator.pyx)
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL = 4


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The SeedSequence of replication ``replication`` (0-based) of a run with ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def stream(rep: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of the named source within a replication."""
    key = zlib.crc32(name.encode("utf-8"))
    prefix = _prefix_of(rep, key) if "numba" in sys.modules else None
    if prefix is None:
        return np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(rep.entropy, spawn_key=tuple(rep.spawn_key) + (key,))))
    return np.random.Generator(np.random.PCG64(_Seeded(rep.entropy, tuple(rep.spawn_key) + (key,),
                                                       prefix.state(key))))


class _Seeded(ISeedSequence):
    """A named stream's seed sequence whose 128-bit state and increment (``generate_state(4, np.uint64)``,
    what ``PCG64`` asks for) were worked out already; anything else is asked of numpy's own sequence."""

    __slots__ = ("entropy", "spawn_key", "_words")

    def __init__(self, entropy, spawn_key: tuple, words: np.ndarray) -> None:
        self.entropy, self.spawn_key, self._words = entropy, spawn_key, words

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words == 4 and np.dtype(dtype) == np.uint64:
            return self._words.copy()
        return np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key).generate_state(n_words, dtype)


def _words_of(value) -> list[int]:
    """numpy's ``_coerce_to_uint32_array`` of an entropy or spawn-key item: little-endian 32-bit words."""
    if isinstance(value, (list, tuple)):
        return [w for v in value for w in _words_of(v)]
    value = int(value)
    if value < 0:
        raise ValueError("entropy and spawn keys are non-negative")
    out = [value & _MASK]
    value >>= 32
    while value:
        out.append(value & _MASK)
        value >>= 32
    return out


def _hashmix(value: int, const: int) -> tuple[int, int]:
    """numpy's ``hashmix``: (the mixed value, the next hash constant)."""
    value ^= const
    const = (const * _MULT_A) & _MASK
    value = (value * const) & _MASK
    return value ^ (value >> 16), const


def _mix(x: int, y: int) -> int:
    """numpy's ``mix`` of two 32-bit words."""
    r = (_MIX_L * x - _MIX_R * y) & _MASK
    return r ^ (r >> 16)


class _Prefix:
    """The pool of a replication's named streams before the name's word is mixed in, and the constants left.

    ``SeedSequence.mix_entropy`` over the run's entropy (padded to the pool's size, as numpy pads it
    when there is a spawn key), then the replication's spawn key: the same for every name. What
    follows per name is ``sim.seed_jit.named_state``.
    """

    def __init__(self, entropy, spawn_key: tuple) -> None:
        run = _words_of(entropy)
        words = run + [0] * (_POOL - len(run)) + _words_of(list(spawn_key))
        const = _INIT_A
        mixer = [0] * _POOL
        for i in range(_POOL):
            mixer[i], const = _hashmix(words[i] if i < len(words) else 0, const)
        for src in range(_POOL):
            for dst in range(_POOL):
                if src != dst:
                    h, const = _hashmix(mixer[src], const)
                    mixer[dst] = _mix(mixer[dst], h)
        for src in range(_POOL, len(words)):
            for dst in range(_POOL):
                h, const = _hashmix(words[src], const)
                mixer[dst] = _mix(mixer[dst], h)
        name_consts = []
        for _ in range(_POOL):                 # the name's word: xored with const, times the next
            nxt = (const * _MULT_A) & _MASK
            name_consts.append((const, nxt))
            const = nxt
        out_consts, const = [], _INIT_B
        for _ in range(2 * _POOL):             # generate_state's eight words
            nxt = (const * _MULT_B) & _MASK
            out_consts.append((const, nxt))
            const = nxt
        self.mixer = np.array(mixer, np.uint32)
        self.name_consts = np.array(name_consts, np.uint32)
        self.out_consts = np.array(out_consts, np.uint32)
        self._call = None

    def state(self, key: int) -> np.ndarray:
        """``generate_state(4, np.uint64)`` of the sequence with the name's word ``key`` (compiled)."""
        args = (self.mixer, self.name_consts, self.out_consts, key)
        call = self._call
        if call is None:       # the dispatcher once (it loads the code), then its code directly
            from sim.jit_entry import direct
            from sim.seed_jit import named_state
            out = named_state(*args)
            self._call = direct(named_state, args)
            return out
        return call(*args)


#: per (entropy, spawn key) of a replication: its ``_Prefix``, or False where it did not give numpy's words
_PREFIXES: dict = {}
_KEEP = 4096


def _prefix_of(rep: np.random.SeedSequence, key: int) -> _Prefix | None:
    """The replication's ``_Prefix`` (made and checked against numpy at its first stream), None to use numpy."""
    if type(rep.entropy) is not int:            # entropy given as a sequence: numpy's sequence
        return None
    spawn = tuple(rep.spawn_key)
    at = (rep.entropy, spawn)
    hit = _PREFIXES.get(at)
    if hit is None:
        if len(_PREFIXES) >= _KEEP:
            _PREFIXES.clear()
        hit = _Prefix(rep.entropy, spawn)
        want = np.random.SeedSequence(rep.entropy, spawn_key=spawn + (key,)).generate_state(4, np.uint64)
        if not np.array_equal(hit.state(key), want):
            hit = False
        _PREFIXES[at] = hit
    return hit or None
