"""The report's headline: both lines with 95% CIs, the verdict in one sentence, and the other measures.

Words follow the terminal table: a line "holds" when its mean reaches the target and
"fails" otherwise; when the 95% interval straddles the target the verdict says that
more replications are needed to be sure.
"""

from __future__ import annotations

from sim import metrics
from sim.report.terminal import run_label


def pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def mmss(x) -> str:
    if x is None:
        return "n/a"
    m, s = divmod(int(round(x)), 60)
    return f"{m}:{s:02d}"


def _ci(stat: dict, fmt) -> str:
    lo, hi = (stat or {}).get("ci95") or (None, None)
    return "" if lo is None else f"{fmt(lo)} – {fmt(hi)}"


def line_verdict(stat: dict, target: float) -> tuple[str, str]:
    """(words, css class) for one line's compliance against the target."""
    mean = (stat or {}).get("mean")
    if mean is None:
        return "no such incidents", ""
    lo, hi = stat.get("ci95") or (None, None)
    crosses = lo is not None and lo < target <= hi
    if mean >= target:
        return ("holds (CI crosses target)", "warn") if crosses else ("holds", "ok")
    return ("fails (CI crosses target)", "warn") if crosses else ("fails", "bad")


def _fmt(metric: str):
    """How a value of ``metric`` is shown in the report: by its kind in the metric table."""
    return {"share": pct, "seconds": mmss}.get(metrics.kind(metric), lambda x: f"{x:,.1f}")


def headline_rows(summary: dict) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Headers, rows and per-cell CSS classes of the headline table (the metric table's headline
    metrics, labelled as in the terminal; the two lines with their target and verdict)."""
    m, lines = summary["metrics"], summary["lines"]
    t = lines["target_compliance"]
    rows, classes = [], []
    for key in metrics.names(view="headline"):
        if key not in m:
            continue
        fmt = _fmt(key)
        name = run_label(key, lines, first_time=metrics.kind(key) == "seconds")
        if metrics.BY_NAME[key].line:
            words, cls = line_verdict(m.get(key), t)
            rows.append([name, pct((m.get(key) or {}).get("mean")), _ci(m.get(key), pct), f"{100 * t:.0f}%", words])
            classes.append(["", "", "", "", cls])
        else:
            rows.append([name, fmt(m[key]["mean"]), _ci(m[key], fmt), "", ""])
            classes.append([""] * 5)
    return ["Measure", "Mean", "95% CI", "Target", "Verdict"], rows, classes


def other_rows(summary: dict) -> list[list[str]]:
    """The other measures of the metric table (not headline), labelled and formatted by it."""
    m = summary["metrics"]
    out = []
    for key in metrics.in_table_order(m):
        if key in metrics.names(view="headline"):
            continue
        s = m.get(key)
        if s and s.get("mean") is not None:
            fmt = _fmt(key)
            out.append([run_label(key, summary["lines"], first_time=metrics.kind(key) == "seconds"),
                        fmt(s["mean"]), _ci(s, fmt)])
    return out


def verdict_sentence(summary: dict) -> tuple[str, bool]:
    """One sentence a chief can read aloud, and whether both lines hold."""
    m, lines = summary["metrics"], summary["lines"]
    t = lines["target_compliance"]
    r_min, b_min = lines["response_s"] / 60, lines["backup_s"] / 60
    holds = bool(summary.get("lines_hold"))
    parts = []
    for key, name in (("response_within_line", f"the {r_min:g}-minute response line"),
                      ("backup_within_line", f"the {b_min:g}-minute backup line")):
        s = m.get(key) or {}
        if s.get("mean") is None:
            parts.append(f"{name}: no incidents")
            continue
        words, _ = line_verdict(s, t)
        parts.append(f"{name} {words.split(' ')[0]} at {pct(s['mean'])} (95% CI {_ci(s, pct)})")
    head = "YES: both lines hold" if holds else "NO: the two lines do not both hold"
    text = "; ".join(parts)
    return f"{head} at the {100 * t:.0f}% target. {text[0].upper()}{text[1:]}.", holds


def level_rows(summary: dict) -> list[list[str]]:
    """One row per alert level: both lines, p90 and whether they hold."""
    from sim.report.figures import LEVEL_ORDER

    by = summary.get("by_alert_level") or {}
    order = [lv for lv in LEVEL_ORDER if lv in by] + [lv for lv in by if lv not in LEVEL_ORDER]
    rows = []
    for lv in order:
        s = by[lv]
        f = s.get("force") or {}
        rows.append([lv, str(f.get("patrol_officers", "")),
                     f"{pct(s['response_within_line']['mean'])} ({_ci(s['response_within_line'], pct)})",
                     f"{pct(s['backup_within_line']['mean'])} ({_ci(s['backup_within_line'], pct)})",
                     mmss(s.get("response_time_p90_s", {}).get("mean")), "yes" if s.get("lines_hold") else "no"])
    return rows
