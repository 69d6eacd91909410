"""Seasons on a time split: three years of calls with a known season and trend, fit two, hold out the third.

The shared Seattle file spans nine months, too short for either part (the rule in
``sim.fit.season``), so the gain on a time split is shown on calls drawn from a
known model: a 12-a-day level, a trend of +0.15 (log) a year, a month-of-year
effect 0.25 cos(2 pi (month - 7) / 12) and a gamma day multiplier of shape 10,
placed uniformly over the small test town's nodes. ``-s`` prints the figures
quoted in docs/demand.md.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main

TRUE_TREND = 0.15
TRUE_SHAPE = 10.0


def _calls(folder, small_town_dict):
    from sim.network import load_city
    from sim.scenario import scenario_from_dict

    sc = small_town_dict()
    (folder / "town.yaml").write_text(yaml.safe_dump(sc))
    g = load_city(scenario_from_dict(sc), quiet=True).places
    rng = np.random.default_rng(7)
    days = pd.date_range("2013-01-01", "2016-01-01", freq="D", inclusive="left")
    x = np.asarray((days - pd.Timestamp("2014-07-02")) / pd.Timedelta(days=1)) / 365.25
    month = 0.25 * np.cos(2 * np.pi * (days.month.to_numpy() - 7) / 12)
    mu = 12.0 * np.exp(TRUE_TREND * x + month) * rng.gamma(TRUE_SHAPE, 1 / TRUE_SHAPE, len(days))
    n = rng.poisson(mu)
    t = np.repeat(days.to_numpy(), n) + pd.to_timedelta(rng.random(n.sum()) * 86400, unit="s").to_numpy()
    p = rng.integers(0, g.n_nodes, n.sum())
    pd.DataFrame({"T": pd.DatetimeIndex(t).strftime("%Y-%m-%d %H:%M"), "Lat": g.lat[p], "Lon": g.lon[p],
                  "Kind": "THEFT"}).to_csv(folder / "calls.csv", index=False)
    return folder / "calls.csv", folder / "town.yaml"


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    from tests.conftest import small_town

    folder = tmp_path_factory.mktemp("season-split")
    calls, town = _calls(folder, small_town)
    out = folder / "fit.yaml"
    cols = ["--col", "time=T", "--col", "latitude=Lat", "--col", "longitude=Lon", "--col", "type=Kind"]
    rc = main(["fit", str(calls), "--network", str(town), *cols, "--from", "2013-01-01", "--to", "2015-01-01",
               "--holdout", str(calls), "--holdout-from", "2015-01-01", "--holdout-to", "2016-01-01",
               "--out", str(out), "--no-figures", "--quiet"])
    assert rc == 0
    return yaml.safe_load(out.read_text()), json.loads((folder / "fit.holdout.json").read_text())


def test_two_years_recover_the_trend_the_months_and_the_day_shape(split):
    fitted, _ = split
    s = fitted["season"]
    assert s["estimated"] == {"trend": True, "month_of_year": True} and not s.get("why_not")
    assert abs(s["trend_log_per_year"] - TRUE_TREND) < 0.1
    m = np.asarray(s["month_log_effect"])
    true = 0.25 * np.cos(2 * np.pi * (np.arange(1, 13) - 7) / 12)
    # each month has about 60 days of gamma(10) day noise: its estimate's sd is about 0.055 (log)
    assert np.corrcoef(m, true)[0, 1] > 0.85 and np.abs((m - m.mean()) - true).max() < 0.17
    # around the season the day shape is the true one; the constant level's is far smaller
    assert abs(fitted["day_dispersion"]["shape"] - TRUE_SHAPE) < 3
    assert fitted["dispersion_test"]["constant_level"]["gamma_shape"] < 0.8 * TRUE_SHAPE


def test_the_third_year_is_predicted_better_with_the_season(split):
    _, hold = split
    sea = hold["season"]
    ll, cal = sea["loglik_per_incident"], sea["daily_calibration"]
    w, wo = cal["with_season"], cal["without_season"]
    print("\nhold-out 2015 (fit 2013-2014):", json.dumps({"loglik_per_incident": ll, **cal}, indent=1))
    assert sea["season_used"] and ll["with_season"] > ll["without_season"] + 0.005
    assert abs(w["observed_over_expected"] - 1) < 0.08 and wo["observed_over_expected"] > 1.2
    assert abs(w["pearson_ratio"] - 1) < abs(wo["pearson_ratio"] - 1)
    assert abs(w["share_of_days_in_90pct_interval"] - 0.9) < abs(wo["share_of_days_in_90pct_interval"] - 0.9)
    assert w["mean_abs_error_per_day"] < wo["mean_abs_error_per_day"]
