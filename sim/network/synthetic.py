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

from dataclasses import dataclass, replace

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


@dataclass(frozen=True)
class TownGrid:
    """One town's streets before they become a graph: nodes in metres around the town's centre,
    one-way edge list (each street once), highway classes and the exit-road end nodes."""

    x_m: np.ndarray
    y_m: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_class: np.ndarray
    exit_nodes: np.ndarray
    n: int              # nodes per side of the grid
    step_m: float       # block length after fitting the grid to the side
    side_m: float

    def shifted(self, dx_m: float, dy_m: float) -> "TownGrid":
        return replace(self, x_m=self.x_m + dx_m, y_m=self.y_m + dy_m)


def town_grid(rng: np.random.Generator, *, area_km2: float, block_m: float, arterial_every: int,
              drop_share: float, exits: int) -> TownGrid:
    """A jittered street grid of ``area_km2`` centred on (0, 0): arterials every few streets, the
    outer streets a ring road, some local segments dropped, a few diagonal lanes, and ``exits``
    short roads leaving the ring (draws from ``rng`` in a fixed order: same seed, same town)."""
    side_m = float(np.sqrt(area_km2) * 1000.0)
    n = max(3, int(round(side_m / block_m)) + 1)
    step = side_m / (n - 1)
    half = side_m / 2.0
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    art_i = (ii % arterial_every == 0) | (ii == n - 1)
    art_j = (jj % arterial_every == 0) | (jj == n - 1)
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
        arterial = (line % arterial_every == 0) | (line == n - 1)
        ring = on_ring(line)
        cls = np.where(ring, "primary", np.where(arterial, "secondary", "residential"))
        keep = arterial | (rng.random(a.size) >= drop_share)
        add(a[keep], b[keep], cls[keep])
    # a few diagonal lanes make blocks irregular
    diag = (ii < n - 1) & (jj < n - 1) & (rng.random(ii.size) < 0.04)
    add(idx[diag], idx[diag] + n + 1, np.full(int(diag.sum()), "unclassified"))

    node_x, node_y = list(x), list(y)
    exit_nodes = []
    if exits:
        # exits leave the ring along arterial lines, spread by angle
        angles = np.linspace(0, 2 * np.pi, exits, endpoint=False) + np.pi / exits
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
    return TownGrid(x_m=np.array(node_x), y_m=np.array(node_y),
                    edge_u=np.concatenate(us).astype(np.int32), edge_v=np.concatenate(vs).astype(np.int32),
                    edge_class=np.concatenate(classes), exit_nodes=np.array(exit_nodes, np.int64),
                    n=n, step_m=step, side_m=side_m)


def town_speed_kph(cls: np.ndarray) -> np.ndarray:
    """Road speed of a town street by its class (ring, arterial, exit road, local)."""
    return np.select([cls == "primary", cls == "secondary", cls == "trunk"],
                     [RING_KPH, ARTERIAL_KPH, EXIT_KPH], LOCAL_KPH).astype(float)


def core_density(x_m: np.ndarray, y_m: np.ndarray, side_m: float) -> np.ndarray:
    """Relative population density of a town: a dense core fading to the edge."""
    r = np.hypot(x_m, y_m)
    return 0.12 + np.exp(-0.5 * (r / (side_m / 4.0)) ** 2)


def station_label(i: int) -> str:
    """The name of the i-th station of the town (the core's, in a county)."""
    return (f"{STATION_NAMES[i % len(STATION_NAMES)]} station"
            + ("" if i < len(STATION_NAMES) else f" {i // len(STATION_NAMES) + 1}"))


def ring_station_points(k: int, side_m: float) -> list[tuple[float, float]]:
    """Where a town's ``k`` stations go: on a ring at a quarter of the side around the centre."""
    st_angles = np.linspace(0, 2 * np.pi, k, endpoint=False) + np.pi / 4
    st_r = side_m / 4.0 if k > 1 else 0.0
    return [(st_r * np.cos(a), st_r * np.sin(a)) for a in st_angles]


def synthetic_city(spec, *, name: str = "synthetic-county-town") -> City:
    """Build the town described by a ``SyntheticNetwork`` spec (its ``county`` block, if any, is
    ``sim.network.county``'s: ``sim.network.build.load_city`` chooses)."""
    rng = np.random.default_rng(spec.seed)
    grid = town_grid(rng, area_km2=spec.area_km2, block_m=spec.block_m, arterial_every=spec.arterial_every,
                     drop_share=spec.drop_share, exits=spec.exits)
    n, step, side_m = grid.n, grid.step_m, grid.side_m
    node_x, node_y = grid.x_m, grid.y_m
    exit_nodes = list(grid.exit_nodes)
    u, v, cls = grid.edge_u, grid.edge_v, grid.edge_class
    # every street is two-way
    u, v, cls = np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([cls, cls])
    length = np.hypot(node_x[u] - node_x[v], node_y[u] - node_y[v])
    speed = town_speed_kph(cls)
    lon, lat = _to_lonlat(node_x, node_y)
    base = RoadGraph(mode="drive", node_id=np.arange(node_x.size, dtype=np.int64),
                     x_m=node_x, y_m=node_y, lon=lon, lat=lat, edge_u=u, edge_v=v,
                     edge_length_m=length, edge_speed_kph=speed, edge_class=cls)
    drive = largest_strong_component(base)
    keep_ids = drive.node_id
    graphs = {m: RoadGraph(**{**drive.__dict__, "mode": m}) for m in GRAPHS}

    # population: a dense core fading to the edge, none on the exit roads
    density = core_density(drive.x_m, drive.y_m, side_m)
    outside = np.isin(drive.node_id, np.array(exit_nodes, dtype=np.int64))
    density[outside] = 0.0
    weight = density / density.sum() * spec.population

    # stations on a ring around the centre, bureau at the centre
    def nearest(px: float, py: float) -> int:
        d = np.hypot(drive.x_m - px, drive.y_m - py)
        d[outside] = np.inf
        return int(np.argmin(d))

    k = spec.stations
    stations = [nearest(px, py) for px, py in ring_station_points(k, side_m)]
    names = tuple(station_label(i) for i in range(k))
    bureau = nearest(0.0, 0.0)
    exits = np.flatnonzero(outside)
    node_map, offsets = map_places(graphs)
    return City(name=name, graphs=graphs, place_weight=weight,
                station_place=np.array(stations, np.int64), station_name=names,
                bureau_place=bureau, exit_place=exits.astype(np.int64), place_node=node_map,
                place_offset_m=offsets, source=f"synthetic(seed={spec.seed})",
                notes=(f"{n}x{n} jittered grid, block {step:.0f} m, kept ids {keep_ids.size}",))
