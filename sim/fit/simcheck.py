"""Does the simulator, fed the fitted file, produce counts like the data's?

The fitted model is sampled through the simulator's own sampler
(``sim.demand.sample_incidents``) for several replications as long as the
fitting window, and the distributions of calls per day and per hour, and the
mean calls per hour of day and per day of week, are compared with the data's.
The simulated weeks start on a Monday and the data's window may not; the
distributions compared do not depend on that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from sim.demand import sample_incidents
from sim.streams import replication_seed

DAY_S = 86_400.0


def _summary(x: np.ndarray) -> dict:
    q = np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {"mean": round(float(x.mean()), 4), "variance": round(float(x.var(ddof=1)), 4),
            "q05": float(q[0]), "q25": float(q[1]), "median": float(q[2]), "q75": float(q[3]), "q95": float(q[4])}


def observed_counts(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """Calls per day and per hour of the window (zeros included), with day-of-week and hour-of-day."""
    t = pd.DatetimeIndex(times)
    n_days = int((end - start) / pd.Timedelta(days=1))
    h = np.asarray((t - start) / pd.Timedelta(hours=1), float).astype(np.int64)
    h = h[(h >= 0) & (h < n_days * 24)]
    hourly = np.bincount(h, minlength=n_days * 24).astype(float)
    first_dow = int(start.day_of_week)
    return {"hourly": hourly, "daily": hourly.reshape(n_days, 24).sum(1),
            "dow": (np.arange(n_days) + first_dow) % 7}


def simulated_counts(model, *, days: int, replications: int, seed: int) -> dict:
    """Calls per day and per hour of ``replications`` runs of ``days`` days from Monday 00:00."""
    hourly, daily, dow = [], [], []
    for r in range(replications):
        inc = sample_incidents(model, replication_seed(seed, r), horizon_s=days * DAY_S)
        h = np.bincount((inc.call_s // 3600).astype(np.int64), minlength=days * 24)[: days * 24].astype(float)
        hourly.append(h)
        daily.append(h.reshape(days, 24).sum(1))
        dow.append(np.arange(days) % 7)
    return {"hourly": np.concatenate(hourly), "daily": np.concatenate(daily), "dow": np.concatenate(dow)}


def compare(observed: dict, simulated: dict) -> dict:
    """Side-by-side distributions and two-sample Kolmogorov-Smirnov statistics.

    Counts are discrete, so the KS p-values are conservative; the statistic (the
    largest gap between the two cumulative distributions) is the figure to read.
    """
    out = {}
    for key in ("daily", "hourly"):
        o, s = observed[key], simulated[key]
        ks = stats.ks_2samp(o, s)
        out[f"{key}_counts"] = {"observed": _summary(o), "simulated": _summary(s),
                                "ks_statistic": round(float(ks.statistic), 4), "ks_p_value": float(ks.pvalue)}
    oh = observed["hourly"].reshape(-1, 24).mean(0)
    sh = simulated["hourly"].reshape(-1, 24).mean(0)
    out["hour_of_day_mean"] = {"observed": [round(float(x), 4) for x in oh],
                               "simulated": [round(float(x), 4) for x in sh],
                               "max_abs_difference": round(float(np.abs(oh - sh).max()), 4),
                               "correlation": round(float(np.corrcoef(oh, sh)[0, 1]), 4)}
    od = np.array([observed["daily"][observed["dow"] == d].mean() for d in range(7)])
    sd = np.array([simulated["daily"][simulated["dow"] == d].mean() for d in range(7)])
    out["day_of_week_mean"] = {"observed": [round(float(x), 3) for x in od],
                               "simulated": [round(float(x), 3) for x in sd]}
    out["share_of_hours_with_no_call"] = {"observed": round(float((observed["hourly"] == 0).mean()), 4),
                                          "simulated": round(float((simulated["hourly"] == 0).mean()), 4)}
    return out


def check(model, times: pd.Series, start: pd.Timestamp, end: pd.Timestamp, *, replications: int = 20,
          seed: int = 0) -> dict:
    """Observed vs simulated counts (the arrays are kept for the figures)."""
    obs = observed_counts(times, start, end)
    days = int(np.ceil(len(obs["daily"]) / 7.0) * 7)
    sim = simulated_counts(model, days=days, replications=replications, seed=seed)
    res = compare(obs, sim)
    res.update(replications=replications, simulated_days_per_replication=days, seed=seed)
    return {"summary": res, "observed": obs, "simulated": sim}
