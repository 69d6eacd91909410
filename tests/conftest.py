"""Shared fixtures: where the repository and the shared data are, small scenarios, Seattle.

The real data live in ``../shared/data`` beside the repository (never copied into it).
Tests that need them fail when the folder is missing under CI (``CI=true``), so a CI run
without the data cannot pass by accident, and skip with a one-line reason elsewhere.

The network cache stays at its default (``networks/cache/`` under the folder pytest is
run from, git-ignored): the first Seattle load builds it (about 20 s), later loads read
it back in well under a second. Only tests about the cache itself point
``PATROLSIM_CACHE_DIR`` at a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SEATTLE_OSM = SHARED_DATA / "seattle_udistrict" / "udistrict.osm.gz"


def small_town(**overrides) -> dict:
    """A scenario dict for a small synthetic town that runs in well under a second.

    About 2 km², two stations, 16 officers in two teams, 40 incidents a day over half
    a day after a short warm-up. Keyword arguments replace top-level sections or keys;
    sections given as dicts are merged one level deep.
    """
    base = {
        "name": "small-town",
        "seed": 11,
        "horizon_days": 0.5,
        "warmup_days": 0.05,
        "replications": 2,
        "network": {"synthetic": {"seed": 3, "area_km2": 2.0, "population": 20000,
                                  "stations": 2, "exits": 2}},
        "demand": {"incidents_per_day": 40},
        "force": {"total_officers": 16, "teams": 2},
        "alert": {"level": "yellow"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def require_shared(what: str) -> None:
    """Fail under CI (``CI=true``), skip elsewhere: real data must be tested where it is laid out."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing; CI must run the real-data tests (lay out shared/data beside the clone)")
    pytest.skip(f"needs {what} (shared data beside the repository)")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository.

    When it is missing, a CI run (``CI=true``) fails, so real-data tests cannot pass there by
    accident; a user's fresh clone without the folder skips them with a one-line reason.
    """
    if not SHARED_DATA.is_dir():
        require_shared(f"the shared data folder {SHARED_DATA.resolve()}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def seattle_osm(shared_data) -> Path:
    if not SEATTLE_OSM.is_file():
        require_shared(f"the Seattle extract {SEATTLE_OSM.resolve()}")
    return SEATTLE_OSM


@pytest.fixture(scope="session")
def small_town_dict():
    """The ``small_town(**overrides)`` factory (a fresh dict on every call)."""
    return small_town


@pytest.fixture(scope="session")
def small_scenario():
    """A validated small-town Scenario."""
    from sim.scenario import scenario_from_dict

    return scenario_from_dict(small_town())


@pytest.fixture(scope="session")
def small_ctx(small_scenario):
    """The prepared context of the small town (network, demand, deployment, travel)."""
    from sim.experiment import prepare

    return prepare(small_scenario, quiet=True)


@pytest.fixture(scope="session")
def seattle_scenario(seattle_osm):
    """scenarios/seattle_udistrict.yaml as shipped (it reads ../shared/data)."""
    from sim.scenario_file import load_scenario

    return load_scenario(REPO_ROOT / "scenarios" / "seattle_udistrict.yaml")


@pytest.fixture(scope="session")
def seattle_city(seattle_scenario):
    """The Seattle City, loaded once per session (about 20 s the first time, then cached)."""
    from sim.network import load_city

    return load_city(seattle_scenario, quiet=True)


@pytest.fixture(scope="session")
def seattle_ctx(seattle_scenario, seattle_city):
    from sim.experiment import prepare

    return prepare(seattle_scenario, quiet=True, city=seattle_city)
