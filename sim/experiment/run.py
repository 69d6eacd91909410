"""A whole run: replications of one scenario, reduced to the summary of the output contract."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from sim import metrics
from sim.experiment.replicate import Context, ReplicationOutput, prepare
from sim.experiment.runner import run_replications


@dataclass
class RunResult:
    summary: dict
    incidents: pd.DataFrame
    units: pd.DataFrame
    outputs: list[ReplicationOutput]


def summarise_run(ctx: Context, outputs: list[ReplicationOutput], *, runtime_s: float | None = None) -> dict:
    sc = ctx.scenario
    per_rep = [o.metrics for o in outputs]
    m = metrics.summarise(per_rep)
    levels = sorted({lvl for o in outputs for lvl in o.by_alert_level})
    by_level = {}
    for lvl in levels:
        lm = metrics.summarise([o.by_alert_level[lvl] for o in outputs if lvl in o.by_alert_level])
        by_level[lvl] = {**lm, "lines_hold": metrics.lines_hold(lm, target=sc.lines.target_compliance)}
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
        "lines_hold": metrics.lines_hold(m, target=sc.lines.target_compliance),
        "force": {
            "total_officers": sc.force.total_officers,
            "on_duty_officers": dep.on_duty_officers,
            "patrol_officers": dep.patrol_officers,
            "standby_officers": dep.standby_officers,
            "patrol_units": {k: dep.count(kind=k, role="patrol") for k in ("car", "bicycle", "foot")},
            "standby_units": dep.count(role="standby"),
        },
        "network": {
            "name": city.name, "source": city.source, "places": g.n_nodes,
            "street_km": round(g.street_km(), 3), "area_km2": round(g.area_km2(), 3),
            "stations": len(city.station_place),
        },
        "runtime_s": None if runtime_s is None else round(runtime_s, 3),
    }


def run_scenario(scenario, *, workers: int = 1, progress=None, quiet: bool = False,
                 ctx: Context | None = None) -> RunResult:
    """Run every replication of ``scenario`` and reduce them."""
    t0 = time.perf_counter()
    ctx = ctx or prepare(scenario, quiet=quiet)
    outputs = run_replications(ctx, list(range(scenario.replications)), workers=workers, progress=progress)
    summary = summarise_run(ctx, outputs, runtime_s=time.perf_counter() - t0)
    incidents = pd.concat([o.incidents for o in outputs], ignore_index=True)
    units = pd.concat([o.units for o in outputs], ignore_index=True)
    return RunResult(summary, incidents, units, outputs)
