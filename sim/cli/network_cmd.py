"""``patrolsim network info SCENARIO_OR_FILE``: what a road network holds and what was dropped."""

from __future__ import annotations

import argparse
from pathlib import Path

OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".xml")


def add_parser(sub) -> None:
    p = sub.add_parser("network", help="inspect road networks",
                       description="Inspect the road network of a scenario or an OpenStreetMap file.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    info = verbs.add_parser("info", help="nodes, edges, street km, area and what was dropped, per mode")
    info.add_argument("source", help="a scenario YAML file or an OpenStreetMap file (.osm, .osm.gz, .osm.bz2)")
    info.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")
    info.set_defaults(func=run_info)
    plot = verbs.add_parser("plot", help="a map of the network: streets, stations, exits and a lat/lon grid")
    plot.add_argument("source", help="a scenario YAML file or an OpenStreetMap file (.osm, .osm.gz, .osm.bz2)")
    plot.add_argument("--out", type=Path, default=None,
                      help="picture to write, .png or .svg (default: <network name>-network.png here)")
    plot.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")
    plot.set_defaults(func=run_plot)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def scenario_for(source: str, overrides: list[str]):
    """A scenario for a YAML file, or a minimal one wrapping an OSM file."""
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import load_scenario

    if source.lower().endswith(OSM_SUFFIXES):
        path = Path(source).resolve()
        return scenario_from_dict({"name": path.name.split(".")[0] or "network",
                                   "network": {"osm": {"file": str(path)}}})
    return load_scenario(source, overrides=overrides)


def network_info(city) -> list[dict]:
    rows = []
    for mode, g in city.graphs.items():
        rows.append({"mode": mode, "nodes": g.n_nodes, "edges": g.n_edges,
                     "street_km": g.street_km(), "area_km2": g.area_km2(),
                     "dropped_nodes": g.dropped_nodes, "dropped_edges": g.dropped_edges})
    return rows


def run_info(args: argparse.Namespace) -> int:
    from sim.network import load_city

    scenario = scenario_for(args.source, args.overrides)
    city = load_city(scenario)
    print(f"network: {city.name}  source: {city.source}")
    from sim.report.network_plot import bounds

    b = bounds(city)
    print(f"  bounding box (lat/lon): south {b['south']:.6f}, west {b['west']:.6f}, north {b['north']:.6f}, "
          f"east {b['east']:.6f}  ({b['width_km']:.2f} km x {b['height_km']:.2f} km)")
    print(f"  centre (lat, lon): {b['centre_lat']:.6f}, {b['centre_lon']:.6f}")
    print(f"  {'mode':<6} {'nodes':>7} {'edges':>7} {'street km':>10} {'area km2':>9}   dropped (largest strongly connected part kept)")
    for r in network_info(city):
        print(f"  {r['mode']:<6} {r['nodes']:>7,} {r['edges']:>7,} {r['street_km']:>10.1f} {r['area_km2']:>9.2f}"
              f"   {r['dropped_nodes']:,} nodes, {r['dropped_edges']:,} edges")
    names = ", ".join(city.station_name)
    print(f"  places (incident locations = drive nodes): {city.n_places:,}; population weight "
          f"{city.place_weight.sum():,.0f}")
    print(f"  stations ({len(city.station_place)}): {names}; bureau at place {city.bureau_place}; "
          f"exits: {len(city.exit_place)}")
    for mode in ("bike", "walk"):
        off = city.place_offset_m.get(mode)
        if off is not None and off.size and off.max() > 0:
            print(f"  {mode} graph to places: median {float(__import__('numpy').median(off)):.0f} m, "
                  f"max {off.max():.0f} m")
    for note in city.notes:
        print(f"  note: {note}")
    return 0


def run_plot(args: argparse.Namespace) -> int:
    import sys

    from sim.network import load_city
    from sim.report.network_plot import write_network_plot

    scenario = scenario_for(args.source, args.overrides)
    city = load_city(scenario)
    out = args.out or Path(f"{scenario.name}-network.png")
    path = write_network_plot(city, out)
    print(f"  wrote {path}", file=sys.stderr)
    return 0
