"""The prepared world kept out of Python's garbage collector while a replication runs.

A replication makes hundreds of thousands of small objects (events, drives, records),
so the collector ran often, and each full collection visited every object alive: the
prepared world too (network, travel tables, scenario: some 200,000 objects in the
default town), about a tenth of a second each time, 7-15% of a simulated year's engine
time (``bench/gc_share.py``). ``world_frozen`` moves what exists when it starts into the
collector's permanent generation (``gc.freeze``) and back when it ends: the collection
that ends the block visits only what the replication itself made. While the block runs
the collector is off: the engine makes next to no cyclic garbage (reference counting
frees its events, drives and records as always; ``tests/test_collector.py`` counts what a
collection finds after replications of several kinds), and the collections it set off
visited the replication's own growing records again and again (about 65 ms of a
simulated year of the default town, for nothing found). Cyclic garbage that existed
before the start is kept until the end; so that a replication's own (an engine not
released, ``Engine.release``) is not carried frozen through the next one, a last
collection runs before the world is let go, over what the replication made only (about
a hundredth of a second for a simulated year once the engine is released).

Nothing is frozen (and the collector is left as it is) when the caller froze objects
itself (it then manages them; nested uses do nothing) or when the collector is off.
``collector_paused`` turns the collector off for a block that makes many objects without
cycles (a replication's tables).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


_frozen_here = 0     # world_frozen blocks open now (nested ones inside the first do nothing)


@contextmanager
def world_frozen():
    """Freeze every object alive now out of the collector until the block ends (see the module).

    A block nested in one of its own (the engine's run inside ``run_replication``) knows so
    from a counter: ``gc.get_freeze_count`` walks every frozen object (about 7 ms with the
    default town's world frozen), so it is asked only when nothing of ours is frozen, when
    it counts the caller's own frozen objects (none, as a rule: a walk of nothing).
    """
    global _frozen_here
    freeze = _frozen_here == 0 and gc.isenabled() and gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
        gc.disable()
    _frozen_here += 1
    try:
        yield
    finally:
        _frozen_here -= 1
        if freeze:
            gc.collect()
            gc.unfreeze()
            gc.enable()


@contextmanager
def collector_paused():
    """Python's garbage collector off while the tables are made (on again after, as it was).

    The tables make some 10^5 lists (the units sent to each incident) and many arrays at once,
    with the engine's own 10^5 lists of the log still alive: every collection the allocations
    set off visits those too, a third of the cost of making the lists. None of them form
    cycles; reference counting frees them as always, and ``world_frozen`` ends with a
    collection anyway.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
