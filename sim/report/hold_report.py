"""``report.html`` of ``patrolsim hold``: the force (or share) needed per alert level, with its bracket.

Every probe hold.json records is drawn: for each level, the values tried, marked as
holding (both lines at the target) or failing, and the smallest value that holds with the
failing probe just below it (the bracket). A second figure shows both lines' compliance
at each probe with its 95% CI against the target, so a reader sees how close each call was.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim import metrics
from sim.kinds import LEVELS
from sim.report import formats, html_page
from sim.report.experiment_page import Written, ci_errors, footer
from sim.report.figure_io import MET, MISSED, TARGET, margins, new_figure
from sim.report.sweep_report import LEVEL_COLOUR


def _noun(report: dict) -> str:
    vary = report["vary"]
    if vary.endswith("total_officers"):
        return "officers"
    if vary.endswith("patrol_share"):
        return "share of officers on patrol"
    return "value"


def _fmt(x) -> str:
    return "n/a" if x is None else (f"{x:g}" if isinstance(x, (int, float)) else str(x))


def bracket(level: dict) -> tuple[float | None, float | None]:
    """(largest value that failed, smallest value that held) among the level's probes."""
    holds = [p["value"] for p in level["probes"] if p["holds"]]
    fails = [p["value"] for p in level["probes"] if not p["holds"]]
    return (max(fails) if fails else None), (min(holds) if holds else None)


def bracket_text(level: dict, noun: str) -> str:
    fails, holds = bracket(level)
    if holds is None:
        return f"more than {_fmt(fails)} {noun} ({_fmt(fails)} fails)" if fails is not None else "no probe"
    if fails is None or fails > holds:
        return f"{_fmt(holds)} {noun} or fewer ({_fmt(holds)} holds)"
    return f"between {_fmt(fails)} and {_fmt(holds)} {noun} ({_fmt(holds)} holds, {_fmt(fails)} fails)"


def _levels(report: dict) -> list[dict]:
    return sorted(report["levels"], key=lambda r: LEVELS.index(r["level"]) if r["level"] in LEVELS else 99)


def needed_figure(report: dict):
    """Per alert level: every probe (filled green: holds, open red: fails) and the bracket of the answer."""
    levels = _levels(report)
    noun = _noun(report)
    fig = new_figure(8.5, 1.4 + 0.6 * len(levels))
    ax = fig.subplots()
    for y, lv in enumerate(levels):
        fails, holds = bracket(lv)
        if fails is not None and holds is not None and fails < holds:
            ax.plot([fails, holds], [y, y], color=LEVEL_COLOUR.get(lv["level"], "0.3"), lw=7, alpha=0.35,
                    solid_capstyle="butt", label="bracket of the answer" if y == 0 else None)
        for p in lv["probes"]:
            ax.plot([p["value"]], [y], "o", ms=7, color=MET if p["holds"] else MISSED,
                    mfc=MET if p["holds"] else "white", mew=1.5)
        if holds is not None:
            ax.annotate(f"{_fmt(holds)}", (holds, y), xytext=(0, 9), textcoords="offset points", ha="center",
                        fontsize=8, fontweight="bold")
    ax.plot([], [], "o", color=MET, label="probe: both lines hold")
    ax.plot([], [], "o", color=MISSED, mfc="white", mew=1.5, label="probe: a line fails")
    ax.set_yticks(range(len(levels)))
    ax.set_yticklabels([f"{lv['level']} level" for lv in levels], fontsize=9)
    ax.set_ylim(-0.7, len(levels) - 0.3)
    ax.set_xlim(report["min"] - 0.03 * (report["max"] - report["min"]),
                report["max"] + 0.03 * (report["max"] - report["min"]))
    ax.set_xlabel(f"{report['vary']}{'.<level>' if report.get('per_level') else ''} ({noun})", fontsize=9)
    ax.set_title(f"Smallest value of {report['vary']} at which both lines reach "
                 f"{100 * report['target_compliance']:.0f}%, per alert level", fontsize=10, loc="left")
    ax.grid(axis="x", color="0.92")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    margins(fig, left=0.12, right=0.72, bottom=0.3 if len(levels) < 3 else 0.18, top=0.85)
    return fig


def probes_figure(report: dict):
    """Both lines' compliance at each probe, mean with 95% CI, one curve per level, the target dashed."""
    levels = _levels(report)
    target = report["target_compliance"]
    fig = new_figure(9.0, 3.6)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (key, line) in zip(axes, (("response_within_line", metrics.RESPONSE_LINE),
                                      ("backup_within_line", metrics.BACKUP_LINE))):
        for lv in levels:
            probes = sorted((p for p in lv["probes"] if (p.get(key) or {}).get("mean") is not None),
                            key=lambda p: p["value"])
            if not probes:
                continue
            means = [p[key]["mean"] for p in probes]
            ax.errorbar([p["value"] for p in probes], [100 * m for m in means],
                        yerr=ci_errors(means, [p[key]["ci95"] for p in probes], 100.0), fmt="o-", capsize=3,
                        ms=4, lw=1.3, color=LEVEL_COLOUR.get(lv["level"]), label=f"{lv['level']} level")
        ax.axhline(100 * target, color=TARGET, ls="--", lw=1.1, label=f"target {100 * target:.0f}%")
        ax.set_title(metrics.label(line), fontsize=10, loc="left")
        ax.set_xlabel(f"{report['vary']} ({_noun(report)})", fontsize=9)
        ax.set_ylim(0, 102)
        ax.grid(color="0.92")
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel("% of incidents within the line", fontsize=9)
    axes[1].legend(loc="lower right", fontsize=8)
    fig.suptitle("Compliance at each probe, mean and 95% CI across its replications", fontsize=10)
    margins(fig, left=0.07, right=0.98, bottom=0.15, top=0.85)
    return fig


def _table_html(report: dict) -> str:
    noun = _noun(report)
    rows, classes = [], []
    for lv in _levels(report):
        at = next((p for p in lv["probes"] if p["value"] == lv["smallest_value"]), None)
        rows.append([lv["level"], bracket_text(lv, noun),
                     formats.with_ci(metrics.RESPONSE_LINE, at["response_within_line"]) if at else "",
                     formats.with_ci(metrics.BACKUP_LINE, at["backup_within_line"]) if at else "",
                     str(lv["replications"]), lv.get("note") or ""])
        classes.append(["", "ok" if lv["status"] in ("found", "at-min") else "bad", "", "", "", ""])
    return html_page.table(["Alert level", "Smallest value that holds (bracket)", "First unit within line there",
                            "Backup within line there", "Replications", "Note"], rows, classes=classes,
                           id_="hold-table")


def write_hold_report(folder: Path) -> Path:
    """Write report.html and the two figures (PNG and SVG) into a hold folder; return the page's path."""
    folder = Path(folder)
    report = json.loads((folder / "hold.json").read_text(encoding="utf-8"))
    out = Written(folder)
    needed = out.figure(needed_figure(report), "hold-needed",
                        "Every value tried per alert level: filled green, both lines hold; open red, a line fails. "
                        "The shaded bar is the bracket: from the largest value that fails to the smallest that holds.")
    probes = out.figure(probes_figure(report), "hold-probes",
                        "Compliance of both lines at each probe, with the 95% CI of its replications; dashed: target.")
    sections = [
        html_page.section("needed", "What each alert level needs", needed + _table_html(report)),
        html_page.section("probes", "Compliance at each probe", probes),
    ]
    text = html_page.page(
        title=f"patrolsim hold: {report.get('scenario', '')}",
        subtitle_lines=[f"vary {report['vary']} in [{_fmt(report['min'])}, {_fmt(report['max'])}] step "
                        f"{_fmt(report['step'])}; target {100 * report['target_compliance']:.0f}%; "
                        f"{report['min_replications']}-{report['max_replications']} replications per value, "
                        f"seed {report.get('seed')}"],
        nav=[("needed", "Needed per level"), ("probes", "Probes")], sections=sections, footer=footer("hold"),
        data_blocks=[html_page.json_block("report-data", report)])
    return out.page(text)
