"""One replication, from a prepared context to tidy tables and headline metrics.

``prepare`` does the per-scenario work once (network, travel oracles, demand
model, deployment); ``run_replication`` is a pure function of the context and
the replication index, so it gives the same numbers in any process, in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import metrics, visibility
from sim.demand_files import load_demand_inputs
from sim.demand import (DemandModel, build_demand, expected_by_period, expected_per_place, mean_on_scene_s,
                        sample_incidents)
from sim.dispatch import DispatchRules
from sim.engine import EncircleSettings, Engine, ModeTravel, PatrolSettings
from sim.force import Deployment, deploy
from sim.network import City, TravelOracle, load_city
from sim.streams import replication_seed

DAY_S = 86_400.0


@dataclass
class Context:
    scenario: object
    city: City
    demand: DemandModel
    deployment: Deployment
    travel: dict[str, ModeTravel]

    @property
    def horizon_s(self) -> float:
        return self.scenario.horizon_days * DAY_S

    @property
    def warmup_s(self) -> float:
        return min(self.scenario.warmup_days * DAY_S, self.horizon_s)


@dataclass
class ReplicationOutput:
    replication: int
    incidents: pd.DataFrame
    units: pd.DataFrame
    metrics: dict[str, float]
    by_alert_level: dict[str, dict[str, float]]
    tables: dict = None


def build_travel(scenario, city: City, modes_needed) -> dict[str, ModeTravel]:
    sp = scenario.network.speeds
    out = {}
    for mode in sorted(set(modes_needed)):
        g = city.graphs[mode]
        if mode == "drive":
            oracle = TravelOracle(g, speed_factor=sp.emergency_speed_factor)
            out[mode] = ModeTravel(oracle, sp.emergency_speed_factor / sp.car_patrol_factor, sp.foot_kph / 3.6)
        elif mode == "bike":
            oracle = TravelOracle(g, speed_kph_override=sp.bicycle_kph)
            out[mode] = ModeTravel(oracle, sp.bicycle_kph / sp.bicycle_patrol_kph, sp.bicycle_kph / 3.6)
        else:
            oracle = TravelOracle(g, speed_kph_override=sp.foot_kph)
            out[mode] = ModeTravel(oracle, sp.foot_kph / sp.foot_patrol_kph, sp.foot_kph / 3.6)
    return out


def prepare(scenario, *, quiet: bool = False, city: City | None = None) -> Context:
    """Everything a replication needs that does not depend on the replication."""
    city = city or load_city(scenario, quiet=quiet)
    fitted, replay = load_demand_inputs(scenario, city, quiet=quiet)
    demand = build_demand(scenario.demand, city, fitted=fitted, replay=replay)
    demand = _with_level_multipliers(scenario, demand)
    drive = None

    def station_times(place: int):
        nonlocal drive
        if drive is None:
            drive = build_travel(scenario, city, ["drive"])["drive"].oracle
        return drive.times_from(place)

    deployment = deploy(scenario, city, expected_per_place=expected_per_place(demand),
                        on_scene_mean_s=mean_on_scene_s(demand), travel_time_fn=station_times)
    travel = build_travel(scenario, city, [u.mode for u in deployment.units])
    return Context(scenario=scenario, city=city, demand=demand, deployment=deployment, travel=travel)


def _with_level_multipliers(scenario, demand: DemandModel) -> DemandModel:
    """Demand scaled by the alert level's multiplier (fixed) or per day (calendar).

    Adaptive levels respond to demand and do not scale it (that would feed back on itself).
    """
    from dataclasses import replace

    a = scenario.alert
    if a.mode == "fixed":
        return replace(demand, multiplier=demand.multiplier * a.demand_multiplier[a.level])
    if a.mode == "calendar":
        from sim.alert import calendar_level

        days = int(np.ceil(scenario.horizon_days)) + 1
        cal = [(c.day, c.level) for c in a.calendar]
        mult = np.array([a.demand_multiplier[calendar_level(d, base=a.level, calendar=cal)] for d in range(days)])
        return replace(demand, day_multiplier=mult)
    return demand


def run_replication(ctx: Context, replication: int) -> ReplicationOutput:
    sc = ctx.scenario
    rep = replication_seed(sc.seed, replication)
    incidents = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    log = make_engine(ctx, incidents, rep).run()
    modes = {u.uid: u.mode for u in ctx.deployment.units}
    saw = visibility.seen_within(log, city=ctx.city, modes=modes)
    inc = metrics.incident_records(log, city=ctx.city, deployment=ctx.deployment, demand=ctx.demand,
                                   replication=replication, lines=sc.lines, saw_patrol=saw)
    units = metrics.unit_records(log, deployment=ctx.deployment, replication=replication)
    window = ctx.horizon_s - ctx.warmup_s
    m = metrics.replication_metrics(inc, units, window_s=window)
    levels = level_by_incident(log, inc)
    inc["alert_level"] = levels
    by_level = {lvl: metrics.replication_metrics(g, units, window_s=window)
                for lvl, g in inc.groupby("alert_level")}
    tables = {
        "staffing": pd.DataFrame(log.staffing).assign(replication=replication),
        "alert_levels": pd.DataFrame(log.alert_log).assign(replication=replication),
        "visibility": visibility.presence(log, city=ctx.city, modes=modes).assign(replication=replication),
    }
    return ReplicationOutput(replication, inc, units, m, by_level, tables)


def level_by_incident(log, inc: pd.DataFrame) -> np.ndarray:
    """The alert level in force (for the incident's area) when each call came in."""
    if not log.alert_log:
        return inc["alert_level"].to_numpy()
    al = pd.DataFrame(log.alert_log)
    out = inc["alert_level"].to_numpy().copy()
    area_col = inc["patrol_area"].to_numpy() if "patrol_area" in inc else None
    for area, g in al.groupby("area"):
        g = g.sort_values("decided_s")
        idx = np.searchsorted(g["decided_s"].to_numpy(), inc["call_s"].to_numpy(), side="right") - 1
        lv = g["level"].to_numpy()[np.maximum(idx, 0)]
        mask = np.ones(len(inc), bool) if area == "city" or area_col is None else (area_col == area)
        out[mask] = lv[mask]
    return out


def make_engine(ctx: Context, incidents, rep, *, exhaustive: bool = False) -> Engine:
    """The engine for one replication, with every doctrine setting of the scenario."""
    sc = ctx.scenario
    period_h = sc.force.shift_hours
    patrol = PatrolSettings(strategy=sc.patrol.strategy, circuit_stops=sc.patrol.circuit_stops,
                            period_weights=expected_by_period(ctx.demand, period_h=period_h))
    major = np.array([False] * len(ctx.demand.type_name))
    major_names = {t.name for t in sc.demand.types if t.major}
    major = np.array([n in major_names for n in ctx.demand.type_name])
    return Engine(city=ctx.city, deployment=ctx.deployment, travel=ctx.travel, incidents=incidents,
                  rep=rep, warmup_s=ctx.warmup_s, horizon_s=ctx.horizon_s, turnout_s=sc.force.turnout_s,
                  rules=DispatchRules.from_spec(sc.dispatch), patrol=patrol,
                  alert=ctx.deployment.alert_plan, response_line_s=sc.lines.response_s,
                  major_types=major, encircle=EncircleSettings(radius_m=sc.encirclement.radius_m,
                                                               roads=sc.encirclement.roads),
                  exhaustive=exhaustive)
