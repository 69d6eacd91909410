"""Named random streams: one SeedSequence per run, one child per replication, one
generator per named source inside a replication.

Each source (arrivals, places, types, on-scene times, patrol choices of unit 7,
...) draws from its own stream, so changing how one source is used never shifts
another, and replication ``i`` of two scenarios sees the same incidents (common
random numbers) as long as their demand is the same. Names are hashed with
crc32, which is stable across machines and Python versions.
"""

from __future__ import annotations

import zlib

import numpy as np


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The SeedSequence of replication ``replication`` (0-based) of a run with ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def stream(rep: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of the named source within a replication."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(rep.entropy, spawn_key=tuple(rep.spawn_key) + (key,))))
