"""GIS layers of a run for QGIS or ArcGIS: beats, grid cells with their compliance, stations, exits
and incidents with their outcome, in WGS84 (EPSG:4326, longitude before latitude).

A results folder holds the tables (``incidents.parquet``) and the exact scenario
(``scenario.resolved.yaml``), not the geometry: the network, the stations and the beats are
rebuilt from the scenario with the same loaders as the run (``load_scenario`` and ``prepare``),
which are deterministic, so the beats drawn are the beats the run used.

Each layer is a list of features ``(geometry, properties)`` with GeoJSON geometry dicts. GeoJSON
(RFC 7946, one file per layer) is written with ``json``; GeoPackage (one file, one table per
layer) with pyogrio, which ships GDAL in its wheel.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim import metrics
from sim.errors import InputError

LEVELS = ("green", "yellow", "orange", "red")
LAYERS = ("beats", "grid_cells", "stations", "exits", "incidents")
FORMATS = ("geojson", "gpkg")
GPKG_NAME = "patrolsim.gpkg"
DIGITS = 7  # ~1 cm in latitude: more would only be noise

#: incident columns written to the incidents layer (those present in the table)
INCIDENT_FIELDS = ("replication", "incident", "call_s", "day", "hour_of_day", "type", "priority", "units_needed",
                   "alert_level", "grid_cell", "patrol_area", "response_time_s", "response_within_line",
                   "backup_time_s", "backup_within_line", "served", "in_window", "first_unit", "first_unit_kind",
                   "units_sent", "major", "encircle_s", "cross_area", "saw_patrol_last_hour")


# --------------------------------------------------------------------------- reading a results folder
def check_results_dir(results_dir: Path) -> None:
    """A one-line InputError unless ``results_dir`` is a folder written by ``patrolsim run``."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise InputError("results folder not found", file=str(results_dir),
                         fix="name a folder written by patrolsim run, e.g. results/default")
    for name in ("scenario.resolved.yaml", "incidents.parquet"):
        if not (results_dir / name).is_file():
            raise InputError(f"has no {name}", file=str(results_dir),
                             fix="name a folder written by patrolsim run (compare, sweep and hold folders "
                                 "have no incident table)")


def load_run(results_dir: Path):
    """(context rebuilt from the resolved scenario, incidents table) of a ``patrolsim run`` folder."""
    from sim.experiment.replicate import prepare
    from sim.scenario_file import load_scenario

    results_dir = Path(results_dir)
    check_results_dir(results_dir)
    scenario = load_scenario(results_dir / "scenario.resolved.yaml")
    ctx = prepare(scenario, quiet=True)
    try:
        incidents = pd.read_parquet(results_dir / "incidents.parquet")
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise InputError(f"cannot read incidents.parquet ({type(exc).__name__})", file=str(results_dir),
                         fix="run the scenario again to rewrite the folder") from None
    return ctx, incidents


# --------------------------------------------------------------------------- helpers
def _value(v):
    """A property value JSON and GDAL both take: numpy scalars to Python, NaN to None."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return " ".join(str(x) for x in v)
    return v


def _pt(lon: float, lat: float) -> list:
    return [round(float(lon), DIGITS), round(float(lat), DIGITS)]


def _xy_to_lonlat(graph):
    """The inverse of the network's local projection (linear in each axis: equirectangular), fitted
    on the graph's own nodes, so grid cells drawn in metres land where the run placed them."""
    bx, ax = np.polyfit(graph.x_m, graph.lon, 1)
    by, ay = np.polyfit(graph.y_m, graph.lat, 1)
    return lambda x, y: _pt(ax + bx * x, ay + by * y)


# --------------------------------------------------------------------------- layers
def beat_features(ctx) -> list:
    """Each beat's streets (drive edges with both ends among its places) as one MultiLineString."""
    dep, g = ctx.deployment, ctx.city.places
    owner_of_beat = {}   # beat id -> the unit that owns it at the level the beat is drawn for
    for u in dep.units:
        for lvl in {b.get("level") for b in dep.beats}:
            a = u.assignment(lvl) if lvl is not None else None
            if a is not None:
                owner_of_beat.setdefault(a[0], u)
    u_all, v_all = g.edge_u.astype(np.int64), g.edge_v.astype(np.int64)
    feats = []
    for beat in dep.beats:
        places = np.asarray(dep.beat_places.get(beat["beat"], []), np.int64)
        inside = np.zeros(g.n_nodes, bool)
        inside[places] = True
        sel = inside[u_all] & inside[v_all]
        if not sel.any():  # a beat of one street node: draw the streets that leave it
            sel = inside[u_all] | inside[v_all]
        sel = np.flatnonzero(sel)
        a, b = np.minimum(u_all[sel], v_all[sel]), np.maximum(u_all[sel], v_all[sel])
        _, first = np.unique(a * g.n_nodes + b, return_index=True)  # a two-way street drawn once
        pick = sel[np.sort(first)]
        lines = [[_pt(g.lon[p], g.lat[p]), _pt(g.lon[q], g.lat[q])] for p, q in zip(u_all[pick], v_all[pick])]
        owner = owner_of_beat.get(beat["beat"])
        props = {"beat": beat["beat"], "level": beat.get("level"), "kind": beat.get("kind"),
                 "area": beat.get("area"), "segment": beat.get("segment"),
                 "owner_unit": owner.name if owner else None, "owner_kind": owner.kind if owner else None,
                 "places": int(len(places)), "street_km": beat.get("street_km"), "area_km2": beat.get("area_km2"),
                 "expected_incidents_per_day": beat.get("expected_incidents_per_day")}
        feats.append(({"type": "MultiLineString", "coordinates": lines}, {k: _value(v) for k, v in props.items()}))
    return feats


def _cell_stats(incidents: pd.DataFrame, target: float) -> dict:
    """cell -> properties: both lines' compliance (mean over replications, 95% CI) overall and per level."""
    out: dict = {}

    def put(cell, prefix: str, stats: dict) -> None:
        d = out.setdefault(cell, {})
        for m in ("response_within_line", "backup_within_line"):
            s = stats.get(m) or {}
            d[f"{m}{prefix}"] = s.get("mean")
            if not prefix:
                lo, hi = (s.get("ci95") or [None, None])[:2]
                d[f"{m}_ci_lo"], d[f"{m}_ci_hi"] = lo, hi
        n = stats.get("incidents") or {}
        d[f"incidents_per_replication{prefix}"] = n.get("mean")
        if not prefix:
            d["lines_hold"] = stats.get("lines_hold")

    for cell, stats in metrics.breakdown(incidents, "grid_cell", target=target).items():
        put(cell, "", stats)
    for level in LEVELS:
        sub = incidents[incidents["alert_level"].astype(str) == level]
        for cell, stats in metrics.breakdown(sub, "grid_cell", target=target).items():
            put(cell, f"_{level}", stats)
    return out


def grid_cell_features(ctx, incidents: pd.DataFrame) -> list:
    """The grid cells of the incident table (``metrics.grid_cell``: squares of GRID_CELL_M metres
    from the drive graph's south-west corner) that hold a street node, as polygons."""
    g = ctx.city.places
    x0, y0, size = float(g.x_m.min()), float(g.y_m.min()), metrics.GRID_CELL_M
    labels = metrics.grid_cell(g.x_m, g.y_m, x0=x0, y0=y0)
    stats = _cell_stats(incidents, ctx.scenario.lines.target_compliance)
    to_ll = _xy_to_lonlat(g)
    names = [f"{m}{p}" for p in [""] + [f"_{lvl}" for lvl in LEVELS]
             for m in ("response_within_line", "backup_within_line", "incidents_per_replication")]
    names += ["response_within_line_ci_lo", "response_within_line_ci_hi", "backup_within_line_ci_lo",
              "backup_within_line_ci_hi", "lines_hold"]
    feats = []
    cells = sorted(set(labels.tolist()), key=lambda c: tuple(int(v) for v in c[1:].split("c")))
    counts = pd.Series(labels).value_counts()
    for cell in cells:
        row, col = (int(v) for v in cell[1:].split("c"))
        xa, ya = x0 + col * size, y0 + row * size
        ring = [to_ll(xa, ya), to_ll(xa + size, ya), to_ll(xa + size, ya + size), to_ll(xa, ya + size), to_ll(xa, ya)]
        props = {"grid_cell": cell, "row": row, "col": col, "street_nodes": int(counts[cell])}
        props.update({k: _value(stats.get(cell, {}).get(k)) for k in names})
        feats.append(({"type": "Polygon", "coordinates": [ring]}, props))
    return feats


def station_features(ctx) -> list:
    city, dep = ctx.city, ctx.deployment
    g = city.places
    feats = []
    sites = [(i, name, int(p), "station") for i, (name, p) in enumerate(zip(city.station_name, city.station_place))]
    sites.append((-1, "city bureau", int(city.bureau_place), "bureau"))
    for idx, name, place, kind in sites:
        based = [u for u in dep.units if (u.station == idx if idx >= 0 else u.station == -1 and u.role == "reserve")]
        props = {"station": idx, "name": name, "kind": kind, "place": place, "units": len(based),
                 "officers": sum(u.crew for u in based)}
        feats.append(({"type": "Point", "coordinates": _pt(g.lon[place], g.lat[place])}, props))
    return feats


def exit_features(ctx) -> list:
    g, cp = ctx.city.places, ctx.scenario.force.checkpoints
    staffed = "exits" in cp.at and cp.officers_each > 0
    return [({"type": "Point", "coordinates": _pt(g.lon[p], g.lat[p])},
             {"exit": i, "place": int(p), "checkpoint_officers": cp.officers_each if staffed else 0,
              "checkpoint_levels": " ".join(cp.levels) if staffed else ""})
            for i, p in enumerate(np.asarray(ctx.city.exit_place, np.int64))]


def incident_features(incidents: pd.DataFrame) -> list:
    cols = [c for c in INCIDENT_FIELDS if c in incidents.columns]
    records = incidents[cols].to_dict("records")
    return [({"type": "Point", "coordinates": _pt(lon, lat)}, {k: _value(r[k]) for k in cols})
            for r, lon, lat in zip(records, incidents["lon"].to_numpy(), incidents["lat"].to_numpy())]


def build_layers(ctx, incidents: pd.DataFrame) -> dict[str, list]:
    return {"beats": beat_features(ctx), "grid_cells": grid_cell_features(ctx, incidents),
            "stations": station_features(ctx), "exits": exit_features(ctx),
            "incidents": incident_features(incidents)}


# --------------------------------------------------------------------------- writers
def write_geojson(layers: dict[str, list], folder: Path) -> list[Path]:
    """One RFC 7946 FeatureCollection per layer (``<layer>.geojson``; WGS84 is implied, no crs member)."""
    out = []
    for name, feats in layers.items():
        doc = {"type": "FeatureCollection", "name": name,
               "features": [{"type": "Feature", "geometry": geom, "properties": props} for geom, props in feats]}
        path = Path(folder) / f"{name}.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
                        encoding="utf-8")
        out.append(path)
    return out


def write_gpkg(layers: dict[str, list], folder: Path) -> list[Path]:
    """One GeoPackage with a table per layer, in EPSG:4326, written by pyogrio."""
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import shape

    path = Path(folder) / GPKG_NAME
    for name, feats in layers.items():
        frame = pd.DataFrame([props for _, props in feats])
        gdf = gpd.GeoDataFrame(frame, geometry=[shape(geom) for geom, _ in feats], crs="EPSG:4326")
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", append=path.exists())
    return [path]


def export(results_dir: Path, *, fmt: str, folder: Path) -> dict[str, int]:
    """Write the layers of ``results_dir`` into ``folder`` (which must exist); feature count per layer."""
    if fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}'", key="--format", fix=f"use one of {', '.join(FORMATS)}")
    ctx, incidents = load_run(results_dir)
    layers = build_layers(ctx, incidents)
    (write_geojson if fmt == "geojson" else write_gpkg)(layers, folder)
    return {name: len(feats) for name, feats in layers.items()}
