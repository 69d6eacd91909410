"""On-disk cache of built road graphs, keyed by the source's hash and the build settings.

Reading a 20 MB OSM extract through osmnx takes tens of seconds; loading the
arrays back from a compressed .npz takes a fraction of a second. The cache lives
in ``$PATROLSIM_CACHE_DIR`` or, by default, ``networks/cache/`` under the current
folder (git-ignored). Files are written atomically so a crash never leaves a
corrupt entry; an unreadable entry is rebuilt.

The folder is checked before any graph is built, not when the first entry is
saved: a ``PATROLSIM_CACHE_DIR`` that cannot be created or written is the user's
setting and an error (a ``NetworkError`` naming the variable and the fix); a
default folder that cannot be written (a read-only install) only turns caching
off, said once on stderr.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from sim.errors import NetworkError
from sim.kinds import GRAPHS
from sim.network.graph import RoadGraph

#: Bump when the way graphs are built changes, so old cache entries are not reused.
BUILD_VERSION = 4
_FIELDS = ("node_id", "x_m", "y_m", "lon", "lat", "edge_u", "edge_v", "edge_length_m",
           "edge_speed_kph", "edge_class")


ENV = "PATROLSIM_CACHE_DIR"
#: Folders already checked in this process: path -> None (writable) or the OS error text.
_checked: dict[str, str | None] = {}


def cache_dir() -> Path:
    return Path(os.environ.get(ENV) or Path.cwd() / "networks" / "cache")


def _write_problem(d: Path) -> str | None:
    """None when ``d`` can be created and written, else why not (the OS error, one line)."""
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=d, suffix=".probe")
        os.close(fd)
        os.unlink(probe)
        return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def writable_cache_dir(*, quiet: bool = False) -> Path | None:
    """The cache folder when it can be written; None (caching off) for an unwritable default folder.

    An explicit ``PATROLSIM_CACHE_DIR`` that cannot be created or written raises a
    ``NetworkError``. The check runs once per folder and process, so the note
    about a read-only default folder is printed once (not with ``quiet``).
    """
    d = cache_dir()
    key = str(d)
    first = key not in _checked
    if first:
        _checked[key] = _write_problem(d)
    problem = _checked[key]
    if problem is None:
        return d
    if os.environ.get(ENV):
        raise NetworkError(f"cannot create or write the network cache folder {d} ({problem})", key=ENV,
                           fix=f"set {ENV} to a folder you can write, or unset it to use networks/cache "
                               "under the current folder")
    if first and not quiet:
        print(f"  network: the cache folder {d} cannot be written ({problem}); running without a cache "
              f"(set {ENV} to a writable folder to keep built graphs)", file=sys.stderr, flush=True)
    return None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_key(source_digest: str, settings: dict) -> str:
    blob = json.dumps({"source": source_digest, "settings": settings, "v": BUILD_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def save_graphs(key: str, graphs: dict[str, RoadGraph], *, quiet: bool = False) -> Path | None:
    """Store ``graphs`` under ``key``; None (nothing stored) when caching is off."""
    d = writable_cache_dir(quiet=quiet)
    if d is None:
        return None
    arrays = {}
    for mode, g in graphs.items():
        for f in _FIELDS:
            arrays[f"{mode}__{f}"] = getattr(g, f)
        arrays[f"{mode}__dropped"] = np.array([g.dropped_nodes, g.dropped_edges])
    target = d / f"{key}.npz"
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def load_graphs(key: str, *, quiet: bool = False) -> dict[str, RoadGraph] | None:
    """The graphs stored under ``key`` (None: not cached). Checks the folder first (see
    ``writable_cache_dir``), so a bad ``PATROLSIM_CACHE_DIR`` stops before any graph is built."""
    d = writable_cache_dir(quiet=quiet)
    path = (d if d is not None else cache_dir()) / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            present = {k.split("__")[0] for k in z.files}
            modes = [m for m in GRAPHS if m in present] + sorted(present - set(GRAPHS))
            graphs = {}
            for mode in modes:
                dn, de = (int(v) for v in z[f"{mode}__dropped"])
                graphs[mode] = RoadGraph(mode=mode, **{f: z[f"{mode}__{f}"] for f in _FIELDS},
                                         dropped_nodes=dn, dropped_edges=de)
            return graphs
    except Exception:
        return None  # corrupt or from another layout: rebuild
