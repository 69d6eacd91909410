"""What a road network holds and what was dropped, per travel mode (``patrolsim network info``)."""

from __future__ import annotations

import numpy as np

from sim.kinds import GRAPHS


def network_info(city) -> list[dict]:
    """One row per travel mode: nodes, edges, street km, area and what was dropped."""
    rows = []
    for mode, g in city.graphs.items():
        rows.append({"mode": mode, "nodes": g.n_nodes, "edges": g.n_edges,
                     "street_km": g.street_km(), "area_km2": g.area_km2(),
                     "dropped_nodes": g.dropped_nodes, "dropped_edges": g.dropped_edges})
    return rows


def network_info_text(city) -> str:
    from sim.report.network_plot import bounds

    b = bounds(city)
    out = [f"network: {city.name}  source: {city.source}",
           f"  bounding box (lat/lon): south {b['south']:.6f}, west {b['west']:.6f}, north {b['north']:.6f}, "
           f"east {b['east']:.6f}  ({b['width_km']:.2f} km x {b['height_km']:.2f} km)",
           f"  centre (lat, lon): {b['centre_lat']:.6f}, {b['centre_lon']:.6f}",
           f"  {'mode':<6} {'nodes':>7} {'edges':>7} {'street km':>10} {'area km2':>9}   "
           "dropped (largest strongly connected part kept)"]
    for r in network_info(city):
        out.append(f"  {r['mode']:<6} {r['nodes']:>7,} {r['edges']:>7,} {r['street_km']:>10.1f} "
                   f"{r['area_km2']:>9.2f}   {r['dropped_nodes']:,} nodes, {r['dropped_edges']:,} edges")
    names = ", ".join(city.station_name)
    out.append(f"  places (incident locations = drive nodes): {city.n_places:,}; population weight "
               f"{city.place_weight.sum():,.0f}")
    out.append(f"  stations ({len(city.station_place)}): {names}; bureau at place {city.bureau_place}; "
               f"exits: {len(city.exit_place)}")
    for mode in (g for g in GRAPHS if g != "drive"):
        off = city.place_offset_m.get(mode)
        if off is not None and off.size and off.max() > 0:
            out.append(f"  {mode} graph to places: median {float(np.median(off)):.0f} m, max {off.max():.0f} m")
    for note in city.notes:
        out.append(f"  note: {note}")
    return "\n".join(out)
