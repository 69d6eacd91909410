"""On-disk cache of built road graphs, keyed by the source's hash and the build settings.

Reading a 20 MB OSM extract through osmnx takes tens of seconds; loading the
arrays back from a compressed .npz takes a fraction of a second. The cache lives
in ``$PATROLSIM_CACHE_DIR`` or, by default, ``networks/cache/`` under the current
folder (git-ignored). Files are written atomically so a crash never leaves a
corrupt entry; an unreadable entry is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from sim.kinds import GRAPHS
from sim.network.graph import RoadGraph

#: Bump when the way graphs are built changes, so old cache entries are not reused.
BUILD_VERSION = 4
_FIELDS = ("node_id", "x_m", "y_m", "lon", "lat", "edge_u", "edge_v", "edge_length_m",
           "edge_speed_kph", "edge_class")


def cache_dir() -> Path:
    return Path(os.environ.get("PATROLSIM_CACHE_DIR") or Path.cwd() / "networks" / "cache")


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


def save_graphs(key: str, graphs: dict[str, RoadGraph]) -> Path:
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
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


def load_graphs(key: str) -> dict[str, RoadGraph] | None:
    path = cache_dir() / f"{key}.npz"
    if not path.exists():
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
