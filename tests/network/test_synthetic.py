"""The embedded synthetic county town: deterministic, connected, at the requested scale."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull

from sim.network import MODES, load_city
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork, scenario_from_dict


def _strongly_connected(g) -> bool:
    adj = sparse.csr_matrix((np.ones(g.n_edges), (g.edge_u, g.edge_v)), shape=(g.n_nodes, g.n_nodes))
    n, _ = connected_components(adj, directed=True, connection="strong")
    return n == 1


@pytest.fixture(scope="module")
def town():
    return synthetic_city(SyntheticNetwork())


def test_same_seed_same_town():
    a = synthetic_city(SyntheticNetwork(seed=5, area_km2=3.0))
    b = synthetic_city(SyntheticNetwork(seed=5, area_km2=3.0))
    for field in ("x_m", "y_m", "edge_u", "edge_v", "edge_length_m", "edge_speed_kph"):
        np.testing.assert_array_equal(getattr(a.places, field), getattr(b.places, field))
    np.testing.assert_array_equal(a.station_place, b.station_place)
    np.testing.assert_array_equal(a.place_weight, b.place_weight)


def test_another_seed_another_town():
    a = synthetic_city(SyntheticNetwork(seed=5, area_km2=3.0))
    b = synthetic_city(SyntheticNetwork(seed=6, area_km2=3.0))
    assert a.places.n_edges != b.places.n_edges or not np.array_equal(a.places.x_m, b.places.x_m)


def test_every_mode_graph_is_strongly_connected(town):
    assert set(MODES) <= set(town.graphs)
    for mode in MODES:
        assert _strongly_connected(town.graphs[mode]), mode


def test_default_town_has_the_requested_area(town):
    """The street grid (exit roads aside) covers about 17.4 km².

    Tolerance 10%: the grid side is sqrt(area) exactly, but nodes are jittered by up to
    5% of a block on the ring and the convex hull of the nodes follows the jitter.
    """
    g = town.places
    inner = np.setdiff1d(np.arange(g.n_nodes), town.exit_place)
    hull = ConvexHull(np.column_stack([g.x_m[inner], g.y_m[inner]])).volume / 1e6
    assert hull == pytest.approx(17.4, rel=0.10)


def test_edges_are_two_way_with_positive_lengths_and_speeds(town):
    g = town.places
    assert np.all(g.edge_length_m > 0)
    assert np.all(g.edge_speed_kph > 0)
    fwd = set(zip(g.edge_u.tolist(), g.edge_v.tolist()))
    assert all((v, u) in fwd for u, v in fwd)
    # an edge's length is the straight line between its ends
    np.testing.assert_allclose(
        g.edge_length_m, np.hypot(g.x_m[g.edge_u] - g.x_m[g.edge_v], g.y_m[g.edge_u] - g.y_m[g.edge_v]))


def test_population_weights_sum_to_population_and_exits_are_empty(town):
    assert town.place_weight.sum() == pytest.approx(200_000)
    assert np.all(town.place_weight >= 0)
    assert len(town.exit_place) == 6
    assert np.all(town.place_weight[town.exit_place] == 0)


def test_core_is_denser_than_the_edge(town):
    g = town.places
    r = np.hypot(g.x_m, g.y_m)
    inner = town.place_weight[r < np.quantile(r, 0.25)].mean()
    outer = town.place_weight[(r > np.quantile(r, 0.75)) & (town.place_weight > 0)].mean()
    assert inner > 2 * outer


@pytest.mark.parametrize("stations", [1, 4, 7])
def test_stations_bureau_and_names(stations):
    c = synthetic_city(SyntheticNetwork(area_km2=3.0, stations=stations, exits=3))
    assert len(c.station_place) == stations == len(c.station_name)
    assert len(set(c.station_name)) == stations
    assert 0 <= c.bureau_place < c.n_places
    assert not np.isin(c.station_place, c.exit_place).any()
    assert not np.isin(c.bureau_place, c.exit_place)
    assert len(c.exit_place) == 3


def test_places_map_to_themselves_on_every_mode(town):
    """The synthetic town uses one street graph for all modes: a place is its own node."""
    for mode in MODES:
        np.testing.assert_array_equal(town.place_node[mode], np.arange(town.n_places))
        assert np.all(town.place_offset_m[mode] == 0)


def test_load_city_builds_the_synthetic_town_from_a_scenario():
    sc = scenario_from_dict({"name": "t", "network": {"synthetic": {"area_km2": 2.0, "stations": 2}}})
    city = load_city(sc, quiet=True)
    assert len(city.station_place) == 2
    assert city.source.startswith("synthetic")
    assert city.n_places == city.graphs["drive"].n_nodes
