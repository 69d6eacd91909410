"""Patrol areas (巡区) and segments (巡段): how the town is divided among units.

Two levels, as in grid deployment (网格化布警):
- areas: the whole city as one area, police-station catchments by drive time, a regular grid of
  ``cell_km`` cells, or polygons the user supplies (GeoJSON);
- segments (beats): within each area, the places are split among that area's units of a kind,
  by weighted k-means or by a balanced districting that evens out expected workload.
Every function here is pure (numpy in, numpy out).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import ScenarioError


@dataclass(frozen=True)
class Areas:
    """``label[p]`` is the area of place ``p``; ``names[a]`` its name."""

    label: np.ndarray
    names: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.names)

    def places(self, a: int) -> np.ndarray:
        return np.flatnonzero(self.label == a)


# ----------------------------------------------------------------------------- areas
def city_area(n_places: int) -> Areas:
    return Areas(np.zeros(n_places, np.int64), ("city",))


def station_areas(station_times_s: np.ndarray, names: tuple[str, ...]) -> Areas:
    """Each place belongs to the station that reaches it fastest (``station_times_s``: stations x places)."""
    return Areas(np.argmin(station_times_s, axis=0).astype(np.int64), tuple(names))


def grid_areas(x_m: np.ndarray, y_m: np.ndarray, *, cell_km: float) -> Areas:
    """Regular square cells anchored at the south-west corner; empty cells are not areas."""
    cell = cell_km * 1000.0
    r = np.floor((y_m - y_m.min()) / cell).astype(int)
    c = np.floor((x_m - x_m.min()) / cell).astype(int)
    keys = r * 100_000 + c
    uniq, label = np.unique(keys, return_inverse=True)
    names = tuple(f"r{k // 100_000}c{k % 100_000}" for k in uniq)
    return Areas(label.astype(np.int64), names)


def point_in_polygon(x: np.ndarray, y: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd rule for many points against one closed ring (n x 2 array)."""
    inside = np.zeros(x.shape, bool)
    xs, ys = ring[:, 0], ring[:, 1]
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi, xj, yj = xs[i], ys[i], xs[j], ys[j]
        crosses = ((yi > y) != (yj > y)) & (x < (xj - xi) * (y - yi) / ((yj - yi) or 1e-300) + xi)
        inside ^= crosses
        j = i
    return inside


def read_geojson_polygons(path: Path) -> list[tuple[str, list[np.ndarray]]]:
    """(name, outer rings) for each Polygon/MultiPolygon feature; lon/lat degrees."""
    if not path.exists():
        raise ScenarioError("file not found", file=str(path), key="beats.geojson",
                            fix="give the path of a GeoJSON FeatureCollection of polygons")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"not valid JSON ({exc})", file=str(path), key="beats.geojson",
                            fix="export the polygons as GeoJSON") from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not feats:
        raise ScenarioError("no features", file=str(path), key="beats.geojson",
                            fix="give a FeatureCollection with at least one Polygon")
    out = []
    for i, f in enumerate(feats):
        geom = (f or {}).get("geometry") or {}
        props = (f or {}).get("properties") or {}
        name = str(props.get("name", f"area {i + 1}"))
        if geom.get("type") == "Polygon":
            rings = [np.asarray(geom["coordinates"][0], float)]
        elif geom.get("type") == "MultiPolygon":
            rings = [np.asarray(p[0], float) for p in geom["coordinates"]]
        else:
            raise ScenarioError(f"feature {i} is a {geom.get('type')}, not a polygon", file=str(path),
                                key="beats.geojson", fix="keep only Polygon or MultiPolygon features")
        out.append((name, rings))
    return out


def polygon_areas(lon: np.ndarray, lat: np.ndarray, polygons, *, file: str = "") -> Areas:
    """Places inside each polygon; places outside every polygon join the nearest polygon's area."""
    label = np.full(lon.shape, -1, np.int64)
    for a, (_, rings) in enumerate(polygons):
        for ring in rings:
            label[(label < 0) & point_in_polygon(lon, lat, ring)] = a
    if (label < 0).all():
        raise ScenarioError("no place of the network lies inside any polygon", file=file, key="beats.geojson",
                            fix="check the polygons cover the scenario's network (lon/lat, WGS84)")
    out = label < 0
    if out.any():
        inside = np.flatnonzero(~out)
        for p in np.flatnonzero(out):
            q = inside[np.argmin((lon[inside] - lon[p]) ** 2 + (lat[inside] - lat[p]) ** 2)]
            label[p] = label[q]
    used = np.unique(label)
    remap = {int(a): i for i, a in enumerate(used)}
    return Areas(np.array([remap[int(a)] for a in label], np.int64),
                 tuple(polygons[int(a)][0] for a in used))


# ----------------------------------------------------------------------------- segments
def weighted_kmeans(x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, *, iters: int = 25,
                    bias: np.ndarray | None = None) -> np.ndarray:
    """Label of each point after weighted k-means with a deterministic farthest-point start.

    ``bias`` (one value per cluster, in m²) is subtracted from the squared distance to
    each centre; balanced districting raises it for light beats so they grow.
    """
    pts = np.column_stack([x, y])
    n = len(pts)
    k = max(1, min(k, n))
    w = np.where(w > 0, w, w[w > 0].min() * 1e-3 if (w > 0).any() else 1.0)
    first = int(np.argmax(w))
    centres = [pts[first]]
    d2 = ((pts - pts[first]) ** 2).sum(1)
    for _ in range(1, k):
        nxt = int(np.argmax(d2 * w))
        centres.append(pts[nxt])
        d2 = np.minimum(d2, ((pts - pts[nxt]) ** 2).sum(1))
    cent = np.array(centres, float)
    b = np.zeros(k) if bias is None else bias
    lab = np.zeros(n, int)
    for _ in range(iters):
        lab = np.argmin(((pts[:, None, :] - cent[None]) ** 2).sum(-1) - b[None, :], axis=1)
        new = cent.copy()
        for j in range(k):
            m = lab == j
            if m.any():
                new[j] = np.average(pts[m], axis=0, weights=w[m])
        if np.allclose(new, cent):
            break
        cent = new
    lab = np.argmin(((pts[:, None, :] - cent[None]) ** 2).sum(-1) - b[None, :], axis=1)
    for j in range(k):  # no empty beat: give it the point nearest its centre
        if not (lab == j).any():
            lab[int(np.argmin(((pts - cent[j]) ** 2).sum(1)))] = j
    return lab


def balanced_segments(x: np.ndarray, y: np.ndarray, workload: np.ndarray, k: int, *,
                      tolerance: float = 0.1, rounds: int = 300) -> np.ndarray:
    """Beats with nearly equal expected workload: a power diagram around k-means centres.

    Centres come from weighted k-means; each place goes to the centre minimising
    squared distance minus that centre's weight. Weights of beats lighter than the
    mean rise and of heavier ones fall (a step that shrinks as rounds go by) until
    every beat is within ``tolerance`` of the mean or the rounds run out; the most
    even division seen is kept. Beats stay compact (they are power-diagram cells).
    """
    k = max(1, min(k, len(x)))
    if k == 1:
        return np.zeros(len(x), int)
    lab = weighted_kmeans(x, y, workload, k)
    pts = np.column_stack([x, y])
    cent = np.array([np.average(pts[lab == j], axis=0, weights=workload[lab == j] + 1e-12)
                     for j in range(k)])
    d2 = ((pts[:, None, :] - cent[None]) ** 2).sum(-1)
    scale = float(np.median(d2.min(axis=1)) + np.var(x) + np.var(y)) / k
    bias = np.zeros(k)
    best, best_spread = lab, np.inf
    total = workload.sum()
    for r in range(rounds):
        lab = np.argmin(d2 - bias[None, :], axis=1)
        load = np.bincount(lab, weights=workload, minlength=k)
        mean = total / k
        spread = float(np.abs(load / mean - 1).max()) if mean > 0 else 0.0
        if spread < best_spread and (np.bincount(lab, minlength=k) > 0).all():
            best, best_spread = lab, spread
        if spread <= tolerance:
            break
        step = 0.5 * scale / (1 + r / 20)
        bias += step * (1 - load / mean)
    return best


def split_units(total_units: int, weights: np.ndarray) -> np.ndarray:
    """Whole units per area proportional to weights (largest remainder), at least one where possible."""
    w = np.asarray(weights, float)
    n = len(w)
    if total_units <= 0 or n == 0:
        return np.zeros(n, int)
    w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    raw = total_units * w
    base = np.floor(raw).astype(int)
    if total_units >= n:
        base = np.maximum(base, 1)
    floor_ = 1 if total_units >= n else 0
    while base.sum() > total_units:
        over = np.where(base > floor_, base - raw, -np.inf)
        base[int(np.argmax(over))] -= 1
    order = np.argsort(-(raw - base), kind="stable")
    i = 0
    while base.sum() < total_units:
        base[order[i % n]] += 1
        i += 1
    return base


# ----------------------------------------------------------------------------- beat report
def beat_stats(places: np.ndarray, graph, *, incidents_per_day: np.ndarray, on_scene_mean_s: float) -> dict:
    """Area (convex hull, km²), street km (edges inside the beat) and expected workload of one beat.

    ``expected_workload`` is the expected share of a unit's time on scene if it alone
    served its beat: incidents per day x mean on-scene seconds / 86,400.
    """
    from scipy.spatial import ConvexHull

    pts = np.column_stack([graph.x_m[places], graph.y_m[places]])
    try:
        area = float(ConvexHull(pts).volume / 1e6) if len(places) >= 3 else 0.0
    except Exception:
        area = 0.0
    mask = np.zeros(graph.n_nodes, bool)
    mask[places] = True
    inside = mask[graph.edge_u] & mask[graph.edge_v]
    a = np.minimum(graph.edge_u[inside], graph.edge_v[inside]).astype(np.int64)
    b = np.maximum(graph.edge_u[inside], graph.edge_v[inside]).astype(np.int64)
    _, first = np.unique(a * graph.n_nodes + b, return_index=True)
    street_km = float(graph.edge_length_m[inside][first].sum() / 1000.0)
    per_day = float(incidents_per_day[places].sum())
    return {"area_km2": area, "street_km": street_km, "expected_incidents_per_day": per_day,
            "expected_workload": per_day * on_scene_mean_s / 86_400.0}
