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
from scipy import special

from sim.fit.dispersion import daily_counts, expected_daily
from sim.fit.temporal import hour_of_week, window_hours


def loglik(times: pd.Series, place: np.ndarray, *, rate_per_hour: np.ndarray, place_prob: np.ndarray,
           day_shape: float | None, start: pd.Timestamp, end: pd.Timestamp, time_zone: str | None) -> dict:
    """Log-likelihood of calls in ``[start, end)`` (total and its time and place parts)."""
    hours = window_hours(start, end, time_zone)
    days, n_d = daily_counts(times, start, end)
    lam_d = expected_daily(days, rate_per_hour, hours)
    log_rate = float(np.log(np.maximum(rate_per_hour[hour_of_week(times)], 1e-300)).sum())
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
            "place_part_per_incident": place_ll / n, "expected_incidents": float(lam_d.sum())}


def evaluate(calls: pd.DataFrame, *, model, baseline_rate_per_hour: float, baseline_place_prob: np.ndarray,
             start: pd.Timestamp, end: pd.Timestamp, time_zone: str | None) -> dict:
    """The hold-out score of a ``DemandModel`` and of the homogeneous baseline."""
    t, p = calls["time"], calls["place"].to_numpy()
    common = dict(start=start, end=end, time_zone=time_zone)
    fitted = loglik(t, p, rate_per_hour=model.rate_per_hour * model.multiplier, place_prob=model.place_prob,
                    day_shape=model.day_shape, **common)
    poisson = loglik(t, p, rate_per_hour=model.rate_per_hour * model.multiplier, place_prob=model.place_prob,
                     day_shape=None, **common)
    base = loglik(t, p, rate_per_hour=np.full(168, baseline_rate_per_hour), place_prob=baseline_place_prob,
                  day_shape=None, **common)
    return {
        "holdout_incidents": int(len(calls)),
        "holdout_loglik_per_incident": {"fitted": fitted["loglik_per_incident"],
                                        "baseline": base["loglik_per_incident"]},
        "difference_per_incident": fitted["loglik_per_incident"] - base["loglik_per_incident"],
        "fitted_beats_baseline": bool(fitted["loglik_per_incident"] > base["loglik_per_incident"]),
        "parts": {"fitted": fitted, "fitted_without_day_dispersion": poisson, "baseline": base},
        "window": {"start": str(start.date()), "end": str(end.date())},
        "units": "time density per hour x place probability per drive-graph node; per hold-out incident",
        "baseline": "flat in time at the fitting window's mean rate, uniform over the street network "
                    "(probability of a node proportional to the street length it stands for)",
    }
