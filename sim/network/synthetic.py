"""The embedded default city: a synthetic county town at Guanghan's urban scale.

Guanghan's urban area is about 17.4 km² with about 200,000 residents (see
docs/model.md). The town generated here is a jittered street grid of that area
with arterials every few blocks and a ring road, some local streets missing (so
blocks are irregular), a few diagonal lanes, roads leaving the town (city exits,
where checkpoints stand), a dense core where most people live, and police
stations around the centre with the city bureau in the middle. Everything is
deterministic from ``spec.seed``; nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from sim.kinds import GRAPHS
from sim.network.graph import City, RoadGraph, largest_strong_component, map_places

#: Where the synthetic town sits on the globe (Guanghan, Sichuan), only so that
#: maps and exported coordinates look plausible.
ORIGIN_LON, ORIGIN_LAT = 104.282, 30.977
STATION_NAMES = ("Xiguan", "Dongguan", "Nanmen", "Beimen", "Jinshan", "Yanjiang", "Zhongxing",
                 "Hanzhou", "Sanxing", "Xiangyang")
ARTERIAL_KPH, RING_KPH, LOCAL_KPH, EXIT_KPH = 50.0, 60.0, 30.0, 70.0


def _to_lonlat(x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.pi / 180.0 * 6_371_008.8
    lat = ORIGIN_LAT + y_m / k
    lon = ORIGIN_LON + x_m / (k * np.cos(np.radians(ORIGIN_LAT)))
    return lon, lat


def synthetic_city(spec, *, name: str = "synthetic-county-town") -> City:
    """Build the town described by a ``SyntheticNetwork`` spec."""
    rng = np.random.default_rng(spec.seed)
    side_m = float(np.sqrt(spec.area_km2) * 1000.0)
    n = max(3, int(round(side_m / spec.block_m)) + 1)
    step = side_m / (n - 1)
    half = side_m / 2.0
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    art_i = (ii % spec.arterial_every == 0) | (ii == n - 1)
    art_j = (jj % spec.arterial_every == 0) | (jj == n - 1)
    jitter = np.where((art_i | art_j)[:, None], 0.05, 0.22) * step
    x = jj * step - half + rng.uniform(-1, 1, ii.size) * jitter[:, 0]
    y = ii * step - half + rng.uniform(-1, 1, ii.size) * jitter[:, 0]

    us, vs, classes = [], [], []

    def add(a: np.ndarray, b: np.ndarray, cls: np.ndarray) -> None:
        us.append(a), vs.append(b), classes.append(cls)

    idx = ii * n + jj
    on_ring = lambda k: (k == 0) | (k == n - 1)  # noqa: E731
    # east-west streets along row i, north-south along column j
    for horizontal in (True, False):
        ok = (jj < n - 1) if horizontal else (ii < n - 1)
        a = idx[ok]
        b = a + (1 if horizontal else n)
        line = ii[ok] if horizontal else jj[ok]
        arterial = (line % spec.arterial_every == 0) | (line == n - 1)
        ring = on_ring(line)
        cls = np.where(ring, "primary", np.where(arterial, "secondary", "residential"))
        keep = arterial | (rng.random(a.size) >= spec.drop_share)
        add(a[keep], b[keep], cls[keep])
    # a few diagonal lanes make blocks irregular
    diag = (ii < n - 1) & (jj < n - 1) & (rng.random(ii.size) < 0.04)
    add(idx[diag], idx[diag] + n + 1, np.full(int(diag.sum()), "unclassified"))

    node_x, node_y = list(x), list(y)
    exit_nodes = []
    if spec.exits:
        # exits leave the ring along arterial lines, spread by angle
        angles = np.linspace(0, 2 * np.pi, spec.exits, endpoint=False) + np.pi / spec.exits
        ring_nodes = np.flatnonzero((on_ring(ii) | on_ring(jj)) & (art_i & art_j))
        ring_angle = np.arctan2(y[ring_nodes], x[ring_nodes])
        for ang in angles:
            d = np.abs((ring_angle - ang + np.pi) % (2 * np.pi) - np.pi)
            start = int(ring_nodes[np.argmin(d)])
            r = np.hypot(x[start], y[start])
            far = len(node_x)
            node_x.append(x[start] * (r + 150.0) / r)
            node_y.append(y[start] * (r + 150.0) / r)
            add(np.array([start]), np.array([far]), np.array(["trunk"]))
            exit_nodes.append(far)

    u = np.concatenate(us).astype(np.int32)
    v = np.concatenate(vs).astype(np.int32)
    cls = np.concatenate(classes)
    node_x, node_y = np.array(node_x), np.array(node_y)
    # every street is two-way
    u, v, cls = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([cls, cls])
    length = np.hypot(node_x[u] - node_x[v], node_y[u] - node_y[v])
    speed = np.select([cls == "primary", cls == "secondary", cls == "trunk"],
                      [RING_KPH, ARTERIAL_KPH, EXIT_KPH], LOCAL_KPH)
    lon, lat = _to_lonlat(node_x, node_y)
    base = RoadGraph(mode="drive", node_id=np.arange(node_x.size, dtype=np.int64),
                     x_m=node_x, y_m=node_y, lon=lon, lat=lat, edge_u=u, edge_v=v,
                     edge_length_m=length, edge_speed_kph=speed.astype(float), edge_class=cls)
    drive = largest_strong_component(base)
    keep_ids = drive.node_id
    graphs = {m: RoadGraph(**{**drive.__dict__, "mode": m}) for m in GRAPHS}

    # population: a dense core fading to the edge, none on the exit roads
    r = np.hypot(drive.x_m, drive.y_m)
    density = 0.12 + np.exp(-0.5 * (r / (side_m / 4.0)) ** 2)
    outside = np.isin(drive.node_id, np.array(exit_nodes, dtype=np.int64))
    density[outside] = 0.0
    weight = density / density.sum() * spec.population

    # stations on a ring around the centre, bureau at the centre
    def nearest(px: float, py: float) -> int:
        d = np.hypot(drive.x_m - px, drive.y_m - py)
        d[outside] = np.inf
        return int(np.argmin(d))

    k = spec.stations
    st_angles = np.linspace(0, 2 * np.pi, k, endpoint=False) + np.pi / 4
    st_r = side_m / 4.0 if k > 1 else 0.0
    stations = [nearest(st_r * np.cos(a), st_r * np.sin(a)) for a in st_angles]
    names = tuple(f"{STATION_NAMES[i % len(STATION_NAMES)]} station"
                  + ("" if i < len(STATION_NAMES) else f" {i // len(STATION_NAMES) + 1}")
                  for i in range(k))
    bureau = nearest(0.0, 0.0)
    exits = np.flatnonzero(outside)
    node_map, offsets = map_places(graphs)
    return City(name=name, graphs=graphs, place_weight=weight,
                station_place=np.array(stations, np.int64), station_name=names,
                bureau_place=bureau, exit_place=exits.astype(np.int64), place_node=node_map,
                place_offset_m=offsets, source=f"synthetic(seed={spec.seed})",
                notes=(f"{n}x{n} jittered grid, block {step:.0f} m, kept ids {keep_ids.size}",))
