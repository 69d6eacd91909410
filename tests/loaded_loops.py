"""The compiled (numba) loops a process has loaded, for the tests that check a replication loads none.

Imported by the child processes of ``tests/test_no_compile_in_replication.py`` and
``tests/network/test_no_compile_large.py`` (run from the repository, which is on their path).
"""

from __future__ import annotations

import sys

import numba


def signatures() -> dict[str, list[str]]:
    """Every ``sim`` module's compiled loops (``module.function``) and the signatures each has loaded."""
    out = {}
    for name, mod in sorted(sys.modules.items()):
        if not name.startswith("sim.") or mod is None:
            continue
        for attr, f in sorted(vars(mod).items()):
            if isinstance(f, numba.core.registry.CPUDispatcher):
                out[f"{f.py_func.__module__}.{f.py_func.__name__}"] = sorted(str(s) for s in f.signatures)
    return out
