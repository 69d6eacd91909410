"""The engine agrees with Larson's hypercube model on the same problems.

``sim.experiment.hypercube_sim.simulate_hypercube`` turns a hypercube problem
into engine inputs (units at posts, atoms as places, travel times that encode
the preference lists and are negligible against the service time). Problems:
Larson & Odoni's three-unit example with an infinite queue and as a loss
system, and the nine-car grid of ``scenarios/hypercube/grid_9units.yaml``.

Tolerance: the Bonferroni t-interval of ``conftest.py`` over every value
checked for a problem (workloads, P(queue), cross-area fraction, mean wait or
mean travel time where defined, and each dispatch fraction expected at least
20 times per replication; rarer cells are too few for a t-interval). The
power test shows the intervals are narrow; the negative control shows a loss
system is told apart from a queue.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.analytic import load_problem, mmc_mean_wait, solve_hypercube
from sim.analytic.problem import HypercubeProblem
from sim.demand import IncidentTable
from sim.experiment.hypercube_sim import simulate_hypercube
from sim.experiment.validation_builders import (make_travel, preference_city, run_stationed,
                                                stationed_deployment)
from sim.streams import replication_seed
from tests.validation.conftest import agreement, assert_all_agree

REPO = Path(__file__).resolve().parents[2]
LARSON = REPO / "scenarios" / "hypercube" / "larson_3units.yaml"
GRID9 = REPO / "scenarios" / "hypercube" / "grid_9units.yaml"
REPS = 20
MIN_CELL_CALLS = 20


def _with_queue(problem: HypercubeProblem, queue: str) -> HypercubeProblem:
    return HypercubeProblem(arrival_rates=problem.arrival_rates, preferences=problem.preferences,
                            service_rate=problem.service_rate, queue=queue, travel_times=problem.travel_times,
                            units=problem.units, atoms=problem.atoms)


@pytest.fixture(scope="module")
def cases():
    larson = load_problem(LARSON)
    grid = load_problem(GRID9)
    out = {}
    for name, problem, horizon in (("larson infinite", larson, 1000.0),
                                   ("larson loss", _with_queue(larson, "loss"), 1000.0),
                                   ("grid9 infinite", grid, 400.0)):
        sim = simulate_hypercube(problem, replications=REPS, seed=20240612, horizon_services=horizon,
                                 warmup_services=20.0)
        out[name] = (problem, solve_hypercube(problem, method="exact"), sim)
    return out


def _checks(name: str, problem, model, sim) -> list:
    cells = np.argwhere(np.asarray(model.dispatch_fractions) * sim.calls.mean() >= MIN_CELL_CALLS)
    k = len(sim.units) + 2 + len(cells) + (problem.queue == "infinite") + (problem.travel_times is not None)
    out = [agreement(f"{name} workload {u}", sim.workloads[:, n], model.workloads[n], family_size=k)
           for n, u in enumerate(sim.units)]
    out.append(agreement(f"{name} P(queue)", sim.p_queue, model.p_queue, family_size=k))
    out.append(agreement(f"{name} cross-area", sim.cross_area_fraction, model.cross_area_fraction, family_size=k))
    if problem.queue == "infinite":
        wq = mmc_mean_wait(servers=problem.n_units, arrival_rate=problem.total_rate, service_rate=problem.service_rate)
        out.append(agreement(f"{name} mean wait", sim.mean_wait, wq, family_size=k))
    if problem.travel_times is not None:
        out.append(agreement(f"{name} mean travel time", sim.mean_travel_time, model.mean_travel_time, family_size=k))
    for j, n in cells:
        out.append(agreement(f"{name} f[{sim.atoms[j]}][{sim.units[n]}]", sim.dispatch_fractions[:, j, n],
                             model.dispatch_fractions[j, n], family_size=k))
    return out


@pytest.mark.parametrize("name", ["larson infinite", "larson loss", "grid9 infinite"])
def test_simulation_agrees_with_the_exact_hypercube(cases, name):
    problem, model, sim = cases[name]
    checks = _checks(name, problem, model, sim)
    assert len(checks) >= len(sim.units) + 10      # dispatch cells are part of the test
    assert_all_agree(checks)
    assert sim.unserved.sum() == 0                 # every call was served or (loss) lost


def test_loss_system_loses_calls_and_queue_does_not(cases):
    assert cases["larson loss"][2].lost.min() > 0
    assert cases["larson infinite"][2].lost.sum() == 0


def test_power_and_negative_control(cases):
    problem, model, sim = cases["larson infinite"]
    checks = {c.name: c for c in _checks("larson infinite", problem, model, sim)}
    # workloads and P(queue) are resolved to better than +-0.035 (7 % of a workload of 0.5;
    # we measured at most +-0.026)
    assert max(c.half_width for n, c in checks.items() if "workload" in n) < 0.035
    assert checks["larson infinite P(queue)"].half_width < 0.035
    # an engine that dropped calls instead of queueing them would be caught
    loss_sim = cases["larson loss"][2]
    wrong = agreement("loss simulation vs Erlang C", loss_sim.p_queue, model.p_queue, family_size=len(checks))
    assert not wrong.ok, str(wrong)
    wrong = agreement("loss simulation vs queue workload u1", loss_sim.workloads[:, 0], model.workloads[0],
                      family_size=len(checks))
    assert not wrong.ok, str(wrong)


def test_engine_follows_the_preference_lists():
    """Exact trace: each call goes to the first free unit of its atom's list, then the queue forms."""
    problem = load_problem(LARSON)
    pref = problem.preferences
    city, posts, atoms = preference_city(pref)
    calls, places = [], []
    for j in range(problem.n_atoms):      # for each atom, four calls a second apart, then a long gap
        for k in range(4):
            calls.append(100_000.0 * j + k)
            places.append(atoms[j])
    n = len(calls)
    inc = IncidentTable(call_s=np.array(calls), place=np.array(places, np.int64), type_idx=np.zeros(n, np.int64),
                        priority=np.ones(n, np.int64), units_needed=np.ones(n, np.int64), handling_s=np.zeros(n),
                        on_scene_s=np.full(n, 1000.0))
    log = run_stationed(city=city, deployment=stationed_deployment(posts), travel=make_travel(city), incidents=inc,
                        rep=replication_seed(1, 0), warmup_s=0.0, horizon_s=100_000.0 * problem.n_atoms)
    for j in range(problem.n_atoms):
        i = 4 * j
        assert [log.units_sent[i + k][0] for k in range(3)] == list(pref[j])
        # the fourth finds every unit busy: it waits for the first to clear (the first sent, 1000 s later)
        assert log.units_sent[i + 3] == [pref[j][0]]
        assert log.dispatch_s[i + 3] == pytest.approx(calls[i] + 1000.0 + 0.1, abs=0.01)


def test_cli_simulate_prints_the_comparison(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "larson.json"
    assert main(["analytic", "hypercube", str(LARSON), "--simulate", "--replications", "2", "--seed", "3",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Simulation (2 replications" in text and "workload u1" in text and "mean wait (M/M/N)" in text
    import json

    sim = json.loads(out.read_text())["simulation"]
    assert sim["replications"] == 2 and sim["seed"] == 3 and sim["method"] == "simulation"
    assert set(sim["workloads"]) == {"u1", "u2", "u3"}
    assert 0.4 < sim["workloads"]["u1"]["mean"] < 0.7
    assert len(sim["workloads"]["u1"]["ci95"]) == 2
