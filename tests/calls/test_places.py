"""Snapping call coordinates to places of the road network."""

from __future__ import annotations

import numpy as np
import pytest

from sim.calls.places import snap_summary, snap_to_places


@pytest.fixture(scope="module")
def town(small_scenario):
    from sim.network import load_city

    return load_city(small_scenario, quiet=True)


def test_points_on_nodes_snap_with_zero_distance(town):
    g = town.places
    idx, dist = snap_to_places(town, g.lon[:5], g.lat[:5])
    assert list(idx) == [0, 1, 2, 3, 4] and np.allclose(dist, 0, atol=1e-6)
    # 0.01 degree of latitude north of a node is about 1.1 km away
    _, far = snap_to_places(town, g.lon[:1], g.lat[:1] + 0.01 + (g.lat.max() - g.lat[0]))
    assert far[0] > 1000


def test_snap_summary_gives_quantiles_in_metres():
    d = np.arange(101, dtype=float)
    assert snap_summary(d) == {"median_m": 50.0, "p90_m": 90.0, "p98_m": 98.0, "max_m": 100.0}
    assert snap_summary(np.zeros(0)) == {}
