"""Where a call is: its coordinates snapped to a place of the road network.

A call's place is the nearest drive-graph node (straight-line, on a local
projection), the same rule the simulator uses for a fitted file's points. The
distance is kept so that calls far from the network can be left out and the
snap distances reported (``snap_summary``).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from sim.network.graph import City, RoadGraph, project_lonlat


def _projection(g: RoadGraph) -> tuple[float, float]:
    return float(np.median(g.lon)), float(np.median(g.lat))


def snap_to_places(city: City, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest place (drive node) and the straight-line distance to it in metres, per point."""
    g = city.places
    lon0, lat0 = _projection(g)
    gx, gy = project_lonlat(g.lon, g.lat, lon0=lon0, lat0=lat0)
    px, py = project_lonlat(np.asarray(lon, float), np.asarray(lat, float), lon0=lon0, lat0=lat0)
    if px.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    dist, idx = cKDTree(np.column_stack([gx, gy])).query(np.column_stack([px, py]))
    return idx.astype(np.int64), dist


def snap_summary(dist_m: np.ndarray) -> dict:
    """Quantiles of snap distances in metres."""
    if dist_m.size == 0:
        return {}
    q = np.quantile(dist_m, [0.5, 0.9, 0.98])
    return {"median_m": round(float(q[0]), 1), "p90_m": round(float(q[1]), 1),
            "p98_m": round(float(q[2]), 1), "max_m": round(float(dist_m.max()), 1)}
