"""A demand or replay file made for another area is an error, not a run on one street corner.

Before this check a demand file fitted on Seattle ran on any other network: every
point snapped to the nearest (edge) node, so all incidents landed on one corner.
"""

from __future__ import annotations

import pytest
import yaml

from sim.cli import main
from tests.calls.conftest import write_csv

LINE = "places lie outside the network"


def _fit_small(tmp_path, seattle_2015_rows, seattle_osm):
    """A real fit of 600 Seattle calls on the Seattle extract (no figures)."""
    header, rows = seattle_2015_rows
    calls = write_csv(tmp_path / "calls.csv", header, rows[:600])
    out = tmp_path / "demand" / "seattle.yaml"
    rc = main(["fit", str(calls), "--network", str(seattle_osm), "--out", str(out), "--no-figures", "--quiet"])
    assert rc == 0
    return out


def _scenario(tmp_path, network: dict | None, **demand) -> str:
    d = {"name": "elsewhere", "horizon_days": 0.2, "warmup_days": 0.0, "replications": 1,
         "demand": demand, "force": {"total_officers": 16, "teams": 2}}
    if network:
        d["network"] = network
    p = tmp_path / "scenario.yaml"
    p.write_text(yaml.safe_dump(d))
    return str(p)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    line = [x for x in err if "error" in x]
    assert len(line) == 1, err
    return line[0]


def test_seattle_fit_on_the_default_town_is_an_error(tmp_path, seattle_2015_rows, seattle_osm, capsys):
    fitted = _fit_small(tmp_path, seattle_2015_rows, seattle_osm)
    n = len(yaml.safe_load(fitted.read_text())["spatial"]["points"])
    capsys.readouterr()
    rc = main(["run", _scenario(tmp_path, None, fitted="demand/seattle.yaml"), "--out", str(tmp_path / "out")])
    assert rc == 2
    line = _one_error_line(capsys)
    assert f"seattle.yaml: demand.fitted: {n:,} of {n:,} {LINE}" in line
    # Seattle to Guanghan (the synthetic town's place) is about 10,000 km
    km = int(line.split("nearest ")[1].split(" km")[0].replace(",", ""))
    assert 8_000 < km < 12_000
    assert "fix: fit the demand on this network, or point network.* at the network it was fitted on" in line
    assert not (tmp_path / "out").exists()


def test_seattle_fit_on_a_small_osm_fixture_of_part_of_its_area_is_an_error(
        tmp_path, seattle_2015_rows, seattle_osm, test_data, capsys):
    fitted = _fit_small(tmp_path, seattle_2015_rows, seattle_osm)
    capsys.readouterr()
    net = {"osm": {"file": str(test_data / "tiny_town.osm"), "n_stations": 1}}
    rc = main(["run", _scenario(tmp_path, net, fitted=str(fitted)), "--out", str(tmp_path / "out")])
    assert rc == 2
    # tiny_town.osm is a few blocks inside the Seattle extract: most of the fitted places lie off it
    line = _one_error_line(capsys)
    n = len(yaml.safe_load(fitted.read_text())["spatial"]["points"])
    far = int(line.split("demand.fitted: ")[1].split(" of ")[0].replace(",", ""))
    assert 0 < far < n and f"of {n:,} places lie off the network (more than 300 m from any drivable node" in line


def test_a_fitted_file_on_its_own_network_still_runs(tmp_path, seattle_2015_rows, seattle_osm, seattle_city):
    from sim.demand_files import load_demand_inputs
    from sim.scenario import scenario_from_dict

    fitted = _fit_small(tmp_path, seattle_2015_rows, seattle_osm)
    sc = scenario_from_dict({"name": "s", "network": {"osm": {"file": str(seattle_osm)}},
                             "demand": {"fitted": str(fitted)}})
    f, _ = load_demand_inputs(sc, seattle_city)
    assert f["incidents_per_day"] > 0


def test_one_point_beyond_the_snap_distance_is_an_error(tmp_path, small_town_dict):
    from sim.errors import DemandError
    from sim.experiment import prepare
    from sim.network import load_city
    from sim.scenario import scenario_from_dict


    probe = scenario_from_dict(small_town_dict())
    g = load_city(probe, quiet=True).places
    # 0.01 degrees of latitude is about 1.1 km north of the town's northernmost node
    pts = [[float(g.lon[3]), float(g.lat[3]), 1.0], [float(g.lon[0]), float(g.lat.max()) + 0.01, 1.0]]
    d = {"incidents_per_day": 24.0, "hour_of_week_profile": [1.0] * 168, "spatial": {"points": pts}}
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(d))
    sc = scenario_from_dict(small_town_dict(demand={"fitted": "f.yaml"}), source_file=str(tmp_path / "s.yaml"))
    with pytest.raises(DemandError, match=r"1 of 2 places lie off the network \(more than 300 m") as e:
        prepare(sc, quiet=True)
    assert "nearest 1," in str(e.value) and e.value.key == "demand.fitted"
    # a larger network.max_snap_m accepts it (the documented way to relax the check)
    sc2 = scenario_from_dict(small_town_dict(demand={"fitted": "f.yaml"}, network={"max_snap_m": 5000}),
                             source_file=str(tmp_path / "s.yaml"))
    assert prepare(sc2, quiet=True).demand.place_prob.sum() > 0


def test_seattle_replay_on_aguascalientes_is_an_error(tmp_path, seattle_2015, shared_data, capsys):
    osm = shared_data / "osm_fixtures" / "aguascalientes.osm.bz2"
    net = {"osm": {"file": str(osm), "n_stations": 2}}
    rc = main(["run", _scenario(tmp_path, net, replay=str(seattle_2015)), "--out", str(tmp_path / "out")])
    assert rc == 2
    line = _one_error_line(capsys)
    assert "no call lies on the road network" in line and "calls in the time window lie outside the network" in line
    assert " km away" in line and "fix: use calls of this network's area" in line


def test_a_replay_with_most_calls_elsewhere_is_an_error(tmp_path, seattle_2015_rows, seattle_osm, seattle_city):
    """60% of the calls moved 70 km south: the file does not belong to this network."""
    from sim.errors import DemandError
    from sim.replay import read_replay
    from sim.scenario import scenario_from_dict


    header, rows = seattle_2015_rows
    lat = header.index("latitude")
    rows = [list(r) for r in rows[:100]]
    for r in rows[:60]:
        r[lat] = str(float(r[lat]) - 0.63)
    calls = write_csv(tmp_path / "moved.csv", header, rows)
    sc = scenario_from_dict({"name": "r", "network": {"osm": {"file": str(seattle_osm)}},
                             "demand": {"replay": str(calls)}})
    with pytest.raises(DemandError, match=r"most calls lie off the road network: 6\d of 100 calls"):
        read_replay(calls, city=seattle_city, scenario=sc)
