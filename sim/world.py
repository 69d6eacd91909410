"""The prepared world: everything a run needs that does not depend on the replication.

``prepare(scenario) -> World`` is the one way every command builds it (run, sweep, hold,
compare, and the analytic estimate): the city (road graphs per travel mode), the demand
model with the alert level's multipliers, the deployment (units, beats, staffing), and the
travel of each kind in the force (its graph at its response speed, from ``sim.kinds``).
Before it, ``experiment/replicate.py`` and ``analytic/scenario_estimate.py`` each had their
own copy of the demand multipliers and of the station drive-time closure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable

import numpy as np

from sim import kinds
from sim.demand import DemandModel, build_demand, expected_per_place, mean_on_scene_s
from sim.demand_files import load_demand_inputs
from sim.dispatch import DispatchRules, search_needs
from sim.force import Deployment, deploy
from sim.kinds import Role
from sim.network import City, TravelOracle, load_city

if TYPE_CHECKING:                      # the engine imports simpy; the world does not need it to exist
    from sim.engine import ModeTravel
    from sim.scenario import Scenario

DAY_S = 86_400.0
#: Station catchments (``beats.areas: stations``) are drawn by this kind's response time.
CATCHMENT_KIND = "car"


@dataclass
class World:
    """A scenario made ready to run: city, demand, deployment and travel per travel key."""

    scenario: "Scenario"
    city: City
    demand: DemandModel
    deployment: Deployment
    travel: dict[str, "ModeTravel"] = field(default_factory=dict)

    @property
    def horizon_s(self) -> float:
        return self.scenario.horizon_days * DAY_S

    @property
    def warmup_s(self) -> float:
        return min(self.scenario.warmup_days * DAY_S, self.horizon_s)


# --------------------------------------------------------------------------- travel
def response_oracle(scenario: "Scenario", city: City, kind: kinds.UnitKind) -> TravelOracle:
    """Shortest times on the kind's graph at its response speed."""
    spec = kind.response
    value = getattr(scenario.network.speeds, spec.key)
    g = city.graphs[kind.graph]
    if spec.per == "road":
        return TravelOracle(g, speed_factor=value)
    return TravelOracle(g, speed_kph_override=value)


#: Builds a kind's travel oracle: ``response_oracle``, or a cache of them (``sim.experiment.tasks``
#: keeps one per network and speed in each worker, so the tables are built once per worker).
OracleFn = Callable[["Scenario", City, kinds.UnitKind], TravelOracle]


def _kind_of_travel(key: str) -> kinds.UnitKind:
    for k in kinds.UNIT_KINDS:
        if k.travel == key:
            return k
    raise KeyError(f"no unit kind travels by {key!r}; known: {sorted({k.travel for k in kinds.UNIT_KINDS})}")


def build_travel(scenario: "Scenario", city: City, travel_keys, *,
                 oracle_for: OracleFn = response_oracle) -> dict[str, "ModeTravel"]:
    """The travel of each key in ``travel_keys`` (a unit's ``mode``), from the registry's speeds.

    Patrol time is the response time times (response speed / patrol speed); the last metres
    from the graph node to the place go at the kind's own speed, or on foot when it parks.
    """
    from sim.engine import ModeTravel

    sp = scenario.network.speeds
    foot = kinds.kind(kinds.FOOT)
    out = {}
    for key in sorted(set(travel_keys)):
        k = _kind_of_travel(key)
        last = foot if k.last_metres_on_foot else k
        out[key] = ModeTravel(oracle_for(scenario, city, k), k.patrol_scale(sp),
                              getattr(sp, last.response.key) / 3.6)
    return out


def station_time_fn(scenario: "Scenario", city: City, *, oracle_for: OracleFn = response_oracle):
    """``place -> seconds to every place`` at the catchment kind's response speed (built on first use)."""
    oracle = None

    def station_times(place: int) -> np.ndarray:
        nonlocal oracle
        if oracle is None:
            oracle = oracle_for(scenario, city, kinds.kind(CATCHMENT_KIND))
        return oracle.times_from(place)

    return station_times


# --------------------------------------------------------------------------- demand
def base_demand(scenario: "Scenario", city: City, *, quiet: bool = False) -> DemandModel:
    """The demand model of the scenario's demand section (fitted or replayed files read here)."""
    fitted, replay = load_demand_inputs(scenario, city, quiet=quiet)
    return build_demand(scenario.demand, city, fitted=fitted, replay=replay)


def with_level_multipliers(scenario: "Scenario", demand: DemandModel) -> DemandModel:
    """Demand scaled by the alert level's multiplier (fixed) or per day (calendar).

    Adaptive levels respond to demand and do not scale it (that would feed back on itself).
    """
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


# --------------------------------------------------------------------------- the world
def compiled_search_reads(scenario: "Scenario", deployment: Deployment) -> bool:
    """Whether the scenario's dispatch search is the compiled one, which reads the transposed time matrices.

    That is nearest-unit dispatch without a mobile reserve (``sim.dispatch.search_needs``:
    the search keeps only the best unit) on graphs with full matrices. The transposed matrix
    costs as much memory as the matrix, so ``prepare`` makes it only then; an engine built
    with other rules than the scenario's still gets it, at its first search.
    """
    needs = search_needs(DispatchRules.from_spec(scenario.dispatch),
                         has_reserve=any(Role(u.role) is Role.RESERVE for u in deployment.units))
    return needs.best_only


def prepare(scenario: "Scenario", *, quiet: bool = False, city: City | None = None,
            demand: DemandModel | None = None, with_travel: bool = True,
            oracle_for: OracleFn | None = None) -> World:
    """Everything a replication needs that does not depend on the replication.

    ``city`` and ``demand`` (the demand before level multipliers, ``base_demand``) may be
    given to reuse them across scenarios that share them (levels of one scenario).
    ``with_travel=False`` skips the travel oracles (the analytic estimate needs none).
    ``oracle_for`` builds (or finds) each kind's travel oracle: an experiment's worker passes
    its cache, so that points of a sweep on one network share their travel tables.
    """
    oracle_for = oracle_for or response_oracle
    city = city or load_city(scenario, quiet=quiet)
    base = demand if demand is not None else base_demand(scenario, city, quiet=quiet)
    demand_l = with_level_multipliers(scenario, base)
    deployment = deploy(scenario, city, expected_per_place=expected_per_place(demand_l),
                        on_scene_mean_s=mean_on_scene_s(demand_l),
                        travel_time_fn=station_time_fn(scenario, city, oracle_for=oracle_for))
    city = city.with_travel(kinds.graph_of_travel())
    travel = (build_travel(scenario, city, [u.mode for u in deployment.units], oracle_for=oracle_for)
              if with_travel else {})
    if compiled_search_reads(scenario, deployment):
        for mt in travel.values():     # the transposed time matrix, made with the tables (not at a first dispatch)
            mt.times_by_target()
    for mt in travel.values():         # and the metres table, which a replication's first trip would make
        mt.oracle.make_metres_table()
    return World(scenario=scenario, city=city, demand=demand_l, deployment=deployment, travel=travel)
