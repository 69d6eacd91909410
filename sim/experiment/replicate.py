"""One replication, from a prepared world to tidy tables and headline metrics.

``sim.world.prepare`` does the per-scenario work once (network, travel oracles, demand
model, deployment; re-exported here as ``prepare``); ``run_replication`` is a pure
function of the world and the replication index, so it gives the same numbers in any
process, in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import interrupts, metrics, visibility
from sim.demand import expected_by_period, sample_incidents
from sim.dispatch import DispatchRules
from sim.engine import EncircleSettings, Engine, PatrolSettings
from sim.engine.availability import AvailabilitySettings
from sim.engine.collector import collector_paused, world_frozen
from sim.engine.memo import made_once
from sim.metrics_groups import grouped_metrics
from sim.streams import replication_seed
from sim.world import World, build_travel, prepare, with_level_multipliers  # noqa: F401  (re-exported)

DAY_S = 86_400.0

#: The prepared world (``sim.world``); ``Context`` is its former name, kept for callers.
Context = World


@dataclass
class ReplicationOutput:
    replication: int
    incidents: pd.DataFrame
    units: pd.DataFrame
    metrics: dict[str, float]
    by_alert_level: dict[str, dict[str, float]]
    tables: dict = None
    by_priority: dict = None     # priority (text) -> metrics of that priority's incidents


def load_loops() -> None:
    """Load every compiled loop a replication calls, before it: the engine's
    (``sim.engine.warm.load_loops``) and the tables' (``sim.visibility_kernel.load``); 5-20 ms
    each from numba's cache, once per process. ``bench/run_patrolsim.py`` calls it while
    preparing, so that the timed replication loads nothing (``tests/test_no_compile_in_replication.py``)."""
    from sim import visibility_kernel
    from sim.engine.warm import load_loops as load_engine_loops

    load_engine_loops()
    visibility_kernel.load()


def run_replication(ctx: Context, replication: int, *, progress=None) -> ReplicationOutput:
    """One replication. ``progress(share)``: called as simulated time passes, with the share of the
    horizon simulated so far (at most ``PROGRESS_STEPS`` times; it changes no result).
    A Ctrl-C whose exception was lost (``sim.interrupts``) stops the work here, with or without progress."""
    interrupts.raise_if_asked()
    with world_frozen():       # collections visit only what the replication makes (sim.engine.collector)
        return _replication(ctx, replication, progress)


def _replication(ctx: Context, replication: int, progress) -> ReplicationOutput:
    sc = ctx.scenario
    rep = replication_seed(sc.seed, replication)
    incidents = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    engine = make_engine(ctx, incidents, rep)
    if progress is not None:
        report_simulated_time(engine, progress)
    log = engine.run()
    engine.release()           # reference counting frees it: the collection that ends the replication skips it
    with collector_paused():
        return replication_output(ctx, log, replication)


def replication_output(ctx: Context, log, replication: int) -> ReplicationOutput:
    """The tables and metrics of one replication, from the engine's log (pure function of both)."""
    sc = ctx.scenario
    modes = {u.uid: u.mode for u in ctx.deployment.units}
    intervals = visibility.interval_columns(log)     # read once, for both visibility measures
    saw = visibility.seen_within(log, city=ctx.city, modes=modes, intervals=intervals)
    inc = metrics.incident_records(log, city=ctx.city, deployment=ctx.deployment, demand=ctx.demand,
                                   replication=replication, lines=sc.lines, saw_patrol=saw)
    units = metrics.unit_records(log, deployment=ctx.deployment, replication=replication)
    # every group's metrics from arrays read once (sim.metrics_groups), the same bits as the
    # plain pandas form on each group of a groupby; the units' figures are the same for all
    unit_figures = metrics.unit_metrics(units, window_s=ctx.horizon_s - ctx.warmup_s)
    m = grouped_metrics(inc, None, unit_figures)[None]
    inc["alert_level"] = level_by_incident(log, inc)
    by_level = grouped_metrics(inc, "alert_level", unit_figures)
    by_priority = {str(p): v for p, v in grouped_metrics(inc, "priority", unit_figures, lines_only=False).items()}
    tables = {
        "staffing": pd.DataFrame(log.staffing).assign(replication=replication),
        "alert_levels": pd.DataFrame(log.alert_log).assign(replication=replication),
        "visibility": visibility.presence(log, city=ctx.city, modes=modes,
                                          intervals=intervals).assign(replication=replication),
    }
    return ReplicationOutput(replication, inc, units, m, by_level, tables, by_priority)


#: How many times a replication reports its simulated time (``run_replication(progress=...)``).
PROGRESS_STEPS = 200


def report_simulated_time(engine: Engine, progress, steps: int = PROGRESS_STEPS) -> None:
    """Call ``progress(share of the horizon simulated)`` every ``horizon / steps`` simulated seconds.

    The calls ride on timeouts of the engine's own clock, strictly before the horizon, whose
    callbacks only read the clock: the engine's events keep their order (events are ordered by
    time, then priority, then creation, and nothing of the engine's waits on these), so the
    numbers are the same with or without progress (``tests/test_progress.py`` checks it)."""
    env, horizon_s = getattr(engine, "env", None), float(engine.horizon_s)
    if env is None or horizon_s <= 0:
        return
    step_s = horizon_s / steps

    def tick(_event) -> None:
        progress(min(env.now / horizon_s, 1.0))
        if env.now + step_s < horizon_s - 1e-6:
            env.timeout(step_s).callbacks.append(tick)

    env.timeout(step_s).callbacks.append(tick)


def level_by_incident(log, inc: pd.DataFrame):
    """The alert level in force (for the incident's area) when each call came in.

    Each area's decisions in order of time (as ``sort_values`` orders them: numpy's default
    sort of the area's times in log order), the last one at or before the call; areas in
    sorted order, ``city`` for every incident. Worked on level numbers, and the text column
    made once from the few level names (``sim.metrics._labels``), not from 10^5 strings.
    """
    if not log.alert_log:
        return inc["alert_level"].to_numpy()
    codes, names = pd.factorize(inc["alert_level"])
    number = {name: k for k, name in enumerate(names)}
    call_s = inc["call_s"].to_numpy()
    by_area: dict = {}
    for row in log.alert_log:
        by_area.setdefault(row["area"], []).append(row)
    for area in sorted(by_area):
        rows = by_area[area]
        decided = np.array([r["decided_s"] for r in rows])
        order = np.argsort(decided, kind="quicksort")
        lv = np.array([number.setdefault(rows[i]["level"], len(number)) for i in order.tolist()], np.int64)
        idx = np.searchsorted(decided[order], call_s, side="right") - 1
        if area == "city" or "patrol_area" not in inc:
            codes = lv[np.maximum(idx, 0)]
        else:
            mask = (inc["patrol_area"] == area).to_numpy(bool)
            codes = np.where(mask, lv[np.maximum(idx, 0)], codes)
    names = list(number) + [None]                # code -1 (no level) picks the None at the end
    return metrics._labels(np.asarray(names, dtype=object), np.where(codes < 0, len(names) - 1, codes))


def _weights_by_period(demand, period_h: float) -> np.ndarray:
    """``expected_by_period`` (the patrol's hotspot weights), made once per process (``sim.engine.memo``)."""
    return expected_by_period(demand, period_h=period_h)


def make_engine(ctx: Context, incidents, rep, *, exhaustive: bool = False) -> Engine:
    """The engine for one replication, with every doctrine setting of the scenario."""
    sc = ctx.scenario
    period_h = sc.force.shift_hours
    patrol = PatrolSettings(strategy=sc.patrol.strategy, circuit_stops=sc.patrol.circuit_stops,
                            period_weights=made_once(_weights_by_period, ctx.demand, args=(period_h,)))
    major = np.array([False] * len(ctx.demand.type_name))
    major_names = {t.name for t in sc.demand.types if t.major}
    major = np.array([n in major_names for n in ctx.demand.type_name])
    return Engine(city=ctx.city, deployment=ctx.deployment, travel=ctx.travel, incidents=incidents,
                  rep=rep, warmup_s=ctx.warmup_s, horizon_s=ctx.horizon_s, turnout_s=sc.force.turnout_s,
                  rules=DispatchRules.from_spec(sc.dispatch), patrol=patrol,
                  alert=ctx.deployment.alert_plan, response_line_s=sc.lines.response_s,
                  major_types=major, encircle=EncircleSettings(radius_m=sc.encirclement.radius_m,
                                                               roads=sc.encirclement.roads),
                  exhaustive=exhaustive, availability=AvailabilitySettings.from_spec(sc.availability))
