"""The incident stream: rates by hour of week, places, types, on-scene and handling times.

Statistical checks use fixed seeds, so each is deterministic; the tolerances are stated so
that a correct sampler passes with overwhelming probability for any seed (4 standard
errors unless said otherwise) while a wrong rate, share or mean fails.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from sim.demand import (HOURS_PER_WEEK, IncidentTable, build_demand, expected_per_place, hour_of_week_profile,
                        lognormal_params, sample_incidents)
from sim.scenario import DemandSpec, IncidentType, scenario_from_dict
from sim.streams import replication_seed, stream

DAY_S = 86_400.0


@pytest.fixture(scope="module")
def city(small_ctx):
    return small_ctx.city


@pytest.fixture(scope="module")
def model(city):
    return build_demand(DemandSpec(incidents_per_day=200), city)


def test_hour_of_week_profile_has_mean_one_and_follows_both_profiles():
    hours = np.arange(24) + 1.0
    days = np.array([1, 1, 1, 1, 1, 2, 2], float)
    w = hour_of_week_profile(hours, days)
    assert w.shape == (HOURS_PER_WEEK,)
    assert w.mean() == pytest.approx(1.0)
    # Saturday's 10:00 is twice Monday's 10:00; Monday's 23:00 is 24x Monday's 00:00
    assert w[5 * 24 + 10] == pytest.approx(2 * w[10])
    assert w[23] == pytest.approx(24 * w[0])


def test_lognormal_params_reproduce_mean_and_cv():
    mu, sigma = lognormal_params(np.array([1800.0]), np.array([0.6]))
    mean = np.exp(mu + sigma ** 2 / 2)
    cv = np.sqrt(np.exp(sigma ** 2) - 1)
    assert mean[0] == pytest.approx(1800.0)
    assert cv[0] == pytest.approx(0.6)


def test_model_rates_and_probabilities(model, city):
    assert model.rate_per_hour.shape == (HOURS_PER_WEEK,)
    assert expected_per_place(model).sum() == pytest.approx(200.0)
    assert model.place_prob.sum() == pytest.approx(1.0)
    assert model.place_prob.shape == (city.n_places,)
    assert model.type_prob.sum() == pytest.approx(1.0)
    # population spatial demand follows the population weights; exits have nobody
    np.testing.assert_allclose(model.place_prob, city.place_weight / city.place_weight.sum())


def test_uniform_spatial_demand(city):
    m = build_demand(DemandSpec(spatial="uniform"), city)
    np.testing.assert_allclose(m.place_prob, 1.0 / city.n_places)


def test_sample_is_sorted_inside_the_horizon_and_consistent(model):
    inc = sample_incidents(model, replication_seed(1, 0), horizon_s=3 * DAY_S)
    n = len(inc)
    assert n > 0
    assert np.all(np.diff(inc.call_s) >= 0)
    assert inc.call_s.min() >= 0 and inc.call_s.max() < 3 * DAY_S
    for f in dataclasses.fields(IncidentTable):
        assert getattr(inc, f.name).shape == (n,), f.name
    assert np.all(inc.handling_s >= 0) and np.all(inc.on_scene_s > 0)
    assert np.all(model.place_prob[inc.place] > 0)
    np.testing.assert_array_equal(inc.priority, model.type_priority[inc.type_idx])
    np.testing.assert_array_equal(inc.units_needed, model.type_units_needed[inc.type_idx])


def test_same_replication_same_incidents_and_others_differ(model):
    a = sample_incidents(model, replication_seed(5, 2), horizon_s=DAY_S)
    b = sample_incidents(model, replication_seed(5, 2), horizon_s=DAY_S)
    c = sample_incidents(model, replication_seed(5, 3), horizon_s=DAY_S)
    d = sample_incidents(model, replication_seed(6, 2), horizon_s=DAY_S)
    for f in dataclasses.fields(IncidentTable):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))
    assert not np.array_equal(a.call_s[:10], c.call_s[:10])
    assert not np.array_equal(a.call_s[:10], d.call_s[:10])


def test_a_shorter_horizon_is_a_prefix(model):
    """The hours a short run sees are the same as in a longer run (rates are drawn per hour)."""
    long = sample_incidents(model, replication_seed(3, 0), horizon_s=2 * DAY_S)
    short = sample_incidents(model, replication_seed(3, 0), horizon_s=DAY_S)
    np.testing.assert_array_equal(short.call_s, long.call_s[long.call_s < DAY_S])


def test_streams_are_independent_of_each_other(city):
    """Changing the type mix changes types and on-scene times but not when or where incidents happen."""
    spec_a = DemandSpec(incidents_per_day=100)
    types_b = [IncidentType(name="only", share=1.0, on_scene_mean_s=600.0)]
    spec_b = DemandSpec(incidents_per_day=100, types=types_b)
    a = sample_incidents(build_demand(spec_a, city), replication_seed(9, 1), horizon_s=DAY_S)
    b = sample_incidents(build_demand(spec_b, city), replication_seed(9, 1), horizon_s=DAY_S)
    np.testing.assert_array_equal(a.call_s, b.call_s)
    np.testing.assert_array_equal(a.place, b.place)
    np.testing.assert_array_equal(a.handling_s, b.handling_s)
    assert np.all(b.type_idx == 0)


def test_named_streams_are_reproducible_and_distinct():
    rep = replication_seed(1, 0)
    assert stream(rep, "places").random() == stream(rep, "places").random()
    assert stream(rep, "places").random() != stream(rep, "types").random()
    assert stream(rep, "places").random() != stream(replication_seed(1, 1), "places").random()


# --------------------------------------------------------------------------- statistics
@pytest.fixture(scope="module")
def big_sample(model):
    """20 replications of a week at 200 a day: about 28,000 incidents."""
    return [sample_incidents(model, replication_seed(42, r), horizon_s=7 * DAY_S) for r in range(20)]


def test_incident_count_matches_the_rate(model, big_sample):
    """Total count is Poisson with mean 20 x 7 x 200 = 28,000: within 4 standard deviations (4 x 167)."""
    expected = 20 * model.rate_per_hour.sum()
    total = sum(len(s) for s in big_sample)
    assert abs(total - expected) < 4 * np.sqrt(expected)


def test_hour_of_day_follows_the_profile(model, big_sample):
    """Counts by hour of day fit the profile: chi-square goodness of fit, p > 1e-4."""
    calls = np.concatenate([s.call_s for s in big_sample])
    observed = np.bincount(((calls // 3600) % 24).astype(int), minlength=24)
    by_hour = model.rate_per_hour.reshape(7, 24).sum(axis=0)
    expected = by_hour / by_hour.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-4
    # and the evening peak is really busier than the small hours
    assert observed[19] > 2 * observed[4]


def test_places_follow_the_weights(model, big_sample):
    """Counts per place fit place_prob (chi-square over places with >= 5 expected, p > 1e-4)."""
    places = np.concatenate([s.place for s in big_sample])
    observed = np.bincount(places, minlength=model.place_prob.size)
    expected = model.place_prob * places.size
    assert observed[expected == 0].sum() == 0
    ok = expected >= 5
    obs, exp = observed[ok], expected[ok]
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-4


def test_types_and_on_scene_times(model, big_sample):
    tix = np.concatenate([s.type_idx for s in big_sample])
    scene = np.concatenate([s.on_scene_s for s in big_sample])
    n = tix.size
    for k, p in enumerate(model.type_prob):
        share = np.mean(tix == k)
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n), model.type_name[k]
        x = scene[tix == k]
        mean, cv = model.type_on_scene_mean_s[k], model.type_on_scene_cv[k]
        # lognormal: the standard error of the mean is mean x cv / sqrt(n)
        assert abs(x.mean() - mean) < 4 * mean * cv / np.sqrt(x.size), model.type_name[k]


def test_call_handling_is_exponential_with_the_mean(model, big_sample):
    h = np.concatenate([s.handling_s for s in big_sample])
    mean = model.call_handling_mean_s
    assert abs(h.mean() - mean) < 4 * mean / np.sqrt(h.size)      # exponential: sd = mean
    assert stats.kstest(h / mean, "expon").pvalue > 1e-4


def test_over_dispersed_days(model):
    """With a gamma day multiplier (shape 2) daily counts vary far more than Poisson's variance = mean.

    Over 70 days at 200 a day the variance should be about 200 + 200²/2 = 20,200; Poisson
    would give 200. Requiring more than 5x the mean cannot be met by a plain Poisson sampler.
    """
    disp = dataclasses.replace(model, day_shape=2.0)
    inc = sample_incidents(disp, replication_seed(4, 0), horizon_s=70 * DAY_S)
    daily = np.bincount((inc.call_s // DAY_S).astype(int), minlength=70)
    assert daily.var() > 5 * daily.mean()
    plain = sample_incidents(model, replication_seed(4, 0), horizon_s=70 * DAY_S)
    pdaily = np.bincount((plain.call_s // DAY_S).astype(int), minlength=70)
    assert pdaily.var() < 3 * pdaily.mean()


def test_multiplier_scales_the_rate(model):
    busy = dataclasses.replace(model, multiplier=2.0)
    assert expected_per_place(busy).sum() == pytest.approx(2 * expected_per_place(model).sum())
    n1 = sum(len(sample_incidents(model, replication_seed(8, r), horizon_s=DAY_S)) for r in range(10))
    n2 = sum(len(sample_incidents(busy, replication_seed(8, r), horizon_s=DAY_S)) for r in range(10))
    # 2,000 vs 4,000 expected: a ratio within 1.8-2.2 is 4+ standard errors wide on each side
    assert 1.8 < n2 / n1 < 2.2


def test_replay_returns_the_given_incidents(model):
    table = IncidentTable(call_s=np.array([10.0, 500.0, 90_000.0]), place=np.array([1, 2, 3]),
                          type_idx=np.array([0, 1, 0]), priority=np.array([1, 2, 1]),
                          units_needed=np.array([2, 1, 2]), handling_s=np.array([5.0, 6.0, 7.0]),
                          on_scene_s=np.array([100.0, 200.0, 300.0]))
    replay = dataclasses.replace(model, replay=table)
    got = sample_incidents(replay, replication_seed(0, 0), horizon_s=DAY_S)
    assert len(got) == 2
    np.testing.assert_array_equal(got.place, [1, 2])
    np.testing.assert_array_equal(got.on_scene_s, [100.0, 200.0])


def test_build_demand_from_a_scenario(small_town_dict, small_ctx):
    sc = scenario_from_dict(small_town_dict(demand={"incidents_per_day": 77, "call_handling_mean_s": 30}))
    m = build_demand(sc.demand, small_ctx.city)
    assert expected_per_place(m).sum() == pytest.approx(77)
    assert m.call_handling_mean_s == 30
    assert m.type_name == tuple(t.name for t in sc.demand.types)
