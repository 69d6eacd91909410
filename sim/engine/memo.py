"""What every engine of a world makes alike from the world's fixed parts, made once per process.

Each replication builds an engine (``sim.experiment.replicate.make_engine``), and an engine
turned the city's per-place arrays into the lists and tables it reads (the node driven to
and the seconds walked from it, per place and mode; the demand's weights by shift; the
cordon's roads by grid cell). Making an engine took 5.5 ms on the 13,002-node town against
1.1 ms on the 847-node one (median of 15 engines made, all motorbikes; 1.9 and 0.7 ms with
this memo): the 4.4 ms more were about 1.2 µs per incident of a 14-day replication. The world's parts do not change once prepared, so these
are kept here, keyed by the identity of the objects they are made from. The memo holds those
objects, so an identity is not reused while its entry lives; the ``KEEP`` newest entries
stay. The values are shared by every engine: their readers only read them (arrays are not
marked read only: numba compiles read-only arrays as another type, and the compiled loops
that read them are loaded for writable ones).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

KEEP = 32

_memo: OrderedDict = OrderedDict()
_lock = threading.Lock()      # Dask workers may run tasks in threads


def made_once(fn, *objects, args: tuple = ()):
    """``fn(*objects, *args)``, made once for these objects (by identity) and arguments (by value)."""
    key = (fn, tuple(id(o) for o in objects), args)
    with _lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
            return hit[1]
    value = fn(*objects, *args)
    with _lock:
        _memo[key] = (objects, value)
        while len(_memo) > KEEP:
            _memo.popitem(last=False)
    return value
