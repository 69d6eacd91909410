"""The text ``patrolsim fit`` prints: what was used, the fitted rates, dispersion, season, hold-out score."""

from __future__ import annotations

import math


def fit_summary_text(result, paths) -> str:
    """The summary of a fitted demand (``sim.fit.model.fit_demand``) and the files written."""
    f = result.fitted
    d = f["dispersion_test"]["constant_level"]
    out = [f"\n  calls used            {f['source']['rows_used']} of {f['source']['rows_read']} "
           f"({f['source']['window']['start']} to {f['source']['window']['end']})",
           f"  incidents per day     {f['incidents_per_day']:.2f}",
           f"  dispersion            X2 = {d['pearson_chi2']:.1f} on {d['df']} df, p = {d['p_value']:.3g}; "
           + (f"gamma day shape {f['day_dispersion']['shape']:.3g}" if f["day_dispersion"] else "Poisson")
           + (" (around the season and trend)" if f["dispersion_test"].get("season_and_trend") else ""),
           f"  spatial bandwidth     {f['spatial']['bandwidth_m']:g} m "
           f"({100 * f['spatial']['uniform_share']:g}% uniform)"]
    out += priority_lines(f["source"].get("priority"))
    out += season_lines(f.get("season") or {})
    if result.holdout:
        h = result.holdout
        ll = h["holdout_loglik_per_incident"]
        out.append(f"  hold-out              {h['holdout_incidents']} incidents: log-likelihood per incident "
                   f"fitted {ll['fitted']:.4f}, baseline {ll['baseline']:.4f}")
        sea = h.get("season")
        if sea and sea["season_used"]:
            cw, co = sea["daily_calibration"]["with_season"], sea["daily_calibration"]["without_season"]
            ls = sea["loglik_per_incident"]
            out.append(f"  hold-out season       log-likelihood per incident {ls['with_season']:.4f} "
                       f"with season/trend, {ls['without_season']:.4f} without; "
                       f"observed/expected calls {cw['observed_over_expected']:.3f} with, "
                       f"{co['observed_over_expected']:.3f} without")
    out.append(f"\n  wrote {paths['fitted']} and {paths['diagnostics']}/"
               + (f" and {paths['holdout']}" if result.holdout else ""))
    return "\n".join(out)


def season_lines(season: dict) -> list[str]:
    """What the fit estimated of the season and trend, and why not the rest."""
    out = []
    b, m = season.get("trend_log_per_year"), season.get("month_log_effect")
    if b is not None:
        pct = 100 * (math.exp(b) - 1)
        out.append(f"  trend                 {pct:+.1f}% a year (log {b:+.3f} a year, "
                   f"held within {season['trend_dates'][0]} to {season['trend_dates'][1]})")
    if m:
        months = " ".join(f"{math.exp(v):.2f}" for v in m)
        out.append(f"  month of year         x {months} (January first)")
    for part, why in season.get("why_not", {}).items():
        out.append(f"  {part.replace('_', '-') + ':':<21} not estimated: {why}")
    if b is not None or m:
        out.append(f"  season start date     simulated day 0 is {season['default_start_date']} "
                   "unless the scenario sets demand.start_date")
    return out


def priority_lines(pr: dict | None) -> list[str]:
    """Where the priorities of the fitted types came from (the file's column or the type table)."""
    if not pr:
        return []
    mix = ", ".join(f"P{p} {n}" for p, n in pr["calls_by_priority"].items())
    if pr["from_data"] and pr["from_table"]:
        where = (f"the file's {pr['column']!r} column for {pr['from_data']} calls, the type table for "
                 f"{pr['from_table']} (empty or outside 1-9)")
    elif pr["from_data"]:
        where = f"the file's {pr['column']!r} column"
    else:
        where = "the type table" + ("" if pr["column"] else " (the file has no priority column)")
    return [f"  priorities            from {where}: {mix}"]
