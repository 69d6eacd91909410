"""Terminal tables of the experiments: a sweep's points, a paired comparison, a hold search.

Metric labels, formats and the columns of sweep and hold tables come from
``sim.metrics.METRICS``; figures are formatted by ``sim.report.formats``.
"""

from __future__ import annotations

from sim import metrics
from sim.report.formats import difference, format_table, pct_ci, value, with_ci


# --------------------------------------------------------------------------- sweep
def sweep_table(summary: list[dict], param_names: list[str]) -> str:
    """One row per point (``sim.experiment.sweep.point_summary``), then its first errors."""
    names = metrics.names(view="sweep")
    headers = [*param_names, "reps", *(metrics.BY_NAME[n].short for n in names), "both lines"]
    rows = []
    for s in summary:
        m = s["metrics"]
        reps = f"{s['ok']}" + (f" ({s['failed']} failed)" if s["failed"] else "")
        hold = "n/a" if s["lines_hold"] is None else ("holds" if s["lines_hold"] else "FAILS")
        cells = [pct_ci(m.get(n)) if metrics.BY_NAME[n].line else value(n, (m.get(n) or {}).get("mean"))
                 for n in names]
        rows.append([*(str(s["params"][k]) for k in param_names), reps, *cells, hold])
    out = [format_table(headers, rows)]
    errs = [s for s in summary if s["first_error"]]
    for s in errs[:5]:
        out.append(f"  point {s['point_id']}: {s['failed']} failed replication(s), e.g. {s['first_error']}")
    if len(errs) > 5:
        out.append(f"  ... and {len(errs) - 5} more point(s) with failures (see the error column)")
    return "\n".join(out)


def sweep_outcome_line(name: str, outcome) -> str:
    """How many rows a sweep has, how many ran now, and how fast."""
    return (f"{name}: {len(outcome.results)} rows ({outcome.ran} run now, {outcome.skipped} already done, "
            f"{outcome.errors} failed) in {outcome.runtime_s:.1f} s"
            + (f", {60 * outcome.ran / outcome.runtime_s:.0f} replications/min" if outcome.ran else ""))


# --------------------------------------------------------------------------- compare
def comparison_table(comp: dict) -> str:
    """Per compared scenario: every metric's means and paired difference from the baseline."""
    base = comp["baseline"]
    out = []
    crn = ("same incidents in replication i of every scenario (common random numbers)"
           if comp["common_random_numbers"] else
           "demand, network or horizon differ: replications share seeds, not incidents")
    out.append(f"Paired differences from {base}: {comp['replications']} replications, seed {comp['seed']}; {crn}")
    for lab in comp["scenarios"]:
        if lab == base:
            continue
        rows = []
        for d in (x for x in comp["differences"] if x["scenario"] == lab):
            m = d["metric"]
            sig = "n/a" if d["significant"] is None else ("yes" if d["significant"] else "no")
            if d["significant"] and d["verdict"]:
                sig += f" ({d['verdict']})"
            rows.append([metrics.label(m), value(m, comp["metrics"][base][m]["mean"]),
                         value(m, comp["metrics"][lab][m]["mean"]), difference(m, d), sig])
        out.append("")
        out.append(format_table(["metric", base, lab, f"{lab} - {base} [95% CI]", "significant"], rows))
    sig = [d for d in comp["differences"] if d["significant"]]
    out.append("")
    if sig:
        out.append("  Significant (95% CI excludes 0): " + "; ".join(
            f"{metrics.label(d['metric'])} ({d['scenario']}: {d['verdict']})" for d in sig))
    else:
        out.append("  No difference is significant at 95%.")
    return "\n".join(out)


# --------------------------------------------------------------------------- hold
def hold_noun(cfg) -> str:
    """What the varied value counts, for the bracket ("officers"), or nothing for other keys."""
    return " officers" if cfg.vary.endswith("total_officers") else ""


def hold_bracket(r, cfg) -> str:
    """The two probes that bracket the smallest value that holds, e.g.
    ``between 10 and 11 officers (11 holds, 10 fails)``."""
    noun, f = hold_noun(cfg), cfg.fmt
    if r.status == "above-max":
        return f"more than {f(cfg.vmax)}{noun} ({f(cfg.vmax)} fails)"
    if r.status == "at-min":
        return f"{f(r.answer)}{noun} or fewer ({f(r.answer)} holds)"
    if r.status != "found":
        return "error"
    holds, fails = r.answer, r.largest_failing
    if fails is None:  # pragma: no cover - bisection always probes a failing minimum first
        return f"{f(holds)}{noun} ({f(holds)} holds)"
    return f"between {f(fails)} and {f(holds)}{noun} ({f(holds)} holds, {f(fails)} fails)"


def hold_interval(r, cfg) -> str:
    """The 95% interval of the answer where probes decided on the mean make it wider than the
    bracket (blank otherwise): just above the largest value that clearly failed to the smallest
    that clearly held."""
    if r.status != "found" or r.low is None or r.high is None:
        return ""
    tiny = 1 if cfg.integer else 0
    fails = r.largest_failing
    if fails is not None and r.low == fails + tiny and r.high == r.answer:
        return ""
    return f"{cfg.fmt(r.low)} to {cfg.fmt(r.high)}"


def hold_table(results, cfg) -> str:
    """Per alert level: the bracket of the smallest value that holds, compliance there, replications."""
    rows = []
    for r in results:
        at = r.at_answer
        rows.append([r.level, hold_bracket(r, cfg), hold_interval(r, cfg),
                     with_ci(metrics.RESPONSE_LINE, at.response) if at else "",
                     with_ci(metrics.BACKUP_LINE, at.backup) if at else "", str(r.replications), r.note])
    name = cfg.vary + (".<level>" if cfg.per_level else "")
    head = (f"Smallest {name} at which both lines hold ({100 * cfg.target:.0f}% compliance), "
            f"searched in [{cfg.fmt(cfg.vmin)}, {cfg.fmt(cfg.vmax)}] to a resolution of {cfg.fmt(cfg.step)}")
    there = [f"{metrics.BY_NAME[n].short} there" for n in (metrics.RESPONSE_LINE, metrics.BACKUP_LINE)]
    table = format_table(["level", "smallest value that holds", "95% interval (if wider)", *there,
                          "replications", "note"], rows)
    return head + "\n" + table


def hold_progress_line(done: int, elapsed_s: float) -> str:
    return f"  replications run: {done}  {elapsed_s:5.1f} s"
