"""The charts of a run report: compliance by hour and by alert level, response times, utilisation,
encirclement and visibility.

Each function takes the summary or a table from the results folder and returns a
matplotlib Figure (or None when the run has nothing to show). Shares are drawn in
percent, times in seconds, and every chart carries its title, axis labels with units,
a legend and, where a line applies, the target.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.metrics import mean_ci95
from sim.report.figure_io import BACKUP_MISSED, KIND_COLOUR, MISSED, TARGET, margins, new_figure

LEVEL_ORDER = ("green", "yellow", "orange", "red")
RESPONSE_COLOUR = "#2166ac"
BACKUP_COLOUR = "#b2182b"


def _pct(x):
    return math.nan if x is None else 100.0 * x


def _finite(values) -> np.ndarray:
    """The finite values only: axis limits come from what is drawn (NaN marks "no value here")."""
    a = np.asarray(values, float)
    return a[np.isfinite(a)]


def _series(block: dict, keys, metric: str):
    mean = np.array([_pct((block[k].get(metric) or {}).get("mean")) for k in keys], float)
    lo = np.array([_pct(((block[k].get(metric) or {}).get("ci95") or [None, None])[0]) for k in keys], float)
    hi = np.array([_pct(((block[k].get(metric) or {}).get("ci95") or [None, None])[1]) for k in keys], float)
    return mean, lo, hi


def _target_line(ax, target: float) -> None:
    ax.axhline(100 * target, color=TARGET, lw=1.2, ls="--", label=f"Target {100 * target:.0f}%", zorder=1)


def _line_names(lines: dict) -> tuple[str, str]:
    return (f"First unit within {lines['response_s']:.0f} s ({lines['response_s'] / 60:g} min)",
            f"Backup within {lines['backup_s']:.0f} s ({lines['backup_s'] / 60:g} min)")


def _finish_time_histogram(fig, ax, top: float, *, xlabel: str, ylabel: str, title: str, title_size: float = 11):
    """The common end of a histogram of seconds from the call (response times, encirclement):
    the axis cut at ``top`` (later times sit in the last bin), labels, title, legend, grid."""
    ax.set_xlim(0, top)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=title_size, loc="left")
    ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
    ax.grid(axis="y", color="0.92")
    margins(fig)
    return fig


def _percent_with_ci(stats: list[dict], *, missing: float = math.nan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means and 95% CI bounds in percent from ``sim.metrics.mean_ci95`` results, for bars and bands.

    A bound that is not defined (one replication) is drawn at the mean, so the error bar or band
    has no width rather than a hole; a mean that is not defined is ``missing``.
    """
    m = np.array([missing if s["mean"] is None else 100.0 * s["mean"] for s in stats], float)
    lo = np.array([mi if s["ci95"][0] is None else 100.0 * s["ci95"][0] for s, mi in zip(stats, m)], float)
    hi = np.array([mi if s["ci95"][1] is None else 100.0 * s["ci95"][1] for s, mi in zip(stats, m)], float)
    return m, lo, hi


def hour_figure(summary: dict):
    """Both lines' compliance by hour of the call, with 95% CI bands, the target, and incidents per hour."""
    by_hour = summary.get("by_hour") or {}
    if not by_hour:
        return None
    hours = sorted(by_hour, key=int)
    x = np.array([int(h) for h in hours])
    lines = summary["lines"]
    fig = new_figure(8.0, 4.4)
    ax = fig.add_subplot(1, 1, 1)
    ax2 = ax.twinx()
    n = np.array([(by_hour[h].get("incidents") or {}).get("mean") or 0.0 for h in hours], float)
    days = max(float(summary.get("horizon_days", 1)) - float(summary.get("warmup_days", 0)), 1e-9)
    ax2.bar(x, n / days, width=0.8, color="0.85", zorder=0, label="Incidents per day in this hour (right axis)")
    ax2.set_ylabel("Incidents per day in the hour")
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    for metric, colour, name in (("response_within_line", RESPONSE_COLOUR, _line_names(lines)[0]),
                                 ("backup_within_line", BACKUP_COLOUR, _line_names(lines)[1])):
        m, lo, hi = _series(by_hour, hours, metric)
        ax.fill_between(x, lo, hi, color=colour, alpha=0.18, lw=0, label=f"95% CI ({name.split(' within')[0]})")
        ax.plot(x, m, "o-", color=colour, ms=3.5, lw=1.6, label=name)
    _target_line(ax, lines["target_compliance"])
    ax.set_xlim(-0.6, 23.6)
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("Hour of day of the call (h)")
    ax.set_ylabel("Incidents within the line (%)")
    # the axis starts below the lowest response value drawn: a band's foot, or the point itself where
    # there is no band (one replication has no CI; np.nanmin of an all-NaN row warns and gives NaN)
    r_mean, r_lo, _ = _series(by_hour, hours, "response_within_line")
    drawn = _finite(np.fmin(r_lo, r_mean))
    lo_all = float(drawn.min()) if drawn.size else 50.0
    ax.set_ylim(max(0.0, min(lo_all, 100 * lines["target_compliance"]) - 8), 101)
    ax.set_title("Compliance by hour of day (mean over replications, 95% CI)", fontsize=11, loc="left")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=3,
              frameon=False)
    ax.grid(axis="y", color="0.92")
    margins(fig, right=0.92, bottom=0.3)
    return fig


def level_figure(summary: dict):
    """Both lines' compliance at each alert level the run saw, with 95% CIs and the target."""
    by_level = summary.get("by_alert_level") or {}
    levels = [lv for lv in LEVEL_ORDER if lv in by_level] + [lv for lv in by_level if lv not in LEVEL_ORDER]
    if not levels:
        return None
    lines = summary["lines"]
    fig = new_figure(max(5.6, 1.6 + 1.3 * len(levels)), 4.3)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(levels))
    width = 0.36
    for off, metric, colour, name in ((-width / 2, "response_within_line", RESPONSE_COLOUR, _line_names(lines)[0]),
                                      (width / 2, "backup_within_line", BACKUP_COLOUR, _line_names(lines)[1])):
        m, lo, hi = _series(by_level, levels, metric)
        err = np.vstack([m - lo, hi - m])
        err = np.where(np.isfinite(err), err, 0.0)
        ax.bar(x + off, m, width, color=colour, alpha=0.85, label=name)
        ax.errorbar(x + off, m, yerr=err, fmt="none", ecolor="black", capsize=4, lw=1.2,
                    label="95% CI" if metric == "response_within_line" else None)
        for xi, mi in zip(x + off, m):
            if np.isfinite(mi):
                ax.text(xi, 2, f"{mi:.1f}%", ha="center", va="bottom", fontsize=7, color="white", rotation=90)
    _target_line(ax, lines["target_compliance"])
    ax.set_xticks(x)
    ax.set_xticklabels([f"{lv}\n({'holds' if by_level[lv].get('lines_hold') else 'fails'})" for lv in levels])
    ax.set_xlabel("Alert level in force when the call came in")
    ax.set_ylabel("Incidents within the line (%)")
    ax.set_ylim(0, 105)
    ax.set_title("Compliance by alert level (95% CI)", fontsize=11, loc="left")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    ax.grid(axis="y", color="0.92")
    margins(fig, left=0.12, bottom=0.3)
    return fig


def response_time_figure(incidents: pd.DataFrame, lines: dict):
    """Distribution of first-unit and backup times (s from the call), with the two lines marked."""
    d = incidents[incidents["in_window"]] if "in_window" in incidents else incidents
    all_first = d["response_time_s"].to_numpy(float)
    all_backup = d.loc[d["units_needed"] >= 2, "backup_time_s"].to_numpy(float)
    first, backup = all_first[np.isfinite(all_first)], all_backup[np.isfinite(all_backup)]  # unserved: none
    if first.size == 0:
        return None
    r_s, b_s = lines["response_s"], lines["backup_s"]
    top = max(float(np.percentile(np.concatenate([first, backup]) if backup.size else first, 99.5)), b_s * 1.15)
    bins = np.linspace(0, top, 61)
    fig = new_figure(8.0, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(np.clip(first, 0, top), bins=bins, color=RESPONSE_COLOUR, alpha=0.75,
            label=f"First unit ({first.size:,} incidents; median {np.median(first):.0f} s)")
    if backup.size:
        ax.hist(np.clip(backup, 0, top), bins=bins, histtype="step", color=BACKUP_COLOUR, lw=1.8,
                label=f"Backup, second unit ({backup.size:,} incidents; median {np.median(backup):.0f} s)")
    # shares over every incident: one never reached counts as late
    late_r = 1.0 - float((first <= r_s).sum()) / all_first.size
    ax.axvline(r_s, color=MISSED, lw=1.8, ls="--", label=f"Response line {r_s:.0f} s: {100 * late_r:.1f}% later")
    late_b = 1.0 - float((backup <= b_s).sum()) / all_backup.size if all_backup.size else 0.0
    ax.axvline(b_s, color=BACKUP_MISSED, lw=1.8, ls="-.",
               label=f"Backup line {b_s:.0f} s: {100 * late_b:.1f}% of backups later")
    return _finish_time_histogram(
        fig, ax, top, xlabel="Time from the call to the unit's arrival (s)", ylabel="Incidents (all replications)",
        title="Response-time distribution (after warm-up; times above the axis end are in the last bin)",
        title_size=10)


def utilisation_figure(units: pd.DataFrame, beats: pd.DataFrame | None = None):
    """Share of on-duty time each beat's unit was busy (travelling or on scene), by unit kind, with 95% CIs."""
    if units is None or units.empty or "busy_share" not in units:
        return None
    from matplotlib.patches import Patch

    u = units.copy()
    u["group"] = np.where(u["role"] == "patrol", u["beat"].astype(int), -1)
    rows = []
    for (kind, group), g in u.groupby(["kind", "group"], sort=True):
        per_rep = g.groupby("replication")["busy_share"].mean()
        rows.append((kind, int(group), mean_ci95(per_rep.tolist())))
    kinds = [k for k in KIND_COLOUR if any(r[0] == k for r in rows)] + \
        sorted({r[0] for r in rows} - set(KIND_COLOUR))
    rows.sort(key=lambda r: (kinds.index(r[0]), r[1] < 0, r[1]))
    fig = new_figure(max(8.0, 0.22 * len(rows) + 2.0), 3.8)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(rows))
    m, lo, hi = _percent_with_ci([r[2] for r in rows], missing=0.0)
    colours = [KIND_COLOUR.get(r[0], "0.5") for r in rows]
    hatches = ["//" if r[1] < 0 else None for r in rows]
    bars = ax.bar(x, m, color=colours, alpha=0.85)
    for b, h in zip(bars, hatches):
        if h:
            b.set_hatch(h)
    ax.errorbar(x, m, yerr=np.vstack([m - lo, hi - m]), fmt="none", ecolor="black", capsize=2, lw=0.9)
    labels = []
    for kind in kinds:
        beat_ids = sorted(r[1] for r in rows if r[0] == kind and r[1] >= 0)
        labels += [str(i + 1) for i in range(len(beat_ids))]
        if any(r[0] == kind and r[1] < 0 for r in rows):
            labels.append("standby")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=6.5, rotation=90 if len(rows) > 40 else 0)
    ax.set_xlabel("Beat (numbered within each unit kind; hatched: standby units at stations)")
    ax.set_ylabel("Busy share of on-duty time (%)")
    ax.set_title("Utilisation per beat and unit kind (mean over replications, 95% CI)", fontsize=11, loc="left")
    handles = [Patch(color=KIND_COLOUR.get(k, "0.5"), label=f"{k} (mean {_kind_mean(u, k):.1f}%)") for k in kinds]
    handles.append(Patch(fc="white", ec="0.3", hatch="//", label="Standby units"))
    ax.legend(handles=handles, fontsize=7, loc="upper right", framealpha=0.9)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    tops = _finite(hi)
    ax.set_ylim(0, max(10.0, float(tops.max()) * 1.25 if tops.size else 10.0))
    ax.grid(axis="y", color="0.92")
    margins(fig)
    return fig


def _kind_mean(units: pd.DataFrame, kind: str) -> float:
    return 100 * float(units.loc[units["kind"] == kind, "busy_share"].mean())


def encirclement_figure(incidents: pd.DataFrame, lines: dict):
    """For major incidents: time until every road out of the radius was held, against the backup line."""
    if "encircle_s" not in incidents or "major" not in incidents:
        return None
    d = incidents[incidents["in_window"] & incidents["major"]] if "in_window" in incidents else \
        incidents[incidents["major"]]
    if "cordon_applies" in d:              # no road of the measured class leaves the circle: no cordon
        n_na = int((~d["cordon_applies"].astype(bool)).sum())
        d = d[d["cordon_applies"].astype(bool)]
    else:
        n_na = 0
    t = d["encircle_s"].to_numpy(float)
    if t.size == 0:
        return None
    never = int((~np.isfinite(t)).sum())   # NaN or inf: some exit road was never held
    t = t[np.isfinite(t)]
    b_s = lines["backup_s"]
    fig = new_figure(8.0, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    top = max(float(np.percentile(t, 99.5)) if t.size else b_s, b_s * 1.15)
    ax.hist(np.clip(t, 0, top), bins=np.linspace(0, top, 51), color="#54278f", alpha=0.75,
            label=f"Major incidents encircled ({t.size:,}; not encircled: {never:,}; no cordon to draw: {n_na:,})")
    within = float(d["encircled_within_line"].astype(bool).mean()) if len(d) else math.nan
    ax.axvline(b_s, color=BACKUP_MISSED, lw=1.8, ls="-.",
               label=f"Backup line {b_s:.0f} s: {100 * within:.1f}% encircled within it")
    return _finish_time_histogram(
        fig, ax, top, xlabel="Time from the call until every exit road of the radius is held (s)",
        ylabel="Major incidents (all replications)", title="Encirclement of major incidents")


def visibility_hour_figure(incidents: pd.DataFrame):
    """Share of incidents whose place a patrol passed in the hour before the call, by hour, with 95% CIs."""
    if "saw_patrol_last_hour" not in incidents:
        return None
    d = incidents[incidents["in_window"]] if "in_window" in incidents else incidents
    if d.empty:
        return None
    per = d.groupby(["hour_of_day", "replication"])["saw_patrol_last_hour"].mean()
    hours = sorted(d["hour_of_day"].unique())
    stats = [mean_ci95(per.loc[h].tolist()) for h in hours]
    m, lo, hi = _percent_with_ci(stats)
    fig = new_figure(8.0, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.fill_between(hours, lo, hi, color="#4292c6", alpha=0.2, lw=0, label="95% CI")
    ax.plot(hours, m, "o-", color="#08519c", ms=3.5, label="Incident place passed by a patrol in the hour before")
    overall = 100 * float(d["saw_patrol_last_hour"].mean())
    ax.axhline(overall, color="0.4", lw=1, ls=":", label=f"All hours: {overall:.1f}%")
    ax.set_xlim(-0.6, 23.6)
    ax.set_xticks(range(0, 24, 2))
    ax.set_ylim(0, 100)
    ax.set_xlabel("Hour of day of the call (h)")
    ax.set_ylabel("Incidents (%)")
    ax.set_title("Visible patrol: was the place patrolled in the hour before the call?", fontsize=11, loc="left")
    ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
    ax.grid(axis="y", color="0.92")
    margins(fig)
    return fig
