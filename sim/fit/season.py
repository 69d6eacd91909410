"""The slow part of demand: a month-of-year effect and a log-linear trend in the daily level.

The hour-of-week profile says *when in the week* calls come; the daily level
says how many. Over months the level moves (the Seattle 2015 level went from 8.8
calls a day in January to 16.9 in May). This module fits, on the daily counts
``n_d`` with the profile's expectation ``e_d`` (constant level),

    n_d ~ Poisson(e_d * exp(a + b * x_d + s_month(d)))

with ``x_d`` the day's time in years from the window's middle, ``b`` the trend
(log per year) and ``s`` twelve month-of-year effects. Days vary more than
Poisson (weather, events), so the log-likelihood is divided by the constant-level
Pearson dispersion ratio (quasi-likelihood): over-dispersed data count for less.
Both parts are shrunk towards zero by normal priors (standard deviations
``MONTH_PRIOR_SD`` and ``TREND_PRIOR_SD_PER_YEAR``): a month with few calls stays
near the mean instead of exploding.

What is estimated depends on the window (the rule, stated in the fitted file and
printed by ``patrolsim fit``):

- **month effects**: at least ``MIN_MONTHS`` whole calendar months (so every
  month of the year is seen) and on average ``MIN_CALLS_PER_MONTH`` calls a month;
- **trend**: at least ``MIN_TREND_MONTHS`` whole months and ``MIN_TREND_CALLS``
  calls. Within a year a trend and the season cannot be told apart: a trend
  fitted on part of a year follows the season's slope and extrapolates it. On
  Seattle 2015 a trend fitted on January-June, -July or -August over-predicted
  the following months by 19-38% and lowered the hold-out likelihood in two of
  the three splits (docs/demand.md), which set this rule.

The resulting day factor ``exp(a + b x + s_m)`` has mean 1 over the window's days
(the Poisson score equation for ``a``), so ``incidents_per_day`` keeps its meaning.
When the simulator extrapolates, the trend's date is held within the window
widened by its own length on each side (``trend_dates``): a six-month trend is
not carried on for years.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

MIN_MONTHS = 12
MIN_CALLS_PER_MONTH = 30
MIN_TREND_MONTHS = 24
MIN_TREND_CALLS = 200
MONTH_PRIOR_SD = 0.2          # log scale: a month within about +-40% of the mean is plausible a priori
TREND_PRIOR_SD_PER_YEAR = 0.5  # log per year
DAYS_PER_YEAR = 365.25


def whole_months(start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Whole calendar months inside ``[start, end)``."""
    first = start if start.day == 1 else (start + pd.offsets.MonthBegin(1))
    months = (end.year - first.year) * 12 + (end.month - first.month)
    return max(0, int(months))


def what_to_fit(n_calls: int, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """Which parts the window supports, and why not for the others (the stated rule)."""
    days = (end - start) / pd.Timedelta(days=1)
    months = whole_months(start, end)
    month_ok = months >= MIN_MONTHS and n_calls / max(days / 30.44, 1e-9) >= MIN_CALLS_PER_MONTH
    if months < MIN_MONTHS:
        month_why = (f"the window has {months} whole calendar month(s); a month-of-year effect needs at least "
                     f"{MIN_MONTHS} so that every month is seen")
    elif not month_ok:
        month_why = (f"{n_calls} calls over {months} months is fewer than {MIN_CALLS_PER_MONTH} a month")
    else:
        month_why = None
    if months < MIN_TREND_MONTHS:
        trend_why = (f"the window has {months} whole calendar month(s); a trend needs at least {MIN_TREND_MONTHS} "
                     "(within a year a trend cannot be told apart from the season)")
    elif n_calls < MIN_TREND_CALLS:
        trend_why = f"{n_calls} calls; a trend needs at least {MIN_TREND_CALLS}"
    else:
        trend_why = None
    return {"months": bool(month_ok), "trend": trend_why is None, "months_why_not": month_why,
            "trend_why_not": trend_why, "whole_months": months, "days": round(float(days), 2)}


def _design(days: pd.DatetimeIndex, ref: pd.Timestamp, *, months: bool, trend: bool) -> np.ndarray:
    cols = [np.ones(len(days))]
    if trend:
        cols.append(np.asarray((days - ref) / pd.Timedelta(days=1), float) / DAYS_PER_YEAR)
    if months:
        m = days.month.to_numpy() - 1
        cols.extend((m == j).astype(float) for j in range(12))
    return np.column_stack(cols)


def fit_season(days: pd.DatetimeIndex, counts: np.ndarray, expected: np.ndarray, *, n_calls: int,
               start: pd.Timestamp, end: pd.Timestamp, dispersion_ratio: float) -> dict:
    """The fitted season and trend (see the module docstring); ``estimated`` says which parts."""
    rule = what_to_fit(n_calls, start, end)
    ref = start + (end - start) / 2
    out = {"estimated": {"trend": rule["trend"], "month_of_year": rule["months"]},
           "why_not": {k: v for k, v in (("trend", rule["trend_why_not"]),
                                         ("month_of_year", rule["months_why_not"])) if v},
           "rule": {"min_whole_months_for_month_effects": MIN_MONTHS, "min_calls_per_month": MIN_CALLS_PER_MONTH,
                    "min_whole_months_for_trend": MIN_TREND_MONTHS, "min_calls_for_trend": MIN_TREND_CALLS,
                    "month_prior_sd_log": MONTH_PRIOR_SD, "trend_prior_sd_log_per_year": TREND_PRIOR_SD_PER_YEAR},
           "reference_date": str(ref.date()), "level_log": 0.0, "trend_log_per_year": None,
           "month_log_effect": None, "window": [str(start.date()), str(end.date())],
           "trend_dates": [str((start - (end - start)).date()), str((end + (end - start)).date())],
           "default_start_date": str(monday_on_or_after(end).date())}
    if not (rule["trend"] or rule["months"]):
        return out
    x = _design(days, ref.normalize(), months=rule["months"], trend=rule["trend"])
    prec = np.zeros(x.shape[1])
    if rule["trend"]:
        prec[1] = 1.0 / TREND_PRIOR_SD_PER_YEAR ** 2
    if rule["months"]:
        prec[-12:] = 1.0 / MONTH_PRIOR_SD ** 2
    phi = max(1.0, float(dispersion_ratio))
    n, e = np.asarray(counts, float), np.maximum(np.asarray(expected, float), 1e-12)

    def objective(beta):
        mu = e * np.exp(x @ beta)
        f = -(n @ (x @ beta) - mu.sum()) / phi + 0.5 * (prec * beta ** 2).sum()
        g = -(x.T @ (n - mu)) / phi + prec * beta
        return f, g

    res = optimize.minimize(objective, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    beta = res.x
    i = 1
    out["level_log"] = round(float(beta[0]), 6)
    if rule["trend"]:
        out["trend_log_per_year"] = round(float(beta[1]), 6)
        i = 2
    if rule["months"]:
        out["month_log_effect"] = [round(float(v), 6) for v in beta[i:i + 12]]
    out["quasi_dispersion"] = round(phi, 4)
    return out


def monday_on_or_after(day: pd.Timestamp) -> pd.Timestamp:
    day = pd.Timestamp(day).normalize()
    return day + pd.Timedelta(days=(7 - day.day_of_week) % 7)


def day_factor(season: dict, days: pd.DatetimeIndex) -> np.ndarray:
    """The fitted multiplier of each calendar day (1 where nothing was estimated)."""
    from sim.demand import season_day_factors

    first = pd.Timestamp(days[0])
    return season_day_factors(season, start_date=first.date(), n_days=len(days))
