"""The planner's question for one scenario: at each alert level, do both lines hold?

Runs the scenario once per alert level (fixed level, everything else equal, same
seed: the incident streams are the same unless a level's demand multiplier
differs) and gathers the per-level results into one summary.
"""

from __future__ import annotations

import pandas as pd

from sim.alert import LEVELS
from sim.experiment.run import RunResult, run_scenario


def run_all_levels(scenario, *, workers: int = 1, progress_for=None, quiet: bool = False) -> RunResult:
    """One RunResult whose ``by_alert_level`` holds every level; top-level metrics are the scenario's level."""
    results = {}
    for level in LEVELS:
        progress = progress_for(level) if progress_for else None
        results[level] = run_scenario(scenario.at_level(level), workers=workers, progress=progress,
                                      quiet=quiet)
    nominal = results[scenario.alert.level]
    summary = dict(nominal.summary)
    summary["alert_level"] = scenario.alert.level
    summary["by_alert_level"] = {}
    for level, r in results.items():
        s = r.summary
        summary["by_alert_level"][level] = {**s["metrics"], "lines_hold": s["lines_hold"], "force": s["force"]}
    summary["levels_run"] = list(LEVELS)
    incidents = pd.concat([r.incidents.assign(run_level=lvl) for lvl, r in results.items()], ignore_index=True)
    units = pd.concat([r.units.assign(run_level=lvl) for lvl, r in results.items()], ignore_index=True)
    tables = {}
    for name in nominal.tables or {}:
        parts = [r.tables[name].assign(run_level=lvl) for lvl, r in results.items() if name in (r.tables or {})]
        tables[name] = pd.concat(parts, ignore_index=True)
    return RunResult(summary, incidents, units, [o for r in results.values() for o in r.outputs], tables)
