"""``report.html`` of ``patrolsim compare``: each scenario's own level against the target, and the paired differences.

A planner first asks "does each option meet the target?", then "how sure is the
difference?". The page answers both from comparison.json: one panel per headline metric
(``sim.metrics.METRICS``) with each scenario's mean and 95% CI and the target on the
compliance lines, and the paired differences from the baseline with their CIs.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim import metrics
from sim.report import formats, html_page
from sim.report.compare_figure import DIFFERENCE_AXES
from sim.report.experiment_page import Written, ci_errors, footer
from sim.report.figure_io import MET, MISSED, TARGET, margins, new_figure

#: How a level of each kind of metric is drawn: scale and axis unit.
LEVEL_AXES = {"share": (100.0, "% of incidents"), "seconds": (1.0, "seconds"), "count": (1.0, "incidents"),
              "hours": (1.0, "hours")}


def _target(comp: dict) -> float:
    t = comp.get("target_compliance") or {}
    vals = [v for v in t.values() if v is not None] if isinstance(t, dict) else [t]
    return float(vals[0]) if vals else 0.9


def levels_figure(comp: dict):
    """One panel per headline metric: each scenario's mean with its 95% CI; the target on the two lines."""
    labels = comp["scenarios"]
    shown = [m for m in metrics.names(view="headline") if m in comp["metrics"][labels[0]]]
    target = _target(comp)
    fig = new_figure(8.0, 1.2 + len(shown) * (0.95 + 0.3 * len(labels)))
    axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
    for ax, m in zip(axes, shown):
        scale, unit = LEVEL_AXES[metrics.kind(m)]
        if metrics.kind(m) == "share" and m in metrics.BY_NAME:
            unit = "% of " + metrics.BY_NAME[m].unit.removeprefix("share of ")
        means = [comp["metrics"][lab][m]["mean"] for lab in labels]
        cis = [comp["metrics"][lab][m]["ci95"] for lab in labels]
        ys = list(range(len(labels)))
        line = metrics.BY_NAME[m].line if m in metrics.BY_NAME else None
        colours = []
        for v in means:
            colours.append("tab:blue" if line is None or v is None else (MET if v >= target else MISSED))
        xs = [0.0 if v is None else v * scale for v in means]
        ax.barh(ys, xs, color=colours, alpha=0.35, height=0.6)
        ax.errorbar(xs, ys, xerr=ci_errors(means, cis, scale), fmt="o", color="0.15", capsize=4, ms=5,
                    label="mean, 95% CI")
        if line is not None:
            ax.axvline(target * scale, color=TARGET, ls="--", lw=1.2, label=f"target {100 * target:.0f}%")
            ax.set_xlim(0, 100)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(metrics.label(m), fontsize=9, loc="left")
        ax.set_xlabel(unit, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", color="0.9")
    fig.suptitle(f"Each scenario's own level: {comp.get('replications', '?')} replications, 95% CI\n"
                 "(green: meets the target, red: misses it)", fontsize=9)
    margins(fig, left=0.16, right=0.8, bottom=0.07, top=0.92)
    fig.subplots_adjust(hspace=1.0)
    return fig


def differences_figure(comp: dict):
    """One panel per headline metric: each scenario's paired difference from the baseline with its 95% CI."""
    base = comp["baseline"]
    others = [s for s in comp["scenarios"] if s != base]
    shown = [m for m in metrics.names(view="headline") if any(d["metric"] == m for d in comp["differences"])]
    fig = new_figure(8.0, 1.2 + len(shown) * (0.95 + 0.3 * len(others)))
    axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
    for ax, m in zip(axes, shown):
        scale, unit = DIFFERENCE_AXES[metrics.kind(m)]
        for y, lab in enumerate(others):
            d = next((r for r in comp["differences"] if r["metric"] == m and r["scenario"] == lab), None)
            if d is None or d["mean"] is None:
                continue
            colour = {"better": MET, "worse": MISSED}.get(d["verdict"] or "", "tab:blue")
            ax.errorbar([d["mean"] * scale], [y], xerr=ci_errors([d["mean"]], [d["ci95"]], scale), fmt="o",
                        color=colour, mfc=colour if d["significant"] else "white", capsize=4, ms=6)
        ax.axvline(0, color=TARGET, lw=0.9, ls="--", label="no difference")
        ax.set_yticks(range(len(others)))
        ax.set_yticklabels([f"{lab} - {base}" for lab in others], fontsize=8)
        ax.set_ylim(-0.6, len(others) - 0.4)
        ax.set_title(metrics.label(m), fontsize=9, loc="left")
        ax.set_xlabel(f"difference ({unit})", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
        ax.grid(axis="x", color="0.9")
    crn = "common random numbers" if comp.get("common_random_numbers") else "shared seeds"
    fig.suptitle(f"Paired differences from {base}, 95% CI, {crn}\n"
                 "(filled: significant; green: better, red: worse)", fontsize=9)
    margins(fig, left=0.22, right=0.8, bottom=0.09, top=0.9)
    fig.subplots_adjust(hspace=1.0)
    return fig


def _levels_table(comp: dict) -> str:
    labels = comp["scenarios"]
    names = [m for m in metrics.in_table_order(list(comp["metrics"][labels[0]]))]
    rows = [[metrics.label(m), *[formats.with_ci(m, comp["metrics"][lab].get(m)) for lab in labels]] for m in names]
    return html_page.table(["Measure", *labels], rows, id_="levels-table")


def _differences_table(comp: dict) -> str:
    rows, classes = [], []
    for d in comp["differences"]:
        p = d.get("p_value")
        rows.append([metrics.label(d["metric"]), f"{d['scenario']} - {d['baseline']}",
                     formats.difference(d["metric"], d), "n/a" if p is None else f"{p:.3g}",
                     "yes" if d["significant"] else "no", d["verdict"] or ""])
        cls = {"better": "ok", "worse": "bad"}.get(d["verdict"] or "", "")
        classes.append(["", "", cls, "", "", cls])
    return html_page.table(["Measure", "Difference", "Mean [95% CI]", "p", "Significant", "Verdict"], rows,
                           classes=classes, id_="differences-table")


def write_compare_report(folder: Path) -> Path:
    """Write report.html and its figures (PNG and SVG) into a compare folder; return the page's path."""
    folder = Path(folder)
    comp = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
    out = Written(folder)
    target = _target(comp)
    levels = out.figure(levels_figure(comp), "compare-levels",
                        "Each scenario's mean of each headline measure with its 95% CI; dashed: the target "
                        "compliance of the two lines.")
    diffs = out.figure(differences_figure(comp), "compare-differences",
                       f"Paired difference of each scenario from the baseline {comp['baseline']} with its 95% CI "
                       "(replication i of every scenario sees the same incidents when the demand is the same).")
    crn = ("common random numbers: replication i of every scenario sees the same incidents"
           if comp.get("common_random_numbers") else "the same seeds, but the demand differs between scenarios")
    sections = [
        html_page.section("levels", "Each scenario against the target",
                          f'<p class="note">Target: {100 * target:.0f}% of incidents within each line.</p>'
                          + levels + _levels_table(comp)),
        html_page.section("differences", "Paired differences from the baseline", diffs + _differences_table(comp)),
    ]
    nav = [("levels", "Each scenario"), ("differences", "Differences")]
    text = html_page.page(
        title=f"patrolsim compare: {' vs '.join(comp['scenarios'])}",
        subtitle_lines=[f"{comp.get('replications')} replications each, seed {comp.get('seed')}; {crn}"],
        nav=nav, sections=sections, footer=footer("compare"),
        data_blocks=[html_page.json_block("report-data", _clean(comp))])
    return out.page(text)


def _clean(x):
    from sim.outputs import _clean as clean

    return clean(x)
