"""Compiled code called without numba's type dispatch, for calls made millions of times.

Every call of a numba dispatcher first finds the type of each argument and the overload
compiled for them: about a microsecond for a handful of arrays, as much as a small loop's
own work (the dispatch search's, a hub-label pair's, the nearest node of a circuit).
``direct`` hands back the overload's entry point for given argument types; callers keep it
while their arguments keep their types. It lives below both the network and the engine,
which both call it.
"""

from __future__ import annotations

import numpy as np


#: entry points found, by (dispatcher, the arguments' type key): see ``direct``
_ENTRIES: dict = {}
_INT64 = (-(1 << 63), 1 << 63)


def _type_key(a):
    """A key for ``a`` as fine as numba's type of it, made without numba's ``typeof``.

    An array's numba type is its dtype, dimensions, layout, whether it is read-only and aligned;
    the key holds its class (a subclass may type otherwise), dtype, dimensions, both contiguity
    flags (finer than the layout), the write flag and alignment. A tuple's key is its items'; a
    bool, float or an int that fits in 64 bits is its Python type (numba: boolean, float64, int64).
    Anything else gives None: no key.
    """
    if isinstance(a, np.ndarray):
        f = a.flags
        return (type(a), a.dtype.str, a.ndim, f.c_contiguous, f.f_contiguous, f.writeable, f.aligned)
    if isinstance(a, tuple):
        items = tuple(map(_type_key, a))
        return None if None in items else (tuple, items)
    t = type(a)
    if t is bool or t is float:
        return t
    if t is int:
        return (int,) if _INT64[0] <= a < _INT64[1] else None
    return None


def direct(dispatcher, args: tuple):
    """The compiled code of ``dispatcher`` for the types of ``args``, to call without the type dispatch.

    A call through numba's dispatcher first finds the type of every argument and the
    overload compiled for them (about a microsecond for ``nearest_unit``'s fifteen
    arguments, as much as the loop itself in the default town); the overload's entry
    point takes the same arguments and unboxes them alike, without that look-up. It is
    only valid for arguments of exactly these types: the caller asks again whenever an
    argument may have changed type (new arrays), and gets the dispatcher back when no
    overload matches (the first call then compiles or loads one) or numba keeps no entry point.

    Entry points found are kept by the arguments' type key (``_type_key``): numba's own
    ``typeof`` of every argument cost 140 µs for the dispatch walk's 25 (tuples of arrays among
    them), and callers ask again at every engine, circuit or growth of the index's arrays (1.6% of
    a 14-day replication's samples on the 13,002-node town); the key costs 9 µs.
    """
    key = tuple(map(_type_key, args))
    if None not in key:
        hit = _ENTRIES.get((dispatcher, key))
        if hit is not None:
            return hit
    try:
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
        cres = dispatcher.overloads.get(sig)
    except Exception:          # a numba without these attributes: the dispatcher is always right
        return dispatcher
    entry = getattr(cres, "entry_point", None)
    if not callable(entry):
        return dispatcher
    if None not in key:
        _ENTRIES[(dispatcher, key)] = entry
    return entry
