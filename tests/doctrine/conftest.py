"""Small towns for the doctrine tests: fast enough to run many replications."""

import pytest

from sim.scenario import scenario_from_dict


def small(**over):
    base = {
        "name": "small",
        "seed": 11,
        "horizon_days": 2,
        "warmup_days": 0.25,
        "replications": 2,
        "network": {"synthetic": {"seed": 3, "area_km2": 3.0, "population": 40000, "stations": 2, "exits": 4}},
        "demand": {"incidents_per_day": 60},
        "force": {"total_officers": 80},
    }
    for key, value in over.items():
        node = base
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return scenario_from_dict(base)


@pytest.fixture
def make_small():
    return small
