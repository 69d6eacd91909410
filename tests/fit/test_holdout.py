"""Hold-out likelihood: its formula, and the evidence on the real Seattle split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from sim.fit import holdout
from tests.fit.conftest import HOLD_FROM, HOLD_TO


def test_homogeneous_loglik_matches_the_formula():
    start, end = pd.Timestamp("2021-01-04"), pd.Timestamp("2021-01-11")
    t = pd.Series(pd.to_datetime(["2021-01-04 10:00", "2021-01-05 11:00", "2021-01-09 23:00"]))
    place = np.array([0, 1, 1])
    prob = np.array([0.25, 0.75])
    res = holdout.loglik(t, place, rate_per_hour=np.full(168, 0.5), place_prob=prob, day_shape=None,
                         start=start, end=end, time_zone=None)
    expect = 3 * np.log(0.5) - 0.5 * 168 + np.log(0.25) + 2 * np.log(0.75)
    assert res["loglik_per_incident"] * 3 == pytest.approx(expect)


def test_day_dispersion_tends_to_poisson_and_matches_the_negative_binomial():
    start, end = pd.Timestamp("2021-01-04"), pd.Timestamp("2021-01-06")
    t = pd.Series(pd.to_datetime(["2021-01-04 10:00"] * 5))
    kw = dict(place_prob=np.array([1.0]), start=start, end=end, time_zone=None)
    place = np.zeros(5, int)
    r = np.full(168, 0.25)                              # 6 expected a day
    pois = holdout.loglik(t, place, rate_per_hour=r, day_shape=None, **kw)
    big_k = holdout.loglik(t, place, rate_per_hour=r, day_shape=1e8, **kw)
    assert big_k["loglik_per_incident"] == pytest.approx(pois["loglik_per_incident"], abs=1e-5)
    k = 2.0
    got = holdout.loglik(t, place, rate_per_hour=r, day_shape=k, **kw)["loglik_per_incident"] * 5
    # negative-binomial day terms for counts (5, 0) with mean 6, plus the log-rates of the 5 calls
    nb = sum(k * np.log(k) + special.gammaln(k + n) - special.gammaln(k) - (k + n) * np.log(k + 6) for n in (5, 0))
    assert got == pytest.approx(5 * np.log(0.25) + nb)


def test_fitted_model_beats_the_homogeneous_baseline_on_held_out_seattle_calls(real_fit):
    """The evidence: fit January-June 2015, score July-September 2015."""
    h = real_fit["holdout"]
    ll = h["holdout_loglik_per_incident"]
    assert h["window"] == {"start": HOLD_FROM, "end": HOLD_TO}
    assert h["holdout_incidents"] > 1400
    assert ll["fitted"] > ll["baseline"] + 0.5            # measured: about +1.0 per incident
    parts = h["parts"]
    # both the time and the place parts improve on the baseline
    assert parts["fitted"]["time_part_per_incident"] > parts["baseline"]["time_part_per_incident"]
    assert parts["fitted"]["place_part_per_incident"] > parts["baseline"]["place_part_per_incident"]
    assert real_fit["fitted"]["holdout"]["holdout_incidents"] == h["holdout_incidents"]
