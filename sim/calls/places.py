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


def great_circle_m(city: City, lon: np.ndarray, lat: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Great-circle metres from each point to its snapped place.

    The snapping projection is local (good to a few km); a file from another
    continent needs the distance on the sphere for a message that is true.
    """
    g = city.places
    p1, p2 = np.radians(lat), np.radians(g.lat[idx])
    dlon = np.radians(np.asarray(g.lon[idx], float) - lon)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * 6_371_000.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_text(m: float) -> str:
    """A distance for a message: metres below 10 km, else kilometres (``8,412 km``)."""
    return f"{m:,.0f} m" if m < 10_000 else f"{m / 1000:,.0f} km"


def off_network_error(n_far: int, n: int, dist_far_m: np.ndarray, *, what: str, max_snap_m: float,
                      file: str | None, key: str | None, fix: str):
    """The one-line ``DemandError`` for a demand or call file that belongs to another area."""
    from sim.errors import DemandError

    where = "lie outside the network" if n_far == n else "lie off the network"
    return DemandError(f"{n_far:,} of {n:,} {what} {where} (more than {max_snap_m:g} m from any "
                       f"drivable node; nearest {distance_text(float(dist_far_m.min()))} away, farthest "
                       f"{distance_text(float(dist_far_m.max()))})", file=file, key=key, fix=fix)


FITTED_FIX = ("fit the demand on this network, or point network.* at the network it was fitted on; "
              "network.max_snap_m sets the distance")


def check_fitted_points(city: City, pts: np.ndarray, *, max_snap_m: float, file: str | None) -> None:
    """Refuse a fitted file whose places (``[lon, lat, weight]`` rows) are off this network.

    ``patrolsim fit`` writes the nodes of the network it was fitted on, so on that
    network every point snaps at (almost) 0 m. A point farther than
    ``max_snap_m`` means the file was fitted on another area: snapping it anyway
    would pile its calls onto the nearest edge node (a whole city's calls on one
    street corner), so any such point with a positive weight is an error.
    """
    pts = np.asarray(pts, float).reshape(-1, 3)
    keep = pts[:, 2] > 0
    idx, dist = snap_to_places(city, pts[keep, 0], pts[keep, 1])
    far = dist > max_snap_m
    if far.any():
        gc = great_circle_m(city, pts[keep, 0][far], pts[keep, 1][far], idx[far])
        raise off_network_error(int(far.sum()), int(keep.sum()), gc, what="places",
                                max_snap_m=max_snap_m, file=file, key="demand.fitted", fix=FITTED_FIX)
