"""The season and trend of the daily level: the rule, the fit, the file and the simulated demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.demand import build_demand, has_season, sample_incidents, season_day_factors
from sim.errors import DemandError, ScenarioError
from sim.fit import season as sf
from sim.fitted_file import fitted_from_dict
from sim.streams import replication_seed


def _ts(s):
    return pd.Timestamp(s)


@pytest.mark.parametrize("start, end, calls, trend, months", [
    ("2015-01-01", "2015-07-01", 2000, False, False),     # six months: neither (the Seattle case)
    ("2015-01-01", "2016-01-01", 4000, False, True),      # one year: months, no trend
    ("2015-01-01", "2016-01-01", 200, False, False),      # one year, 17 calls a month: no month effects
    ("2015-01-15", "2016-01-01", 4000, False, False),     # 11 whole months
    ("2014-01-01", "2016-01-01", 8000, True, True),       # two years: both
    ("2014-01-01", "2016-01-01", 150, False, False),      # two years, too few calls for either
])
def test_the_rule_says_what_is_estimated_and_why_not(start, end, calls, trend, months):
    r = sf.what_to_fit(calls, _ts(start), _ts(end))
    assert r["trend"] is trend and r["months"] is months
    assert (r["trend_why_not"] is None) is trend and (r["months_why_not"] is None) is months


def _synthetic(effects, trend_per_year, *, start="2013-01-01", end="2016-01-01", per_day=20.0, seed=1):
    days = pd.date_range(start, end, freq="D", inclusive="left")
    ref = _ts(start) + (_ts(end) - _ts(start)) / 2
    x = np.asarray((days - ref.normalize()) / pd.Timedelta(days=1), float) / 365.25
    mu = per_day * np.exp(trend_per_year * x + np.asarray(effects)[days.month - 1])
    n = np.random.default_rng(seed).poisson(mu).astype(float)
    e = np.full(len(days), n.sum() / len(days))
    return days, n, e


def test_three_years_of_known_season_and_trend_are_recovered():
    effects = 0.3 * np.sin(2 * np.pi * (np.arange(12) - 3) / 12)
    effects -= effects.mean()
    days, n, e = _synthetic(effects, 0.15)
    s = sf.fit_season(days, n, e, n_calls=int(n.sum()), start=days[0], end=days[-1] + pd.Timedelta(days=1),
                      dispersion_ratio=1.0)
    assert s["estimated"] == {"trend": True, "month_of_year": True} and not s["why_not"]
    assert abs(s["trend_log_per_year"] - 0.15) < 0.04
    fitted = np.asarray(s["month_log_effect"])
    assert np.abs((fitted - fitted.mean()) - effects).max() < 0.08
    # the factor has mean 1 over the window (incidents_per_day keeps its meaning)
    f = sf.day_factor(s, days)
    assert abs((f * e).sum() / n.sum() - 1) < 1e-3


def test_a_sparse_month_is_shrunk_not_exploded():
    """One month with almost no exposure and no calls: its effect stays near 0, not -infinity."""
    days, n, e = _synthetic(np.zeros(12), 0.0, per_day=10.0)
    feb = np.asarray(days.month == 2)
    n[feb] = 0.0
    e_sparse = e.copy()
    e_sparse[feb] = 0.01          # February almost unobserved
    s = sf.fit_season(days, n, e_sparse, n_calls=int(n.sum()), start=days[0],
                      end=days[-1] + pd.Timedelta(days=1), dispersion_ratio=1.0)
    assert -0.3 < s["month_log_effect"][1] < 0.05
    # with the same zero counts but full exposure the data speak: a large negative effect
    s2 = sf.fit_season(days, n, e, n_calls=int(n.sum()), start=days[0], end=days[-1] + pd.Timedelta(days=1),
                       dispersion_ratio=1.0)
    assert s2["month_log_effect"][1] < -1.5


def test_a_short_window_says_it_cannot_estimate():
    days, n, e = _synthetic(np.zeros(12), 0.0, start="2015-01-01", end="2015-02-15")
    s = sf.fit_season(days, n, e, n_calls=int(n.sum()), start=days[0], end=days[-1] + pd.Timedelta(days=1),
                      dispersion_ratio=1.0)
    assert not has_season(s) and set(s["why_not"]) == {"trend", "month_of_year"}
    assert "at least 24" in s["why_not"]["trend"] and "at least 12" in s["why_not"]["month_of_year"]
    assert sf.day_factor(s, days).tolist() == [1.0] * len(days)


# --------------------------------------------------------------------------- the simulator
def _season(months=None, trend=None):
    return {"level_log": 0.0, "trend_log_per_year": trend, "month_log_effect": months,
            "reference_date": "2015-07-01", "trend_dates": ["2014-01-01", "2017-01-01"],
            "default_start_date": "2016-01-04"}


def _town():
    from sim.network import load_city
    from sim.scenario import scenario_from_dict
    from tests.conftest import small_town

    return load_city(scenario_from_dict(small_town()), quiet=True)


def _fitted(city, season=None):
    g = city.places
    d = {"incidents_per_day": 48.0, "hour_of_week_profile": [1.0] * 168,
         "spatial": {"points": [[float(g.lon[0]), float(g.lat[0]), 1.0]]}}
    if season is not None:
        d["season"] = season
    return fitted_from_dict(d)


def _spec(**kw):
    from sim.scenario import DemandSpec

    return DemandSpec(**kw)


def test_the_simulated_demand_follows_the_calendar_month(small_ctx):
    city = small_ctx.city
    months = [0.0] * 12
    months[6] = float(np.log(2.0))                  # July twice the level
    model = build_demand(_spec(start_date="2016-06-06"), city, fitted=_fitted(city, _season(months)))
    assert model.start_date == "2016-06-06"
    inc = sample_incidents(model, replication_seed(0, 0), horizon_s=56 * 86400.0)
    day = (inc.call_s // 86400).astype(int)
    dates = np.datetime64("2016-06-06") + day
    june = ((dates >= np.datetime64("2016-06-06")) & (dates < np.datetime64("2016-07-01"))).sum() / 25
    july = ((dates >= np.datetime64("2016-07-01")) & (dates < np.datetime64("2016-07-31"))).sum() / 30
    assert 1.7 < july / june < 2.3


def test_the_default_start_date_is_the_files_and_a_trend_is_held_at_its_dates():
    s = {**_season(trend=1.0), "trend_dates": ["2014-01-01", "2016-01-04"]}
    f = season_day_factors(s, start_date="2016-01-04", n_days=400)
    assert np.allclose(f, f[0])                     # from trend_dates' end on the trend is held
    back = season_day_factors(s, start_date="2015-07-01", n_days=1)[0]
    assert np.isclose(back, 1.0) and np.isclose(f[0], np.exp(1.0 * 187 / 365.25))
    # the scenario's default start date is the file's
    model = build_demand(_spec(), _town(), fitted={**_fitted(_town()), "season": s})
    assert model.start_date == "2016-01-04"


def test_no_season_keeps_the_old_sampling_exactly(small_ctx):
    """A version-1 file and a file whose season estimated nothing sample the same incidents."""
    city = small_ctx.city
    old = build_demand(_spec(), city, fitted=_fitted(city))
    empty = build_demand(_spec(start_date="2016-01-04"), city, fitted=_fitted(city, _season()))
    assert empty.season is None
    a = sample_incidents(old, replication_seed(3, 0), horizon_s=7 * 86400.0)
    b = sample_incidents(empty, replication_seed(3, 0), horizon_s=7 * 86400.0)
    assert np.array_equal(a.call_s, b.call_s) and np.array_equal(a.place, b.place)


# --------------------------------------------------------------------------- the file and the key
def test_file_versions_and_season_validation(small_ctx):
    city = small_ctx.city
    assert _fitted(city)["season"] is None                          # version 1: no season, loads
    d = dict(_fitted(city, _season(trend=0.1)))
    assert fitted_from_dict(d)["season"]["trend_log_per_year"] == 0.1
    with pytest.raises(DemandError, match="newer patrolsim") as e:
        fitted_from_dict({**d, "version": 3})
    assert e.value.key == "version"
    with pytest.raises(DemandError, match="needs 12 values"):
        fitted_from_dict({**d, "season": _season(months=[0.1] * 11)})
    with pytest.raises(DemandError, match="not a Monday"):
        fitted_from_dict({**d, "season": {**_season(trend=0.1), "default_start_date": "2016-01-05"}})


def test_start_date_must_be_a_monday(small_town_dict):
    from sim.scenario import scenario_from_dict

    with pytest.raises(ScenarioError, match=r"demand.start_date: 2015-10-01 is a Thursday.*2015-09-28"):
        scenario_from_dict(small_town_dict(demand={"start_date": "2015-10-01"}))
    sc = scenario_from_dict(small_town_dict(demand={"start_date": "2015-09-28"}))
    assert str(sc.demand.start_date) == "2015-09-28"


def test_a_scenario_runs_a_seasonal_file_from_its_start_date(tmp_path, small_town_dict, small_ctx):
    from sim.experiment import prepare, run_replication
    from sim.scenario import scenario_from_dict

    g = small_ctx.city.places
    months = [0.0] * 12
    months[0] = float(np.log(3.0))                  # January three times the level
    d = {"incidents_per_day": 24.0, "hour_of_week_profile": [1.0] * 168,
         "spatial": {"points": [[float(g.lon[2]), float(g.lat[2]), 1.0]]}, "season": _season(months)}
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(d))
    counts = {}
    for start in ("2016-01-04", "2016-06-06"):
        sc = scenario_from_dict(small_town_dict(demand={"fitted": "f.yaml", "start_date": start},
                                                horizon_days=2.0, warmup_days=0.0),
                                source_file=str(tmp_path / "s.yaml"))
        ctx = prepare(sc, quiet=True)
        counts[start] = len(run_replication(ctx, 0).incidents)
    assert counts["2016-01-04"] > 2 * counts["2016-06-06"]


# --------------------------------------------------------------------------- real data
def test_seattle_six_months_say_why_no_season_and_no_trend(real_fit):
    """January-June 2015 (the shipped evidence run): too short for either; said in the file."""
    f = real_fit["fitted"]
    s = f["season"]
    assert s["estimated"] == {"trend": False, "month_of_year": False} and not has_season(s)
    assert "6 whole calendar month" in s["why_not"]["month_of_year"]
    assert "6 whole calendar month" in s["why_not"]["trend"]
    assert f["version"] == 2 and f["holdout"]["season"]["season_used"] is False
    # the terminal says it too
    from sim.report.fit import season_lines as _season_lines

    lines = _season_lines(s)
    assert any("trend:" in x and "not estimated" in x for x in lines)
    assert any("month-of-year:" in x and "not estimated" in x for x in lines)
