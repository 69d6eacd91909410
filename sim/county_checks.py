"""Checks of a synthetic county's layout (``network.synthetic.county``) that one key alone cannot express.

Each township must lie inside the county box, clear of the city core and of the other townships
(their streets are separate grids joined by rural roads; overlapping grids would make a tangle no
planner drew), have a unique name and at least a few blocks a side. The core must fit in the box.
Each problem is one ``ScenarioError`` naming the file, the exact key and the fix. The geometry is
the one ``sim.network.county`` builds: a town occupies a square of its area, plus a margin where
rural roads give way to its streets: ``half_extent_km`` below, which the builder uses too, so the
check and the network agree (this module runs before any network code is imported).
"""

from __future__ import annotations

import math

from sim.errors import ScenarioError

#: A town needs at least this many blocks along a side to have streets (as ``sim.validate`` asks of the core).
MIN_BLOCKS_PER_SIDE = 4
#: Least margin around a town's grid (m): the core's exit roads reach 150 m beyond its ring.
MIN_TOWN_MARGIN_M = 200.0


def half_extent_km(area_km2: float, block_m: float) -> float:
    """Half the side of the square a town takes in the county (its grid plus the margin), in km."""
    return math.sqrt(area_km2) / 2.0 + max(0.5 * block_m, MIN_TOWN_MARGIN_M) / 1000.0


def county_nodes(syn) -> float:
    """Street nodes of a synthetic county besides the core: township grids and rural road nodes."""
    c = syn.county
    if c is None:
        return 0.0
    towns = sum((round(math.sqrt(t.area_km2) * 1000.0 / t.block_m) + 1) ** 2 for t in c.townships)
    nx = max(1, round(c.width_km / c.rural_road_km))
    ny = max(1, round(c.height_km / c.rural_road_km))
    rural = nx * ny + nx * math.ceil(c.height_km / c.rural_node_km) + ny * math.ceil(c.width_km / c.rural_node_km)
    return float(towns + rural)


def check_county(sc) -> None:
    """Raise ``ScenarioError`` on the first problem of ``sc.network.synthetic.county`` (if any)."""
    syn = sc.network.synthetic
    c = syn.county if syn is not None else None
    if c is None:
        return
    base = "network.synthetic.county"

    def err(key: str, message: str, fix: str) -> ScenarioError:
        return ScenarioError(message, file=sc.source_file, key=f"{base}.{key}", fix=fix)

    half_w, half_h = c.width_km / 2.0, c.height_km / 2.0
    core = half_extent_km(syn.area_km2, syn.block_m)
    if core > half_w or core > half_h:
        key = "width_km" if core > half_w else "height_km"
        raise err(key, f"the city core ({syn.area_km2:g} km², {2 * core:.3g} km a side with its margin) does not "
                       f"fit in a county of {c.width_km:g} x {c.height_km:g} km",
                  f"make width_km and height_km at least {2 * core:.3g}, or network.synthetic.area_km2 smaller")
    towns = [("the city core", 0.0, 0.0, core)]
    seen: dict[str, int] = {}
    for i, t in enumerate(c.townships):
        key = f"townships[{i}]"
        if t.name in seen:
            raise err(f"{key}.name", f"township name '{t.name}' is used twice (townships[{seen[t.name]}] too)",
                      "give each township its own name (its station is named after it)")
        seen[t.name] = i
        blocks = math.sqrt(t.area_km2) * 1000.0 / t.block_m
        if blocks < MIN_BLOCKS_PER_SIDE:
            least = (MIN_BLOCKS_PER_SIDE * t.block_m / 1000.0) ** 2
            raise err(f"{key}.area_km2", f"township '{t.name}': {t.area_km2:g} km² with {t.block_m:g} m blocks is "
                                         f"fewer than {MIN_BLOCKS_PER_SIDE} blocks a side",
                      f"use area_km2 of at least {least:.2g} or a smaller block_m")
        h = half_extent_km(t.area_km2, t.block_m)
        for axis, value, limit, edge in (("x_km", t.x_km, half_w, "east-west"), ("y_km", t.y_km, half_h,
                                                                                   "north-south")):
            if abs(value) + h > limit:
                raise err(f"{key}.{axis}", f"township '{t.name}' at {axis[0]} = {value:g} km reaches "
                                           f"{abs(value) + h:.3g} km from the centre, outside the county "
                                           f"({edge} half-width {limit:g} km)",
                          f"move it to within ±{max(limit - h, 0):.3g} km or enlarge "
                          f"{base}.{'width_km' if axis == 'x_km' else 'height_km'}")
        for other, ox, oy, oh in towns:
            gap = max(abs(t.x_km - ox), abs(t.y_km - oy)) - (h + oh)
            if gap < 0:
                raise err(key, f"township '{t.name}' at ({t.x_km:g}, {t.y_km:g}) km overlaps {other} "
                                         f"(their squares, margins included, overlap by {-gap:.2g} km)",
                          f"move it (x_km, y_km) at least {-gap:.2g} km further from {other}, or make "
                          "one of them smaller")
        towns.append((f"township '{t.name}'", t.x_km, t.y_km, h))
