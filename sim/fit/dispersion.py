"""Are daily counts more variable than a Poisson process allows?

Under the fitted hour-of-week model with a constant level, the number of calls
on day ``d`` is Poisson with mean ``mu_d`` (the sum of that day's hourly rates).
The Pearson statistic ``X2 = sum (n_d - mu_d)^2 / mu_d`` is then approximately
chi-squared with ``D - 1`` degrees of freedom (one level estimated); a small
p-value says the days vary more than Poisson (weather, events, the academic
year, the season). The over-dispersed alternative is the one the simulator
samples: a gamma day multiplier with mean 1 and shape ``k`` (a negative-binomial
day count, variance ``mu + mu^2 / k``), whose ``k`` is fitted by maximum
likelihood; the likelihood-ratio test of k = infinity is reported too (its null
lies on the boundary, so its p-value is half a chi-squared(1) tail).

The same test is also run with a level per calendar month, to show how much of
the over-dispersion is the season and how much is day to day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

ALPHA = 0.05


def daily_counts(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Calls on each local day of ``[start, end)``, zeros included."""
    days = pd.date_range(start, end, freq="D", inclusive="left")
    idx = np.asarray((pd.DatetimeIndex(times).normalize() - start) / pd.Timedelta(days=1), float).astype(np.int64)
    idx = idx[(idx >= 0) & (idx < len(days))]
    return days, np.bincount(idx, minlength=len(days)).astype(float)


def expected_daily(days: pd.DatetimeIndex, rate_per_hour: np.ndarray, hours: pd.DatetimeIndex) -> np.ndarray:
    """Expected calls per day from hourly rates, over the real hours of each day (DST-aware)."""
    how = (hours.day_of_week * 24 + hours.hour).to_numpy()
    di = np.asarray((hours.normalize() - days[0]) / pd.Timedelta(days=1), float).astype(np.int64)
    out = np.zeros(len(days))
    np.add.at(out, di, rate_per_hour[how])
    return out


def nb_loglik(n: np.ndarray, mu: np.ndarray, k: float) -> float:
    """Negative-binomial log-likelihood with means ``mu`` and shape ``k`` (variance mu + mu^2/k)."""
    return float((special.gammaln(n + k) - special.gammaln(k) - special.gammaln(n + 1)
                  + k * np.log(k / (k + mu)) + n * np.log(np.maximum(mu, 1e-300) / (k + mu))).sum())


def poisson_loglik(n: np.ndarray, mu: np.ndarray) -> float:
    return float(stats.poisson.logpmf(n, mu).sum())


def fit_shape(n: np.ndarray, mu: np.ndarray) -> float | None:
    """Maximum-likelihood gamma shape ``k``; None when the data are not over-dispersed (k -> infinity)."""
    f = lambda logk: -nb_loglik(n, mu, float(np.exp(logk)))  # noqa: E731
    res = optimize.minimize_scalar(f, bounds=(np.log(1e-2), np.log(1e6)), method="bounded",
                                   options={"xatol": 1e-6})
    k = float(np.exp(res.x))
    if k > 1e5 or nb_loglik(n, mu, k) <= poisson_loglik(n, mu) + 1e-9:
        return None
    return k


def dispersion_test(n: np.ndarray, mu: np.ndarray, *, params: int = 1, alpha: float = ALPHA) -> dict:
    """Pearson chi-squared test of Poisson day counts, the fitted gamma shape and the LR test."""
    n = np.asarray(n, float)
    mu = np.asarray(mu, float)
    keep = mu > 0
    n, mu = n[keep], mu[keep]
    df = max(1, n.size - params)
    x2 = float(((n - mu) ** 2 / mu).sum())
    p = float(stats.chi2.sf(x2, df))
    k = fit_shape(n, mu)
    lr = 0.0 if k is None else max(0.0, 2 * (nb_loglik(n, mu, k) - poisson_loglik(n, mu)))
    p_lr = 1.0 if k is None else float(0.5 * stats.chi2.sf(lr, 1))
    return {"days": int(n.size), "mean_per_day": round(float(n.mean()), 4),
            "variance_per_day": round(float(n.var(ddof=1)), 4) if n.size > 1 else None,
            "pearson_chi2": round(x2, 3), "df": int(df), "dispersion_ratio": round(x2 / df, 4),
            "p_value": p, "overdispersed": bool(p < alpha and k is not None), "alpha": alpha,
            "gamma_shape": None if k is None else round(k, 4),
            "lr_statistic": round(lr, 3), "lr_p_value": p_lr}


def check_days(times: pd.Series, start, end, rate_per_hour: np.ndarray, hours: pd.DatetimeIndex) -> dict:
    """The dispersion test of the fitted profile, with a constant level and with monthly levels."""
    days, n = daily_counts(times, start, end)
    mu = expected_daily(days, rate_per_hour, hours)
    mu *= n.sum() / max(mu.sum(), 1e-12)
    overall = dispersion_test(n, mu, params=1)
    month = days.to_period("M")
    mu_m = mu.copy()
    for m in month.unique():
        sel = np.asarray(month == m)
        if mu[sel].sum() > 0:
            mu_m[sel] *= n[sel].sum() / mu[sel].sum()
    by_month = dispersion_test(n, mu_m, params=int(len(month.unique())))
    return {"constant_level": overall, "monthly_levels": by_month, "days": days, "counts": n,
            "expected": mu}
