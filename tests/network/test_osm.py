"""OpenStreetMap files through osmnx: which ways each mode keeps, speeds, oneways, and bad files.

``tests/data/tiny_town.osm`` is a hand-written 3x3-block town (nodes about 100 m apart):
Main Street (primary, maxspeed 25 mph) 4-5-6, First Avenue 2-5-8, Oak Street 1-2-3,
Elm Street 7->8->9 (oneway), West Lane 1-4-7, East Lane 3-6-9 (residential), a footway
9-10-11 into a park and a private service road 6-12.

    1 - 2 - 3
    |   |   |
    4 = 5 = 6 - 12 (private)
    |   |   |
    7 > 8 > 9
             \\ 10 \\ 11 (footway)
"""

from __future__ import annotations

import bz2
import gzip

import numpy as np
import pytest

from sim.errors import NetworkError
from sim.network import modes, osm
from sim.network.build import load_city
from sim.scenario import scenario_from_dict


@pytest.fixture(scope="module")
def tiny_nx(test_data):
    return osm.read_osm_file(test_data / "tiny_town.osm", quiet=True)


@pytest.fixture(scope="module")
def tiny(tiny_nx, test_data):
    return osm.graphs_from_osmnx(tiny_nx, source=str(test_data / "tiny_town.osm"))


def _edges(g) -> dict[tuple[int, int], int]:
    """(OSM id u, OSM id v) -> edge index."""
    return {(int(g.node_id[u]), int(g.node_id[v])): k for k, (u, v) in enumerate(zip(g.edge_u, g.edge_v))}


# --------------------------------------------------------------------------- the tiny town
def test_read_keeps_every_way(tiny_nx):
    assert len(tiny_nx) == 12
    classes = {d.get("highway") for _, _, d in tiny_nx.edges(data=True)}
    assert {"primary", "residential", "footway", "service"} <= classes


def test_each_mode_gets_a_graph(tiny):
    assert set(tiny) == {"drive", "bike", "walk"}
    for g in tiny.values():
        assert g.n_nodes > 0 and g.n_edges > 0
        assert g.dropped_nodes == 0


def test_drive_keeps_public_roads_only(tiny):
    ids = set(tiny["drive"].node_id.tolist())
    assert 12 not in ids            # private service road
    assert 11 not in ids            # footway
    assert {2, 4, 5, 6, 8} <= ids   # street junctions
    assert "footway" not in set(tiny["drive"].edge_class.tolist())


def test_walk_uses_the_footway_but_not_the_private_road(tiny):
    ids = set(tiny["walk"].node_id.tolist())
    assert 11 in ids
    assert 12 not in ids
    assert 11 not in set(tiny["bike"].node_id.tolist())   # bicycles stay off footways


def test_cars_obey_oneway_walkers_do_not(tiny):
    drive, walk = _edges(tiny["drive"]), _edges(tiny["walk"])
    assert (8, 9) in drive and (9, 8) not in drive
    assert (8, 9) in walk and (9, 8) in walk


def test_maxspeed_in_mph_is_used_for_cars(tiny):
    g = tiny["drive"]
    e = _edges(g)
    assert g.edge_speed_kph[e[(4, 5)]] == pytest.approx(25 * 1.609344)
    assert g.edge_speed_kph[e[(5, 8)]] == pytest.approx(modes.DEFAULT_SPEED_KPH["residential"])


def test_lengths_are_metres(tiny):
    """Neighbouring junctions are about 100 m apart (the fixture's grid step)."""
    g = tiny["drive"]
    e = _edges(g)
    assert g.edge_length_m[e[(4, 5)]] == pytest.approx(100, abs=3)
    assert g.edge_length_m[e[(5, 8)]] == pytest.approx(100, abs=3)
    # projected coordinates agree with the lengths
    i, j = g.edge_u[e[(4, 5)]], g.edge_v[e[(4, 5)]]
    assert np.hypot(g.x_m[i] - g.x_m[j], g.y_m[i] - g.y_m[j]) == pytest.approx(100, abs=3)


def test_load_city_from_a_scenario_file(tmp_path, test_data):
    sc = scenario_from_dict({"name": "tiny", "network": {"osm": {
        "file": str(test_data / "tiny_town.osm"), "n_stations": 2, "population": 1000}}},
        source_file=str(tmp_path / "tiny.yaml"))
    city = load_city(sc, quiet=True)
    assert city.n_places == city.graphs["drive"].n_nodes
    assert len(city.station_place) == 2
    assert city.place_weight.sum() == pytest.approx(1000)
    # every place has a node on every mode's graph, the walk graph's nearest within a block
    for mode in ("bike", "walk"):
        assert city.place_node[mode].shape == (city.n_places,)
        assert city.place_offset_m[mode].max() < 150


@pytest.mark.parametrize("opener, suffix", [(gzip.open, ".osm.gz"), (bz2.open, ".osm.bz2")])
def test_compressed_files_read_the_same(tmp_path, test_data, tiny, opener, suffix):
    target = tmp_path / f"tiny_town{suffix}"
    with opener(target, "wb") as f:
        f.write((test_data / "tiny_town.osm").read_bytes())
    g = osm.graphs_from_osmnx(osm.read_osm_file(target, quiet=True), source=str(target))
    for mode in tiny:
        np.testing.assert_array_equal(np.sort(g[mode].node_id), np.sort(tiny[mode].node_id))
        assert g[mode].n_edges == tiny[mode].n_edges


# --------------------------------------------------------------------------- real small extract
def test_west_oakland_fixture_loads(shared_data):
    path = shared_data / "osm_fixtures" / "West-Oakland.osm.bz2"
    g = osm.graphs_from_osmnx(osm.read_osm_file(path, quiet=True), source=str(path))
    drive = g["drive"]
    assert 10 <= drive.n_nodes <= 47           # 47 nodes in the whole file (README), fewer drivable
    assert g["walk"].n_nodes >= drive.n_nodes
    assert np.all((37.80 < drive.lat) & (drive.lat < 37.82))
    assert np.all((-122.31 < drive.lon) & (drive.lon < -122.28))


# --------------------------------------------------------------------------- Seattle (../shared/data)
def _n_strong(g) -> int:
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    adj = sparse.csr_matrix((np.ones(g.n_edges), (g.edge_u, g.edge_v)), shape=(g.n_nodes, g.n_nodes))
    return connected_components(adj, directed=True, connection="strong")[0]


@pytest.mark.slow   # the first load in a fresh checkout reads the extract through osmnx (about 20 s)
def test_seattle_drive_graph(seattle_city):
    """About 980 drivable junctions in the largest strongly connected part (shared/data README)."""
    drive = seattle_city.graphs["drive"]
    assert 900 <= drive.n_nodes <= 1100
    assert _n_strong(drive) == 1
    assert 0 < drive.dropped_nodes < 0.2 * drive.n_nodes       # fragments cut by the box edge are dropped
    # inside the extract's box: 47.63892-47.66698 N, 122.3387-122.2726 W (4.96 km x 3.13 km)
    assert drive.lat.min() >= 47.6385 and drive.lat.max() <= 47.6675
    assert drive.lon.min() >= -122.3390 and drive.lon.max() <= -122.2720
    assert 10.0 < drive.area_km2() < 15.6
    assert 120 < drive.street_km() < 220
    # car speeds come from maxspeed tags (mph in Seattle) or the class table: urban, positive, bounded
    assert drive.edge_speed_kph.min() > 0 and drive.edge_speed_kph.max() <= 130


def test_seattle_other_modes(seattle_city):
    drive, bike, walk = (seattle_city.graphs[m] for m in ("drive", "bike", "walk"))
    assert _n_strong(bike) == 1 and _n_strong(walk) == 1
    # walkers have footways and paths, cyclists paths and cycleways: both have more junctions than cars
    assert walk.n_nodes > bike.n_nodes > drive.n_nodes
    # every place (drive node) has a walk and bike node close by
    assert np.median(seattle_city.place_offset_m["walk"]) < 10
    assert seattle_city.place_offset_m["walk"].max() < 300
    assert seattle_city.place_offset_m["bike"].max() < 300


def test_seattle_places_and_stations(seattle_city, seattle_scenario):
    assert seattle_city.n_places == seattle_city.graphs["drive"].n_nodes
    assert len(seattle_city.station_place) == seattle_scenario.network.osm.n_stations
    assert len(set(seattle_city.station_place.tolist())) == len(seattle_city.station_place)
    assert seattle_city.place_weight.sum() == pytest.approx(seattle_scenario.network.osm.population)


def test_seattle_cached_load_is_identical_and_fast(seattle_scenario, seattle_city):
    import time

    t0 = time.perf_counter()
    again = load_city(seattle_scenario, quiet=True)
    elapsed = time.perf_counter() - t0
    for mode in ("drive", "bike", "walk"):
        np.testing.assert_array_equal(again.graphs[mode].node_id, seattle_city.graphs[mode].node_id)
        np.testing.assert_array_equal(again.graphs[mode].edge_length_m, seattle_city.graphs[mode].edge_length_m)
    np.testing.assert_array_equal(again.station_place, seattle_city.station_place)
    # the first load reads 21 MB of XML through osmnx (about 20 s); from the cache it takes well under a
    # second on a laptop -- 10 s leaves room for a slow CI disk and still fails if the cache is not used
    assert elapsed < 10.0


# --------------------------------------------------------------------------- bad files
def test_footway_only_file_has_no_drivable_roads(test_data):
    path = test_data / "footway_only.osm"
    g = osm.read_osm_file(path, quiet=True)
    with pytest.raises(NetworkError) as info:
        osm.graphs_from_osmnx(g, source=str(path))
    text = str(info.value)
    assert "no drivable roads" in text
    assert "footway_only.osm" in text
    assert info.value.key.startswith("network.osm")
    assert info.value.fix


def test_bbox_with_nothing_inside(tiny_nx, test_data):
    with pytest.raises(NetworkError) as info:
        osm.graphs_from_osmnx(tiny_nx, bbox=(10.0, 10.0, 10.1, 10.1), source=str(test_data / "tiny_town.osm"))
    assert info.value.key == "network.osm.bbox"
    assert "inside network.osm.bbox" in str(info.value)
    assert "south, west, north, east" in info.value.fix


def test_bbox_clips_the_town(tiny_nx):
    # the northern two rows only: Elm Street (row 3) is cut away
    g = osm.graphs_from_osmnx(tiny_nx, bbox=(47.6495, -122.302, 47.652, -122.297))
    ids = set(g["drive"].node_id.tolist())
    assert ids and not ids & {7, 8, 9}


@pytest.mark.parametrize("name, content", [
    ("truncated.osm", b'<?xml version="1.0"?>\n<osm version="0.6">\n  <node id="1" lat="47.6" lon="-122.3"/>\n  <way'),
    ("text.osm", b"this is not XML at all"),
    ("empty.osm", b""),
    ("garbage.osm.gz", b"not a gzip stream"),
    ("garbage.osm.bz2", b"not a bzip2 stream"),
], ids=["truncated", "text", "empty", "gzip", "bzip2"])
def test_corrupt_file_is_one_clear_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NetworkError) as info:
        osm.read_osm_file(path, quiet=True)
    text = str(info.value)
    assert "\n" not in text
    assert str(path) in text
    assert info.value.fix


def test_missing_file(tmp_path):
    with pytest.raises(NetworkError) as info:
        osm.read_osm_file(tmp_path / "nowhere.osm", quiet=True)
    assert "not found" in str(info.value)


# --------------------------------------------------------------------------- downloads (no network used)
def _raise(exc):
    def f(*args, **kwargs):
        raise exc
    return f


def test_download_connection_error_says_offline_and_how_to_pass_a_file(monkeypatch):
    import osmnx
    import requests

    monkeypatch.setattr(osmnx, "graph_from_bbox", _raise(requests.exceptions.ConnectionError("no route")))
    with pytest.raises(NetworkError) as info:
        osm.download_osm(bbox=(47.64, -122.33, 47.65, -122.32), quiet=True)
    text = str(info.value)
    assert "\n" not in text
    assert info.value.key == "network.osm.bbox"
    assert "offline" in text
    assert "network.osm.file" in info.value.fix


def test_download_of_an_empty_area_says_no_roads(monkeypatch):
    import osmnx
    from osmnx._errors import InsufficientResponseError

    monkeypatch.setattr(osmnx, "graph_from_place", _raise(InsufficientResponseError("no data")))
    with pytest.raises(NetworkError) as info:
        osm.download_osm(place="Nowhere Atoll", quiet=True)
    assert info.value.key == "network.osm.place"
    assert "no roads" in str(info.value)


# --------------------------------------------------------------------------- mode rules (pure)
@pytest.mark.parametrize("value, kph", [
    ("50", 50.0), ("25 mph", 25 * 1.609344), ("30 km/h", 30.0), (["30 mph", "25 mph"], 25 * 1.609344),
    ("none", None), (None, None), ("signals", None),
])
def test_parse_maxspeed(value, kph):
    got = modes.parse_maxspeed_kph(value)
    assert got == (None if kph is None else pytest.approx(kph))


def test_access_rules():
    assert modes.allowed("drive", "residential", {})
    assert not modes.allowed("drive", "footway", {})
    assert not modes.allowed("drive", "residential", {"access": "private"})
    assert modes.allowed("drive", "residential", {"access": "private", "motor_vehicle": "yes"})
    assert not modes.allowed("bike", "motorway", {})
    assert not modes.allowed("bike", "footway", {})
    assert modes.allowed("bike", "cycleway", {})
    assert modes.allowed("walk", "footway", {})
    assert not modes.allowed("walk", "trunk", {})
    assert not modes.allowed("walk", None, {})


def test_oneway_rules():
    assert modes.is_oneway_for("drive", {"oneway": "yes"})
    assert not modes.is_oneway_for("walk", {"oneway": "yes"})
    assert not modes.is_oneway_for("bike", {"oneway": "yes", "oneway:bicycle": "no"})
    assert not modes.is_oneway_for("drive", {})


def test_car_speed_falls_back_on_the_class_table():
    assert modes.car_speed_kph("primary", {}) == modes.DEFAULT_SPEED_KPH["primary"]
    assert modes.car_speed_kph("primary", {"maxspeed": "70"}) == 70.0
    assert modes.car_speed_kph("mystery", {}) == modes.FALLBACK_SPEED_KPH


# --------------------------------------------------------------------------- same file, same graph
_GRAPH_DIGEST = """
import hashlib, sys
from pathlib import Path
from sim.network import osm
path = Path(sys.argv[1])
g = osm.graphs_from_osmnx(osm.read_osm_file(path, quiet=True), source=str(path))
h = hashlib.sha256()
for mode in sorted(g):
    for f in ("node_id", "x_m", "y_m", "edge_u", "edge_v", "edge_length_m", "edge_speed_kph", "edge_class"):
        h.update(getattr(g[mode], f).tobytes())
print(h.hexdigest())
"""


def test_the_same_file_builds_the_same_graphs_in_every_process(shared_data, repo_root):
    # osmnx merges the classes of simplified ways into a list in set order, which follows
    # Python's string hashing and so changes between processes; the class (and the speed
    # that depends on it) must not. This extract has such merged ways (it failed before the
    # class was chosen by rank).
    import os
    import subprocess
    import sys

    path = shared_data / "osm_fixtures" / "aguascalientes.osm.bz2"
    digests = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(repo_root)}
        out = subprocess.run([sys.executable, "-c", _GRAPH_DIGEST, str(path)], env=env, check=True,
                             capture_output=True, text=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_merged_ways_take_the_most_important_class_whatever_the_order():
    assert modes.highway_class(["residential", "secondary", "service"]) == "secondary"
    assert modes.highway_class(["service", "residential", "secondary"]) == "secondary"
    assert modes.highway_class(["footway", "path"]) == "path"
    assert modes.highway_class(["planned", "residential"]) == "residential"
    assert modes.highway_class(["razed"]) is None
