"""Incident types for a fitted file, from the typed calls.

The calls come typed from ``sim.calls.calltypes`` (the agency's call type mapped
to an incident type through the type table). A fit then keeps one incident type
per (type, priority, units needed) seen in the data, with its share of the calls
and an on-scene time: fitted to the file's arrival-to-clearance times where a
type has enough of them, else the table's defaults (so the workload is kept).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calls.calltypes import TypeTable

#: Fewest observed on-scene durations of a type before they replace the table's default.
MIN_ON_SCENE_N = 20
#: Observed on-scene durations outside (0, 12 h] are treated as recording errors.
MAX_ON_SCENE_S = 12 * 3600.0


def observed_on_scene_s(calls: pd.DataFrame) -> np.ndarray:
    """Arrival-to-clearance seconds where the file has both times (NaN elsewhere or implausible)."""
    d = (calls["cleared"] - calls["arrived"]).dt.total_seconds().to_numpy(float)
    return np.where((d > 0) & (d <= MAX_ON_SCENE_S), d, np.nan)


def _mixture_moments(w: np.ndarray, mean: np.ndarray, cv: np.ndarray) -> tuple[float, float]:
    """Mean and CV of a mixture of distributions with the given weights, means and CVs."""
    w = w / w.sum()
    m = float((w * mean).sum())
    second = float((w * mean ** 2 * (1 + cv ** 2)).sum())
    return m, float(np.sqrt(max(second / m ** 2 - 1, 0.0)))


def fitted_types(calls: pd.DataFrame) -> list[dict]:
    """Incident types for the fitted file: one per (type, priority, units needed) seen in the data.

    Shares are the calls' shares. On-scene time is a lognormal fitted to the data's
    arrival-to-clearance times where a type has at least ``MIN_ON_SCENE_N`` of them
    (maximum likelihood on the logs), else the call-weighted mixture of the table's
    defaults for the call types in it (its mean and CV, so the workload is kept).
    """
    n = len(calls)
    obs = observed_on_scene_s(calls)
    keys = ["type", "priority", "units_needed"]
    groups = calls.assign(_obs=obs).groupby(keys, sort=True)
    per_class = calls.groupby("type")[["priority", "units_needed"]].nunique()
    out = []
    for (name, prio, units), g in groups:
        multi = per_class.loc[name]
        label = str(name)
        if multi["priority"] > 1:
            label += f"-p{prio}"
        if multi["units_needed"] > 1:
            label += f"-{units}u"
        o = g["_obs"].to_numpy(float)
        o = o[np.isfinite(o)]
        if o.size >= MIN_ON_SCENE_N:
            logs = np.log(o)
            s2 = float(logs.var())
            mean, cv = float(np.exp(logs.mean() + s2 / 2)), float(np.sqrt(np.expm1(s2)))
            source = f"data: lognormal fitted to {o.size} arrival-to-clearance times"
        else:
            mean, cv = _mixture_moments(np.ones(len(g)), g["on_scene_default_mean_s"].to_numpy(float),
                                        g["on_scene_default_cv"].to_numpy(float))
            source = ("type table default (the data have no clearance times)" if o.size == 0 else
                      f"type table default (only {o.size} clearance times, fewer than {MIN_ON_SCENE_N})")
        out.append({"name": label, "share": round(len(g) / n, 6), "priority": int(prio),
                    "units_needed": int(units), "on_scene_mean_s": round(mean, 1),
                    "on_scene_cv": round(min(cv, 5.0), 4), "major": bool(g["major"].mean() > 0.5),
                    "calls": int(len(g)), "on_scene_source": source})
    out.sort(key=lambda t: (-t["share"], t["name"]))
    return out


def mapping_summary(calls: pd.DataFrame, table: TypeTable, *, top: int = 40) -> list[dict]:
    """The most common call types with what they were mapped to (for the fit's record)."""
    g = calls.groupby(["call_type", "type", "rule"]).size().sort_values(ascending=False).head(top)
    return [{"call_type": ct, "calls": int(v), "type": t, "pattern": table.rules["pattern"].iloc[r]}
            for (ct, t, r), v in g.items()]
