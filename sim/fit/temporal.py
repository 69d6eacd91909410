"""When calls happen: a smoothed hour-of-week profile, the daily level and its season.

Counts per hour of the week (168 bins, Monday 00:00 first, local wall-clock
time) divided by how often each hour occurred in the window (its exposure, which
accounts for daylight-saving days of 23 and 25 hours) give raw rates. With a few
hundred calls a bin they are noisy, so the profile is a mix of two smoothings:
a circular Gaussian kernel along the week (bandwidth ``h`` hours), and a
"same hour on every day" model (a day-of-week level times an hour-of-day shape
smoothed with the same kernel) that borrows strength across days. The bandwidth
and the mixing weight are chosen by the Poisson likelihood of held-out weeks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOURS_PER_WEEK = 168
BANDWIDTHS_H = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
POOL_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def hour_of_week(times: pd.Series) -> np.ndarray:
    """Hour of the week (0 = Monday 00:00-01:00) of local times."""
    t = pd.DatetimeIndex(times)
    return (t.day_of_week * 24 + t.hour).to_numpy(np.int64)


def window_hours(start: pd.Timestamp, end: pd.Timestamp, time_zone: str | None) -> pd.DatetimeIndex:
    """The local wall-clock start of every real hour in ``[start, end)``.

    With a time zone a spring-forward day has 23 hours and a fall-back day 25 (the
    repeated hour counted twice); without one every day has 24.
    """
    if time_zone is None:
        return pd.date_range(start, end, freq="h", inclusive="left")
    a = start.tz_localize(time_zone, nonexistent="shift_forward", ambiguous=True)
    b = end.tz_localize(time_zone, nonexistent="shift_forward", ambiguous=True)
    return pd.date_range(a, b, freq="h", inclusive="left").tz_localize(None)


def exposure(start, end, time_zone, *, fold_of_hour=None, n_folds: int = 1) -> np.ndarray:
    """Hours of each hour-of-week in the window: shape (n_folds, 168)."""
    hours = window_hours(start, end, time_zone)
    how = hour_of_week(pd.Series(hours))
    fold = np.zeros(how.size, np.int64) if fold_of_hour is None else fold_of_hour(hours)
    out = np.zeros((n_folds, HOURS_PER_WEEK))
    np.add.at(out, (fold, how), 1.0)
    return out


def week_index(times, start: pd.Timestamp) -> np.ndarray:
    """Whole weeks since ``start`` (the cross-validation folds are sets of weeks)."""
    d = (pd.DatetimeIndex(times) - start) / pd.Timedelta(days=7)
    return np.floor(np.asarray(d, float)).astype(np.int64)


def _circular_kernel(n: int, bandwidth: float) -> np.ndarray:
    lag = np.arange(n)
    lag = np.minimum(lag, n - lag)
    k = np.exp(-0.5 * (lag / bandwidth) ** 2)
    return k / k.sum()


def _circ_smooth(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return np.real(np.fft.ifft(np.fft.fft(x) * np.fft.fft(kernel)))


def smooth_rate(counts: np.ndarray, expo: np.ndarray, *, bandwidth_h: float, pool: float) -> np.ndarray:
    """Calls per hour for each hour of the week (168), smoothed.

    ``pool`` is the weight of the same-hour-every-day model (0: weekly kernel only).
    """
    kw = _circular_kernel(HOURS_PER_WEEK, bandwidth_h)
    weekly = _circ_smooth(counts, kw) / np.maximum(_circ_smooth(expo, kw), 1e-12)
    c = counts.reshape(7, 24)
    e = expo.reshape(7, 24)
    kd = _circular_kernel(24, bandwidth_h)
    shape = _circ_smooth(c.sum(0), kd) / np.maximum(_circ_smooth(e.sum(0), kd), 1e-12)
    level = c.sum(1) / np.maximum((e * shape[None, :]).sum(1), 1e-12)
    daily = (level[:, None] * shape[None, :]).ravel()
    return np.maximum((1 - pool) * weekly + pool * daily, 0.0)


def poisson_loglik(counts: np.ndarray, rate: np.ndarray, expo: np.ndarray) -> float:
    """Poisson log-likelihood of binned counts (without the log(count!) constant)."""
    mu = rate * expo
    pos = counts > 0
    return float((counts[pos] * np.log(np.maximum(mu[pos], 1e-300))).sum() - mu.sum())


def select_smoothing(counts_by_fold: np.ndarray, expo_by_fold: np.ndarray, *,
                     bandwidths_h=BANDWIDTHS_H, pools=POOL_WEIGHTS) -> dict:
    """Bandwidth and pooling weight with the best held-out log-likelihood (leave one fold out)."""
    total_c, total_e = counts_by_fold.sum(0), expo_by_fold.sum(0)
    n = max(1.0, float(total_c.sum()))
    grid = []
    for h in bandwidths_h:
        for w in pools:
            ll = 0.0
            for k in range(counts_by_fold.shape[0]):
                tc, te = counts_by_fold[k], expo_by_fold[k]
                if te.sum() == 0:
                    continue
                rate = smooth_rate(total_c - tc, total_e - te, bandwidth_h=h, pool=w)
                ll += poisson_loglik(tc, rate, te)
            grid.append({"bandwidth_h": h, "pool_weight": w, "cv_loglik_per_call": ll / n})
    best = max(grid, key=lambda r: r["cv_loglik_per_call"])
    flat = 0.0
    for k in range(counts_by_fold.shape[0]):
        tc, te = counts_by_fold[k], expo_by_fold[k]
        rest_c, rest_e = total_c - tc, total_e - te
        flat += poisson_loglik(tc, np.full(HOURS_PER_WEEK, rest_c.sum() / max(rest_e.sum(), 1e-12)), te)
    return {"bandwidth_h": best["bandwidth_h"], "pool_weight": best["pool_weight"],
            "cv_loglik_per_call": best["cv_loglik_per_call"], "cv_flat_loglik_per_call": flat / n,
            "folds": int(counts_by_fold.shape[0]), "grid": grid}


def fit_profile(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp, time_zone: str | None,
                *, max_folds: int = 5) -> dict:
    """The smoothed profile of calls in ``[start, end)`` and how it was chosen.

    Returns ``rate_per_hour`` (168, calls per hour), ``raw_rate_per_hour``,
    ``counts``, ``exposure_h``, ``incidents_per_day`` and the ``smoothing`` choice.
    """
    weeks = week_index(times, start)
    n_weeks = int(np.ceil((end - start) / pd.Timedelta(days=7)))
    k = max(2, min(max_folds, n_weeks))
    fold = np.mod(weeks, k)
    how = hour_of_week(times)
    counts = np.zeros((k, HOURS_PER_WEEK))
    np.add.at(counts, (fold, how), 1.0)
    expo = exposure(start, end, time_zone, n_folds=k,
                    fold_of_hour=lambda hrs: np.mod(week_index(hrs, start), k))
    choice = select_smoothing(counts, expo)
    c, e = counts.sum(0), expo.sum(0)
    rate = smooth_rate(c, e, bandwidth_h=choice["bandwidth_h"], pool=choice["pool_weight"])
    # keep the total: the smoothed rates reproduce the number of calls in the window
    rate *= c.sum() / max((rate * e).sum(), 1e-12)
    return {"rate_per_hour": rate, "raw_rate_per_hour": c / np.maximum(e, 1e-12), "counts": c,
            "exposure_h": e, "incidents_per_day": float(c.sum() / (e.sum() / 24.0)), "smoothing": choice}


def seasonal_levels(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp, time_zone: str | None) -> dict:
    """Calls per day by calendar month of the window, and relative to the window's mean.

    The simulator's demand has no season (a run is days or weeks long); the
    levels are recorded so a planner can scale ``incidents_per_day`` to the
    season being studied (e.g. ``--set`` a multiplier) and so the over-dispersion
    the season causes is visible.
    """
    hours = window_hours(start, end, time_zone)
    expo_days = pd.Series(1.0 / 24.0, index=hours).groupby(hours.to_period("M")).sum()
    calls = pd.Series(1.0, index=pd.DatetimeIndex(times)).groupby(pd.DatetimeIndex(times).to_period("M")).sum()
    per_day = (calls.reindex(expo_days.index, fill_value=0.0) / expo_days)
    mean = float(len(times) / expo_days.sum())
    return {"by_month_per_day": {str(k): round(float(v), 3) for k, v in per_day.items()},
            "by_month_relative": {str(k): round(float(v / mean), 3) for k, v in per_day.items()},
            "last_28_days_per_day": round(float(((pd.DatetimeIndex(times) >= end - pd.Timedelta(days=28)).sum())
                                               / min(28.0, expo_days.sum())), 3)}


def rate_at(times: pd.Series, rate_per_hour: np.ndarray) -> np.ndarray:
    """The model's calls per hour at each time."""
    return rate_per_hour[hour_of_week(times)]


def cumulative_rate(times: pd.Series, start: pd.Timestamp, rate_per_hour: np.ndarray) -> np.ndarray:
    """Expected calls from ``start`` to each time (piecewise-constant rate, wall-clock hours)."""
    t = pd.DatetimeIndex(times)
    hours_since = np.asarray((t - start) / pd.Timedelta(hours=1), float)
    h0 = int(start.day_of_week * 24 + start.hour)
    weekly = float(rate_per_hour.sum())
    cum = np.concatenate([[0.0], np.cumsum(np.roll(rate_per_hour, -h0))])
    whole_weeks = np.floor(hours_since / HOURS_PER_WEEK)
    rem = hours_since - whole_weeks * HOURS_PER_WEEK
    i = np.floor(rem).astype(int)
    frac = rem - i
    r = np.roll(rate_per_hour, -h0)
    return whole_weeks * weekly + cum[i] + frac * r[np.minimum(i, HOURS_PER_WEEK - 1)]
