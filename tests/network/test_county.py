"""The synthetic county (``network.synthetic.county``) and the Guanghan county scenario.

It loads, builds and runs; every township has its station and streets every unit can reach; the
core is the synthetic town itself; population adds up part by part; the generator is
deterministic; a bad county layout is one line naming the file, the key and the fix (exit 2).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from sim.cli import main
from sim.county_checks import half_extent_km
from sim.network import MODES, load_city
from sim.network.county import county_city
from sim.network.synthetic import synthetic_city
from sim.scenario_file import load_scenario
from tests.conftest import REPO_ROOT

SCENARIO = REPO_ROOT / "scenarios" / "guanghan_county.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(str(SCENARIO))


@pytest.fixture(scope="module")
def county(scenario):
    return load_city(scenario, quiet=True)


def _in_box(city, cx_km: float, cy_km: float, half_km: float) -> np.ndarray:
    g = city.places
    return (np.abs(g.x_m / 1000.0 - cx_km) <= half_km) & (np.abs(g.y_m / 1000.0 - cy_km) <= half_km)


def test_the_scenario_is_a_county_at_guanghans_scale(scenario, county):
    c = scenario.network.synthetic.county
    assert c.width_km * c.height_km == pytest.approx(549, rel=0.01)
    assert county.place_weight.sum() == pytest.approx(600_000)
    assert len(c.townships) >= 5
    assert scenario.demand.spatial == "population"
    # demand and force scale with the population as the file's comments say (the default town's ratios)
    assert scenario.demand.incidents_per_day == pytest.approx(1.3 * 600, rel=0.01)
    assert scenario.force.total_officers == pytest.approx(1.2 * 600, rel=0.01)
    g = county.places
    assert 1_000 < g.n_nodes < 4_000          # rural roads are long edges: few nodes for 549 km²
    assert g.area_km2() > 400


def test_every_township_has_its_station_streets_and_residents(scenario, county):
    c = scenario.network.synthetic.county
    g = county.places
    stations = dict(zip(county.station_name, county.station_place))
    for t in c.townships:
        box = _in_box(county, t.x_km, t.y_km, half_extent_km(t.area_km2, t.block_m))
        assert box.sum() >= 16, t.name                                # its own street grid
        st = stations[f"{t.name} station"]
        assert box[st], t.name                                       # its station is in the township
        assert np.hypot(g.x_m[st] / 1000 - t.x_km, g.y_m[st] / 1000 - t.y_km) < 0.5
        assert county.place_weight[box].sum() == pytest.approx(t.population, rel=0.02), t.name
    core = _in_box(county, 0.0, 0.0, half_extent_km(17.4, 150))
    assert county.place_weight[core].sum() == pytest.approx(200_000, rel=0.01)
    assert core[county.bureau_place] and all(core[s] for s in county.station_place[:4])
    assert len(county.station_place) == 4 + len(c.townships)
    # the rest of the people live along the rural roads, outside every town
    towns = core.copy()
    for t in c.townships:
        towns |= _in_box(county, t.x_km, t.y_km, half_extent_km(t.area_km2, t.block_m))
    assert county.place_weight[~towns].sum() == pytest.approx(c.rural_population, rel=0.01)
    assert (~towns).sum() > 200


def test_every_node_is_reachable_from_every_station_in_every_mode(county):
    for mode in MODES:
        g = county.graphs[mode]
        m = g.matrix(g.edge_time_s())
        there = dijkstra(m, indices=county.place_node[mode][county.station_place])
        back = dijkstra(m.T.tocsr(), indices=county.place_node[mode][county.station_place])
        assert np.isfinite(there).all() and np.isfinite(back).all(), mode
        assert g.dropped_nodes == 0, mode


def test_rural_and_county_roads_are_long_and_fast(county):
    g = county.places
    rural = g.edge_class == "unclassified"
    county_road = (g.edge_class == "secondary") & (g.edge_speed_kph == 60.0)
    assert county_road.sum() > 50 and rural.sum() > 200
    assert np.median(g.edge_length_m[county_road]) > 600
    assert set(np.unique(g.edge_speed_kph[rural])) >= {40.0}


def test_the_core_is_the_synthetic_town(scenario, county):
    """The county's core has exactly the streets `network.synthetic` without `county` builds."""
    spec = scenario.network.synthetic
    town = synthetic_city(spec.model_copy(update={"county": None}))
    county_xy = set(zip(county.places.x_m.round(6), county.places.y_m.round(6)))
    town_xy = set(zip(town.places.x_m.round(6), town.places.y_m.round(6)))
    assert town_xy <= county_xy
    names = county.station_name[:spec.stations]
    assert names == town.station_name
    np.testing.assert_allclose(county.places.x_m[county.station_place[:spec.stations]],
                               town.places.x_m[town.station_place])
    np.testing.assert_allclose(np.sort(county.places.x_m[county.exit_place]),
                               np.sort(town.places.x_m[town.exit_place]))


def test_the_generator_is_deterministic_and_follows_its_seed(scenario):
    spec = scenario.network.synthetic
    a, b = county_city(spec), county_city(spec)
    for field in ("x_m", "y_m", "edge_u", "edge_v", "edge_length_m", "edge_speed_kph", "edge_class"):
        np.testing.assert_array_equal(getattr(a.places, field), getattr(b.places, field))
    np.testing.assert_array_equal(a.place_weight, b.place_weight)
    np.testing.assert_array_equal(a.station_place, b.station_place)
    c = county_city(spec.model_copy(update={"seed": spec.seed + 1}))
    assert c.places.n_edges != a.places.n_edges or not np.array_equal(c.places.x_m, a.places.x_m)


def test_a_township_no_rural_road_crosses_is_linked(scenario):
    """Rural roads every 8 km miss most townships: each still gets link roads and stays connected."""
    spec = scenario.network.synthetic
    sparse_roads = spec.model_copy(update={"county": spec.county.model_copy(update={"rural_road_km": 8.0})})
    city = county_city(sparse_roads)
    assert city.places.dropped_nodes == 0
    for t in spec.county.townships:
        assert _in_box(city, t.x_km, t.y_km, half_extent_km(t.area_km2, t.block_m)).sum() >= 16, t.name


def test_the_county_runs_a_short_horizon(tmp_path):
    """`patrolsim run` on the county scenario (the first 8 simulated hours): every station's area
    (the core's four and each township's) has beats, calls come from most of them, units reach them."""
    import pandas as pd

    out = tmp_path / "county"
    rc = main(["run", str(SCENARIO), "--replications", "1", "--set", "horizon_days=0.33",
               "--set", "warmup_days=0.04", "--out", str(out), "--quiet"])
    assert rc == 0
    inc = pd.read_parquet(out / "incidents.parquet")
    assert len(inc) > 100
    assert inc["first_arrival_s"].notna().mean() > 0.95
    assert inc["patrol_area"].nunique() >= 12
    beats = pd.read_parquet(out / "beats.parquet")
    assert beats["area"].nunique() == 15                   # 4 core stations + 11 townships


@pytest.mark.parametrize("override,key,words", [
    ("network.synthetic.county.townships[0].x_km=14", "network.synthetic.county.townships[0].x_km",
     "outside the county"),
    ("network.synthetic.county.townships[9]={name: Hexing, x_km: 2.5, y_km: 2.5}", "network.synthetic.county.townships[9]",
     "overlaps the city core"),
    ("network.synthetic.county.townships[8]={name: Jinlun, x_km: 8.5, y_km: -2.5}",
     "network.synthetic.county.townships[8]", "overlaps township 'Gaoping'"),
    ("network.synthetic.county.townships[2].name=Sanxingdui", "network.synthetic.county.townships[2].name",
     "used twice"),
    ("network.synthetic.county.townships[3].area_km2=0.1", "network.synthetic.county.townships[3].area_km2",
     "fewer than 4 blocks"),
    ("network.synthetic.county.width_km=4", "network.synthetic.county.width_km", "does not fit"),
    ("network.synthetic.county.townships[0].radius_km=1", "network.synthetic.county.townships[0].radius_km",
     "unknown key"),
    ("network.synthetic.county.rural_road_km=0", "network.synthetic.county.rural_road_km",
     "greater than or equal to 0.5"),
])
def test_a_bad_county_is_one_line_naming_file_key_and_fix(tmp_path, capsys, override, key, words):
    out = tmp_path / "out"
    rc = main(["run", str(SCENARIO), "--replications", "1", "--set", override, "--set", "horizon_days=0.1",
               "--set", "warmup_days=0", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    line = lines[0]
    assert line.startswith("patrolsim: error: ") and "guanghan_county.yaml" in line, line
    assert f"{key}:" in line and words in line and "(fix: " in line, line
    assert not out.exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_any_layout_the_checks_accept_builds_a_connected_county(data):
    """Random counties: a layout ``check_county`` accepts always builds, every town keeps its streets
    and people, every township its station, and every place reaches every other."""
    from sim.errors import ScenarioError
    from sim.scenario import scenario_from_dict

    width = data.draw(st.floats(6, 24))
    height = data.draw(st.floats(6, 24))
    townships = []
    for i in range(data.draw(st.integers(0, 4))):
        townships.append({"name": f"T{i}", "x_km": data.draw(st.floats(-width / 2, width / 2)),
                          "y_km": data.draw(st.floats(-height / 2, height / 2)),
                          "area_km2": data.draw(st.floats(0.8, 3.0)), "population": data.draw(st.integers(1, 50_000)),
                          "block_m": data.draw(st.sampled_from([150, 200, 250]))})
    county = {"width_km": width, "height_km": height, "rural_road_km": data.draw(st.floats(0.8, 9.0)),
              "rural_node_km": data.draw(st.floats(0.3, 3.0)), "county_road_every": data.draw(st.integers(1, 4)),
              "rural_population": data.draw(st.integers(0, 100_000)), "townships": townships}
    raw = {"name": "county", "network": {"synthetic": {"seed": data.draw(st.integers(0, 99)), "area_km2": 3.0,
                                                       "population": 30_000, "stations": 2, "exits": 3,
                                                       "county": county}},
           "force": {"total_officers": 16}}
    try:
        sc = scenario_from_dict(raw)
    except ScenarioError:
        assume(False)
    city = load_city(sc, quiet=True)
    spec = sc.network.synthetic.county
    g = city.places
    assert np.isfinite(city.place_weight).all() and (city.place_weight >= 0).all()
    rural_kept = city.place_weight.sum() - 30_000 - sum(t.population for t in spec.townships)
    assert -1e-6 <= rural_kept <= spec.rural_population + 1e-6
    for i, t in enumerate(spec.townships):
        box = _in_box(city, t.x_km, t.y_km, half_extent_km(t.area_km2, t.block_m))
        assert box.sum() >= 4 and box[city.station_place[2 + i]], t.name
        assert city.place_weight[box].sum() == pytest.approx(t.population, rel=0.02)
    m = g.matrix(g.edge_time_s())
    assert np.isfinite(dijkstra(m, indices=[int(city.bureau_place)])).all()
    assert np.isfinite(dijkstra(m.T.tocsr(), indices=[int(city.bureau_place)])).all()


def test_the_run_budget_counts_the_county_nodes(scenario, county):
    """The memory and time check before a run (sim.budget) counts townships and rural nodes too."""
    from sim.budget import synthetic_nodes

    town_only = synthetic_nodes(scenario.network.synthetic.model_copy(update={"county": None}))
    estimate = synthetic_nodes(scenario.network.synthetic)
    assert town_only < 0.5 * county.n_places
    assert estimate == pytest.approx(county.n_places, rel=0.25)


def test_a_road_from_one_town_straight_into_the_next_joins_their_streets():
    """Found by the test above: a township whose box touches the only north-south rural road where it
    leaves the core's box. That stretch runs from one town's box into the other's; it was dropped as
    "within a town", cutting the county in two (the build then refused the township). It now joins
    the two towns' facing streets, and every place reaches every other."""
    from sim.scenario import scenario_from_dict

    county = {"width_km": 6.0, "height_km": 19.0, "rural_road_km": 6.0, "rural_node_km": 2.0, "county_road_every": 1,
              "rural_population": 0, "townships": [{"name": "T0", "x_km": 0.0, "y_km": 3.0, "area_km2": 3.0,
                                                    "population": 1, "block_m": 150}]}
    sc = scenario_from_dict({"name": "county", "force": {"total_officers": 16},
                             "network": {"synthetic": {"seed": 0, "area_km2": 3.0, "population": 30_000,
                                                       "stations": 2, "exits": 3, "county": county}}})
    city = county_city(sc.network.synthetic)
    g = city.places
    m = g.matrix(g.edge_time_s())
    assert np.isfinite(dijkstra(m, indices=[int(city.bureau_place)])).all()
    assert np.isfinite(dijkstra(m.T.tocsr(), indices=[int(city.bureau_place)])).all()
    box = _in_box(city, 0.0, 3.0, half_extent_km(3.0, 150))
    assert box.sum() >= 4 and box[city.station_place[2]]
