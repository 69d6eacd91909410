"""A synthetic county: the city core, townships, and the rural roads that join them.

A county town like Guanghan (549 km², about 600,000 people) is not one street grid: a dense
city core (17.4 km²) sits among townships (镇) of a few km² each, and rural roads cross the
fields between them, with villages along them. ``county_city`` builds that from a
``SyntheticNetwork`` spec with a ``county`` block:

* the core is exactly the town ``sim.network.synthetic`` builds from the same keys (same seed,
  same streets, stations, bureau and city exits), at the centre of the county box;
* each township is a smaller jittered grid (``town_grid``) at its ``x_km``/``y_km``, with one
  police station (派出所) at the node nearest its centre;
* the rural roads are straight lines every ``rural_road_km`` across the box, edge to edge (positions jittered),
  with nodes every ``rural_node_km`` or less: long edges, so the county adds few nodes (the cost
  of travel tables and of the engine grows with nodes, not with kilometres). Every
  ``county_road_every``-th line is a faster county road. Where a rural road enters a town it is
  joined to the town's nearest street node; a town that no road crosses gets two link roads, and
  each of the core's city exits a county road to the nearest rural node.

Population: the core's and each township's residents concentrate at their centres
(``sim.network.synthetic.core_density``); ``rural_population`` is spread along the rural roads
(uniform per road metre). All three modes share the one graph, as in the synthetic town.
Deterministic from ``spec.seed``: the core draws from ``default_rng(seed)`` as the town does,
township ``i`` from ``default_rng([seed, 1, i])`` and the rural roads from ``default_rng([seed, 2])``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from sim.county_checks import half_extent_km
from sim.errors import NetworkError
from sim.kinds import GRAPHS
from sim.network.graph import City, RoadGraph, largest_strong_component, map_places
from sim.network.synthetic import (_to_lonlat, core_density, ring_station_points, station_label, town_grid,
                                   town_speed_kph)

COUNTY_ROAD_CLASS, RURAL_ROAD_CLASS = "secondary", "unclassified"
#: Rural roads are offset from a regular spacing by up to this share of it (irregular fields).
LINE_JITTER = 0.2
#: Links made from the nearest rural nodes to a town that fewer rural roads cross.
MIN_TOWN_LINKS = 2


def _town_boxes(centres: list[tuple[float, float]], halves: list[float]) -> np.ndarray:
    """(k, 4) array of [x0, x1, y0, y1] per town."""
    return np.array([[cx - h, cx + h, cy - h, cy + h] for (cx, cy), h in zip(centres, halves)], float)


def town_half_extent_m(area_km2: float, block_m: float) -> float:
    """Half the side of a town's box in which rural nodes give way to its streets (the same
    geometry ``sim.county_checks`` validates)."""
    return half_extent_km(area_km2, block_m) * 1000.0


def _line_positions(rng: np.random.Generator, length_m: float, spacing_m: float) -> np.ndarray:
    """Positions of parallel rural roads across ``length_m`` (centred), about ``spacing_m`` apart."""
    count = max(1, int(round(length_m / spacing_m)))
    step = length_m / count
    base = -length_m / 2.0 + step * (np.arange(count) + 0.5)
    return base + rng.uniform(-LINE_JITTER, LINE_JITTER, count) * step


def rural_grid(rng: np.random.Generator, county) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                          np.ndarray]:
    """Nodes (x, y) and one-way edges (u, v, is_county_road) of the rural road grid."""
    w_m, h_m = county.width_km * 1000.0, county.height_km * 1000.0
    spacing_m, node_m = county.rural_road_km * 1000.0, county.rural_node_km * 1000.0
    xs = _line_positions(rng, w_m, spacing_m)      # north-south roads at these x
    ys = _line_positions(rng, h_m, spacing_m)      # east-west roads at these y
    every = county.county_road_every
    major_x = (np.arange(xs.size) - int(np.argmin(np.abs(xs)))) % every == 0
    major_y = (np.arange(ys.size) - int(np.argmin(np.abs(ys)))) % every == 0
    px, py = [float(x) for y in ys for x in xs], [float(y) for y in ys for x in xs]

    def crossing(a: int, b: int) -> int:   # node at north-south road a, east-west road b
        return b * xs.size + a

    us, vs, major = [], [], []

    def road(ends: list[int], along: np.ndarray, fixed: float, vertical: bool, is_major: bool) -> None:
        for k in range(len(ends) - 1):
            gap = along[k + 1] - along[k]
            parts = max(1, math.ceil(gap / node_m - 1e-9))
            prev = ends[k]
            for j in range(1, parts):
                t = along[k] + gap * j / parts
                px.append(fixed if vertical else t), py.append(t if vertical else fixed)
                nxt = len(px) - 1
                us.append(prev), vs.append(nxt), major.append(is_major)
                prev = nxt
            us.append(prev), vs.append(ends[k + 1]), major.append(is_major)

    def end(x: float, y: float) -> int:    # where a road leaves the county box
        px.append(x), py.append(y)
        return len(px) - 1

    for a in range(xs.size):
        x = float(xs[a])
        ends = [end(x, -h_m / 2)] + [crossing(a, b) for b in range(ys.size)] + [end(x, h_m / 2)]
        road(ends, np.concatenate([[-h_m / 2], ys, [h_m / 2]]), x, True, bool(major_x[a]))
    for b in range(ys.size):
        y = float(ys[b])
        ends = [end(-w_m / 2, y)] + [crossing(a, b) for a in range(xs.size)] + [end(w_m / 2, y)]
        road(ends, np.concatenate([[-w_m / 2], xs, [w_m / 2]]), y, False, bool(major_y[b]))
    return (np.array(px), np.array(py), np.array(us, np.int64), np.array(vs, np.int64), np.array(major, bool))


def _join_rural_roads(grids, town_start: list[int], centres, rural, inside: np.ndarray,
                      offset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges (u, v, is_county_road) of the rural roads in the county's node numbering: rural nodes
    outside every town follow the towns' nodes (from ``offset`` on, in order); a road that enters a
    town ends at the town's street node nearest to it, and one that runs from a town straight into
    another joins the two towns' street nodes nearest to each other's end of it; a town fewer than ``MIN_TOWN_LINKS`` roads
    reach is linked to the rural nodes nearest its centre; each city exit of the core (grid 0) gets
    a county road to the nearest rural node."""
    rx, ry, ru, rv, rmajor = rural
    kept = np.flatnonzero(inside < 0)
    new_index = np.full(rx.size, -1, np.int64)
    new_index[kept] = offset + np.arange(kept.size)
    trees = [cKDTree(np.column_stack([g.x_m, g.y_m])) for g in grids]

    def nearest_in_town(k: int, x: float, y: float) -> int:
        return town_start[k] + int(trees[k].query([x, y])[1])

    e_u, e_v, e_major = [], [], []
    links = np.zeros(len(grids), np.int64)
    for a, b, m in zip(ru, rv, rmajor):
        ia, ib = inside[a], inside[b]
        if ia >= 0 and ib >= 0:
            if ia != ib:        # from one town straight into the next: joins their streets facing each other
                e_u.append(nearest_in_town(ia, rx[b], ry[b])), e_v.append(nearest_in_town(ib, rx[a], ry[a]))
                e_major.append(m)
                links[ia] += 1
                links[ib] += 1
            continue                                   # within a town: its streets serve
        if ia >= 0 or ib >= 0:
            town, out = (ia, b) if ia >= 0 else (ib, a)
            e_u.append(new_index[out]), e_v.append(nearest_in_town(town, rx[out], ry[out])), e_major.append(m)
            links[town] += 1
        else:
            e_u.append(new_index[a]), e_v.append(new_index[b]), e_major.append(m)
    if kept.size:
        rural_tree = cKDTree(np.column_stack([rx[kept], ry[kept]]))
        for k, (cx, cy) in enumerate(centres):
            need = MIN_TOWN_LINKS - int(links[k])
            if need <= 0:
                continue
            _, near = rural_tree.query([cx, cy], k=min(need, kept.size))
            for j in np.atleast_1d(near):
                r = kept[int(j)]
                e_u.append(new_index[r]), e_v.append(nearest_in_town(k, rx[r], ry[r])), e_major.append(False)
        core = grids[0]
        for ex in core.exit_nodes:   # the core's city exits (checkpoints) lead onto the county's roads
            _, j = rural_tree.query([core.x_m[ex], core.y_m[ex]])
            e_u.append(int(ex)), e_v.append(new_index[kept[int(j)]]), e_major.append(True)
    return np.array(e_u, np.int64), np.array(e_v, np.int64), np.array(e_major, bool)


def county_city(spec, *, name: str = "synthetic-county", source_file: str | None = None) -> City:
    """Build the county described by ``spec`` (a ``SyntheticNetwork`` whose ``county`` is set).
    ``source_file``: the scenario file, named by the error of a town no road reaches."""
    county = spec.county
    # ---- towns: the core first (the same streets as the synthetic town), then each township
    core = town_grid(np.random.default_rng(spec.seed), area_km2=spec.area_km2, block_m=spec.block_m,
                     arterial_every=spec.arterial_every, drop_share=spec.drop_share, exits=spec.exits)
    grids = [core]
    for i, t in enumerate(county.townships):
        g = town_grid(np.random.default_rng([spec.seed, 1, i]), area_km2=t.area_km2, block_m=t.block_m,
                      arterial_every=spec.arterial_every, drop_share=spec.drop_share, exits=0)
        grids.append(g.shifted(t.x_km * 1000.0, t.y_km * 1000.0))
    centres = [(0.0, 0.0)] + [(t.x_km * 1000.0, t.y_km * 1000.0) for t in county.townships]
    halves = [town_half_extent_m(spec.area_km2, spec.block_m)] + [
        town_half_extent_m(t.area_km2, t.block_m) for t in county.townships]
    boxes = _town_boxes(centres, halves)

    xs, ys, us, vs, classes, speeds, group = [], [], [], [], [], [], []
    offset = 0
    town_start = []
    for k, g in enumerate(grids):
        town_start.append(offset)
        xs.append(g.x_m), ys.append(g.y_m)
        us.append(g.edge_u.astype(np.int64) + offset), vs.append(g.edge_v.astype(np.int64) + offset)
        classes.append(g.edge_class), speeds.append(town_speed_kph(g.edge_class))
        group.append(np.full(g.x_m.size, k, np.int64))
        offset += g.x_m.size
    town_x, town_y = np.concatenate(xs), np.concatenate(ys)
    town_group = np.concatenate(group)

    # ---- rural roads: drop the nodes inside a town's box, join the roads that enter it to its streets
    rx, ry, ru, rv, rmajor = rural_grid(np.random.default_rng([spec.seed, 2]), county)
    inside = np.full(rx.size, -1, np.int64)
    for k, (x0, x1, y0, y1) in enumerate(boxes):
        inside[(rx >= x0) & (rx <= x1) & (ry >= y0) & (ry <= y1)] = k
    kept = np.flatnonzero(inside < 0)
    e_u, e_v, e_major = _join_rural_roads(grids, town_start, centres, (rx, ry, ru, rv, rmajor), inside, offset)
    us.append(e_u), vs.append(e_v)
    classes.append(np.where(e_major, COUNTY_ROAD_CLASS, RURAL_ROAD_CLASS))
    speeds.append(np.where(e_major, county.county_road_kph, county.rural_kph).astype(float))

    node_x = np.concatenate([town_x, rx[kept]])
    node_y = np.concatenate([town_y, ry[kept]])
    node_group = np.concatenate([town_group, np.full(kept.size, -1, np.int64)])
    u, v = np.concatenate(us), np.concatenate(vs)
    cls, speed = np.concatenate(classes), np.concatenate(speeds)
    # every road is two-way
    u, v = np.concatenate([u, v]).astype(np.int32), np.concatenate([v, u]).astype(np.int32)
    cls, speed = np.concatenate([cls, cls]), np.concatenate([speed, speed])
    length = np.hypot(node_x[u] - node_x[v], node_y[u] - node_y[v])
    lon, lat = _to_lonlat(node_x, node_y)
    base = RoadGraph(mode="drive", node_id=np.arange(node_x.size, dtype=np.int64), x_m=node_x, y_m=node_y,
                     lon=lon, lat=lat, edge_u=u, edge_v=v, edge_length_m=length, edge_speed_kph=speed,
                     edge_class=cls)
    drive = largest_strong_component(base)
    graphs = {m: RoadGraph(**{**drive.__dict__, "mode": m}) for m in GRAPHS}
    grp = node_group[drive.node_id]
    present = np.bincount(grp[grp >= 0], minlength=len(grids))
    for k in np.flatnonzero(present == 0):   # only when no rural node is left to join a town to
        key = "network.synthetic.county" + (f".townships[{k - 1}]" if k else "")
        raise NetworkError(f"{'the city core' if k == 0 else repr(county.townships[k - 1].name)} is not joined "
                           "to the rest of the county by any road", file=source_file, key=key,
                           fix="leave room between the towns for rural roads (a larger county box or a smaller "
                               "network.synthetic.county.rural_road_km)")
    exit_ids = core.exit_nodes            # the core's exit roads are the first grids' ids
    is_exit = np.isin(drive.node_id, exit_ids)

    weight = _population(spec, drive, grp, is_exit, grids, centres)

    def nearest(k: int, px: float, py: float) -> int:
        d = np.hypot(drive.x_m - px, drive.y_m - py)
        d[(grp != k) | is_exit] = np.inf
        return int(np.argmin(d))

    stations = [nearest(0, px, py) for px, py in ring_station_points(spec.stations, core.side_m)]
    names = [station_label(i) for i in range(spec.stations)]
    for k, t in enumerate(county.townships, start=1):
        stations.append(nearest(k, *centres[k]))
        names.append(f"{t.name} station")
    node_map, offsets = map_places(graphs)
    rural_nodes = int((grp < 0).sum())
    return City(name=name, graphs=graphs, place_weight=weight, station_place=np.array(stations, np.int64),
                station_name=tuple(names), bureau_place=nearest(0, 0.0, 0.0),
                exit_place=np.flatnonzero(is_exit).astype(np.int64), place_node=node_map, place_offset_m=offsets,
                source=f"synthetic-county(seed={spec.seed})",
                notes=(f"county {county.width_km:g} x {county.height_km:g} km: core {core.n}x{core.n} grid "
                       f"(block {core.step_m:.0f} m), {len(county.townships)} townships, {rural_nodes} rural "
                       f"nodes on roads every {county.rural_road_km:g} km",))


def _population(spec, drive: RoadGraph, grp: np.ndarray, is_exit: np.ndarray, grids, centres) -> np.ndarray:
    """Residents per place: each town's around its centre, the rural population along the rural roads."""
    weight = np.zeros(drive.n_nodes)
    totals = [spec.population] + [t.population for t in spec.county.townships]
    for k, (g, (cx, cy), total) in enumerate(zip(grids, centres, totals)):
        m = (grp == k) & ~is_exit
        density = core_density(drive.x_m[m] - cx, drive.y_m[m] - cy, g.side_m)
        weight[m] = density / density.sum() * total
    rural = grp < 0
    if spec.county.rural_population > 0 and rural.any():
        metres = np.zeros(drive.n_nodes)
        np.add.at(metres, drive.edge_u, drive.edge_length_m / 2.0)   # each road's half at each end
        w = np.where(rural, metres, 0.0)
        weight[rural] = w[rural] / w.sum() * spec.county.rural_population
    return weight
