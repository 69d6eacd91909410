"""Metamorphic tests: more units never hurt, more demand raises utilisation (common random numbers).

The town is loaded on purpose (4 km², 150 incidents a day, yellow alert level), so that the
response line is far from certain and a change of force or demand shows. Every pair of
runs shares the seed, so replication i of both sees the same incidents.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.experiment.run import run_scenario
from sim.scenario import scenario_from_dict

REPLICATIONS = 6


def loaded_town(small_town_dict, *, officers: int = 20, incidents_per_day: float = 150.0) -> dict:
    return small_town_dict(
        seed=11, replications=REPLICATIONS, horizon_days=1.0, warmup_days=0.1,
        network={"synthetic": {"seed": 3, "area_km2": 4.0, "population": 40000, "stations": 2, "exits": 2}},
        force={"total_officers": officers, "teams": 2}, demand={"incidents_per_day": incidents_per_day},
        alert={"level": "yellow"})


def per_replication(data: dict, key: str) -> np.ndarray:
    result = run_scenario(scenario_from_dict(data), quiet=True)
    return np.array([o.metrics[key] for o in result.outputs])


@pytest.fixture(scope="module")
def compliance_by_force(small_town_dict):
    return {n: per_replication(loaded_town(small_town_dict, officers=n), "response_within_line")
            for n in (20, 40, 80)}


def test_more_officers_never_lower_mean_compliance(compliance_by_force):
    """Doubling the force must not lower mean response-line compliance.

    Tolerance 0.02 (two percentage points) on the mean over 6 paired replications: a greedy
    nearest-unit dispatcher can do worse in a single replication with more units (an extra
    unit lures a dispatch away and leaves a gap), but such anomalies touch a few of the
    ~150 incidents a replication and average out well below two points over 6 replications.
    """
    means = {n: float(v.mean()) for n, v in compliance_by_force.items()}
    assert means[40] >= means[20] - 0.02, means
    assert means[80] >= means[40] - 0.02, means


def test_doubling_a_thin_force_helps_a_lot(compliance_by_force):
    """From 20 to 40 officers the loaded town goes from most calls late to most on time.

    At 20 officers about a quarter of calls make the line, at 40 about nine in ten; a gain of
    at least 0.3 leaves a wide margin while a model where force does not matter fails it.
    """
    assert compliance_by_force[40].mean() - compliance_by_force[20].mean() > 0.3


def test_more_demand_raises_utilisation(small_town_dict):
    """Utilisation rises with demand: 50 -> 100 -> 200 incidents a day on the same force.

    Each doubling roughly doubles the work (means about 0.27 -> 0.57 -> 0.82 of on-duty time).
    The standard error of a 6-replication mean is about 0.03 (paired replications make the
    difference tighter still), so requiring a rise of at least 0.05 is safe for a correct model
    and fails one where demand does not load the units.
    """
    u = {d: per_replication(loaded_town(small_town_dict, incidents_per_day=d), "utilisation").mean()
         for d in (50, 100, 200)}
    assert u[100] > u[50] + 0.05, u
    assert u[200] > u[100] + 0.05, u
    assert all(0 < x <= 1 for x in u.values())
