"""Routes read from the hub labels' steps (sim/network/label_paths.py): fastest paths, against scipy.

A path must start at the source and end at the target, each step must be an edge of the
graph, and its edges' seconds must add up to scipy's Dijkstra time within 1e-6 s (the
labels' tolerance, tests/network/test_hub_labels.py: both sum a fastest path's edges, in
other orders; a path one edge off is off by that edge's seconds, far above it). Checked on
every ordered pair of a small graph with one-way streets and two parts, on random pairs of a
synthetic town's drive and walk graphs, and of a real OpenStreetMap network (the
Liechtenstein fixture). On the jittered synthetic town no two paths take exactly equal
seconds, so the path is the one scipy's predecessors give, node for node.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from sim.network import TravelOracle
from sim.network import hub_labels as HL
from sim.network.label_paths import label_path
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork

from tests.network.test_hub_labels import labels_of, one_way_graph

TOL_S = 1e-6


def _check(o: TravelOracle, labels: HL.HubLabels, dist: np.ndarray, sources, targets, pred=None) -> int:
    """Check the label path of each (source, target); returns how many had a route."""
    found = 0
    for i, s in enumerate(sources):
        for t in targets:
            path = label_path(*labels.path_arrays, np.int64(s), np.int64(t))
            if np.isinf(dist[i, t]):
                assert path.size == 0, (s, t)
                continue
            found += 1
            assert path.dtype == np.int32
            assert path[0] == s and path[-1] == t, (s, t, path)
            nodes = path.astype(np.int64)
            step_s, _ = o.edge_lookup(nodes[:-1], nodes[1:])      # raises on a step that is not an edge
            assert abs(float(np.sum(step_s)) - dist[i, t]) <= TOL_S, (s, t)
            assert len(set(path.tolist())) == path.size                # no node twice
            if pred is not None:
                want = [t]
                while want[-1] != s:
                    want.append(int(pred[i, want[-1]]))
                assert path.tolist() == want[::-1], (s, t)
    return found


def test_every_pair_of_a_one_way_graph():
    o = TravelOracle(one_way_graph(), cache_tables=False)
    labels = labels_of(o)
    dist = dijkstra(o._w, directed=True)
    n = dist.shape[0]
    assert _check(o, labels, dist, range(n), range(n)) == int(np.isfinite(dist).sum())
    assert label_path(*labels.path_arrays, np.int64(4), np.int64(0)).size == 0      # two parts


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_random_pairs_of_a_town_follow_scipys_paths(mode):
    city = synthetic_city(SyntheticNetwork(seed=3, area_km2=3.0, block_m=80, stations=2, exits=2))
    o = TravelOracle(city.graphs[mode], cache_tables=False)
    labels = labels_of(o)
    rng = np.random.default_rng(17)
    sources = rng.choice(o.n_nodes, 40, replace=False)
    dist, pred = dijkstra(o._w, directed=True, indices=sources, return_predecessors=True)
    targets = rng.choice(o.n_nodes, 40, replace=False).tolist()
    assert _check(o, labels, dist, sources.tolist(), targets, pred) == 1600


def test_a_real_osm_network(li_city):
    """Liechtenstein's bike graph (OpenStreetMap 2015, about 4,600 nodes, one-way streets, real lengths)."""
    o = TravelOracle(li_city.graphs["bike"], speed_kph_override=15.0, cache_tables=False)
    labels = labels_of(o)
    rng = np.random.default_rng(5)
    sources = rng.choice(o.n_nodes, 25, replace=False)
    dist = dijkstra(o._w, directed=True, indices=sources)
    assert _check(o, labels, dist, sources.tolist(), rng.choice(o.n_nodes, 60, replace=False).tolist()) > 1000


def test_the_oracles_routes_read_the_labels_and_cache_them(big_town):
    """``TravelOracle.route`` on the kernel backend: the labels' path, summed edge by edge, read once a pair."""
    o = TravelOracle(big_town, backend="kernel")
    k = o._kernel
    assert o.time_matrix is None and k is not None
    rng = np.random.default_rng(2)
    pairs = [tuple(p) for p in rng.integers(0, o.n_nodes, (30, 2)).tolist() if p[0] != p[1]]
    for s, t in pairs:
        nodes, secs, metres = o.route(s, t)
        assert nodes == label_path(*k.labels.path_arrays, np.int64(s), np.int64(t)).tolist()
        assert abs(secs[-1] - o.time(s, t)) <= TOL_S
    read = k.paths_read
    o._routes.clear()
    for s, t in pairs:
        o.route(s, t)
    assert k.paths_read == read == len(set(pairs))


from tests.network.test_liechtenstein import li_city, li_scenario  # noqa: E402,F401  (fixtures)
