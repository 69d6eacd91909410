"""The diagnostics page of a fit: figures (matplotlib, Agg) and an HTML page with the numbers.

Figures: the hour-of-week profile (raw rates and the smoothed profile), a map
of the spatial intensity with the hot spots, the dispersion test (daily counts
against the Poisson expectation), a QQ plot of time-rescaled inter-arrival
times against Exp(1), and simulated against observed counts. The map is drawn
from OpenStreetMap data and says so.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
from scipy import stats

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ATTRIBUTION = "© OpenStreetMap contributors"


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    """Lay out, write and close a figure (closing frees it: a fit draws several)."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)


def fig_profile(res, path: Path) -> None:
    plt = _plt()
    prof = res.figures["profile"]
    fig, ax = plt.subplots(figsize=(11, 3.6))
    x = np.arange(168) + 0.5
    ax.plot(x, prof["raw_rate_per_hour"], ".", color="0.55", ms=4, label="observed (calls / hours exposed)")
    ax.step(np.arange(169), np.append(prof["rate_per_hour"], prof["rate_per_hour"][-1]), where="post",
            color="C0", lw=1.8, label=f"smoothed (bandwidth {prof['smoothing']['bandwidth_h']:g} h, "
                                      f"pool weight {prof['smoothing']['pool_weight']:g})")
    for d in range(1, 7):
        ax.axvline(24 * d, color="0.85", lw=0.8, zorder=0)
    ax.set_xticks([24 * d + 12 for d in range(7)], DAYS)
    ax.set_xlim(0, 168)
    ax.set_ylabel("calls per hour")
    ax.set_title("Hour-of-week profile (local time, Monday 00:00 first)")
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, path)


def fig_map(res, city, path: Path) -> None:
    plt = _plt()
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LogNorm

    g = city.places
    prob, base = res.figures["prob"], res.figures["base"]
    lift = prob / base
    fig, ax = plt.subplots(figsize=(9, 6.5))
    segs = np.stack([np.column_stack([g.lon[g.edge_u], g.lat[g.edge_u]]),
                     np.column_stack([g.lon[g.edge_v], g.lat[g.edge_v]])], axis=1)
    ax.add_collection(LineCollection(segs, colors="0.8", linewidths=0.6, zorder=1))
    order = np.argsort(lift)
    sc = ax.scatter(g.lon[order], g.lat[order], c=lift[order], s=8 + 60 * prob[order] / prob.max(),
                    cmap="inferno_r", norm=LogNorm(vmin=max(lift.min(), 1e-2), vmax=max(lift.max(), 1.01)),
                    zorder=2, linewidths=0)
    for h in res.figures["hot"]:
        ax.annotate(str(h["rank"]), (h["lon"], h["lat"]), xytext=(4, 4), textcoords="offset points",
                    fontsize=8, color="C0", weight="bold", zorder=3)
    ax.set_aspect(1.0 / np.cos(np.radians(float(np.median(g.lat)))))
    ax.autoscale_view()
    fig.colorbar(sc, ax=ax, shrink=0.8, label="intensity relative to uniform over streets")
    spat = res.fitted["spatial"]
    ax.set_title(f"Spatial intensity (bandwidth {spat['bandwidth_m']:g} m, "
                 f"{100 * spat['uniform_share']:g}% uniform); numbers: hot spots")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.text(0.99, 0.01, ATTRIBUTION, transform=ax.transAxes, ha="right", va="bottom", fontsize=7, color="0.3")
    _save(fig, path)


def fig_dispersion(res, path: Path) -> None:
    plt = _plt()
    d = res.figures["dispersion"]
    days, n, mu = d["days"], d["counts"], d["expected"]
    test = d["constant_level"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [2, 1]})
    a.plot(days, n, ".", color="0.4", ms=3, label="calls per day")
    a.plot(days, mu, color="C0", lw=1, label="Poisson expectation (constant level)")
    a.set_ylabel("calls per day")
    a.legend(fontsize=8)
    a.set_title(f"Pearson X2 = {test['pearson_chi2']:.0f} on {test['df']} df "
                f"(ratio {test['dispersion_ratio']:.2f}, p = {test['p_value']:.2g})", fontsize=10)
    k = np.arange(0, int(n.max()) + 6)
    pois = np.mean([stats.poisson.pmf(k, m) for m in mu if m > 0], axis=0)
    b.bar(k, np.bincount(n.astype(int), minlength=k.size)[: k.size] / n.size, color="0.7", label="observed")
    b.plot(k, pois, "o-", color="C0", ms=3, lw=1, label="Poisson")
    shape = test["gamma_shape"]
    if shape:
        nb = np.mean([stats.nbinom.pmf(k, shape, shape / (shape + m)) for m in mu if m > 0], axis=0)
        b.plot(k, nb, "s-", color="C3", ms=3, lw=1, label=f"gamma day multiplier (k = {shape:.3g})")
    b.set_xlabel("calls per day")
    b.set_ylabel("share of days")
    b.legend(fontsize=8)
    _save(fig, path)


def fig_qq(res, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 5))
    for key, label, color in (("gaps", "constant level", "C0"), ("gaps_day", "level of each day", "C1")):
        g = np.sort(res.figures[key])
        if g.size == 0:
            continue
        q = stats.expon.ppf((np.arange(1, g.size + 1) - 0.5) / g.size)
        ks = res.figures["ks"]["constant_level" if key == "gaps" else "daily_level"]
        ax.plot(q, g, ".", ms=2, color=color, label=f"{label} (KS {ks:.3f})")
    n = max(1, res.figures["gaps"].size)
    band = 1.36 / np.sqrt(n)
    p = np.linspace(0.001, 0.999, 400)
    up, lo = p < 1 - band, p > band
    ax.plot(stats.expon.ppf(p[up]), stats.expon.ppf(p[up] + band), ":", color="0.5", lw=0.8)
    ax.plot(stats.expon.ppf(p[lo]), stats.expon.ppf(p[lo] - band), ":", color="0.5", lw=0.8,
            label="95% KS band (n calls)")
    lim = 1.15 * float(stats.expon.ppf(1 - 0.5 / n))
    beyond = int((res.figures["gaps"] > lim).sum() + (res.figures["gaps_day"] > lim).sum())
    ax.plot([0, lim], [0, lim], color="0.3", lw=0.8)
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    if beyond:
        ax.text(0.02, 0.98, f"{beyond} point(s) above the frame (long gaps, e.g. days without calls)",
                transform=ax.transAxes, va="top", fontsize=7, color="0.3")
    ax.set_xlabel("Exp(1) quantile")
    ax.set_ylabel("time-rescaled inter-arrival time")
    ax.set_title("QQ plot of time-rescaled inter-arrival times", fontsize=10)
    ax.legend(fontsize=8)
    _save(fig, path)


def fig_simcheck(res, path: Path) -> None:
    plt = _plt()
    chk = res.figures["check"]
    o, s = chk["observed"], chk["simulated"]
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 3.8))
    for x, label, color in ((o["daily"], "observed", "0.2"), (s["daily"], "simulated", "C0")):
        xs = np.sort(x)
        a.step(xs, np.arange(1, xs.size + 1) / xs.size, where="post", color=color, label=label)
    a.set_xlabel("calls per day")
    a.set_ylabel("cumulative share of days")
    a.legend(fontsize=8)
    summ = chk["summary"]
    a.set_title(f"daily counts (KS {summ['daily_counts']['ks_statistic']:.3f})", fontsize=10)
    h = np.arange(24)
    b.plot(h, summ["hour_of_day_mean"]["observed"], "o-", color="0.2", ms=3, label="observed")
    b.plot(h, summ["hour_of_day_mean"]["simulated"], "s-", color="C0", ms=3, label="simulated")
    b.set_xlabel("hour of day")
    b.set_ylabel("mean calls in the hour")
    b.set_title("hour-of-day profile", fontsize=10)
    b.legend(fontsize=8)
    k = np.arange(0, 9)
    width = 0.4
    for off, x, label, color in ((-width / 2, o["hourly"], "observed", "0.4"), (width / 2, s["hourly"], "simulated", "C0")):
        share = np.bincount(np.minimum(x.astype(int), k[-1]), minlength=k.size) / x.size
        c.bar(k + off, share, width=width, color=color, label=label)
    c.set_xticks(k, [str(v) for v in k[:-1]] + [f"{k[-1]}+"])
    c.set_xlabel("calls in an hour")
    c.set_ylabel("share of hours")
    c.set_title(f"hourly counts (KS {summ['hourly_counts']['ks_statistic']:.3f})", fontsize=10)
    c.legend(fontsize=8)
    _save(fig, path)


def _table(rows: list[dict], keys: list[str]) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(k)))}</td>" for k in keys) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.7g}"
    return "" if v is None else str(v)


def _kv(d: dict) -> str:
    return _table([{"key": k, "value": json.dumps(v) if isinstance(v, (dict, list)) else v} for k, v in d.items()],
                  ["key", "value"])


def _season_html(season: dict) -> str:
    """What was estimated of the season and trend, and why not the rest."""
    e = html.escape
    out = [f"<p>Not estimated ({e(k.replace('_', '-'))}): {e(v)}.</p>"
           for k, v in season.get("why_not", {}).items()]
    if season.get("trend_log_per_year") is not None:
        out.append(f"<p>Trend: {season['trend_log_per_year']:+.4f} (log) a year from {e(season['reference_date'])}, "
                   f"held within {e(season['trend_dates'][0])} to {e(season['trend_dates'][1])}.</p>")
    if season.get("month_log_effect"):
        out.append(_table([{"month": i + 1, "log_effect": v} for i, v in enumerate(season["month_log_effect"])],
                          ["month", "log_effect"]))
    out.append(f"<p>Rule: {e(json.dumps(season.get('rule', {})))}.</p>")
    return "".join(out)


def page_html(res, names: dict, figures: bool) -> str:
    f = res.fitted
    src = f["source"]
    disp = f["dispersion_test"]
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>patrolsim fit diagnostics</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
        "font-size:90%;text-align:left}img{max-width:100%}</style></head><body>",
        f"<h1>Fitted demand: {e(names['fitted'])}</h1>",
        f"<p>From <code>{e(src['file'])}</code> ({e(src['format'])}), window {e(src['window']['start'])} to "
        f"{e(str(src['window']['end']))}: {src['rows_read']} rows read, <b>{src['rows_used']} used</b>, "
        f"{src['rows_dropped']} left out. Network: {e(f['network']['source'])} ({f['network']['places']} places).</p>",
        "<h2>Rows left out and notes</h2>",
        _table([{"reason": r, "rows": n, "examples": "; ".join(src["examples"].get(r, []))}
                for r, n in src["dropped_by_reason"].items()], ["reason", "rows", "examples"])
        if src["dropped_by_reason"] else "<p>No row was left out.</p>",
        "<ul>" + "".join(f"<li>{e(n)}</li>" for n in src["notes"]) + "</ul>",
        f"<p>Call times: {e(json.dumps(src['call_time']))}</p>",
        f"<p>Snap distance to the nearest drivable node (m): {e(json.dumps(src['snap_distance_m']))}</p>",
        "<h2>Time</h2>",
        f"<p>{f['incidents_per_day']:.3f} calls per day on average. Smoothing chosen by held-out weeks: "
        f"{e(json.dumps(f['temporal']['smoothing']))}</p>",
        "<img src='hour_of_week.png' alt='hour-of-week profile'>" if figures else "",
        f"<p>Seasonal level (calls per day by month): {e(json.dumps(f['temporal']['seasonal']['by_month_per_day']))}</p>",
        "<h3>Season and trend (applied by the simulator per calendar day)</h3>",
        _season_html(f["season"]),
        "<h2>Dispersion test</h2>",
        f"<p>{e(disp['decision'])}.</p>",
        _table([{"levels": k, **{kk: v[kk] for kk in ("days", "mean_per_day", "variance_per_day", "pearson_chi2",
                                                   "df", "dispersion_ratio", "p_value", "gamma_shape",
                                                   "lr_statistic", "lr_p_value")}}
                for k, v in (("constant", disp["constant_level"]), ("by month", disp["monthly_levels"]))],
               ["levels", "days", "mean_per_day", "variance_per_day", "pearson_chi2", "df", "dispersion_ratio",
                "p_value", "gamma_shape", "lr_statistic", "lr_p_value"]),
        "<img src='dispersion.png' alt='dispersion test'>" if figures else "",
        "<h2>Time-rescaled inter-arrival times</h2>",
        f"<p>Kolmogorov-Smirnov distance from Exp(1): {e(json.dumps(f['time_rescaling_ks']))}. Times recorded "
        "to the minute are spread within their minute first.</p>",
        "<img src='qq_rescaled.png' alt='QQ plot'>" if figures else "",
        "<h2>Place</h2>",
        f"<p>Bandwidth {f['spatial']['bandwidth_m']:g} m with {100 * f['spatial']['uniform_share']:g}% spread uniformly, "
        f"chosen by held-out weeks (log-likelihood per call {f['spatial']['cv_loglik_per_call']:.4f} against "
        f"{f['spatial']['cv_uniform_loglik_per_call']:.4f} for uniform over streets).</p>",
        "<img src='intensity_map.png' alt='intensity map'>" if figures else "",
        "<h3>Hot spots</h3>",
        _table(f["spatial"]["hot_spots"], ["rank", "lon", "lat", "share", "lift_over_uniform", "calls_snapped", "label"]),
        "<h2>Incident types</h2>",
        _table(f["types"], ["name", "share", "priority", "units_needed", "on_scene_mean_s", "on_scene_cv", "calls",
                            "on_scene_source"]),
        "<h3>Most common call types and their mapping</h3>",
        _table(f["type_mapping"], ["call_type", "calls", "type", "pattern"]),
        "<h2>Simulated against observed counts</h2>",
        "<img src='sim_vs_observed.png' alt='simulated vs observed counts'>" if figures else "",
        _kv({k: v for k, v in f["simulated_vs_observed"].items() if k not in ("hour_of_day_mean",)}),
    ]
    if res.holdout is not None:
        h = res.holdout
        parts += ["<h2>Hold-out</h2>",
                  f"<p>{h['holdout_incidents']} hold-out incidents ({e(h['window']['start'])} to "
                  f"{e(h['window']['end'])}), written to <code>{e(names['holdout'])}</code>.</p>",
                  _table([{"model": k, "loglik_per_incident": v} for k, v in h["holdout_loglik_per_incident"].items()],
                         ["model", "loglik_per_incident"]),
                  f"<p>Units: {e(h['units'])}. Baseline: {e(h['baseline'])}.</p>"]
        sea = h.get("season")
        if sea and sea["season_used"]:
            cal = sea["daily_calibration"]
            parts += ["<h3>With and without the season and trend</h3>",
                      _table([{"model": k, "loglik_per_incident": sea["loglik_per_incident"][k], **cal[k]}
                              for k in ("with_season", "without_season")],
                             ["model", "loglik_per_incident", "observed_total", "expected_total",
                              "observed_over_expected", "mean_abs_error_per_day", "pearson_ratio",
                              "share_of_days_in_90pct_interval"])]
    parts.append(f"<p style='color:#666;font-size:80%'>Map data {ATTRIBUTION}.</p></body></html>")
    return "\n".join(p for p in parts if p)


def write_page(res, folder: Path, *, figures: bool = True, names: dict, city=None) -> None:
    """Write index.html, diagnostics.json and (unless disabled) the PNG figures into ``folder``."""
    from sim.outputs import write_json

    city = city or res.figures.get("city")
    if figures:
        fig_profile(res, folder / "hour_of_week.png")
        fig_map(res, city, folder / "intensity_map.png")
        fig_dispersion(res, folder / "dispersion.png")
        fig_qq(res, folder / "qq_rescaled.png")
        fig_simcheck(res, folder / "sim_vs_observed.png")
    (folder / "index.html").write_text(page_html(res, names, figures), encoding="utf-8")
    write_json(folder / "diagnostics.json", res.diagnostics)
