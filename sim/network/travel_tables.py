"""The all-pairs travel tables of a graph (seconds and predecessors), kept on disk and shared by processes.

Every process that runs a scenario needs the full time matrix of each travel mode (up
to ``FULL_MATRIX_MAX_NODES`` nodes): one all-pairs search per mode and speed. On the
county (1,875 nodes, five oracles) that is most of the 2.7 s a Dask worker spends
preparing before its first replication, paid again by every worker and every run. Here
the tables are stored once, beside the cached networks (``sim.network.cache``), and
read back as read-only memory maps: a process then starts in milliseconds, and the
workers of one machine share one copy in the page cache instead of holding one each.

The key is a hash of what the search reads (the node count, each edge's ends and
seconds, bit for bit) and ``TABLE_VERSION``: the same graph at the same speeds finds
the same file, anything else another. Files are written atomically (a temporary file,
then a rename), so a crash or two processes writing at once never leave a partial
entry; an entry that cannot be read (corrupt, truncated, another layout) is built
again and replaced. Small graphs (under ``CACHE_MIN_NODES``) are searched in less time
than reading a file takes and are not stored. Where the cache folder cannot be written
(``sim.network.cache.writable_cache_dir`` returns None) the tables are built in memory.

Tables a run derives from these (the time matrix by target, the metres table) are kept the
same way (``derived_table``), as copy-on-write maps (shared, and writable for the compiled
loops that read them).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.network.cache import writable_cache_dir

#: Bump when the tables' layout or how they are computed changes, so old files are not reused.
TABLE_VERSION = 1
#: Graphs with fewer nodes are searched each time (about 0.1 s at 1,000 nodes, less than reading a file).
CACHE_MIN_NODES = 1000
SUBDIR = "travel"


def table_key(weights) -> str:
    """sha256 (24 hex digits) of what the all-pairs search reads: the graph's CSR matrix, bit for bit."""
    h = hashlib.sha256()
    h.update(f"v{TABLE_VERSION} {weights.shape}".encode())
    for a, dtype in ((weights.indptr, np.int64), (weights.indices, np.int64), (weights.data, np.float64)):
        h.update(np.ascontiguousarray(a, dtype=dtype).tobytes())
    return h.hexdigest()[:24]


def all_pairs(weights, *, cached: bool = True, quiet: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(seconds ``[source, target]`` as float64, predecessors as int32) of the graph ``weights`` (CSR).

    ``cached=False`` searches without the cache. Arrays read from the cache are read-only
    maps of the file; built ones are ordinary arrays.
    """
    n_nodes = weights.shape[0]
    folder = _folder(quiet) if cached and n_nodes >= CACHE_MIN_NODES else None
    if folder is not None:
        key = table_key(weights)
        found = _read(folder, key, n_nodes)
        if found is not None:
            return found
    full, pred = dijkstra(weights, directed=True, return_predecessors=True)
    full, pred = full.astype(np.float64, copy=False), pred.astype(np.int32)
    if folder is not None:
        _write(folder, key, full, pred)
        found = _read(folder, key, n_nodes)      # the shared map, not this process's copy
        if found is not None:
            return found
    return full, pred


def derived_table(weights, name: str, inputs: tuple, build, *, cached: bool = True, quiet: bool = True
                  ) -> np.ndarray | None:
    """A table made from the all-pairs tables of ``weights`` (and ``inputs``, arrays it also reads), kept on disk.

    ``build()`` makes it (float64, C order; None: no table, nothing stored). What a process reads
    back is a copy-on-write map of the file: the pages are shared with every process of the machine
    that reads the same entry until one writes (none does), and the array is writable, so the
    compiled loops that take it see the type they were compiled for. Why: on the county a worker
    spent 0.23 s transposing the four time matrices (``TravelOracle.times_by_target``) and 0.15 s
    summing the metres tables, every process, before its first replication. The key is the
    all-pairs tables' key (``table_key``), ``name`` and ``inputs`` bit for bit; graphs under
    ``CACHE_MIN_NODES``, or no writable cache folder: built in memory, as the tables are.
    """
    n_nodes = weights.shape[0]
    folder = _folder(quiet) if cached and n_nodes >= CACHE_MIN_NODES else None
    if folder is None:
        return build()
    h = hashlib.sha256(f"{table_key(weights)} {name}".encode())
    for a in inputs:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str} {a.shape}".encode())
        h.update(a.tobytes())
    path = folder / f"{h.hexdigest()[:24]}.{name}.npy"
    found = _read_one(path, (n_nodes, n_nodes))
    if found is not None:
        return found
    table = build()
    if table is None:
        return None
    _write_one(path, np.ascontiguousarray(table, np.float64))
    found = _read_one(path, (n_nodes, n_nodes))            # the shared map, not this process's copy
    return found if found is not None else table


def _read_one(path: Path, shape: tuple) -> np.ndarray | None:
    """A stored float64 table of ``shape`` as a copy-on-write map (a plain, writable ndarray view), or None."""
    if not path.is_file():
        return None
    try:
        a = np.load(path, mmap_mode="c", allow_pickle=False)
    except (OSError, ValueError, EOFError):    # EOFError: an empty file
        return None                     # unreadable: built again and replaced
    if a.shape != shape or a.dtype != np.float64 or not a.flags.c_contiguous:
        return None
    return np.asarray(a)


def _folder(quiet: bool) -> Path | None:
    d = writable_cache_dir(quiet=quiet)
    if d is None:
        return None
    try:
        (d / SUBDIR).mkdir(exist_ok=True)
    except OSError:
        return None
    return d / SUBDIR


def _paths(folder: Path, key: str) -> tuple[Path, Path]:
    return folder / f"{key}.seconds.npy", folder / f"{key}.pred.npy"


def _read(folder: Path, key: str, n_nodes: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The stored tables as read-only maps (plain ndarray views: no memmap methods on the hot path), or None."""
    seconds, pred = _paths(folder, key)
    if not (seconds.is_file() and pred.is_file()):
        return None
    try:
        full = np.load(seconds, mmap_mode="r", allow_pickle=False)
        p = np.load(pred, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):    # EOFError: an empty file
        return None                     # unreadable: built again and replaced
    if full.shape != (n_nodes, n_nodes) or p.shape != (n_nodes, n_nodes) or full.dtype != np.float64 \
            or p.dtype != np.int32:
        return None
    return np.asarray(full), np.asarray(p)


def _write(folder: Path, key: str, full: np.ndarray, pred: np.ndarray) -> None:
    """Store both tables, each atomically (the predecessors last: a reader needs both)."""
    for path, arr in zip(_paths(folder, key), (full, pred)):
        if not _write_one(path, arr):
            return


def _write_one(path: Path, arr: np.ndarray) -> bool:
    """Store ``arr`` at ``path`` atomically (a temporary file, then a rename); False if it could not be."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        os.replace(tmp, path)
        return True
    except OSError:
        return False                    # a full disk only costs the cache
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
