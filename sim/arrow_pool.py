"""pyarrow's memory pool: the system allocator, unless the user chose a pool.

Why: pandas keeps the tables' text columns (each incident's grid cell, type, units, level ...) in
pyarrow arrays, allocated from pyarrow's default pool, mimalloc. In a process that holds a large
world, mimalloc's first allocations were often slow: after preparing the 13,002-node scale town, the
first text column (10 values) cost 10.6-11.0 ms of CPU and the first ``take`` of 3,000 values
4.4-4.6 ms in two processes of three, against 1.8 ms and 0.07 ms with the system allocator in each
(about 2 ms and 0.3 ms after preparing the 847-node town, with either). That falls on the first
replication of a process (of a run, of a sweep's worker): on the scale town (motorbikes, 14 days)
its tables took 20-34 ms (median 31.2, six processes) with mimalloc against 20-25 ms (median 24.6)
with the system pool; on the 847-node town 17.8-18.1 against 17.0-18.0 ms. Later replications'
tables cost the same in both pools.

The pool is chosen when ``sim.metrics`` (which makes the tables) is imported; a pool named in
``ARROW_DEFAULT_MEMORY_POOL`` (pyarrow's own setting) is left as it is.
"""

from __future__ import annotations

import os


def use_system_pool() -> bool:
    """Make the system allocator pyarrow's default pool, unless ``ARROW_DEFAULT_MEMORY_POOL`` names one.
    Returns whether it did."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return False
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    return True
