"""The all-pairs travel tables kept on disk: the same bits as a fresh search, shared read-only maps,
a corrupt entry built again, another speed another entry, small graphs not stored."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from sim.network import TravelOracle
from sim.network import travel_tables
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "netcache"
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(d))
    return d


@pytest.fixture(scope="module")
def graph():
    g = synthetic_city(SyntheticNetwork(seed=2, area_km2=4.0, block_m=60, stations=2, exits=2)).graphs["drive"]
    assert g.n_nodes >= travel_tables.CACHE_MIN_NODES      # 1,158 nodes: stored
    return g


def _entries(cache_dir):
    folder = cache_dir / travel_tables.SUBDIR
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_stored_tables_are_the_searched_ones_bit_for_bit_and_shared_read_only(cache_dir, graph):
    first = TravelOracle(graph, speed_factor=1.2)
    assert len(_entries(cache_dir)) == 2                     # seconds and predecessors of one key
    second = TravelOracle(graph, speed_factor=1.2)
    full, pred = dijkstra(first._w, directed=True, return_predecessors=True)
    for o in (first, second):
        assert o.time_matrix.dtype == np.float64 and o.time_matrix.tobytes() == full.tobytes()
        assert o._pred_full.dtype == np.int32 and np.array_equal(o._pred_full, pred)
        assert not o.time_matrix.flags.writeable              # a map of the file, shared by processes
        assert isinstance(o.time_matrix.base, np.memmap)
        assert type(o.time_matrix) is np.ndarray             # no memmap methods on the engine's path
    # routes and metres read the predecessors as before
    assert second.time(0, graph.n_nodes - 1) == first.time(0, graph.n_nodes - 1)
    assert second.metres(3, 700) == TravelOracle(graph, speed_factor=1.2, cache_tables=False).metres(3, 700)


def test_another_speed_is_another_entry_and_small_graphs_are_not_stored(cache_dir, graph):
    TravelOracle(graph, speed_factor=1.0)
    TravelOracle(graph, speed_factor=1.5)
    assert len(_entries(cache_dir)) == 4
    small = synthetic_city(SyntheticNetwork(seed=2, area_km2=2.0, stations=2, exits=2)).graphs["drive"]
    assert small.n_nodes < travel_tables.CACHE_MIN_NODES
    o = TravelOracle(small)
    assert len(_entries(cache_dir)) == 4 and o.time_matrix.flags.writeable


@pytest.mark.parametrize("damage", ["truncate", "garbage", "wrong shape", "empty"])
def test_a_damaged_entry_is_searched_again_and_replaced(cache_dir, graph, damage):
    want = TravelOracle(graph, cache_tables=False).time_matrix.copy()
    TravelOracle(graph)
    seconds = next(p for p in (cache_dir / travel_tables.SUBDIR).iterdir() if p.name.endswith(".seconds.npy"))
    if damage == "truncate":
        seconds.write_bytes(seconds.read_bytes()[:5000])
    elif damage == "garbage":
        seconds.write_bytes(b"not a numpy file at all")
    elif damage == "empty":
        seconds.write_bytes(b"")
    else:
        np.save(seconds, np.zeros((3, 3)))
    o = TravelOracle(graph)
    assert o.time_matrix.tobytes() == want.tobytes()
    assert np.load(seconds, mmap_mode="r").shape == want.shape      # the entry was written again
    assert TravelOracle(graph).time_matrix.tobytes() == want.tobytes()


def test_the_key_reads_every_edge_second_bit_for_bit(graph):
    w = TravelOracle(graph, cache_tables=False)._w
    nudged = w.copy()
    nudged.data[17] = np.nextafter(nudged.data[17], np.inf)
    assert travel_tables.table_key(w) == travel_tables.table_key(w.copy())
    assert travel_tables.table_key(nudged) != travel_tables.table_key(w)


def test_derived_tables_are_kept_beside_the_tables_the_same_bits_writable_and_shared(cache_dir, graph):
    """The transposed time matrix and the metres table (``travel_tables.derived_table``): made once, then read
    back as copy-on-write maps of the file (writable: the compiled loops see the type they were made for)."""
    from sim.network.metres_jit import metres_table

    first = TravelOracle(graph, speed_factor=1.3)
    by_target = first.times_by_target()
    first.make_metres_table()
    names = _entries(cache_dir)
    assert sum(n.endswith(".by_target.npy") for n in names) == 1 and sum(n.endswith(".metres.npy") for n in names) == 1
    second = TravelOracle(graph, speed_factor=1.3)
    plain = TravelOracle(graph, speed_factor=1.3, cache_tables=False)
    want_t = np.ascontiguousarray(plain.time_matrix.T)
    want_m = metres_table(plain._pred_full, plain._in_ptr, plain._in_from, plain._in_m)
    for o in (first, second):
        got = o.times_by_target()
        assert got.tobytes() == want_t.tobytes() and got.flags.writeable and got.flags.c_contiguous
        assert isinstance(got.base, np.memmap)               # the file's pages, not a copy of this process
        rows = np.array([o.metres_from(s) for s in range(graph.n_nodes)])
        assert rows.tobytes() == want_m.tobytes()
        assert o.metres_from(0).base is o.metres_from(graph.n_nodes - 1).base   # one table (join_tables reads it)
    assert by_target.tobytes() == want_t.tobytes()
    assert len(_entries(cache_dir)) == len(names)            # the second oracle read, wrote nothing


def test_a_derived_table_reads_its_inputs_in_its_key(cache_dir, graph):
    """Another graph's metres (the same seconds, other lengths) is another entry; a damaged entry is made again."""
    from sim.network.travel_tables import derived_table

    o = TravelOracle(graph)
    made = []

    def build(v):
        made.append(v)
        return np.full((graph.n_nodes, graph.n_nodes), float(v))

    a = derived_table(o._w, "test", (np.arange(3.0),), lambda: build(1))
    b = derived_table(o._w, "test", (np.arange(3.0),), lambda: build(2))
    c = derived_table(o._w, "test", (np.arange(3.0) + 1,), lambda: build(3))
    assert made == [1, 3] and a[0, 0] == b[0, 0] == 1.0 and c[0, 0] == 3.0
    entry = next(p for p in (cache_dir / travel_tables.SUBDIR).glob("*.test.npy") if np.load(p)[0, 0] == 1.0)
    for damage, v in ((b"not a table", 4), (b"", 5)):          # garbage, an empty file: made again, stored
        entry.write_bytes(damage)
        d = derived_table(o._w, "test", (np.arange(3.0),), lambda v=v: build(v))
        assert d[0, 0] == float(v) and np.load(entry)[0, 0] == float(v)
    assert made == [1, 3, 4, 5]
    assert derived_table(o._w, "none", (), lambda: None) is None
