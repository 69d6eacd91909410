"""How well does a demand model predict calls it was not fitted on?

The score is the log-likelihood of the hold-out calls under the model as a
point process in time and place, divided by the number of hold-out calls:

    sum_i [ log lambda(t_i) + log p(s_i) ] - Lambda(window)     (per call)

where ``lambda(t)`` is calls per hour at time ``t`` (local wall-clock hours),
``Lambda`` its integral over the hold-out window, and ``p(s)`` the probability
of the call's place (drive-graph node, after snapping). With a gamma day
multiplier of shape ``k`` each day's term is integrated over the multiplier:
``sum_i log lambda(t_i) + log[k^k Gamma(k + n_d) / (Gamma(k) (k + Lambda_d)^(k + n_d))]``.
Units: time density per hour, place probability per node; only differences
between models on the same calls mean anything. The homogeneous baseline is flat
in time at the fitting window's mean rate and uniform over the street network.

Models are scored through ``sim.demand.build_demand``, i.e. exactly as the
simulator will read the fitted file (profile normalisation, point snapping).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from sim.fit.dispersion import daily_counts, expected_daily
from sim.fit.temporal import hour_of_week, window_hours


def loglik(times: pd.Series, place: np.ndarray, *, rate_per_hour: np.ndarray, place_prob: np.ndarray,
           day_shape: float | None, start: pd.Timestamp, end: pd.Timestamp, time_zone: str | None,
           day_factor: np.ndarray | None = None) -> dict:
    """Log-likelihood of calls in ``[start, end)`` (total and its time and place parts).

    ``day_factor`` multiplies each day's rates (a fitted season and trend; None: 1).
    """
    hours = window_hours(start, end, time_zone)
    days, n_d = daily_counts(times, start, end)
    lam_d = expected_daily(days, rate_per_hour, hours)
    log_rate = float(np.log(np.maximum(rate_per_hour[hour_of_week(times)], 1e-300)).sum())
    if day_factor is not None:
        lam_d = lam_d * day_factor
        d_idx = np.asarray((pd.DatetimeIndex(times).normalize() - start) / pd.Timedelta(days=1), float)
        log_rate += float(np.log(day_factor[d_idx.astype(np.int64)]).sum())
    if day_shape:
        k = float(day_shape)
        day_terms = (k * np.log(k) + special.gammaln(k + n_d) - special.gammaln(k)
                     - (k + n_d) * np.log(k + lam_d))
        time_ll = log_rate + float(day_terms.sum())
    else:
        time_ll = log_rate - float(lam_d.sum())
    place_ll = float(np.log(np.maximum(place_prob[place], 1e-300)).sum())
    n = max(1, len(times))
    return {"loglik_per_incident": (time_ll + place_ll) / n, "time_part_per_incident": time_ll / n,
            "place_part_per_incident": place_ll / n, "expected_incidents": float(lam_d.sum()),
            "daily_calibration": daily_calibration(n_d, lam_d, day_shape)}


def daily_calibration(n_d: np.ndarray, lam_d: np.ndarray, day_shape: float | None, *, level: float = 0.9) -> dict:
    """How well the model's daily counts match the hold-out days'.

    The model's count on day d is negative binomial (mean lam_d, shape k; Poisson
    without k). Reported: observed and expected totals, the mean absolute error
    of the daily mean, the Pearson ratio X2/D with the model's own variance
    (about 1 when calibrated) and the share of days inside the central 90%
    predictive interval (0.90 when calibrated).
    """
    n_d, lam_d = np.asarray(n_d, float), np.maximum(np.asarray(lam_d, float), 1e-12)
    if day_shape:
        k = float(day_shape)
        var = lam_d + lam_d ** 2 / k
        dist = stats.nbinom(k, k / (k + lam_d))
    else:
        var = lam_d
        dist = stats.poisson(lam_d)
    lo, hi = dist.ppf((1 - level) / 2), dist.ppf(1 - (1 - level) / 2)
    return {"days": int(n_d.size), "observed_total": int(n_d.sum()), "expected_total": round(float(lam_d.sum()), 2),
            "observed_over_expected": round(float(n_d.sum() / lam_d.sum()), 4),
            "mean_abs_error_per_day": round(float(np.abs(n_d - lam_d).mean()), 4),
            "pearson_ratio": round(float(((n_d - lam_d) ** 2 / var).sum() / max(1, n_d.size)), 4),
            "share_of_days_in_90pct_interval": round(float(((n_d >= lo) & (n_d <= hi)).mean()), 4)}


def evaluate(calls: pd.DataFrame, *, model, baseline_rate_per_hour: float, baseline_place_prob: np.ndarray,
             start: pd.Timestamp, end: pd.Timestamp, time_zone: str | None, model_without_season=None) -> dict:
    """The hold-out score of a ``DemandModel`` and of the homogeneous baseline.

    A model with a season is scored with the season's factor for the hold-out
    window's own calendar days; ``model_without_season`` (the same fit with a
    constant level and its own day dispersion) is scored beside it.
    """
    from sim.demand import has_season, season_day_factors

    t, p = calls["time"], calls["place"].to_numpy()
    common = dict(start=start, end=end, time_zone=time_zone)
    n_days = len(daily_counts(t, start, end)[0])
    factor = (season_day_factors(model.season, start_date=start.date(), n_days=n_days)
              if has_season(model.season) else None)
    fitted = loglik(t, p, rate_per_hour=model.rate_per_hour * model.multiplier, place_prob=model.place_prob,
                    day_shape=model.day_shape, day_factor=factor, **common)
    poisson = loglik(t, p, rate_per_hour=model.rate_per_hour * model.multiplier, place_prob=model.place_prob,
                     day_shape=None, day_factor=factor, **common)
    plain = None
    if model_without_season is not None:
        m0 = model_without_season
        plain = loglik(t, p, rate_per_hour=m0.rate_per_hour * m0.multiplier, place_prob=m0.place_prob,
                       day_shape=m0.day_shape, **common)
    base = loglik(t, p, rate_per_hour=np.full(168, baseline_rate_per_hour), place_prob=baseline_place_prob,
                  day_shape=None, **common)
    return {
        "holdout_incidents": int(len(calls)),
        "holdout_loglik_per_incident": {"fitted": fitted["loglik_per_incident"],
                                        "baseline": base["loglik_per_incident"]},
        "difference_per_incident": fitted["loglik_per_incident"] - base["loglik_per_incident"],
        "fitted_beats_baseline": bool(fitted["loglik_per_incident"] > base["loglik_per_incident"]),
        "parts": {"fitted": fitted, "fitted_without_day_dispersion": poisson, "baseline": base,
                  **({"fitted_without_season": plain} if plain is not None else {})},
        "season": None if plain is None else {
            "season_used": factor is not None,
            "loglik_per_incident": {"with_season": fitted["loglik_per_incident"],
                                    "without_season": plain["loglik_per_incident"]},
            "difference_per_incident": fitted["loglik_per_incident"] - plain["loglik_per_incident"],
            "daily_calibration": {"with_season": fitted["daily_calibration"],
                                  "without_season": plain["daily_calibration"]}},
        "window": {"start": str(start.date()), "end": str(end.date())},
        "units": "time density per hour x place probability per drive-graph node; per hold-out incident",
        "baseline": "flat in time at the fitting window's mean rate, uniform over the street network "
                    "(probability of a node proportional to the street length it stands for)",
    }
