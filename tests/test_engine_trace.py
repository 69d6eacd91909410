"""Exact event traces on a 3-node line graph with deterministic times.

    node 0 ----- 1000 m ----- node 1 --- 500 m --- node 2
    (station)

Every street is two-way at 36 km/h (10 m/s), so 0->1 takes 100 s, 1->2 50 s, 0->2 150 s
at response speed. Patrol speed is half that (``patrol_scale = 2``). Incidents are
hand-made (call, handling, on-scene time), so every timestamp below is arithmetic:
dispatch = call + handling, arrival = dispatch + turnout (standby units only) + travel,
clear = arrival + on-scene time. Horizons stay under the first 8-hour shift change
except where a test is about shift changes.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import IncidentTable
from sim.engine import Engine, ModeTravel
from sim.force import Deployment, Unit
from sim.network import TravelOracle
from sim.network.graph import City, RoadGraph, map_places

TURNOUT_S = 120.0
PATROL_SCALE = 2.0


def line_city(stations=(0,)) -> City:
    x = np.array([0.0, 1000.0, 1500.0])
    u = np.array([0, 1, 1, 2], np.int32)
    v = np.array([1, 0, 2, 1], np.int32)
    g = RoadGraph(mode="drive", node_id=np.arange(3, dtype=np.int64), x_m=x, y_m=np.zeros(3),
                  lon=x / 1e5, lat=np.zeros(3), edge_u=u, edge_v=v,
                  edge_length_m=np.array([1000.0, 1000.0, 500.0, 500.0]), edge_speed_kph=np.full(4, 36.0),
                  edge_class=np.array(["residential"] * 4))
    graphs = {"drive": g}
    node, offset = map_places(graphs)
    return City(name="line", graphs=graphs, place_weight=np.ones(3), station_place=np.array(stations, np.int64),
                station_name=tuple(f"s{i}" for i in range(len(stations))), bureau_place=0,
                exit_place=np.array([], np.int64), place_node=node, place_offset_m=offset)


def standby(uid: int, station: int = 0) -> Unit:
    return Unit(uid=uid, name=f"standby-{uid}", kind="car", role="standby", crew=2, station=station, beat=-1,
                beat_places=np.empty(0, np.int64))


def patrol_at(uid: int, node: int) -> Unit:
    """A car whose beat is one node: its circuit is a 60 s dwell there (no randomness in position)."""
    return Unit(uid=uid, name=f"car-{uid}", kind="car", role="patrol", crew=2, station=0, beat=uid,
                beat_places=np.array([node], np.int64))


def deployment(*units: Unit) -> Deployment:
    return Deployment(units=tuple(units), alert_level="green", patrol_officers=0, standby_officers=0,
                      on_duty_officers=2 * len(units))


def incidents(*rows) -> IncidentTable:
    """rows: (call_s, place, handling_s, on_scene_s, units_needed, priority)."""
    call, place, handling, scene, need, prio = (np.array(c) for c in zip(*rows))
    return IncidentTable(call_s=call.astype(float), place=place.astype(np.int64),
                         type_idx=np.zeros(len(rows), np.int64), priority=prio.astype(np.int64),
                         units_needed=need.astype(np.int64), handling_s=handling.astype(float),
                         on_scene_s=scene.astype(float))


def run(units, table, *, horizon_s=3600.0, warmup_s=0.0, stations=(0,)):
    city = line_city(stations)
    travel = {"drive": ModeTravel(TravelOracle(city.graphs["drive"]), PATROL_SCALE, 1.0)}
    return Engine(city=city, deployment=deployment(*units), travel=travel, incidents=table,
                  rep=np.random.SeedSequence(1), warmup_s=warmup_s, horizon_s=horizon_s,
                  turnout_s=TURNOUT_S).run()


def accounts(st) -> float:
    return st.patrol_s + st.travel_s + st.scene_s + st.station_s + getattr(st, "off_s", 0.0) \
        + getattr(st, "post_s", 0.0)


# --------------------------------------------------------------------------- one standby car
def test_standby_car_single_incident():
    log = run([standby(0)], incidents((100, 2, 60, 600, 1, 2)))
    assert log.dispatch_s[0] == pytest.approx(160.0)               # call + handling
    assert log.arrivals_s[0] == pytest.approx([430.0])             # + turnout 120 + travel 150
    assert log.clear_s[0] == pytest.approx(1030.0)                 # + on scene 600
    assert log.units_sent[0] == [0]
    st = log.units[0]
    assert [tuple(map(float, t)) for t in st.trips] == [(0, 160.0, 430.0, 1030.0)]
    # back at the station at 1030 + 150 s x patrol scale 2 = 1330; the drive back is available
    # time (counted with patrol), not busy time
    assert st.travel_s == pytest.approx(270.0)
    assert st.scene_s == pytest.approx(600.0)
    assert st.station_s == pytest.approx(160.0 + (3600.0 - 1330.0))
    assert st.patrol_s == pytest.approx(300.0)
    assert st.distance_m == pytest.approx(1500.0 + 1500.0)
    assert st.calls == 1
    assert accounts(st) == pytest.approx(3600.0)


def test_second_incident_waits_then_the_unit_goes_from_the_first_scene():
    log = run([standby(0)], incidents((100, 2, 60, 600, 1, 2), (200, 1, 60, 300, 1, 2)))
    # the only unit is busy at 260 when the second call is ready: it waits until 1030
    assert log.dispatch_s[1] == pytest.approx(1030.0)
    # no turnout: the unit drives straight from node 2 to node 1 (50 s)
    assert log.arrivals_s[1] == pytest.approx([1080.0])
    assert log.clear_s[1] == pytest.approx(1380.0)
    st = log.units[0]
    # then home from node 1: 100 s x 2 = 200 s, at the station from 1580
    assert st.travel_s == pytest.approx(270.0 + 50.0)
    assert st.patrol_s == pytest.approx(200.0)
    assert st.scene_s == pytest.approx(900.0)
    assert st.station_s == pytest.approx(160.0 + (3600.0 - 1580.0))
    assert st.distance_m == pytest.approx(1500.0 + 500.0 + 1000.0)
    assert accounts(st) == pytest.approx(3600.0)


def test_queue_is_served_by_priority_then_call_time():
    log = run([standby(0)], incidents(
        (100, 2, 60, 600, 1, 2),     # takes the unit until 1030
        (200, 1, 60, 100, 1, 3),     # low priority, waiting from 260
        (300, 0, 60, 100, 1, 1),     # high priority, waiting from 360: served first
        (350, 1, 60, 100, 1, 3),     # low priority, called after incident 1: served last
    ))
    assert log.dispatch_s[2] == pytest.approx(1030.0)
    assert log.arrivals_s[2] == pytest.approx([1180.0])           # 2 -> 0: 150 s
    assert log.clear_s[2] == pytest.approx(1280.0)
    assert log.dispatch_s[1] == pytest.approx(1280.0)
    assert log.arrivals_s[1] == pytest.approx([1380.0])           # 0 -> 1: 100 s
    assert log.dispatch_s[3] == pytest.approx(1480.0)
    assert log.arrivals_s[3] == pytest.approx([1480.0])           # already there
    assert log.clear_s[3] == pytest.approx(1580.0)


def test_warmup_clips_the_accounts_to_the_window():
    log = run([standby(0)], incidents((100, 2, 60, 600, 1, 2)), warmup_s=1000.0)
    st = log.units[0]
    # window [1000, 3600]: scene 1000-1030, drive home 1030-1330 (available), station 1330-3600
    assert st.scene_s == pytest.approx(30.0)
    assert st.travel_s == pytest.approx(0.0)
    assert st.patrol_s == pytest.approx(300.0)
    assert st.station_s == pytest.approx(2270.0)
    assert accounts(st) == pytest.approx(2600.0)


def test_call_before_the_horizon_is_served_after_it():
    log = run([standby(0)], incidents((3500, 2, 60, 600, 1, 2)))
    assert log.dispatch_s[0] == pytest.approx(3560.0)
    assert log.arrivals_s[0] == pytest.approx([3830.0])
    assert log.clear_s[0] == pytest.approx(4430.0)
    assert log.end_s >= 4430.0
    st = log.units[0]
    assert st.travel_s == pytest.approx(40.0)                      # only 3560-3600 is inside the window
    assert st.scene_s == 0.0
    assert accounts(st) == pytest.approx(3600.0)


# --------------------------------------------------------------------------- several units
def test_the_nearest_unit_goes():
    # stations at nodes 0 and 2; incident at node 1: 120 + 100 s from station 0, 120 + 50 s from station 2
    log = run([standby(0, station=0), standby(1, station=1)], incidents((100, 1, 60, 600, 1, 2)),
              stations=(0, 2))
    assert log.units_sent[0] == [1]
    assert log.arrivals_s[0] == pytest.approx([160.0 + 170.0])
    assert log.units[0].calls == 0


def test_ties_go_to_the_smaller_unit_id():
    log = run([standby(0), standby(1)], incidents((100, 2, 60, 600, 1, 2)))
    assert log.units_sent[0] == [0]


def test_incident_needing_two_units_gets_both():
    log = run([standby(0), standby(1)], incidents((100, 2, 60, 600, 2, 1)))
    assert sorted(log.units_sent[0]) == [0, 1]
    assert log.arrivals_s[0] == pytest.approx([430.0, 430.0])
    assert log.clear_s[0] == pytest.approx(1030.0)


def test_backup_from_farther_arrives_later():
    log = run([standby(0, station=0), standby(1, station=1)], incidents((100, 2, 60, 600, 2, 1)),
              stations=(0, 2))
    assert log.units_sent[0] == [1, 0]
    # first from station 2 (turnout only), then from station 0 (turnout + 150 s)
    assert log.arrivals_s[0] == pytest.approx([280.0, 430.0])
    assert log.clear_s[0] == pytest.approx(1030.0)


def test_patrol_unit_needs_no_turnout_and_rejoins_its_beat():
    log = run([patrol_at(0, node=1)], incidents((100, 2, 60, 600, 1, 2)))
    assert log.arrivals_s[0] == pytest.approx([160.0 + 50.0])
    assert log.clear_s[0] == pytest.approx(810.0)
    st = log.units[0]
    # patrol 0-160, travel 160-210, scene 210-810, drive back to node 1 at patrol speed 810-910,
    # then patrol (standing at its one-node beat) until the horizon
    assert st.travel_s == pytest.approx(50.0)
    assert st.scene_s == pytest.approx(600.0)
    assert st.patrol_s == pytest.approx(160.0 + 100.0 + (3600.0 - 910.0))
    assert st.station_s == 0.0
    assert st.distance_m == pytest.approx(500.0 + 500.0)
    assert accounts(st) == pytest.approx(3600.0)


def test_patrol_unit_beats_a_closer_station_because_of_turnout():
    # standby at node 2 needs 120 s turnout; the patrol car at node 1 needs 50 s of driving
    log = run([standby(0, station=0), patrol_at(1, node=1)], incidents((100, 2, 60, 600, 1, 2)),
              stations=(2,))
    assert log.units_sent[0] == [1]


# --------------------------------------------------------------------------- known bugs
def test_a_unit_is_never_its_own_backup():
    log = run([standby(0)], incidents((100, 2, 60, 600, 2, 1)))
    sent = log.units_sent[0]
    assert len(sent) == len(set(sent)), f"units sent {sent}, arrivals {log.arrivals_s[0]}"


def test_accounts_survive_a_shift_change():
    log = run([standby(0)], incidents((100, 2, 60, 600, 1, 2)), horizon_s=30_000.0)
    st = log.units[0]
    # home at 1330; the 8-hour shift change at 28,800 s must not lose 1330-28,800 at the station
    assert st.station_s == pytest.approx(160.0 + (30_000.0 - 1330.0))
    assert accounts(st) == pytest.approx(30_000.0)


def test_a_call_still_in_handling_at_the_horizon_is_dispatched_in_the_drain():
    # call at 3500 s, 200 s of handling: the request falls at 3700 s, after the 3600 s horizon.
    # The drain serves every call made before the horizon, including this one (it used to be
    # dropped: no unit was busy and nothing was queued, so the drain stopped at once).
    log = run([standby(0)], incidents((3500.0, 2, 200.0, 300.0, 1, 1)))
    assert log.dispatch_s[0] == pytest.approx(3700.0)
    assert log.arrivals_s[0] == [pytest.approx(3700.0 + TURNOUT_S + 150.0)]
    assert log.clear_s[0] == pytest.approx(3700.0 + TURNOUT_S + 150.0 + 300.0)
