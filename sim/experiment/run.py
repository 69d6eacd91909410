"""A whole run: replications of one scenario, reduced to the summary of the output contract."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim import metrics
from sim.kinds import KIND_NAMES
from sim.experiment.replicate import Context, ReplicationOutput, prepare
from sim.experiment.runner import run_replications


@dataclass
class RunResult:
    summary: dict
    incidents: pd.DataFrame
    units: pd.DataFrame
    outputs: list[ReplicationOutput]
    tables: dict = None          # name -> DataFrame (beats, staffing, alert_levels, visibility)


def summarise_run(ctx: Context, outputs: list[ReplicationOutput]) -> dict:
    """The summary of the output contract. No timings: they go to the run log (sim.outputs.RUN_LOG),
    so the same scenario and seed give a byte-identical summary.json."""
    sc = ctx.scenario
    per_rep = [o.metrics for o in outputs]
    m = metrics.summarise(per_rep)
    levels = sorted({lvl for o in outputs for lvl in o.by_alert_level})
    by_level = {}
    for lvl in levels:
        lm = metrics.summarise([o.by_alert_level[lvl] for o in outputs if lvl in o.by_alert_level])
        by_level[lvl] = {**lm, "lines_hold": metrics.lines_hold(lm, target=sc.lines.target_compliance)}
    counted = sc.lines.priorities
    by_priority = {}
    prios = sorted({p for o in outputs for p in (o.by_priority or {})}, key=int)
    for p in prios:
        pm = metrics.summarise([o.by_priority[p] for o in outputs if p in (o.by_priority or {})])
        by_priority[p] = {**pm, "lines_hold": metrics.lines_hold(pm, target=sc.lines.target_compliance),
                          "counted_in_lines": counted is None or int(p) in counted}
    dep = ctx.deployment
    city = ctx.city
    g = city.places
    n_incidents = int(sum(o.metrics["incidents"] for o in outputs))
    return {
        "scenario": sc.name,
        "description": sc.description,
        "replications": len(outputs),
        "seed": sc.seed,
        "horizon_days": sc.horizon_days,
        "warmup_days": sc.warmup_days,
        "alert_level": sc.alert.level,
        "incidents": n_incidents,
        "incidents_per_replication": n_incidents / max(1, len(outputs)),
        "lines": sc.lines.model_dump(),
        "metrics": m,
        "by_alert_level": by_level,
        "by_priority": by_priority,
        "lines_hold": metrics.lines_hold(m, target=sc.lines.target_compliance),
        "force": force_counts(dep, total_officers=sc.force.total_officers),
        "network": {
            "name": city.name, "source": city.source, "places": g.n_nodes,
            "street_km": round(g.street_km(), 3), "area_km2": round(g.area_km2(), 3),
            "stations": len(city.station_place),
        },
    }


def force_counts(dep, *, total_officers: int, level: str | None = None) -> dict:
    """Officers and units at ``level`` (default: the nominal level): the staffing's officers and the
    units that hold them, every kind of the registry (sim.kinds). The units' crews add up to the
    staffing's officers (sim.force: every officer on duty is in a unit)."""
    s = dep.staffing[level or dep.alert_level]
    return {
        "total_officers": total_officers,
        "on_duty_officers": s.on_duty_officers,
        "patrol_officers": s.patrol_officers,
        "checkpoint_officers": s.checkpoint_officers,
        "standby_officers": s.standby_officers,
        "patrol_units": {k: dep.count(kind=k, role="patrol", level=level) for k in KIND_NAMES},
        "patrol_unit_officers": {k: dep.officers(kind=k, role="patrol", level=level) for k in KIND_NAMES},
        "standby_units": dep.count(role="standby", level=level),
        "checkpoint_units": dep.count(role="checkpoint", level=level),
    }


def breakdowns(incidents: pd.DataFrame, *, target: float) -> dict:
    """Compliance of both lines by hour of day, grid cell, unit kind and patrol area."""
    out = {"by_hour": metrics.breakdown(incidents, "hour_of_day", target=target),
           "by_grid_cell": metrics.breakdown(incidents, "grid_cell", target=target),
           "by_unit_kind": metrics.breakdown(incidents, "first_unit_kind", target=target)}
    if "patrol_area" in incidents:
        out["by_patrol_area"] = metrics.breakdown(incidents, "patrol_area", target=target)
    return out


def staffing_table(deployment) -> list[dict]:
    """Officers by alert level: teams on duty, on patrol, at checkpoints, on standby."""
    rows = []
    for lvl, s in deployment.staffing.items():
        rows.append({"level": lvl, "teams_on_duty": s.teams_on_duty, "on_duty_officers": s.on_duty_officers,
                     "patrol_officers": s.patrol_officers, "checkpoint_officers": s.checkpoint_officers,
                     "standby_officers": s.standby_officers,
                     "teams_wanted": s.teams_wanted, "patrol_officers_wanted": s.patrol_officers_wanted,
                     "patrol_share_met": s.share_met, "max_duty_h_per_day": s.max_duty_h_per_day,
                     "officer_h_per_day": s.officer_h_per_day,
                     "overtime_officer_h_per_day": s.overtime_officer_h_per_day,
                     **{f"{k}_units": deployment.count(kind=k, role="patrol", level=lvl) for k in KIND_NAMES},
                     **{f"{k}_officers": deployment.officers(kind=k, role="patrol", level=lvl) for k in KIND_NAMES},
                     "standby_units": deployment.count(role="standby", level=lvl),
                     "checkpoint_units": deployment.count(role="checkpoint", level=lvl)})
    return rows


def run_scenario(scenario, *, workers: int = 1, progress=None, quiet: bool = False,
                 ctx: Context | None = None) -> RunResult:
    """Run every replication of ``scenario`` and reduce them."""
    ctx = ctx or prepare(scenario, quiet=quiet)
    outputs = run_replications(ctx, list(range(scenario.replications)), workers=workers, progress=progress)
    incidents = pd.concat([o.incidents for o in outputs], ignore_index=True)
    units = pd.concat([o.units for o in outputs], ignore_index=True)
    summary = summarise_run(ctx, outputs)
    summary.update(breakdowns(incidents, target=scenario.lines.target_compliance))
    summary["staffing_by_level"] = staffing_table(ctx.deployment)
    tables = {"beats": pd.DataFrame(ctx.deployment.beats)}
    for name in ("staffing", "alert_levels", "visibility"):
        parts = [o.tables[name] for o in outputs if o.tables and name in o.tables]
        if parts:
            tables[name] = pd.concat(parts, ignore_index=True)
    return RunResult(summary, incidents, units, outputs, tables)
