"""Hub labels (sim/network/hub_labels.py): exact times against scipy's Dijkstra, metres of a fastest path.

Tolerance: every time equals ``scipy.sparse.csgraph.dijkstra`` on the same weights within
1e-6 s. Both are sums of the edge times along a fastest path; the labels add them as two
partial sums (node to hub, hub to node), a search one edge after another, so the last bits
may differ (measured: at most 6e-13 s on the 13,002-node scale town). A wrong hub, a missing
one or a pruning error is off by at least one edge's time (seconds), far above it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from sim.network import TravelOracle
from sim.network import hub_labels as HL
from sim.network import travel_tables as TT
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork

from tests.network.test_travel import make_graph

TOL_S = 1e-6
TOL_M = 1e-6


@pytest.fixture(scope="module")
def town():
    city = synthetic_city(SyntheticNetwork(seed=3, area_km2=3.0, block_m=80, stations=2, exits=2))
    return city.graphs["drive"], city.graphs["walk"]


def metres_of(o: TravelOracle):
    return lambda u, v: o.edge_lookup(u, v)[1]


def labels_of(o: TravelOracle) -> HL.HubLabels:
    return HL.HubLabels.build(o._w, o._wt, metres_of(o))


def one_way_graph():
    """Nodes 0-5: a one-way loop 0->1->2->3->0 with a two-way shortcut 1<->3 and a slow back road
    2->0; 4->5 a separate one-way pair (no route between the two parts, nor from 5 to 4)."""
    return make_graph(6, [(0, 1, 1000, 36), (1, 2, 500, 36), (2, 3, 700, 50), (3, 0, 900, 30),
                          (1, 3, 1200, 60), (3, 1, 1200, 60), (2, 0, 3000, 20), (1, 2, 400, 20),
                          (4, 5, 300, 30)])


def check_pairs(labels: HL.HubLabels, ref: np.ndarray, pairs) -> None:
    for s, t in pairs:
        got = labels.time(s, t)
        if np.isinf(ref[s, t]):
            assert np.isinf(got), (s, t)
        else:
            assert abs(got - ref[s, t]) <= TOL_S, (s, t, got, ref[s, t])


def test_every_pair_of_a_one_way_graph():
    """A small graph with one-way streets, parallel edges and two parts: every ordered pair."""
    o = TravelOracle(one_way_graph(), cache_tables=False)
    ref = dijkstra(o._w, directed=True)
    labels = labels_of(o)
    n = ref.shape[0]
    check_pairs(labels, ref, [(s, t) for s in range(n) for t in range(n)])


def test_random_pairs_of_the_synthetic_town(town):
    drive, walk = town
    rng = np.random.default_rng(5)
    for graph in (drive, walk):
        o = TravelOracle(graph, cache_tables=False)
        ref = dijkstra(o._w, directed=True)
        labels = labels_of(o)
        check_pairs(labels, ref, rng.integers(0, ref.shape[0], size=(3000, 2)).tolist())
        assert labels.mean_hubs < ref.shape[0] / 4           # labels, not a matrix in disguise


def test_metres_are_those_of_a_fastest_path(town):
    """On foot every street has one speed: a fastest path is a shortest one, metres = seconds x speed.

    By car the metres must be those of some path of the least time: at least the shortest
    distance between the two nodes, and equal to the oracle's own (its route's) wherever
    the fastest path is the one route finds (checked: no more than 2% of pairs differ).
    """
    drive, walk = town
    rng = np.random.default_rng(6)
    o = TravelOracle(walk, speed_kph_override=5.0, cache_tables=False)
    labels = labels_of(o)
    for s, t in rng.integers(0, walk.n_nodes, size=(2000, 2)).tolist():
        assert abs(labels.metres(s, t) - labels.time(s, t) * 5.0 / 3.6) <= 1e-6 * max(1.0, labels.metres(s, t))
    o = TravelOracle(drive, cache_tables=False)
    labels = labels_of(o)
    shortest_m = dijkstra(drive.matrix(drive.edge_length_m), directed=True)
    differ = 0
    pairs = rng.integers(0, drive.n_nodes, size=(2000, 2)).tolist()
    for s, t in pairs:
        m = labels.metres(s, t)
        assert m >= shortest_m[s, t] - TOL_M, (s, t)
        differ += abs(m - o.metres(s, t)) > TOL_M
    assert differ <= 0.02 * len(pairs)


def test_growing_the_pool_gives_the_same_labels(town, monkeypatch):
    """A pool that fills up is grown before the next hub: the same labels as with room from the start."""
    drive, _ = town
    o = TravelOracle(drive, cache_tables=False)
    roomy = labels_of(o)
    monkeypatch.setattr(HL, "_START_CAP", 2)
    tight = labels_of(o)
    for a, b in zip(roomy.arrays + (roomy.step,), tight.arrays + (tight.step,)):
        np.testing.assert_array_equal(a, b)


def test_no_route_is_inf():
    """Two separate parts: inf seconds and nan metres between them, 0 from a node to itself."""
    o = TravelOracle(one_way_graph(), cache_tables=False)
    ref = dijkstra(o._w, directed=True)
    labels = labels_of(o)
    unreachable = np.argwhere(np.isinf(ref)).tolist()
    assert [5, 4] in unreachable and [0, 4] in unreachable
    for s, t in unreachable:
        assert np.isinf(labels.time(s, t)) and np.isnan(labels.metres(s, t))
    for s in range(ref.shape[0]):
        assert labels.time(s, s) == 0.0 and labels.metres(s, s) == 0.0
    assert labels.metres(4, 5) == 300.0


def test_kept_on_disk_and_read_back(town, tmp_path, monkeypatch):
    """The second build of the same graph reads the file; a corrupt file is built again and replaced."""
    drive, _ = town
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path))
    o = TravelOracle(drive, cache_tables=False)
    first = HL.cached_labels(o._w, o._wt, metres_of(o))
    files = list((tmp_path / TT.SUBDIR).glob("*.labels-v*.npz"))
    assert len(files) == 1
    calls = []
    monkeypatch.setattr(HL.HubLabels, "build", classmethod(lambda cls, *a: calls.append(1)))
    again = HL.cached_labels(o._w, o._wt, metres_of(o))
    assert not calls
    for a, b in zip(first.path_arrays + first.arrays, again.path_arrays + again.arrays):
        np.testing.assert_array_equal(a, b)
    files[0].write_bytes(b"not a numpy file")
    monkeypatch.undo()
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path))
    rebuilt = HL.cached_labels(o._w, o._wt, metres_of(o))
    for a, b in zip(first.path_arrays + first.arrays, rebuilt.path_arrays + rebuilt.arrays):
        np.testing.assert_array_equal(a, b)
    assert HL.HubLabels.load(files[0], drive.n_nodes) is not None


def test_pair_questions_skip_the_type_dispatch_and_give_its_answers(town):
    """``time``/``metres``/``time_and_metres`` call ``seconds_metres``' compiled code directly
    (``sim.jit_entry.direct``): bit for bit the dispatcher's answers, numpy or Python node ids, and
    labels pickled to a worker (the compiled code is not pickled) find it again."""
    import pickle

    drive, _ = town
    labels = labels_of(TravelOracle(drive, cache_tables=False))
    rng = np.random.default_rng(11)
    pairs = rng.integers(0, labels.n_nodes, size=(500, 2))
    for s, t in pairs:
        want = HL.seconds_metres(*labels.arrays, np.int64(s), np.int64(t))
        assert labels.time_and_metres(s, t) == want == labels.time_and_metres(int(s), int(t))
        assert (labels.time(s, t), labels.metres(s, t)) == want
    assert labels._pair is not HL.seconds_metres and labels._pair is not None   # the code, not the dispatcher
    again = pickle.loads(pickle.dumps(labels))
    assert again._pair is None
    s, t = pairs[0].tolist()
    assert again.time_and_metres(s, t) == labels.time_and_metres(s, t)


def test_each_step_keeps_the_entry_of_its_hub_in_the_next_nodes_label(town):
    """``step_entries``: for every entry with a step, the entry of the same hub in the label of the node
    the step names (in the same kind of label), found by a search of that label; -1 where no step."""
    drive, walk = town
    for graph in (drive, walk):
        labels = labels_of(TravelOracle(graph, cache_tables=False))
        ptr, hub, step, se = labels.ptr, labels.hub, labels.step, labels.step_entry
        n, half = labels.n_nodes, ptr.size // 2
        assert se.dtype == np.int32 and se.size == hub.size
        assert (se[step < 0] == -1).all() and (se[step >= 0] >= 0).all()
        owner = np.repeat(np.arange(2 * n + 1), np.diff(ptr))          # label index of each entry (in: n + 1 + v)
        base = np.where(owner >= half, half, 0)
        has = np.flatnonzero(step >= 0)
        e2 = se[has]
        assert (hub[e2] == hub[has]).all()
        assert (owner[e2] == base[has] + step[has]).all()                # in the step's label, of the same kind
