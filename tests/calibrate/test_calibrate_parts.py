"""The parts of calibrate on their own: the simulated measure is the run's, the world is reused
correctly, the objective, the search and the surrogate do what their docstrings say."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.calibrate import keys as keyspace
from sim.calibrate.objective import distance, objective, target
from sim.calibrate.search import best_trial, run_search
from sim.calibrate.simulated import Simulator, incidents
from sim.calibrate.uncertainty import surrogate_minimum
from sim.scenario import scenario_from_dict
from tests.calibrate.town import town_dict

FAST = {"horizon_days": 0.4, "warmup_days": 0.05}


@pytest.fixture(scope="module")
def town():
    return scenario_from_dict(town_dict(**FAST))


def test_the_lean_replication_gives_the_runs_response_times(town):
    """``simulated.incidents`` skips the run's other tables, not its numbers: the response times are
    those of ``run_replication`` (what ``patrolsim run`` writes), call to first arrival with handling."""
    from sim import api
    from sim.experiment.replicate import run_replication

    sc = api.with_keys(town, {"availability.officer_initiated_per_h": 1.0, "demand.call_handling_mean_s": 150})
    world = api.prepare(sc)
    lean = incidents(world, 1)
    full = run_replication(world, 1).incidents
    np.testing.assert_array_equal(lean["response_time_s"].to_numpy(), full["response_time_s"].to_numpy())
    np.testing.assert_array_equal(lean["in_window"].to_numpy(), full["in_window"].to_numpy())
    served = np.isfinite(full["first_arrival_s"].to_numpy())
    start = full["call_s"].to_numpy()[served]
    np.testing.assert_allclose(full["first_arrival_s"].to_numpy()[served] - start,
                               lean["response_time_s"].to_numpy()[served])
    assert (full["handling_s"].to_numpy()[served] <= lean["response_time_s"].to_numpy()[served] + 1e-9).all()


@pytest.mark.parametrize("values", [
    {"availability.officer_initiated_per_h": 0.7},
    {"availability.out_of_service_per_h": 0.5, "demand.call_handling_mean_s": 200.0},
    {"network.speeds.emergency_speed_factor": 0.9},
])
def test_reusing_the_world_matches_a_fresh_prepare(town, values):
    """The shortcuts (engine-only keys reuse the world; call handling reuses it with the new mean)
    give the numbers of a world prepared from scratch with the keys set."""
    from sim import api

    sim = Simulator(town, replications=2, days=0.35)
    got = sim.run(values)
    fresh = api.prepare(api.with_keys(sim.scenario, values))
    for r in range(2):
        inc = incidents(fresh, r)
        inc = inc[inc["in_window"]]
        for p in sim.priorities:
            want = np.sort(inc.loc[inc["priority"] == p, "response_time_s"].to_numpy(float))
            np.testing.assert_array_equal(got.by_priority[p][r], want)


def test_same_point_same_numbers_and_keys_change_them(town):
    sim = Simulator(town, replications=1, days=0.35)
    a = sim.run({"demand.call_handling_mean_s": 100.0})
    b = sim.run({"demand.call_handling_mean_s": 100.0})
    c = sim.run({"demand.call_handling_mean_s": 300.0})
    for p in sim.priorities:
        np.testing.assert_array_equal(a.pooled(p), b.pooled(p))
        # common random numbers: the same calls, each delayed by a longer handling draw
        assert a.pooled(p).size == c.pooled(p).size
        assert np.median(c.pooled(p)) > np.median(a.pooled(p))


def test_distance_is_a_log_quantile_distance():
    rng = np.random.default_rng(1)
    x = rng.exponential(300.0, 2000)
    assert distance(x, x) == 0.0
    assert distance(2 * x, x) == pytest.approx(math.log(2))       # twice as slow: ln 2 at every quantile
    assert distance(x, 2 * x) == pytest.approx(math.log(2))
    assert distance(np.empty(0), x) == 10.0


def test_target_weights_priorities_equally_and_says_what_it_skips():
    obs = {1: np.full(12, 300.0), 2: np.full(40, 900.0), 3: np.full(5, 60.0), 7: np.full(30, 10.0)}
    tgt, skipped = target(obs, [1, 2, 3])
    assert tgt.priorities == [1, 2]
    assert tgt.weights == {1: 0.5, 2: 0.5}
    assert "fewer than 10" in skipped[3] and "no incident type" in skipped[7]
    total, per = objective({1: np.full(10, 600.0), 2: np.full(10, 900.0)}, tgt)
    assert per[2] == 0.0 and per[1] == pytest.approx(math.log(2))
    assert total == pytest.approx(0.5 * math.log(2))


def test_search_finds_a_known_minimum_within_its_budget():
    """On a smooth bowl in log space the search lands near the minimum, deterministically, and
    never simulates more than its budget."""
    spaces = keyspace.key_spaces(["availability.out_of_service_per_h", "demand.call_handling_mean_s"])
    true = {"availability.out_of_service_per_h": 0.8, "demand.call_handling_mean_s": 120.0}
    calls = []

    def evaluate(values):
        calls.append(values)
        f = sum((math.log(values[k]) - math.log(true[k])) ** 2 for k in true)
        return f, {1: f}, None

    start = {"availability.out_of_service_per_h": 0.1, "demand.call_handling_mean_s": 600.0}
    trials = run_search(evaluate, spaces, trials=30, start=start)
    assert len(trials) == len(calls) <= 30
    best = best_trial(trials)
    for k in true:
        assert abs(math.log(best.values[k] / true[k])) < 0.1, best.values
    again = run_search(evaluate, spaces, trials=30, start=start)
    assert [t.values for t in again] == [t.values for t in trials]


def test_surrogate_minimum_of_an_exact_quadratic():
    rng = np.random.default_rng(3)
    u = rng.uniform(0, 1, (20, 2))
    f = (u[:, 0] - 0.3) ** 2 + 2 * (u[:, 1] - 0.6) ** 2 + 0.5 * (u[:, 0] - 0.3) * (u[:, 1] - 0.6)
    x, quad = surrogate_minimum(u, f)
    assert quad
    np.testing.assert_allclose(x, [0.3, 0.6], atol=1e-6)
    # no minimum (a saddle): the best point is taken instead
    g = (u[:, 0] - 0.3) ** 2 - (u[:, 1] - 0.6) ** 2
    x, quad = surrogate_minimum(u, g)
    assert not quad
    np.testing.assert_array_equal(x, u[np.argmin(g)])


def test_key_spaces_map_log_ranges_to_the_unit_box():
    (s,) = keyspace.key_spaces(["demand.call_handling_mean_s"], {"demand.call_handling_mean_s": (10.0, 1000.0)})
    assert s.to_unit(10.0) == 0.0 and s.to_unit(1000.0) == 1.0
    assert s.to_unit(100.0) == pytest.approx(0.5)
    assert s.from_unit(0.5) == pytest.approx(100.0)
    (r,) = keyspace.key_spaces(["availability.officer_initiated_per_h"],
                               {"availability.officer_initiated_per_h": (0.5, 10.0)})
    assert r.from_unit(1.0) <= 10.0 and r.from_unit(0.0) >= 0.5      # never a hair outside the schema
    (e,) = keyspace.key_spaces(["network.speeds.emergency_speed_factor"])
    assert e.low >= 0.5 and e.high <= 3.0          # inside the schema's bounds


def test_same_inputs_give_byte_identical_files(tmp_path):
    """The fit JSON, the scenario and both figures carry no timings or dates: two runs, same bytes."""
    from sim.cli import main
    from tests.calibrate.town import observed_calls, write_town

    town = write_town(tmp_path / "town.yaml", **FAST)
    observed_calls(tmp_path / "obs.csv", seed=7, days=1.0, replications=1)
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name / "cal.yaml"
        assert main(["calibrate", str(town), "--observed", str(tmp_path / "obs.csv"), "--fit",
                     "demand.call_handling_mean_s", "--out", str(out), "--trials", "3", "--replications", "1",
                     "--days", "0.35", "--bootstrap", "20", "--quiet"]) == 0
        outs.append(out.parent)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == ["cal.fit.json", "cal.quantiles.png", "cal.quantiles.svg", "cal.yaml"]
    for n in names:
        assert (outs[0] / n).read_bytes() == (outs[1] / n).read_bytes(), n


def test_call_handling_of_a_replay_is_drawn_again(tmp_path):
    """A replay draws the handling time of calls without a dispatch time when its file is read, so a
    trial that changes call handling reads it again (the shortcut would keep the old draws)."""
    from sim import api
    from sim.network import load_city
    from tests.calls.conftest import write_csv
    from tests.conftest import small_town

    city = load_city(scenario_from_dict(small_town()), quiet=True)
    g = city.places
    rows = [[f"2021-03-0{1 + d} {h:02d}:00:00", "", "", "", g.lat[5 + h], g.lon[5 + h], "THEFT", "3"]
            for d in range(2) for h in range(8, 20, 2)]
    write_csv(tmp_path / "calls.csv", ["Q", "D", "A", "C", "Lat", "Lon", "Kind", "P"], rows)
    (tmp_path / "calls.columns.yaml").write_text(
        "columns: {queued: Q, dispatched: D, arrived: A, cleared: C, latitude: Lat, longitude: Lon, "
        "type: Kind, priority: P}\nreplay_start: 2021-03-01\n")
    sc = scenario_from_dict(small_town(demand={"replay": "calls.csv"}, horizon_days=2.0, warmup_days=0.0),
                            source_file=str(tmp_path / "s.yaml"))
    sim = Simulator(sc, replications=1, days=2.0)
    values = {"demand.call_handling_mean_s": 900.0}
    got = sim.run(values).pooled(3)
    fresh = incidents(api.prepare(api.with_keys(sim.scenario, values)), 0)
    want = np.sort(fresh.loc[fresh["in_window"] & (fresh["priority"] == 3), "response_time_s"].to_numpy(float))
    np.testing.assert_array_equal(got, want)
    assert np.median(got) > np.median(sim.run({"demand.call_handling_mean_s": 60.0}).pooled(3))
