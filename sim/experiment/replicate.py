"""One replication, from a prepared context to tidy tables and headline metrics.

``prepare`` does the per-scenario work once (network, travel oracles, demand
model, deployment); ``run_replication`` is a pure function of the context and
the replication index, so it gives the same numbers in any process, in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim import metrics
from sim.demand import DemandModel, build_demand, sample_incidents
from sim.engine import Engine, ModeTravel
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


def load_demand_inputs(scenario, city: City):
    """The fitted-demand file or replayed calls a scenario names (parsed outside the core)."""
    spec = scenario.demand
    fitted = replay = None
    if spec.fitted:
        from sim.fitted_file import read_fitted

        fitted = read_fitted(scenario.resolve_path(spec.fitted))
    if spec.replay:
        from sim.replay import read_replay

        replay = read_replay(scenario.resolve_path(spec.replay), city=city, scenario=scenario)
    return fitted, replay


def prepare(scenario, *, quiet: bool = False, city: City | None = None) -> Context:
    """Everything a replication needs that does not depend on the replication."""
    city = city or load_city(scenario, quiet=quiet)
    fitted, replay = load_demand_inputs(scenario, city)
    demand = build_demand(scenario.demand, city, fitted=fitted, replay=replay)
    deployment = deploy(scenario, city)
    travel = build_travel(scenario, city, [u.mode for u in deployment.units])
    return Context(scenario=scenario, city=city, demand=demand, deployment=deployment, travel=travel)


def run_replication(ctx: Context, replication: int) -> ReplicationOutput:
    sc = ctx.scenario
    rep = replication_seed(sc.seed, replication)
    incidents = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    log = Engine(city=ctx.city, deployment=ctx.deployment, travel=ctx.travel, incidents=incidents,
                 rep=rep, warmup_s=ctx.warmup_s, horizon_s=ctx.horizon_s,
                 turnout_s=sc.force.turnout_s).run()
    inc = metrics.incident_records(log, city=ctx.city, deployment=ctx.deployment, demand=ctx.demand,
                                   replication=replication, lines=sc.lines)
    units = metrics.unit_records(log, deployment=ctx.deployment, replication=replication)
    window = ctx.horizon_s - ctx.warmup_s
    m = metrics.replication_metrics(inc, units, window_s=window)
    by_level = {lvl: metrics.replication_metrics(g, units, window_s=window)
                for lvl, g in inc.groupby("alert_level")}
    return ReplicationOutput(replication, inc, units, m, by_level)


def scenario_path(scenario) -> Path | None:
    return Path(scenario.source_file) if scenario.source_file else None
