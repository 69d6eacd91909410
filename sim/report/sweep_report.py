"""``report.html`` of ``patrolsim sweep``: compliance against each varied parameter, per alert level, and summary.csv.

An analyst's question after a sweep is "where does each line cross the target, at each
alert level?". For every varied parameter other than the alert level, one figure shows
both lines' compliance (mean and 95% CI across replications) against the parameter, one
curve per alert level, with the target as a dashed line. The end-of-sweep table (one row
per point: parameters, replications, every sweep metric's mean and CI, whether both lines
hold) is saved as ``summary.csv`` for a spreadsheet.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from sim import metrics
from sim.kinds import LEVELS
from sim.report import formats, html_page
from sim.report.experiment_page import Written, ci_errors, footer
from sim.report.figure_io import TARGET, margins, new_figure

LEVEL_KEY = "alert.level"
LEVEL_COLOUR = {"green": "#1a9850", "yellow": "#d4b000", "orange": "#f46d43", "red": "#b2182b"}
LINES = (metrics.RESPONSE_LINE, metrics.BACKUP_LINE)


def read_sweep(folder: Path) -> tuple[dict, pd.DataFrame, float, str]:
    """sweep.json, the successful rows of results.parquet, the target compliance and the base alert level."""
    import yaml

    folder = Path(folder)
    meta = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    rows = pd.read_parquet(folder / "results.parquet")
    if "error" in rows.columns:
        rows = rows[rows["error"].isna()]
    target, level = 0.9, "green"
    resolved = folder / "scenario.resolved.yaml"
    if resolved.exists():
        sc = yaml.safe_load(resolved.read_text(encoding="utf-8")) or {}
        target = float((sc.get("lines") or {}).get("target_compliance", target))
        level = str((sc.get("alert") or {}).get("level", level))
    return meta, rows, target, level


def summary_frame(meta: dict, rows: pd.DataFrame, target: float) -> pd.DataFrame:
    """One row per point: its parameters, replications run, each sweep metric's mean and 95% CI, lines hold."""
    names = [m for m in metrics.names(view="sweep") if m in rows.columns]
    by_point = {pid: g for pid, g in rows.groupby("point_id")}
    out = []
    for p in meta["points"]:
        g = by_point.get(p["point_id"], rows.iloc[0:0])
        s = metrics.summarise([{k: r[k] for k in names} for r in g.to_dict("records")]) if len(g) else {}
        rec = {"point_id": p["point_id"], **{k: p[k] for k in meta["parameters"]}, "replications": len(g)}
        for m in names:
            v = s.get(m, {"mean": None, "ci95": [None, None]})
            rec[f"{m}_mean"], (rec[f"{m}_ci95_low"], rec[f"{m}_ci95_high"]) = v["mean"], v["ci95"]
        rec["lines_hold"] = metrics.lines_hold(s, target=target) if s else None
        out.append(rec)
    return pd.DataFrame(out)


def _ordered(values) -> list:
    vals = list(dict.fromkeys(values))
    if all(v in LEVELS for v in vals):
        return sorted(vals, key=LEVELS.index)
    try:
        return sorted(vals, key=float)
    except (TypeError, ValueError):
        return vals


def _numeric(values) -> bool:
    try:
        [float(v) for v in values]
    except (TypeError, ValueError):
        return False
    return not all(isinstance(v, bool) for v in values)


def compliance_figure(rows: pd.DataFrame, param: str, target: float, base_level: str):
    """Both lines' compliance against ``param``: one curve per alert level (mean, 95% CI), the target dashed."""
    levels = _ordered(rows[LEVEL_KEY]) if LEVEL_KEY in rows.columns and param != LEVEL_KEY else [base_level]
    xs_all = _ordered(rows[param].tolist())
    numeric = _numeric(xs_all)
    pos = {v: (float(v) if numeric else i) for i, v in enumerate(xs_all)}
    fig = new_figure(9.0, 3.6)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, line in zip(axes, LINES):
        for k, lvl in enumerate(levels):
            g = rows if len(levels) == 1 else rows[rows[LEVEL_KEY] == lvl]
            xs, means, cis = [], [], []
            for v in xs_all:
                vals = g.loc[g[param] == v, line].tolist() if line in g.columns else []
                s = metrics.mean_ci95(vals)
                if s["mean"] is None:
                    continue
                lo, hi = s["ci95"]
                if lo is not None:
                    lo, hi = max(0.0, lo), min(1.0, hi)
                xs.append(pos[v] + (0 if numeric else (k - (len(levels) - 1) / 2) * 0.08))
                means.append(s["mean"])
                cis.append([lo, hi])
            if not xs:
                continue
            colour = LEVEL_COLOUR.get(str(lvl), None)
            ax.errorbar(xs, [100 * m for m in means], yerr=ci_errors(means, cis, 100.0), fmt="o-", color=colour,
                        capsize=3, ms=4, lw=1.4, label=f"{lvl} level" if param != LEVEL_KEY else "mean, 95% CI")
        ax.axhline(100 * target, color=TARGET, ls="--", lw=1.1, label=f"target {100 * target:.0f}%")
        ax.set_title(metrics.label(line), fontsize=10, loc="left")
        ax.set_xlabel(_axis_label(param), fontsize=9)
        if not numeric:
            ax.set_xticks(range(len(xs_all)))
            ax.set_xticklabels([str(v) for v in xs_all], fontsize=8)
        ax.set_ylim(0, 102)
        ax.grid(color="0.92")
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel("% of incidents within the line", fontsize=9)
    axes[1].legend(loc="lower right", fontsize=8, title="alert level" if len(levels) > 1 else None,
                   title_fontsize=8)
    others = [c for c in _params_of(rows) if c not in (param, LEVEL_KEY)]
    note = f" (mean over {', '.join(others)})" if others else ""
    fig.suptitle(f"Compliance against {param}{note}, mean and 95% CI across replications", fontsize=10)
    margins(fig, left=0.07, right=0.98, bottom=0.15, top=0.85)
    return fig


def _params_of(rows: pd.DataFrame) -> list[str]:
    return rows.attrs.get("parameters", [])


#: Units of varied keys, by the key's last part or its suffix (the project names keys with units).
KEY_UNITS = {"total_officers": "officers", "patrol_share": "share of officers on patrol",
             "incidents_per_day": "incidents per day", "horizon_days": "days"}
SUFFIX_UNITS = {"_s": "seconds", "_m": "metres", "_kph": "km/h", "_h": "hours", "_days": "days"}


def _axis_label(param: str) -> str:
    """The axis label of a varied key, with its unit where the key names one."""
    if param == LEVEL_KEY:
        return "alert level (green < yellow < orange < red)"
    leaf = param.rsplit(".", 1)[-1]
    for part in reversed(param.split(".")):  # alert.patrol_share.red: a share
        if part in KEY_UNITS:
            return f"{param} ({KEY_UNITS[part]})"
    for suffix, unit in SUFFIX_UNITS.items():
        if leaf.endswith(suffix):
            return f"{param} ({unit})"
    return f"{param} (value)"


def _table_html(summary: pd.DataFrame, params: list[str]) -> str:
    heads = [*params, "replications", *[metrics.BY_NAME[m].short or m for m in metrics.names(view="sweep")
                                        if f"{m}_mean" in summary.columns], "both lines hold"]
    rows, classes = [], []
    for r in summary.to_dict("records"):
        cells = [str(r[p]) for p in params] + [str(r["replications"])]
        for m in metrics.names(view="sweep"):
            if f"{m}_mean" in summary.columns:
                mean = r[f"{m}_mean"]
                mean = None if mean is None or (isinstance(mean, float) and math.isnan(mean)) else mean
                lo, hi = r[f"{m}_ci95_low"], r[f"{m}_ci95_high"]
                ci = [None if x is None or (isinstance(x, float) and math.isnan(x)) else x for x in (lo, hi)]
                cells.append(formats.with_ci(m, {"mean": mean, "ci95": ci}))
        hold = r["lines_hold"]
        cells.append("n/a" if hold is None else ("yes" if hold else "no"))
        rows.append(cells)
        classes.append([""] * (len(cells) - 1) + ["" if hold is None else ("ok" if hold else "bad")])
    return html_page.table(heads, rows, classes=classes, id_="sweep-table")


def write_sweep_report(folder: Path) -> Path:
    """Write report.html, summary.csv and one compliance figure (PNG, SVG) per varied parameter."""
    folder = Path(folder)
    meta, rows, target, base_level = read_sweep(folder)
    params = list(meta["parameters"])
    rows.attrs["parameters"] = params
    out = Written(folder)
    summary = summary_frame(meta, rows, target)
    out.text("summary.csv", summary.to_csv(index=False))
    shown = [p for p in params if p != LEVEL_KEY] or ([LEVEL_KEY] if LEVEL_KEY in params else [])
    figs = []
    for p in shown:
        stem = "sweep-" + re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-")
        figs.append(out.figure(compliance_figure(rows, p, target, base_level), stem,
                               f"Share of incidents reached within each line against {p}, one curve per alert "
                               f"level; bars: 95% CI across replications; dashed: the {100 * target:.0f}% target."))
    sections = [
        html_page.section("compliance", "Compliance against each varied parameter", "".join(figs)
                          or '<p class="note">No successful replication yet: nothing to draw.</p>'),
        html_page.section("table", "End-of-sweep table",
                          '<p class="note">The same table is saved as summary.csv in this folder.</p>'
                          + _table_html(summary, params)),
    ]
    n_ok = len(rows)
    text = html_page.page(
        title=f"patrolsim sweep: {meta.get('sweep', '')}",
        subtitle_lines=[x for x in [meta.get("description") or "",
                                    f"{len(meta['points'])} point(s) x {meta.get('replications')} replication(s), "
                                    f"seed {meta.get('seed')}; {n_ok} successful row(s); varied: {', '.join(params)}"]
                        if x],
        nav=[("compliance", "Compliance"), ("table", "Table")], sections=sections, footer=footer("sweep"),
        data_blocks=[html_page.json_block("report-data", {"target_compliance": target, "parameters": params})])
    return out.page(text)
