"""Out-of-service and officer-initiated work by hour of day (``availability.<work>_by_hour``).

The starts of a profiled kind of work are the flat process's own draws mapped through the
inverse of the cumulative rate (``sim.engine.availability.HourProfile``), so these tests check
three things: the starts follow the profile (a chi-square test that a one-hour shift fails), the
mapping keeps common random numbers (same durations, same count over whole days, nothing else
moves), and the engine feels it (units out at lunch make lunch-time calls wait).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.engine.availability import (OFFICER_INITIATED, OUT_OF_SERVICE, AvailabilitySettings, HourProfile,
                                     draw_episodes)
from sim.experiment.run import run_scenario
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed
from tests.test_metamorphic import loaded_town

DAY_S = 86_400.0
# meal breaks: none at night, a peak at 12-13 and 18-19, a little station work in between
MEALS = (0, 0, 0, 0, 0, 0, 0.5, 0.5, 1, 1, 1, 1, 4, 3, 1, 1, 1, 1, 4, 3, 1, 1, 0.5, 0.5)


def _starts_by_hour(profile, *, units: int = 150, days: int = 20, rate_h: float = 0.5) -> np.ndarray:
    s = AvailabilitySettings(out_of_service_per_h=rate_h, by_hour={OUT_OF_SERVICE: tuple(profile)})
    rep = replication_seed(3, 0)
    hours = [int(e[0] % DAY_S // 3600) for uid in range(units) for e in draw_episodes(s, rep, uid, days * DAY_S)]
    return np.bincount(hours, minlength=24)


def test_episode_starts_follow_the_hour_profile():
    """Chi-square goodness of fit of 36,000 expected starts against the profile's shares.

    Tolerance: p >= 0.001 (the draws are seeded, so the test is deterministic; a correct mapping
    passes for 999 seeds in 1,000). A mapping off by one hour must fail the same test with
    p < 1e-12, so the test has the power to see the error it guards against. The total is a
    Poisson count with mean 150 units x 20 days x 24 h x 0.5 = 36,000: within 4 standard deviations.
    """
    counts = _starts_by_hour(MEALS)
    m = np.asarray(MEALS, float)
    assert (counts[m == 0] == 0).all(), counts              # an hour at 0 gets no start at all
    expected = m / m.sum() * counts.sum()
    pos = m > 0
    assert stats.chisquare(counts[pos], expected[pos]).pvalue >= 1e-3, counts
    shifted = np.roll(m, 1) / m.sum() * counts.sum()        # the profile one hour late
    both = pos & (shifted > 0)
    assert stats.chisquare(counts[both], shifted[both] * counts[both].sum() / shifted[both].sum()).pvalue < 1e-12
    assert abs(counts.sum() - 36_000) < 4 * np.sqrt(36_000), counts.sum()


def test_hour_profile_maps_flat_time_onto_the_clock():
    p = HourProfile([0] * 6 + [1] * 12 + [3] * 6)          # mean 1.25: 0.8 by day, 2.4 in the evening
    assert p.clock_s(0.0) == 6 * 3600.0                     # the night is skipped
    assert p.clock_s(0.8 * 3600.0) == pytest.approx(7 * 3600.0)
    assert p.clock_s(DAY_S) == pytest.approx(DAY_S + 6 * 3600.0)     # whole days map onto whole days
    u = np.linspace(0.0, 3 * DAY_S, 5001)
    t = np.array([p.clock_s(x) for x in u])
    assert (np.diff(t) > 0).all()                                    # increasing: order and pairing kept
    assert HourProfile([2.0] * 24).clock_s(12_345.6) == pytest.approx(12_345.6)   # scaled to mean 1
    with pytest.raises(ValueError):
        HourProfile([0.0] * 24)


def test_a_profile_moves_only_the_starts_of_its_own_work():
    """Common random numbers: the k-th episode keeps its duration, whole days keep their count, the
    other kind of work and every other unit draw exactly what they drew without the profile."""
    rep = replication_seed(8, 1)
    flat = AvailabilitySettings(out_of_service_per_h=0.4, officer_initiated_per_h=0.7)
    meals = AvailabilitySettings(out_of_service_per_h=0.4, officer_initiated_per_h=0.7,
                                 by_hour={OUT_OF_SERVICE: MEALS})
    for uid in (0, 7, 31):
        a, b = draw_episodes(flat, rep, uid, 5 * DAY_S), draw_episodes(meals, rep, uid, 5 * DAY_S)
        oos_a = [e for e in a if e[2] == OUT_OF_SERVICE]
        oos_b = [e for e in b if e[2] == OUT_OF_SERVICE]
        assert len(oos_a) == len(oos_b)
        assert [e[1] for e in oos_a] == [e[1] for e in oos_b]
        assert [e[0] for e in oos_a] != [e[0] for e in oos_b]
        assert [e for e in a if e[2] == OFFICER_INITIATED] == [e for e in b if e[2] == OFFICER_INITIATED]
    ones = AvailabilitySettings(out_of_service_per_h=0.4, by_hour={OUT_OF_SERVICE: (1.0,) * 24})
    plain = AvailabilitySettings(out_of_service_per_h=0.4)
    assert np.allclose([e[0] for e in draw_episodes(ones, rep, 2, 3 * DAY_S)],
                       [e[0] for e in draw_episodes(plain, rep, 2, 3 * DAY_S)], rtol=0, atol=1e-6)


def test_settings_read_the_profile_from_the_scenario():
    sc = scenario_from_dict({"name": "x", "availability": {"out_of_service_per_h": 0.3,
                                                           "out_of_service_by_hour": list(MEALS)}})
    s = AvailabilitySettings.from_spec(sc.availability)
    assert s.by_hour == {OUT_OF_SERVICE: tuple(float(x) for x in MEALS)}
    assert AvailabilitySettings.from_spec(scenario_from_dict({"name": "x"}).availability).by_hour == {}


LUNCH = tuple(1.0 if h in (12, 13) else 0.0 for h in range(24))


@pytest.fixture(scope="module")
def lunch_runs(small_town_dict):
    """The loaded town with out-of-service work flat over the day and all of it at 12-14."""
    out = {}
    for name, profile in (("flat", None), ("lunch", LUNCH)):
        data = loaded_town(small_town_dict, officers=40)
        data["availability"] = {"out_of_service_per_h": 0.3, "out_of_service_mean_s": 1800.0,
                                "out_of_service_by_hour": profile}
        out[name] = run_scenario(scenario_from_dict(data), quiet=True)
    return out


def test_lunch_time_calls_wait_longer_when_everyone_eats_at_lunch(lunch_runs):
    """Paired runs (same incidents): the mean response of calls made 12:00-14:00 rises by more than
    30 s when every out-of-service episode falls in those hours, and the rest of the day improves."""
    def mean_response(r, lunch: bool):
        inc = r.incidents[r.incidents["in_window"]]
        hour = (inc["call_s"] % DAY_S) // 3600
        at = hour.isin([12, 13]) if lunch else ~hour.isin([12, 13, 14])
        return float(inc.loc[at, "response_time_s"].mean())

    flat, lunch = lunch_runs["flat"], lunch_runs["lunch"]
    assert mean_response(lunch, True) > mean_response(flat, True) + 30
    assert mean_response(lunch, False) < mean_response(flat, False)


def test_utilisation_shares_still_add_up_with_a_profile(lunch_runs):
    for r in lunch_runs.values():
        for o in r.outputs:
            m = o.metrics
            assert m["utilisation"] + m["other_work_share"] + m["free_share"] == pytest.approx(1.0, abs=1e-9)
            assert m["other_work_share"] > 0.01
        duty = r.units[r.units["free_share"].notna()]
        assert np.allclose(duty["incident_share"] + duty["other_work_share"] + duty["free_share"], 1.0)
