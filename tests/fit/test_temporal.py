"""Hour-of-week profile: exposure across daylight saving, smoothing chosen by held-out weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.fit import temporal


def test_exposure_counts_real_hours_across_daylight_saving():
    # the week of 2015-03-08 (US spring forward) has 167 real hours in Los Angeles
    start, end = pd.Timestamp("2015-03-02"), pd.Timestamp("2015-03-09")
    e = temporal.exposure(start, end, "America/Los_Angeles")[0]
    assert e.sum() == 167 and e[6 * 24 + 2] == 0          # Sunday 02:00 did not happen
    fall = temporal.exposure(pd.Timestamp("2015-10-26"), pd.Timestamp("2015-11-02"), "America/Los_Angeles")[0]
    assert fall.sum() == 169 and fall[6 * 24 + 1] == 2     # Sunday 01:00 happened twice
    assert temporal.exposure(start, end, None)[0].sum() == 168


def _poisson_times(rate_per_hour, weeks, rng, start=pd.Timestamp("2021-01-04")):
    counts = rng.poisson(np.tile(rate_per_hour, weeks))
    hours = np.repeat(np.arange(counts.size), counts)
    t = start + pd.to_timedelta((hours + rng.random(hours.size)) * 3600, unit="s")
    return pd.Series(np.sort(t)), start, start + pd.Timedelta(weeks=weeks)


def test_smoothing_recovers_a_smooth_profile_better_than_raw_rates():
    rng = np.random.default_rng(3)
    h = np.arange(168)
    truth = 0.5 + 0.35 * np.sin(2 * np.pi * (h % 24 - 9) / 24) + 0.1 * (h // 24 >= 5)
    times, start, end = _poisson_times(truth, 26, rng)
    fit = temporal.fit_profile(times, start, end, None)
    err_smooth = np.mean((fit["rate_per_hour"] - truth) ** 2)
    err_raw = np.mean((fit["raw_rate_per_hour"] - truth) ** 2)
    assert err_smooth < 0.5 * err_raw
    # a profile that repeats every day: the same-hour-every-day model gets weight
    assert fit["smoothing"]["pool_weight"] >= 0.5
    assert fit["smoothing"]["cv_loglik_per_call"] > fit["smoothing"]["cv_flat_loglik_per_call"]
    assert fit["incidents_per_day"] == pytest.approx(len(times) / (26 * 7))


def test_flat_data_choose_wide_smoothing():
    rng = np.random.default_rng(4)
    times, start, end = _poisson_times(np.full(168, 0.6), 26, rng)
    fit = temporal.fit_profile(times, start, end, None)
    assert fit["smoothing"]["bandwidth_h"] >= 3.0
    assert np.ptp(fit["rate_per_hour"]) < 0.3


def test_cumulative_rate_and_time_rescaling_of_a_true_model():
    rng = np.random.default_rng(5)
    h = np.arange(168)
    rate = 0.4 + 0.3 * np.cos(2 * np.pi * h / 24)
    times, start, end = _poisson_times(rate, 20, rng)
    cum = temporal.cumulative_rate(pd.Series([start + pd.Timedelta(weeks=1)]), start, rate)
    assert cum[0] == pytest.approx(rate.sum())
    gaps = np.diff(temporal.cumulative_rate(times, start, rate))
    # with the true intensity the rescaled gaps are Exp(1): KS distance well inside the 1% band
    assert stats.kstest(gaps, "expon").pvalue > 0.01


def test_seasonal_levels_by_month():
    times = pd.Series(pd.to_datetime(["2021-01-05 10:00"] * 31 + ["2021-02-03 10:00"] * 56))
    s = temporal.seasonal_levels(times, pd.Timestamp("2021-01-01"), pd.Timestamp("2021-03-01"), None)
    assert s["by_month_per_day"] == {"2021-01": 1.0, "2021-02": 2.0}
