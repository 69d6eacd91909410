"""``patrolsim network info SCENARIO_OR_FILE``: what a road network holds and what was dropped."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import add_set_option

OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".xml")
SET_HELP = ("override a key of a scenario YAML file (not used with an OpenStreetMap file), "
            "e.g. --set network.synthetic.seed=4 (repeatable)")


def add_parser(sub) -> None:
    p = sub.add_parser("network", help="inspect road networks",
                       description="Inspect the road network of a scenario or an OpenStreetMap file.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    info = verbs.add_parser("info", help="nodes, edges, street km, area and what was dropped, per mode")
    info.add_argument("source", help="a scenario YAML file or an OpenStreetMap file (.osm, .osm.gz, .osm.bz2)")
    add_set_option(info, help=SET_HELP)
    info.add_argument("--quiet", action="store_true", help="no progress while a network is built")
    info.set_defaults(func=run_info)
    plot = verbs.add_parser("plot", help="a map of the network: streets, stations, exits and a lat/lon grid")
    plot.add_argument("source", help="a scenario YAML file or an OpenStreetMap file (.osm, .osm.gz, .osm.bz2)")
    plot.add_argument("--out", type=Path, default=None,
                      help="picture to write, .png or .svg (default: <network name>-network.png here)")
    add_set_option(plot, help=SET_HELP)
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


def run_info(args: argparse.Namespace) -> int:
    from sim.network import load_city
    from sim.report.network import network_info_text
    from sim.report.terminal import Progress

    scenario = scenario_for(args.source, args.overrides)
    city = load_city(scenario, quiet=args.quiet, progress=Progress("network graphs", quiet=args.quiet))
    print(network_info_text(city))
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
