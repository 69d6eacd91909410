"""Read OpenStreetMap data through osmnx into one RoadGraph per travel mode.

This is the only module that imports osmnx. It reads a local XML file
(.osm, .osm.gz, .osm.bz2) or, where the machine is online, downloads a place or
a bounding box; then keeps, for each mode, the ways that mode may use
(``sim.network.modes``) and the largest strongly connected part of them.
"""

from __future__ import annotations

import bz2
import gzip
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.errors import NetworkError
from sim.kinds import GRAPHS
from sim.network import modes
from sim.network.graph import RoadGraph, largest_strong_component, project_lonlat

TAGS = ["highway", "maxspeed", "oneway", "access", "motor_vehicle", "bicycle", "foot",
        "oneway:bicycle", "service", "junction", "name", "lanes", "bridge", "tunnel", "ref"]


def _ox():
    import osmnx as ox

    ox.settings.useful_tags_way = TAGS
    ox.settings.log_console = False
    ox.settings.use_cache = False
    ox.settings.requests_timeout = 20
    ox.settings.overpass_rate_limit = False   # offline, the status check would sleep 60 s before failing
    return ox


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"  network: {msg}", file=sys.stderr, flush=True)


def _plain_xml(path: Path, tmpdir: str) -> Path:
    """osmnx reads .osm and .osm.bz2; decompress .gz (and check .bz2) ourselves for clear errors."""
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            out = Path(tmpdir) / path.name[:-3]
            with gzip.open(path, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return out
        if name.endswith(".bz2"):
            out = Path(tmpdir) / path.name[:-4]
            with bz2.open(path, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            return out
    except (OSError, EOFError, ValueError) as exc:
        raise NetworkError(f"cannot decompress ({exc})", file=str(path), key="network.osm.file",
                           fix="check the file is a complete OpenStreetMap XML export") from None
    return path


def read_osm_file(path: Path, *, quiet: bool = False):
    """A networkx MultiDiGraph of every way in the file (not yet filtered by mode)."""
    ox = _ox()
    if not path.exists():
        raise NetworkError("file not found", file=str(path), key="network.osm.file",
                           fix="check network.osm.file (relative paths start at the scenario's folder)")
    size_mb = path.stat().st_size / 1e6
    _say(f"reading {path.name} ({size_mb:.1f} MB) with osmnx; a large extract takes a while, "
         "the result is cached", quiet)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        xml = _plain_xml(path, tmp)
        try:
            g = ox.graph_from_xml(xml, bidirectional=False, simplify=False, retain_all=True)
        except NetworkError:
            raise
        except Exception as exc:  # osmnx/xml raise many kinds for a corrupt file
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise NetworkError(f"not readable as OpenStreetMap XML ({type(exc).__name__}: {text})",
                               file=str(path), key="network.osm.file",
                               fix="export the area again as .osm XML (or .osm.gz/.osm.bz2)") from None
    _say(f"read {len(g):,} nodes and {g.number_of_edges():,} ways' edges in "
         f"{time.perf_counter() - t0:.1f} s", quiet)
    return g


def download_osm(*, place: str | None = None, bbox: tuple | None = None, quiet: bool = False):
    """Download the road network of a place or a bbox (south, west, north, east) with osmnx."""
    ox = _ox()
    what = f"place '{place}'" if place else f"bbox {list(bbox)}"
    _say(f"downloading {what} from OpenStreetMap", quiet)
    try:
        if place:
            return ox.graph_from_place(place, network_type="all", simplify=False, retain_all=True)
        s, w, n, e = bbox
        return ox.graph_from_bbox((w, s, e, n), network_type="all", simplify=False, retain_all=True)
    except Exception as exc:
        name = type(exc).__name__
        key = "network.osm.place" if place else "network.osm.bbox"
        if "Insufficient" in name or "Nominatim" in str(exc) and "geocode" in str(exc).lower():
            raise NetworkError(f"OpenStreetMap has no roads for {what}", key=key,
                               fix="check the spelling or widen the box") from None
        raise NetworkError(f"could not download {what}: this machine seems to be offline "
                           f"({name})", key=key,
                           fix="download the area as an .osm file where you are online and set "
                               "network.osm.file to it") from None


def mode_graph_nx(g, mode: str, *, bbox: tuple | None = None):
    """The ways ``mode`` may use, both directions where it ignores oneway, simplified by osmnx.

    Filtering happens before simplification so that a street is not cut at every
    footpath that meets it: the drive graph keeps only junctions cars care about.
    """
    import networkx as nx

    ox = _ox()
    h = nx.MultiDiGraph()
    h.graph.update(g.graph)
    nodes = g.nodes
    inside = None
    if bbox is not None:
        s, w, n, e = bbox
        inside = lambda d: s <= d["y"] <= n and w <= d["x"] <= e  # noqa: E731
    for u, v, data in g.edges(data=True):
        cls = modes.highway_class(data.get("highway"))
        if cls is None or not modes.allowed(mode, cls, data):
            continue
        if inside is not None and not (inside(nodes[u]) and inside(nodes[v])):
            continue
        h.add_node(u, **nodes[u])
        h.add_node(v, **nodes[v])
        h.add_edge(u, v, **data)
        if data.get("oneway") and not modes.is_oneway_for(mode, data) and u != v:
            h.add_edge(v, u, **{**data, "reversed": not data.get("reversed", False)})
    if h.number_of_edges() == 0:
        return h
    return ox.simplify_graph(h)


def road_graph_from_nx(h, mode: str, *, lon0: float, lat0: float) -> RoadGraph:
    node_ids = np.fromiter(h.nodes, dtype=np.int64, count=len(h))
    pos = {n: i for i, n in enumerate(node_ids)}
    lon = np.array([h.nodes[n]["x"] for n in node_ids], float)
    lat = np.array([h.nodes[n]["y"] for n in node_ids], float)
    x, y = project_lonlat(lon, lat, lon0=lon0, lat0=lat0)
    eu, ev, el, es, ec = [], [], [], [], []
    for u, v, data in h.edges(data=True):
        cls = modes.highway_class(data.get("highway")) or "road"
        eu.append(pos[u]), ev.append(pos[v]), el.append(float(data.get("length", 0.0)))
        es.append(modes.car_speed_kph(cls, data)), ec.append(cls)
    return RoadGraph(mode=mode, node_id=node_ids, x_m=x, y_m=y, lon=lon, lat=lat,
                     edge_u=np.array(eu, np.int32), edge_v=np.array(ev, np.int32),
                     edge_length_m=np.array(el), edge_speed_kph=np.array(es),
                     edge_class=np.array(ec))


def graphs_from_osmnx(g, *, bbox: tuple | None = None, source: str = "", key: str = "network.osm",
                      progress=None) -> dict[str, RoadGraph]:
    """Split an unsimplified osmnx graph into drive, bike and walk RoadGraphs (largest strong part each).

    ``progress(done, total)`` is called after each mode's graph (``done`` of ``len(MODE_CLASSES)``)."""
    if len(g) == 0:
        raise NetworkError("the OpenStreetMap data hold no nodes", file=source or None, key=key,
                           fix="check the file covers a town with roads")
    lon_all = np.array([d["x"] for _, d in g.nodes(data=True)], float)
    lat_all = np.array([d["y"] for _, d in g.nodes(data=True)], float)
    lon0, lat0 = float(np.median(lon_all)), float(np.median(lat_all))
    graphs = {}
    for i, mode in enumerate(modes.MODE_CLASSES):
        if progress:
            progress(i, len(modes.MODE_CLASSES))
        h = mode_graph_nx(g, mode, bbox=bbox)
        if h.number_of_edges() == 0:
            if mode == "drive":
                where = " inside network.osm.bbox" if bbox else ""
                raise NetworkError(f"no drivable roads in the OpenStreetMap data{where}",
                                   file=source or None, key="network.osm.bbox" if bbox else key,
                                   fix=("check the box is [south, west, north, east] and lies inside "
                                        "the extract") if bbox else
                                       "use an extract that covers streets cars can use")
            continue
        graphs[mode] = largest_strong_component(road_graph_from_nx(h, mode, lon0=lon0, lat0=lat0))
    if progress:
        progress(len(modes.MODE_CLASSES), len(modes.MODE_CLASSES))
    # a mode with no ways of its own uses the drive graph (e.g. an extract of one arterial)
    for mode in GRAPHS:
        graphs.setdefault(mode, RoadGraph(**{**graphs["drive"].__dict__, "mode": mode}))
    return graphs
