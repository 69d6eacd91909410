"""The text ``patrolsim fit`` prints: what was used, the fitted rates, dispersion, hold-out score."""

from __future__ import annotations


def fit_summary_text(result, paths) -> str:
    """The summary of a fitted demand (``sim.fit.model.fit_demand``) and the files written."""
    f = result.fitted
    d = f["dispersion_test"]["constant_level"]
    out = [f"\n  calls used            {f['source']['rows_used']} of {f['source']['rows_read']} "
           f"({f['source']['window']['start']} to {f['source']['window']['end']})",
           f"  incidents per day     {f['incidents_per_day']:.2f}",
           f"  dispersion            X2 = {d['pearson_chi2']:.1f} on {d['df']} df, p = {d['p_value']:.3g}; "
           + (f"gamma day shape {f['day_dispersion']['shape']:.3g}" if f["day_dispersion"] else "Poisson"),
           f"  spatial bandwidth     {f['spatial']['bandwidth_m']:g} m "
           f"({100 * f['spatial']['uniform_share']:g}% uniform)"]
    if result.holdout:
        h = result.holdout
        ll = h["holdout_loglik_per_incident"]
        out.append(f"  hold-out              {h['holdout_incidents']} incidents: log-likelihood per incident "
                   f"fitted {ll['fitted']:.4f}, baseline {ll['baseline']:.4f}")
    out.append(f"\n  wrote {paths['fitted']} and {paths['diagnostics']}/"
               + (f" and {paths['holdout']}" if result.holdout else ""))
    return "\n".join(out)
