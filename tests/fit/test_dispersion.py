"""The Poisson dispersion test on synthetic counts, with stated tolerances.

Calibration: for Poisson counts the test rejects at alpha = 0.05 in about 5% of
data sets. Over 300 independent data sets the rejection count is binomial
(300, 0.05): mean 15, sd 3.8, so the share lies in [0.015, 0.095] with
probability above 99.9%. Power: for negative-binomial counts with gamma shape 5
at 12 calls a day the variance is 12 + 144/5 = 40.8, 3.4 times Poisson; with 180
days the Pearson ratio's sd under the null is sqrt(2/180) = 0.1, so every data
set rejects. Seeds are fixed, so these tests are deterministic; the tolerances
say how far an honest change to the test could move them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.fit import dispersion


def _mu(days=180, mean=12.0):
    weekday = np.array([1.0, 1.0, 0.95, 1.0, 1.1, 1.2, 0.9])
    return mean * weekday[np.arange(days) % 7] / weekday.mean()


def test_poisson_counts_are_rejected_at_the_nominal_rate():
    rng = np.random.default_rng(10)
    mu = _mu()
    rejected = [dispersion.dispersion_test(rng.poisson(mu), mu)["p_value"] < 0.05 for _ in range(300)]
    assert 0.015 <= np.mean(rejected) <= 0.095


def test_negative_binomial_counts_are_detected_and_their_shape_recovered():
    rng = np.random.default_rng(11)
    mu = _mu()
    k = 5.0
    shapes, flagged = [], []
    for _ in range(60):
        n = rng.poisson(mu * rng.gamma(k, 1 / k, mu.size))
        res = dispersion.dispersion_test(n, mu)
        flagged.append(res["overdispersed"])
        shapes.append(res["gamma_shape"])
    assert all(flagged)
    # the MLE of k from 180 days has a relative sd of roughly 20%: the median of 60 is within 10%
    assert np.median(shapes) == pytest.approx(k, rel=0.10)


def test_shape_is_none_when_counts_are_under_dispersed():
    mu = _mu()
    n = np.round(mu)              # less variable than Poisson
    res = dispersion.dispersion_test(n, mu)
    assert res["gamma_shape"] is None and not res["overdispersed"] and res["lr_p_value"] == 1.0


def test_daily_counts_include_days_without_calls():
    t = pd.Series(pd.to_datetime(["2021-01-01 10:00", "2021-01-03 23:59", "2021-01-03 00:00"]))
    days, n = dispersion.daily_counts(t, pd.Timestamp("2021-01-01"), pd.Timestamp("2021-01-05"))
    assert list(n) == [1, 0, 2, 0] and len(days) == 4


def test_seattle_2015_days_are_over_dispersed(real_fit):
    d = real_fit["fitted"]["dispersion_test"]["constant_level"]
    assert d["days"] == 181 and d["p_value"] < 1e-6 and d["dispersion_ratio"] > 2
    assert real_fit["fitted"]["day_dispersion"]["shape"] == pytest.approx(d["gamma_shape"])
    # the season explains part, not all, of it
    m = real_fit["fitted"]["dispersion_test"]["monthly_levels"]
    assert 1 < m["dispersion_ratio"] < d["dispersion_ratio"] and m["p_value"] < 1e-6
