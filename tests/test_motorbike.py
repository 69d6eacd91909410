"""The motorbike kind, added by one registry entry: it deploys, travels on the drive graph at its
own speed, is dispatched, and a faster factor shortens response times (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kinds
from sim.experiment import prepare, run_replication
from sim.scenario import scenario_from_dict


def _scenario(small_town_dict, *, factor: float = 1.35, mix=None):
    return scenario_from_dict(small_town_dict(
        force={"total_officers": 16, "teams": 2, "standby_kind": "motorbike",
               "mix": mix or {"motorbike": 1.0}},
        network={"synthetic": {"seed": 3, "area_km2": 2.0, "population": 20000, "stations": 2, "exits": 2},
                 "speeds": {"motorbike_speed_factor": factor}},
        demand={"incidents_per_day": 120}, horizon_days=1.0))


def test_the_registry_entry():
    m = kinds.kind("motorbike")
    assert (m.graph, m.travel, m.crew) == ("drive", "motorbike", 1)
    assert m.response.per == m.patrol.per == "road"


def test_motorbikes_deploy_and_travel_on_the_drive_graph_at_their_own_speed(small_town_dict):
    sc = _scenario(small_town_dict, mix={"car": 0.5, "motorbike": 0.5})
    w = prepare(sc, quiet=True)
    bikes = [u for u in w.deployment.units if u.kind == "motorbike"]
    assert bikes and all(u.crew == 1 and u.mode == "motorbike" for u in bikes)
    assert w.city.graphs["motorbike"] is w.city.graphs["drive"]
    moto, car = w.travel["motorbike"], w.travel["drive"]
    assert moto.oracle.graph is car.oracle.graph
    sp = sc.network.speeds
    # same streets, times scaled by the ratio of the factors
    np.testing.assert_allclose(moto.oracle.edge_time_s * sp.motorbike_speed_factor,
                               car.oracle.edge_time_s * sp.emergency_speed_factor)
    assert moto.patrol_scale == sp.motorbike_speed_factor / sp.motorbike_patrol_factor


def test_motorbikes_are_dispatched(small_town_dict):
    out = run_replication(prepare(_scenario(small_town_dict, mix={"car": 0.5, "motorbike": 0.5}), quiet=True), 0)
    calls = out.units.groupby("kind")["calls"].sum()
    assert calls["motorbike"] > 0
    assert out.incidents["first_arrival_s"].notna().all()


def test_a_faster_factor_gives_shorter_responses_under_common_random_numbers(small_town_dict):
    slow = run_replication(prepare(_scenario(small_town_dict, factor=0.8), quiet=True), 0)
    fast = run_replication(prepare(_scenario(small_town_dict, factor=1.6), quiet=True), 0)
    # the same incidents (common random numbers), only the motorbikes' speed differs
    np.testing.assert_array_equal(slow.incidents["call_s"], fast.incidents["call_s"])
    np.testing.assert_array_equal(slow.incidents["place"], fast.incidents["place"])
    assert set(slow.units["kind"]) == {"motorbike"}
    resp = lambda o: (o.incidents["first_arrival_s"] - o.incidents["call_s"]).mean()  # noqa: E731
    travel = lambda o: (o.incidents["first_arrival_s"] - o.incidents["dispatch_s"]).mean()  # noqa: E731
    assert travel(fast) < 0.75 * travel(slow)
    assert resp(fast) < resp(slow)


def test_the_analytic_estimate_knows_motorbikes(small_town_dict):
    from sim.analytic.scenario_estimate import estimate

    est = estimate(_scenario(small_town_dict, mix={"car": 0.5, "motorbike": 0.5}), levels=("yellow",))
    assert est.speeds_kph["motorbike_response"] == pytest.approx(
        est.speeds_kph["car_response"] * 1.35 / 1.25)
    assert est.levels["yellow"].units.get("motorbike", 0) > 0
