"""Replaying historical calls (``demand: {replay: CALLS.csv}``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calls.calltypes import read_type_table
from sim.calls.delay import default_delays, delay_for
from sim.errors import DemandError
from sim.replay import read_replay, sidecar_path
from tests.calls.conftest import write_csv


def _seattle_scenario(csv, osm, **extra):
    from sim.scenario import scenario_from_dict

    return scenario_from_dict({"name": "replay", "seed": 3, "horizon_days": 8, "warmup_days": 0,
                               "replications": 1, "network": {"osm": {"file": str(osm)}},
                               "demand": {"replay": str(csv)}, "force": {"total_officers": 60}, **extra})


def test_seattle_replay_runs_and_its_incidents_are_the_files_rows(seattle_2015, seattle_osm, seattle_city):
    from sim.experiment import prepare, run_replication

    sc = _seattle_scenario(seattle_2015, seattle_osm)
    ctx = prepare(sc, quiet=True, city=seattle_city)
    out = run_replication(ctx, 0)
    inc = out.incidents
    # independent reading of the file: arrival minus the priority's delay, from Monday 2014-12-29 00:00
    raw = pd.read_csv(seattle_2015, dtype=str, keep_default_na=False)
    table = read_type_table()
    prio = table.rules["priority"].to_numpy()[table.match(raw["initial_type_group"])]
    call = pd.to_datetime(raw["at_scene_time"]) - pd.to_timedelta(delay_for(prio, default_delays()), unit="s")
    call_s = ((call - pd.Timestamp("2014-12-29")) / pd.Timedelta(seconds=1)).to_numpy()
    in_window = call_s < 8 * 86400
    # rows off the network (> 300 m from a drivable node) are the only ones left out
    expected = np.sort(call_s[in_window])
    assert len(inc) == in_window.sum() - _off_network(raw[in_window], seattle_city)
    assert np.isin(np.sort(inc["call_s"].to_numpy()), expected).all()
    assert inc["first_arrival_s"].notna().all()          # every replayed call was served
    assert set(inc["type"]) <= {"violent", "disturbance", "traffic", "theft", "assistance"}
    # deterministic: the same scenario reads the same incidents
    again = read_replay(seattle_2015, city=seattle_city, scenario=sc)
    assert np.array_equal(again.call_s, ctx.demand.replay.call_s)
    assert np.array_equal(again.on_scene_s, ctx.demand.replay.on_scene_s)


def _off_network(rows, city) -> int:
    from sim.calls.places import snap_to_places

    _, d = snap_to_places(city, rows["longitude"].astype(float).to_numpy(), rows["latitude"].astype(float).to_numpy())
    return int((d > 300).sum())


def _town():
    from sim.network import load_city
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_town

    return load_city(scenario_from_dict(small_town()), quiet=True)


def _town_scenario(tmp_path, csv_name, **demand):
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_town

    return scenario_from_dict(small_town(demand={"replay": csv_name, **demand}, horizon_days=7.0),
                              source_file=str(tmp_path / "s.yaml"))


def _town_rows(city):
    g = city.places
    return [
        # queued, dispatched, arrived, cleared, lat, lon, type, priority
        ["2021-03-03 08:00:00", "2021-03-03 08:01:30", "2021-03-03 08:09:00", "2021-03-03 08:49:00",
         g.lat[5], g.lon[5], "ASSAULTS", "1"],
        ["2021-03-02 23:00:00", "", "", "", g.lat[7], g.lon[7], "THEFT", ""],
        ["2021-03-04 10:00:00", "2021-03-04 10:02:00", "2021-03-04 10:20:00", "2021-03-04 10:30:00",
         g.lat[9] + 0.05, g.lon[9], "THEFT", "3"],                      # about 5.5 km off the network
    ]


def test_custom_file_with_sidecar_mapping_uses_its_times(tmp_path):
    city = _town()
    write_csv(tmp_path / "calls.csv", ["Q", "D", "A", "C", "Lat", "Lon", "Kind", "P"], _town_rows(city))
    assert sidecar_path(tmp_path / "calls.csv") == tmp_path / "calls.columns.yaml"
    (tmp_path / "calls.columns.yaml").write_text(
        "columns: {queued: Q, dispatched: D, arrived: A, cleared: C, latitude: Lat, longitude: Lon, "
        "type: Kind, priority: P}\nreplay_start: 2021-03-01\n")
    sc = _town_scenario(tmp_path, "calls.csv")
    inc = read_replay(tmp_path / "calls.csv", city=city, scenario=sc)
    assert len(inc) == 2                                       # the off-network row is left out
    # Monday 2021-03-01 00:00 is time 0
    assert list(inc.call_s) == [1 * 86400 + 23 * 3600, 2 * 86400 + 8 * 3600]
    assert list(inc.place) == [7, 5]
    assert list(inc.priority) == [3, 1]                        # table's for the blank, the data's for the other
    assert list(inc.units_needed) == [1, 2]
    assert inc.on_scene_s[1] == 40 * 60 and inc.handling_s[1] == 90   # from the data
    names = [t.name for t in sc.demand.types]
    assert [names[i] for i in inc.type_idx] == ["theft", "violent"]


def test_replay_with_a_type_the_scenario_lacks_is_an_error(tmp_path):
    city = _town()
    write_csv(tmp_path / "calls.csv", ["Q", "D", "A", "C", "Lat", "Lon", "Kind", "P"], _town_rows(city)[:1])
    (tmp_path / "calls.columns.yaml").write_text(
        "columns: {queued: Q, latitude: Lat, longitude: Lon, type: Kind}\n")
    sc = _town_scenario(tmp_path, "calls.csv", types=[{"name": "theft", "share": 1.0}])
    with pytest.raises(DemandError, match="violent"):
        read_replay(tmp_path / "calls.csv", city=city, scenario=sc)


def test_a_single_call_replays(tmp_path):
    city = _town()
    write_csv(tmp_path / "one.csv", ["Q", "D", "A", "C", "Lat", "Lon", "Kind", "P"], _town_rows(city)[1:2])
    (tmp_path / "one.columns.yaml").write_text("columns: {queued: Q, latitude: Lat, longitude: Lon, type: Kind}\n")
    inc = read_replay(tmp_path / "one.csv", city=city, scenario=_town_scenario(tmp_path, "one.csv"))
    assert len(inc) == 1 and inc.call_s[0] == 86400 + 23 * 3600   # Tuesday 23:00 from Monday 2021-03-01


def test_replay_with_nothing_on_the_network_is_an_error(tmp_path, seattle_2018, seattle_osm, seattle_city):
    sc = _seattle_scenario(seattle_2018, seattle_osm)
    with pytest.raises(DemandError, match="no call lies on the road network"):
        read_replay(seattle_2018, city=seattle_city, scenario=sc)


def test_shipped_seattle_scenarios_validate(repo_root, seattle_osm):
    from sim.scenario_file import load_scenario

    rep = load_scenario(repo_root / "scenarios" / "seattle_replay.yaml")
    assert rep.demand.replay and rep.resolve_path(rep.demand.replay).is_file()
    fit = load_scenario(repo_root / "scenarios" / "seattle_fitted.yaml")
    assert fit.resolve_path(fit.demand.fitted).parent.name == "fit"
    assert fit.resolve_path(fit.network.osm.file).is_file()


def test_the_replay_report_line_obeys_quiet(tmp_path, capsys):
    city = _town()
    write_csv(tmp_path / "one.csv", ["Q", "D", "A", "C", "Lat", "Lon", "Kind", "P"], _town_rows(city)[1:2])
    (tmp_path / "one.columns.yaml").write_text("columns: {queued: Q, latitude: Lat, longitude: Lon, type: Kind}\n")
    sc = _town_scenario(tmp_path, "one.csv")
    read_replay(tmp_path / "one.csv", city=city, scenario=sc)
    assert "replay: one.csv: 1 rows, 1 usable" in capsys.readouterr().err
    read_replay(tmp_path / "one.csv", city=city, scenario=sc, quiet=True)
    assert capsys.readouterr().err == ""


def test_a_replay_run_never_imports_the_fitting_code(tmp_path, repo_root):
    """Replay reads its calls through sim.calls: a whole run, CLI included, leaves sim.fit unimported."""
    city = _town()
    write_csv(tmp_path / "calls.csv", ["Q", "D", "A", "C", "Lat", "Lon", "Kind", "P"], _town_rows(city))
    (tmp_path / "calls.columns.yaml").write_text(
        "columns: {queued: Q, dispatched: D, arrived: A, cleared: C, latitude: Lat, longitude: Lon, "
        "type: Kind, priority: P}\nreplay_start: 2021-03-01\n")
    from tests.conftest import small_town

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(small_town(demand={"replay": "calls.csv"}, horizon_days=7.0,
                                                               replications=1)))
    code = (
        "import json, sys\n"
        "from sim.cli import main\n"
        f"rc = main(['run', {str(tmp_path / 's.yaml')!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet'])\n"
        "fit = sorted(m for m in sys.modules if m == 'sim.fit' or m.startswith('sim.fit.'))\n"
        "print(json.dumps({'rc': rc, 'fit': fit, 'calls': 'sim.calls.load' in sys.modules}))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo_root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"rc": 0, "fit": [], "calls": True}
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["incidents"] == 2
