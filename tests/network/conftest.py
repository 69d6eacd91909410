"""Fixtures shared by the network tests."""

from __future__ import annotations

import pytest

from sim.network import travel as travel_mod
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork


@pytest.fixture(scope="module")
def big_town():
    """A synthetic town's drive graph of 4,901 nodes: above the all-pairs matrix's limit of 4,000 (the kernel backend)."""
    city = synthetic_city(SyntheticNetwork(seed=5, area_km2=12.0, block_m=50, stations=2, exits=2))
    graph = city.graphs["drive"]
    assert graph.n_nodes > travel_mod.FULL_MATRIX_MAX_NODES
    return graph
