"""From a scenario's ``network`` section to a ready ``City`` (graphs, places, stations).

Synthetic towns are generated; OSM networks are read (or downloaded), split by
mode, cached, and then given stations, a bureau, exits and population weights.
Stations the user places are snapped to the nearest drivable node; one farther
than ``network.max_snap_m`` is an error (a station off the network).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from sim.errors import NetworkError
from sim.kinds import MAJOR_ROAD_CLASSES
from sim.network import cache
from sim.network.graph import City, RoadGraph, map_places, project_lonlat
from sim.network.synthetic import synthetic_city

MAJOR_CLASSES = MAJOR_ROAD_CLASSES   # the registry's one set (sim.kinds)


def load_city(scenario, *, quiet: bool = False, progress=None) -> City:
    """The City of a validated scenario. ``progress(done, total)``: the graphs built so far, when
    they are built from OpenStreetMap (not when read back from the cache)."""
    spec = scenario.network
    if spec.synthetic is not None:
        if spec.synthetic.county is not None:
            from sim.network.county import county_city

            return county_city(spec.synthetic, source_file=scenario.source_file)
        return synthetic_city(spec.synthetic)
    osm = spec.osm
    graphs, source = load_osm_graphs(osm, resolve=scenario.resolve_path, quiet=quiet,
                                     scenario_file=scenario.source_file, progress=progress)
    return city_from_graphs(graphs, osm, max_snap_m=spec.max_snap_m, source=source,
                            name=scenario.name, file=scenario.source_file)


def load_osm_graphs(osm, *, resolve=Path, quiet: bool = False, scenario_file: str | None = None,
                    progress=None) -> tuple[dict[str, RoadGraph], str]:
    """Mode graphs for an ``osm`` spec, from the cache when the same source was built before."""
    from sim.network import osm as osm_io  # osmnx is imported only when really needed

    settings = {"bbox": list(osm.bbox) if osm.bbox else None}
    if osm.file:
        path = resolve(osm.file)
        if not path.exists():  # the scenario file holds the key; the message names the missing file
            raise NetworkError(f"file not found: {path}", file=scenario_file or str(path), key="network.osm.file",
                               fix="check the path (relative paths start at the scenario's folder)")
        key = cache.cache_key(cache.file_sha256(path), settings)
        source = str(path)
    else:
        key = cache.cache_key(json.dumps({"place": osm.place, "bbox": settings["bbox"]}), settings)
        source = osm.place or f"bbox {list(osm.bbox)}"
    graphs = cache.load_graphs(key, quiet=quiet)
    if graphs is not None:
        return graphs, source
    t0 = time.perf_counter()
    if osm.file:
        g = osm_io.read_osm_file(path, quiet=quiet)
    else:
        try:
            g = osm_io.download_osm(place=osm.place, bbox=osm.bbox, quiet=quiet)
        except NetworkError as exc:
            if exc.file is None and scenario_file is not None:
                raise NetworkError(exc.detail, file=scenario_file, key=exc.key, fix=exc.fix) from None
            raise
    if not quiet:
        print("  network: building drive, bike and walk graphs", file=sys.stderr, flush=True)
    graphs = osm_io.graphs_from_osmnx(g, bbox=osm.bbox if osm.file else None, source=source, progress=progress)
    stored = cache.save_graphs(key, graphs, quiet=quiet)
    if not quiet:
        print(f"  network: built in {time.perf_counter() - t0:.1f} s "
              + (f"and cached ({stored})" if stored else "(not cached)"), file=sys.stderr, flush=True)
    return graphs, source


def _snap(drive: RoadGraph, place, *, max_snap_m: float, key: str, file) -> int:
    lon0, lat0 = float(np.median(drive.lon)), float(np.median(drive.lat))
    ox_, oy_ = project_lonlat(drive.lon, drive.lat, lon0=lon0, lat0=lat0)
    px, py = project_lonlat(np.array([place.lon]), np.array([place.lat]), lon0=lon0, lat0=lat0)
    d = np.hypot(ox_ - px[0], oy_ - py[0])
    i = int(np.argmin(d))
    if d[i] > max_snap_m:
        raise NetworkError(f"'{place.name}' is {d[i]:.0f} m from the nearest drivable road "
                           f"(more than network.max_snap_m = {max_snap_m:.0f} m)", file=file, key=key,
                           fix="move it onto the road network or raise network.max_snap_m")
    return i


def _spread_points(x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """k places spread over the town by weighted k-means (deterministic start)."""
    pts = np.column_stack([x, y])
    centre = np.average(pts, axis=0, weights=w)
    ang = np.linspace(0, 2 * np.pi, k, endpoint=False) + np.pi / 4
    r = 0.5 * np.sqrt(np.average(((pts - centre) ** 2).sum(1), weights=w))
    cent = centre + r * np.column_stack([np.cos(ang), np.sin(ang)]) if k > 1 else centre[None]
    for _ in range(30):
        lab = np.argmin(((pts[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            m = lab == j
            if m.any() and w[m].sum() > 0:
                cent[j] = np.average(pts[m], axis=0, weights=w[m])
    return np.array([int(np.argmin(((pts - c) ** 2).sum(1))) for c in cent], np.int64)


def _street_weight(g: RoadGraph) -> np.ndarray:
    """Half the length of the streets meeting at each node: uniform density along streets."""
    w = np.zeros(g.n_nodes)
    np.add.at(w, g.edge_u, g.edge_length_m / 2)
    np.add.at(w, g.edge_v, g.edge_length_m / 2)
    return w


def _auto_exits(g: RoadGraph, count: int = 6) -> np.ndarray:
    """Places where major roads leave the extract: far from the centre, on major roads, spread by angle."""
    cx, cy = np.median(g.x_m), np.median(g.y_m)
    r = np.hypot(g.x_m - cx, g.y_m - cy)
    major = np.zeros(g.n_nodes, bool)
    is_major = np.isin(g.edge_class, MAJOR_CLASSES)
    major[g.edge_u[is_major]] = True
    cand = np.flatnonzero(major & (r >= np.quantile(r, 0.85)))
    if cand.size == 0:
        cand = np.flatnonzero(r >= np.quantile(r, 0.95))
    ang = np.arctan2(g.y_m[cand] - cy, g.x_m[cand] - cx)
    bins = np.floor((ang + np.pi) / (2 * np.pi) * count).astype(int)
    out = []
    for b in range(count):
        m = bins == b
        if m.any():
            out.append(int(cand[m][np.argmax(r[cand[m]])]))
    return np.array(sorted(set(out)), np.int64)


def city_from_graphs(graphs: dict[str, RoadGraph], osm, *, max_snap_m: float, source: str,
                     name: str, file=None) -> City:
    drive = graphs["drive"]
    weight = _street_weight(drive)
    weight = weight / weight.sum() * osm.population
    if osm.stations:
        stations = np.array([_snap(drive, p, max_snap_m=max_snap_m, key=f"network.osm.stations[{i}]",
                                   file=file) for i, p in enumerate(osm.stations)], np.int64)
        names = tuple(p.name for p in osm.stations)
    else:
        stations = _spread_points(drive.x_m, drive.y_m, weight, osm.n_stations)
        names = tuple(f"station {i + 1}" for i in range(len(stations)))
    if osm.bureau is not None:
        bureau = _snap(drive, osm.bureau, max_snap_m=max_snap_m, key="network.osm.bureau", file=file)
    else:
        bureau = int(_spread_points(drive.x_m, drive.y_m, weight, 1)[0])
    if osm.exits:
        exits = np.array([_snap(drive, p, max_snap_m=max_snap_m, key=f"network.osm.exits[{i}]",
                                file=file) for i, p in enumerate(osm.exits)], np.int64)
    else:
        exits = _auto_exits(drive)
    node_map, offsets = map_places(graphs)
    return City(name=name, graphs=graphs, place_weight=weight, station_place=stations,
                station_name=names, bureau_place=bureau, exit_place=exits, place_node=node_map,
                place_offset_m=offsets, source=source)
