"""The on-disk network cache: same source, same arrays, no second osmnx read; corrupt entries rebuilt."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sim.network import cache
from sim.network import osm as osm_io
from sim.network.build import load_osm_graphs
from sim.scenario import OsmNetwork

FIELDS = ("node_id", "x_m", "y_m", "lon", "lat", "edge_u", "edge_v", "edge_length_m", "edge_speed_kph",
          "edge_class")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "netcache"
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(d))
    return d


@pytest.fixture
def town_file(tmp_path, test_data):
    p = tmp_path / "town.osm"
    shutil.copy(test_data / "tiny_town.osm", p)
    return p


def _count_reads(monkeypatch) -> list:
    calls = []
    real = osm_io.read_osm_file

    def counting(path, **kw):
        calls.append(path)
        return real(path, **kw)

    monkeypatch.setattr(osm_io, "read_osm_file", counting)
    return calls


def _same(a, b):
    assert set(a) == set(b)
    for mode in a:
        for f in FIELDS:
            np.testing.assert_array_equal(getattr(a[mode], f), getattr(b[mode], f), err_msg=f"{mode}.{f}")
        assert (a[mode].dropped_nodes, a[mode].dropped_edges) == (b[mode].dropped_nodes, b[mode].dropped_edges)


def test_cache_dir_follows_the_environment(cache_dir):
    assert cache.cache_dir() == cache_dir


def test_second_load_comes_from_the_cache(cache_dir, town_file, monkeypatch):
    calls = _count_reads(monkeypatch)
    spec = OsmNetwork(file=str(town_file))
    first, source = load_osm_graphs(spec, quiet=True)
    assert len(calls) == 1
    entries = list(cache_dir.glob("*.npz"))
    assert len(entries) == 1
    assert not list(cache_dir.glob("*.tmp"))      # written atomically, no leftovers
    second, source2 = load_osm_graphs(spec, quiet=True)
    assert len(calls) == 1                         # osmnx not used again
    assert source == source2 == str(town_file)
    _same(first, second)


def test_changed_file_is_rebuilt(cache_dir, town_file, monkeypatch):
    calls = _count_reads(monkeypatch)
    spec = OsmNetwork(file=str(town_file))
    load_osm_graphs(spec, quiet=True)
    # the same town with Main Street's speed limit changed: a different source hash
    town_file.write_text(town_file.read_text(encoding="utf-8").replace("25 mph", "35 mph"), encoding="utf-8")
    graphs, _ = load_osm_graphs(spec, quiet=True)
    assert len(calls) == 2
    assert len(list(cache_dir.glob("*.npz"))) == 2
    assert graphs["drive"].edge_speed_kph.max() == pytest.approx(35 * 1.609344)


def test_corrupt_entry_is_rebuilt(cache_dir, town_file, monkeypatch):
    calls = _count_reads(monkeypatch)
    spec = OsmNetwork(file=str(town_file))
    good, _ = load_osm_graphs(spec, quiet=True)
    (entry,) = cache_dir.glob("*.npz")
    entry.write_bytes(b"this is not an npz file")
    again, _ = load_osm_graphs(spec, quiet=True)
    assert len(calls) == 2
    _same(good, again)
    # and the entry was replaced by a good one
    third, _ = load_osm_graphs(spec, quiet=True)
    assert len(calls) == 2
    _same(good, third)


def test_keys_depend_on_source_and_settings():
    a = cache.cache_key("abc", {"bbox": None})
    assert a == cache.cache_key("abc", {"bbox": None})
    assert a != cache.cache_key("abd", {"bbox": None})
    assert a != cache.cache_key("abc", {"bbox": [1, 2, 3, 4]})


def test_save_and_load_round_trip(cache_dir, town_file):
    graphs = osm_io.graphs_from_osmnx(osm_io.read_osm_file(town_file, quiet=True))
    path = cache.save_graphs("k1", graphs)
    assert path.parent == cache_dir
    _same(graphs, cache.load_graphs("k1"))
    assert cache.load_graphs("missing") is None
