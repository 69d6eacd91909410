"""Terminal tables of the analytic models (Larson's hypercube, the scenario estimate)."""

from __future__ import annotations

import math

#: Larger problems print their dispatch fractions only in the JSON file.
MAX_TABLE_ATOMS = 30
MAX_TABLE_UNITS = 12


def hypercube_table(result, *, problem_file: str) -> str:
    """A readable summary of a :class:`~sim.analytic.hypercube.HypercubeResult`."""
    n, j = len(result.units), len(result.atoms)
    what = "calls wait" if result.queue == "infinite" else "calls are lost"
    lines = [f"Hypercube model ({result.method}, {result.queue} queue): {problem_file}",
             f"  {n} units, {j} atoms, mean workload {float(result.workloads.mean()):.4f}", ""]
    width = max(len("unit"), *(len(u) for u in result.units))
    lines.append(f"  {'unit':<{width}}  workload")
    for u, w in zip(result.units, result.workloads):
        lines.append(f"  {u:<{width}}  {w:8.4f}")
    lines += ["",
              f"  P(all units busy at a call) = {result.p_queue:.4f}  ({what})",
              f"  cross-area dispatch fraction = {result.cross_area_fraction:.4f}"]
    if result.mean_travel_time is not None:
        lines.append(f"  mean travel time = {result.mean_travel_time:.4f}")
    lines.append("")
    if j <= MAX_TABLE_ATOMS and n <= MAX_TABLE_UNITS:
        aw = max(len("atom"), *(len(a) for a in result.atoms))
        cw = max(7, *(len(u) for u in result.units))
        lines.append("  dispatch fractions (share of all dispatches: atom row, unit column)")
        lines.append(f"  {'atom':<{aw}}  " + "  ".join(f"{u:>{cw}}" for u in result.units))
        for a, row in zip(result.atoms, result.dispatch_fractions):
            lines.append(f"  {a:<{aw}}  " + "  ".join(f"{x:>{cw}.4f}" for x in row))
    else:
        lines.append(f"  dispatch fractions: {j} atoms x {n} units, see the JSON file")
    return "\n".join(lines)


def _mmss(x) -> str:
    if x is None or not math.isfinite(x):
        return "  -  "
    s = int(round(x))
    return f"{s // 60}:{s % 60:02d}"


def _verdict(e) -> str:
    word = "YES" if e.lines_hold else "no"
    return f"close/{word}" if e.close_call else word


def _pct(x) -> str:
    return "    -" if x is None or not math.isfinite(x) else f"{100 * x:5.1f}%"


def scenario_estimate_table(est, *, seconds: float | None = None, close_call: float, hours_per_week: int) -> str:
    """The terminal table of a :class:`~sim.analytic.scenario_estimate.ScenarioEstimate`: one row per level,
    then the simplifications. ``close_call`` and ``hours_per_week`` are the estimate's own constants, passed in
    so that this module does not import the estimator (which imports this table)."""
    sp = est.speeds_kph
    per_day = {lvl: e.calls_per_hour * 24 for lvl, e in est.levels.items()}
    calls = f"{next(iter(per_day.values())):.0f}" if len({round(v) for v in per_day.values()}) == 1 else \
        "/".join(f"{v:.0f}" for v in per_day.values()) + " (by level)"
    lines = [f"Analytic estimate: {est.file or est.scenario} ({est.scenario})"
             + (f", {seconds:.1f} s" if seconds is not None else ""),
             f"  area {est.area_km2:.1f} km2 (convex hull of the road network); {calls} calls a day",
             "  response speeds: " + ", ".join(f"{k.replace('_response', '')} {v:.1f} km/h" for k, v in sp.items())
             + f"; call handling {est.call_handling_mean_s:.0f} s on average",
             f"  lines: first unit within {est.response_line_s:g} s, second within {est.backup_line_s:g} s, "
             f"target {100 * est.target_compliance:g}% of incidents", ""]
    head = (f"  {'level':<7}{'on patrol':>10}  {'units answering':<24}{'util':>6}  {'P(wait)':>8}  "
            f"{'wait s':>6}  {'travel s':>8}  {'resp p50':>8}  {'p90':>5}  {'1st line':>8}  {'2nd line':>8}  holds")
    lines.append(head)
    for lvl, e in est.levels.items():
        units = "/".join(str(v) for v in e.units.values())
        answering = "/".join(k.replace("standby-", "sb-").replace("bicycle", "bike") for k in e.units)
        util = "unstbl" if e.unstable_hours else f"{100 * e.utilisation:5.1f}%"
        wait = f"{e.mean_wait_s:6.1f}" if math.isfinite(e.mean_wait_s) else "   inf"
        lines.append(f"  {lvl:<7}{e.patrol_officers:>10}  {f'{e.responders} ({units})':<24}{util:>6}  "
                     f"{e.p_wait:8.4f}  {wait}  {e.travel_first_s:8.0f}  {_mmss(e.response_p50_s):>8}  "
                     f"{_mmss(e.response_p90_s):>5}  {_pct(e.response_within_line):>8}  "
                     f"{_pct(e.backup_within_line):>8}  {_verdict(e)}")
    lines.append(f"  units answering: {answering} (sb = standby at the stations)")
    if any(e.close_call for e in est.levels.values()):
        lines.append(f"  close: a line within {100 * close_call:g} points of the target, closer than this estimate "
                     f"can tell (YES or no after the slash); simulate it")
    unstable = [f"{lvl} {e.unstable_hours} of {hours_per_week}" for lvl, e in est.levels.items() if e.unstable_hours]
    if unstable:
        lines.append(f"  unstbl: in some hours ({', '.join(unstable)}) the calls need more units than are on duty "
                     "(no steady state); those hours count as missing both lines")
    lines += ["", "  simplifications (a ballpark, not a forecast; 'patrolsim run --all-levels' simulates it):"]
    lines += [f"  - {a}" for a in est.assumptions]
    return "\n".join(lines)
