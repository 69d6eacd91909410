"""Road networks: OSM loading (the only place osmnx is imported), the synthetic town,
mode graphs as arrays, the on-disk cache and the travel-time oracle."""

from sim.network.build import load_city
from sim.network.graph import MODE_OF_KIND, MODES, City, RoadGraph
from sim.network.travel import TravelOracle

__all__ = ["City", "RoadGraph", "TravelOracle", "load_city", "MODES", "MODE_OF_KIND"]
