"""Compiled code called without numba's type dispatch, for calls made millions of times.

Every call of a numba dispatcher first finds the type of each argument and the overload
compiled for them: about a microsecond for a handful of arrays, as much as a small loop's
own work (the dispatch search's, a hub-label pair's, the nearest node of a circuit).
``direct`` hands back the overload's entry point for given argument types; callers keep it
while their arguments keep their types. It lives below both the network and the engine,
which both call it.
"""

from __future__ import annotations


def direct(dispatcher, args: tuple):
    """The compiled code of ``dispatcher`` for the types of ``args``, to call without the type dispatch.

    A call through numba's dispatcher first finds the type of every argument and the
    overload compiled for them (about a microsecond for ``nearest_unit``'s fifteen
    arguments, as much as the loop itself in the default town); the overload's entry
    point takes the same arguments and unboxes them alike, without that look-up. It is
    only valid for arguments of exactly these types: the caller asks again whenever an
    argument may have changed type (new arrays), and gets the dispatcher back when no
    overload matches (the first call then compiles or loads one) or numba keeps no entry point.
    """
    try:
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
        cres = dispatcher.overloads.get(sig)
    except Exception:          # a numba without these attributes: the dispatcher is always right
        return dispatcher
    entry = getattr(cres, "entry_point", None)
    return entry if callable(entry) else dispatcher
