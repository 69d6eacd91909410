"""The last steps of numpy's ``SeedSequence`` for a named stream, compiled: a stream's seed in well under a microsecond.

Why: every named stream (``sim.streams.stream``) used to make a ``SeedSequence`` of the
replication's entropy and spawn key plus the name's crc32, and a ``PCG64`` from it: about
8.5 us, of which hashing the entropy (3.8 us) and drawing the generator's 128-bit state and
increment from it (``generate_state(4, uint64)``, 3.0 us) were nearly all. A replication of
the default town at 1,920 officers makes 924 streams (a circuit per unit, level and period,
a start point per unit). The words before the name's are the same for every stream of a
replication, so ``sim.streams`` mixes them once (in Python, ``SeedSequence.mix_entropy``'s
steps) and this loop does what is left per name: mix the name's word into the four pool
words, then ``generate_state``'s hashes. The same 32-bit operations as numpy's (its
``hashmix``, ``mix`` and output hash, in ``numpy/random/bit_generator.pyx``), so the same
words; ``sim.streams`` checks them against numpy's own once per replication and uses numpy
if they ever differ.
"""

from __future__ import annotations

import numpy as np
from numba import njit

MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715


@njit(cache=True, nogil=True)
def named_state(mixer, name_consts, out_consts, word):
    """``SeedSequence.generate_state(4, np.uint64)`` of the sequence whose last entropy word is ``word``.

    ``mixer`` (4 uint32): the pool after every entropy word before ``word``; ``name_consts``
    (4, 2): per pool word, the hash constant ``hashmix`` xors ``word`` with and the one it
    multiplies by (the constants follow from the number of words mixed before, not their
    values); ``out_consts`` (8, 2): ``generate_state``'s constants for its eight 32-bit words.
    Returns the four little-endian pairs of those words as uint64, as numpy returns them.
    """
    w = np.uint32(word)
    shift = np.uint32(16)
    pool = np.empty(4, np.uint32)
    for d in range(4):
        v = np.uint32((w ^ name_consts[d, 0]) * name_consts[d, 1])           # hashmix
        v ^= v >> shift
        r = np.uint32(np.uint32(MIX_MULT_L) * mixer[d] - np.uint32(MIX_MULT_R) * v)     # mix
        pool[d] = r ^ (r >> shift)
    out = np.empty(4, np.uint64)
    for i in range(4):
        lo = np.uint32((pool[(2 * i) & 3] ^ out_consts[2 * i, 0]) * out_consts[2 * i, 1])
        lo ^= lo >> shift
        hi = np.uint32((pool[(2 * i + 1) & 3] ^ out_consts[2 * i + 1, 0]) * out_consts[2 * i + 1, 1])
        hi ^= hi >> shift
        out[i] = np.uint64(lo) | (np.uint64(hi) << np.uint64(32))
    return out
