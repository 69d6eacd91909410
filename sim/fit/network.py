"""The road network calls are snapped to: a scenario file or an OpenStreetMap extract."""

from __future__ import annotations

from pathlib import Path

from sim.errors import NetworkError

OSM_SUFFIXES = (".osm", ".osm.gz", ".osm.bz2", ".xml", ".xml.gz", ".xml.bz2")


def load_network(arg: str, *, quiet: bool = False, progress=None):
    """``(city, max_snap_m)`` from ``--network``: a scenario YAML or an .osm/.osm.gz/.osm.bz2 file."""
    from sim.network import load_city
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import load_scenario

    path = Path(arg)
    name = path.name.lower()
    if name.endswith((".yaml", ".yml")):
        scenario = load_scenario(path)
    elif name.endswith(OSM_SUFFIXES):
        if not path.exists():
            raise NetworkError("file not found", file=str(path), key="--network",
                               fix="name a scenario .yaml or an .osm/.osm.gz/.osm.bz2 file")
        scenario = scenario_from_dict({"name": "fit", "network": {"osm": {"file": str(path.resolve())}}})
    else:
        raise NetworkError("not a scenario or OpenStreetMap file", file=str(path), key="--network",
                           fix="name a scenario .yaml or an .osm/.osm.gz/.osm.bz2 file")
    return load_city(scenario, quiet=quiet, progress=progress), float(scenario.network.max_snap_m)
