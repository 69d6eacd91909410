"""numba's on-disk cache of patrolsim's compiled loops, kept apart for each version of their sources.

Why: numba keeps a compiled function (``cache=True``) on disk and, when it loads it again, checks only
the file of the function's own module. A compiled function that calls another module's compiled code
(the dispatch walk's handle calls ``best_first_jit``, which calls ``hub_labels``) holds the callee as it
was when compiled: after a ``git pull`` or an edit that changes only the callee's module, the caller's
cached code would still run the old callee, and a run would give old numbers without a word. So the
cache folder is named after a digest of every compiled module's source (``COMPILED_MODULES``): any
change to any of them starts an empty folder, and the first run after it compiles the loops again
(``patrolsim run --replications 1`` on the default town: 16 s with an empty folder, 1.5 s after, on a
2-core machine); unchanged sources find their loops at once.

Where: ``$NUMBA_CACHE_DIR`` if set (a folder the user chose for numba, e.g. on a cluster), else
``$XDG_CACHE_HOME/patrolsim/numba`` (``~/.cache/...``), then ``patrolsim-<digest>`` inside it. The
environment variable is set for this process and its children (Dask's local workers, the tests'
subprocesses), which compute the same folder. Where no folder can be written, numba's own cache beside
the modules is left in use. Older digests' folders beyond the ``KEEP`` most recent are removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

#: every module that compiles loops with numba (``tests/test_numba_cache.py`` checks this is all of them)
COMPILED_MODULES = (
    "circuit_jit.py", "seed_jit.py", "visibility_kernel.py",
    "engine/best_first_jit.py", "engine/cordon_jit.py", "engine/cordon_kernels.py", "engine/cordon_lazy.py",
    "engine/join_drive.py", "engine/kernels.py", "engine/shift_kernels.py", "engine/walk_handle.py",
    "network/alt_jit.py", "network/dijkstra_jit.py", "network/hub_labels.py", "network/label_paths.py",
    "network/metres_jit.py", "network/nearest_jit.py", "network/paths_jit.py", "network/stop_order_jit.py",
)
PACKAGE = Path(__file__).resolve().parent
PREFIX = "patrolsim-"
KEEP = 4                     # digest folders kept (the newest), so that switching branches finds its loops


def sources_digest(package: Path = PACKAGE) -> str:
    """A digest of the compiled modules' sources (their paths and bytes), 16 hex digits."""
    h = hashlib.sha256()
    for rel in COMPILED_MODULES:
        h.update(rel.encode())
        h.update(b"\0")
        h.update((package / rel).read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def base_folder(environ=os.environ) -> Path:
    """The folder that holds the digest folders (see the module docstring)."""
    chosen = environ.get("NUMBA_CACHE_DIR")
    if chosen:
        p = Path(chosen)
        return p.parent if p.name.startswith(PREFIX) else p      # set by a parent patrolsim: its base
    xdg = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "patrolsim" / "numba"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _prune(base: Path, current: Path) -> None:
    """Remove digest folders beyond the ``KEEP`` most recently used (never ``current``)."""
    try:
        others = [p for p in base.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and p != current]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in others[KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def prepare_folder(environ) -> Path | None:
    """This version's cache folder made (and old ones pruned) and set in ``environ``; None where none can be written."""
    try:
        folder = base_folder(environ) / (PREFIX + sources_digest())
    except OSError:                      # a source not readable: leave numba's own cache
        return None
    if environ.get("NUMBA_CACHE_DIR") != str(folder):
        if not _writable(folder):
            return None
        os.utime(folder)                 # most recently used (pruning keeps it)
        _prune(folder.parent, folder)
        environ["NUMBA_CACHE_DIR"] = str(folder)
    return folder


def use_versioned_cache() -> Path | None:
    """Point numba at this version's cache folder (called when ``sim`` is imported, before any compiled module)."""
    folder = prepare_folder(os.environ)
    numba = sys.modules.get("numba")
    if folder is not None and numba is not None:     # imported before patrolsim: its settings already read
        numba.core.config.CACHE_DIR = str(folder)
    return folder
