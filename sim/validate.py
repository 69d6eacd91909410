"""Checks across keys, and against the loaded network, that one field's range cannot express.

pydantic (``sim.scenario``) checks each value alone: its type, that it is finite, its range.
This module checks what needs two keys or the network: a warm-up shorter than the horizon,
shifts that divide the day, crews for every kind in the mix, a town big enough to have
streets, an OpenStreetMap file that is a non-empty file, and, once the network is loaded,
a force that fits it and hot spots on it. Each problem is one ``ScenarioError`` naming the
file, the key path and the fix, raised before any simulation starts, so the model never
sees an input it would crash on (a KeyError deep in the beat split) or silently ignore.
"""

from __future__ import annotations

import math
import numpy as np

from sim.errors import ScenarioError
from sim.kinds import KIND_NAMES as KINDS

#: A synthetic town needs at least this many blocks along a side to have beats and exits.
MIN_BLOCKS_PER_SIDE = 4
#: A beat needs at least this many street nodes; more units of one kind than places / this fail.
MIN_PLACES_PER_UNIT = 2
#: Fewest street nodes a network needs to hold stations, beats and exits.
MIN_PLACES = 3


def _err(sc, key: str, message: str, fix: str) -> ScenarioError:
    return ScenarioError(message, file=sc.source_file, key=key, fix=fix)


def check_scenario(sc) -> None:
    """Cross-key checks on a validated Scenario (raises ScenarioError on the first problem)."""
    if sc.warmup_days >= sc.horizon_days:
        raise _err(sc, "warmup_days", f"warm-up ({sc.warmup_days:g} days) is not shorter than the horizon "
                   f"({sc.horizon_days:g} days): nothing would be measured",
                   "make warmup_days smaller than horizon_days (e.g. --set warmup_days=0)")
    _check_force(sc)
    _check_network(sc)
    from sim.budget import check as check_budget

    # one replication here (--replications may still change the count); all of them in
    # check_against_network, once the network's size and the final count are known
    check_budget(sc, replications=1)


def _check_force(sc) -> None:
    f = sc.force
    per_day = 24.0 / f.shift_hours
    if abs(per_day - round(per_day)) > 1e-9:
        raise _err(sc, "force.shift_hours", f"{f.shift_hours:g} hours does not divide the day into whole shifts",
                   "use a divisor of 24 such as 4, 6, 8, 12 or 24")
    # a kind left out of force.crew keeps its registry crew (sim.kinds), so every kind has one


def _check_network(sc) -> None:
    syn = sc.network.synthetic
    if syn is not None:
        blocks = math.sqrt(syn.area_km2) * 1000.0 / syn.block_m
        if blocks < MIN_BLOCKS_PER_SIDE:
            least = (MIN_BLOCKS_PER_SIDE * syn.block_m / 1000.0) ** 2
            raise _err(sc, "network.synthetic.area_km2",
                       f"{syn.area_km2:g} km² with {syn.block_m:g} m blocks is fewer than "
                       f"{MIN_BLOCKS_PER_SIDE} blocks a side: too small for a street network",
                       f"use area_km2 of at least {least:.2g} or a smaller network.synthetic.block_m")
        from sim.county_checks import check_county

        check_county(sc)
    osm = sc.network.osm
    if osm is not None and osm.file:
        path = sc.resolve_path(osm.file)
        if path.is_dir():
            raise _err(sc, "network.osm.file", f"{path} is a folder, not a file",
                       "name an .osm, .osm.gz or .osm.bz2 file")
        if path.is_file() and path.stat().st_size == 0:
            raise _err(sc, "network.osm.file", f"{path} is empty",
                       "export the area again from OpenStreetMap (an .osm XML file)")


def _patrol_units(sc, share: float) -> dict[str, int]:
    """Units of each kind on patrol when ``share`` of the force patrols (as sim.force forms them)."""
    f = sc.force
    officers = int(round(f.total_officers * share))
    total = sum(v for v in f.mix.values() if v > 0)
    return {k: int(officers * f.mix[k] / total) // f.crew[k] for k in KINDS if f.mix.get(k, 0) > 0}


def check_against_network(sc, city) -> None:
    """Checks that need the loaded network: the force fits it, hot spots lie on it.

    Called at the top of ``sim.force.deploy``, which every command reaches before simulating.
    """
    places = int(city.places.n_nodes)
    if places < MIN_PLACES:
        key = "network.osm.file" if sc.network.osm is not None and sc.network.osm.file else "network"
        raise _err(sc, key, f"the road network has only {places} street node(s) that cars can reach both ways",
                   "use a larger extract (a town needs streets, not a single road)")
    from sim.budget import check as check_budget

    check_budget(sc, nodes=places)
    a = sc.alert
    # a fixed level deploys that level only; calendar and adaptive plans may reach any level
    share = a.patrol_share[a.level] if a.mode == "fixed" else max(a.patrol_share.values())
    for kind, n in _patrol_units(sc, share).items():
        if n * MIN_PLACES_PER_UNIT > places:
            raise _err(sc, "force.total_officers",
                       f"{n} {kind} units on patrol (patrol share {share:g}) need at least "
                       f"{n * MIN_PLACES_PER_UNIT} street nodes for their beats; the network has {places}",
                       "lower force.total_officers or force.mix, or use a larger network")
    if sc.force.reserve.units * MIN_PLACES_PER_UNIT > places:
        raise _err(sc, "force.reserve.units", f"{sc.force.reserve.units} reserve units do not fit a network of "
                   f"{places} street nodes", "lower force.reserve.units or use a larger network")
    _check_hotspots(sc, city)


def _check_hotspots(sc, city) -> None:
    if not sc.demand.hotspots:
        return
    lon, lat = np.asarray(city.places.lon, float), np.asarray(city.places.lat, float)
    s, n, w, e = lat.min(), lat.max(), lon.min(), lon.max()
    for i, h in enumerate(sc.demand.hotspots):
        m_per_deg_lat = 111_195.0
        m_per_deg_lon = m_per_deg_lat * max(math.cos(math.radians(h.lat)), 1e-6)
        dy = max(s - h.lat, h.lat - n, 0.0) * m_per_deg_lat
        dx = max(w - h.lon, h.lon - e, 0.0) * m_per_deg_lon
        if math.hypot(dx, dy) > h.radius_m:
            raise _err(sc, f"demand.hotspots[{i}]",
                       f"hot spot '{h.name}' at ({h.lat:g}, {h.lon:g}) lies {math.hypot(dx, dy) / 1000:.3g} km "
                       f"outside the network (lat {s:.4f}..{n:.4f}, lon {w:.4f}..{e:.4f}); it would get no calls",
                       "correct its lat/lon (degrees, WGS84) or remove it")
