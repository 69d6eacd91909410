"""First estimates for a full scenario at each alert level, in seconds (``patrolsim analytic SCENARIO.yaml``).

Why: simulating a week takes tens of seconds per level; a planner who is about to
change the force or the demand wants the order of magnitude first. This module
puts the analytic models of ``sim.analytic`` together into one estimate per
alert level of: utilisation, probability that a call waits for a free unit,
the mean wait, the expected travel and response times, and the expected
compliance with the response line (first unit within 5 minutes) and the
backup line (second unit within 10 minutes).

The model, and every simplification it makes (printed with the table and
written into the JSON file):

* **Force.** The units on duty at the level come from ``sim.force.deploy``,
  exactly as the simulation deploys them (through ``sim.world.prepare``): patrol units of every kind,
  standby units at the stations and the mobile reserve answer calls;
  checkpoints do not. ``c`` is their number.
* **Demand.** Calls are Poisson with the scenario's hour-of-week profile
  (times the level's demand multiplier); a call of type ``k`` needs ``u_k``
  units, each busy for the travel to the scene plus the type's mean on-scene
  time. Each unit request is treated as a separate customer of an M/M/c
  queue (exponential service with that mean).
* **Queue.** For each of the 168 hours of the week the queue is taken to be
  in the steady state of that hour's rate (the pointwise stationary
  approximation): utilisation ``rho = lambda_u (S + T) / c``, P(wait) by
  Erlang C, the wait by the M/M/c formulas. An hour whose load reaches ``c``
  has no steady state: it is reported as unstable and its calls are counted
  as missing both lines.
* **Travel** (``sim.analytic.free_units``). The free units, ``n_k (1 - rho)`` of each kind ``k``, are taken
  to be scattered uniformly at random over the area of the road network (its
  convex hull), travelling right-angle distances (the square-root law,
  ``sim.analytic.sqrt_law``) at one response speed per kind (``sim.kinds``): kinds
  on road speeds (cars, motorbikes) at the length-weighted harmonic mean of their
  network's road speeds times their factor, bicycles and foot units at their speeds, standby
  units after their turnout delay. Then the number of free units that can
  reach a call within ``t`` seconds is Poisson with mean
  ``m(t) = sum_k 2 (n_k (1 - rho) / A) (v_k (t - d_k)_+)^2`` (the area of a
  right-angle "circle" of radius ``r`` is ``2 r^2``), so the first unit's
  travel time has ``P(T_1 > t) = exp(-m(t))`` and the i-th unit's
  ``P(T_i > t) = P(Poisson(m(t)) < i)``. With one kind and no delay,
  ``E[T_1]`` is the square-root law ``0.6267 sqrt(A / n_free) / v``.
  Units are the nearest by arrival time, as the dispatcher picks them; own-beat
  rules, the reserve's rules and the range limits of foot and bicycle units
  are ignored, as are detours of the street network.
* **Response.** Response time = call handling (exponential with the
  scenario's mean, as the simulator draws it) + wait + travel, the three
  independent; the backup's is the same with the second unit's travel
  ``T_2``. Compliance is the probability of being within the line, averaged
  over the hours weighted by their calls.

What it leaves out, and which way that pushes the estimate: patrol units
are spread more evenly than at random (beats), which shortens real travel;
street detours and the last metres to the place lengthen it; busy units are
the ones near the calls, so as utilisation grows the free units are farther
than a uniform scatter (at 47 % utilisation the estimated travel was 30 %
short of the simulated one, docs/validation.md); the utilisation ignores
standby units' drives back to the station (the simulator counts them as busy).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from sim import kinds
from sim.analytic.erlang import erlang_c
from sim.analytic.free_units import DT_S, FreeGroup, response_cdf, travel_moments
from sim.errors import InputError
from sim.kinds import LEVELS

__all__ = ["LevelEstimate", "ScenarioEstimate", "estimate"]

HOURS_PER_WEEK = 168
#: Compliance this close to the target (either side) is a close call: the estimate's error is of this
#: order (docs/validation.md), so the table says "close" instead of YES / no.
CLOSE_CALL = 0.02
# --------------------------------------------------------------------------- per level
@dataclass(frozen=True)
class LevelEstimate:
    level: str
    patrol_officers: int
    on_duty_officers: int
    units: dict                      # kind/role -> units answering calls
    responders: int                  # c
    calls_per_hour: float            # mean over the week
    unit_requests_per_hour: float
    utilisation: float               # time average over the week (an unstable hour counts as 1)
    utilisation_peak: float          # busiest hour of the week
    p_wait: float                    # share of calls that wait for a free unit
    mean_wait_s: float
    travel_first_s: float            # mean travel of the first unit
    travel_second_s: float | None    # mean travel of the second unit (incidents needing backup)
    response_mean_s: float
    response_p50_s: float
    response_p90_s: float
    response_within_line: float
    backup_within_line: float | None
    lines_hold: bool
    close_call: bool                 # a line within CLOSE_CALL of the target: the estimate cannot decide
    unstable_hours: int


@dataclass(frozen=True)
class ScenarioEstimate:
    scenario: str
    file: str | None
    area_km2: float
    speeds_kph: dict
    response_line_s: float
    backup_line_s: float
    target_compliance: float
    call_handling_mean_s: float
    levels: dict                     # level -> LevelEstimate
    assumptions: tuple = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"method": "analytic estimate", "scenario": self.scenario, "file": self.file,
                "area_km2": self.area_km2, "speeds_kph": self.speeds_kph,
                "lines": {"response_s": self.response_line_s, "backup_s": self.backup_line_s,
                          "target_compliance": self.target_compliance},
                "call_handling_mean_s": self.call_handling_mean_s,
                "by_alert_level": {lvl: asdict(e) for lvl, e in self.levels.items()},
                "assumptions": list(self.assumptions)}


ASSUMPTIONS = (
    "calls Poisson with the scenario's hour-of-week profile; each hour in its own steady state",
    "each unit request an M/M/c customer: c = units on duty that answer calls (not checkpoints), "
    "service = travel + mean on-scene time of its type, exponential",
    "free units n x (1 - utilisation) of each kind scattered uniformly at random over the network's "
    "convex hull, right-angle travel (square-root law), nearest by arrival time",
    "one response speed per kind: kinds on road speeds (cars, motorbikes) at the network's length-weighted "
    "harmonic mean road speed x their factor, the others at their set speed; standby units after their turnout",
    "handling (exponential), wait and travel independent; unstable hours count as missing both lines",
    "ignored: beats spreading units evenly (shorter travel), street detours and last metres (longer), "
    "own-beat, reserve and range rules, standby units' drives back to the station",
)


def _solve_hour(lam_u: float, *, c: int, on_scene_s: float, order_weights: np.ndarray, groups,
                area_m2: float):
    """(utilisation, mean service time per request, E[T_i]) at request rate ``lam_u`` per second.

    ``rho = lam_u (S + sum_i q_i E[T_i](rho)) / c`` is solved by fixed-point
    iteration (travel grows as units get busy). None when the hour has no steady state.
    """
    max_order = order_weights.size
    if lam_u <= 0:
        tt = travel_moments(groups, area_m2=area_m2, free_share=1.0, max_order=max_order)
        return 0.0, on_scene_s + float(order_weights @ tt), tt
    if lam_u * on_scene_s >= c:
        return None
    rho = lam_u * on_scene_s / c
    for _ in range(1000):   # the map is increasing: from below, the iterates rise to the smallest root
        tt = travel_moments(groups, area_m2=area_m2, free_share=1.0 - rho, max_order=max_order)
        new = lam_u * (on_scene_s + float(order_weights @ tt)) / c
        if not new < 1.0:
            return None
        done = abs(new - rho) < 1e-9
        rho = new
        if done:
            break
    tt = travel_moments(groups, area_m2=area_m2, free_share=1.0 - rho, max_order=max_order)
    return rho, on_scene_s + float(order_weights @ tt), tt


@dataclass(frozen=True)
class _DemandSummary:
    calls_per_hour: np.ndarray      # (168,) expected calls in each hour of the week
    units_needed: np.ndarray        # per type
    type_prob: np.ndarray
    on_scene_per_request_s: float   # mean on-scene time of a unit request
    handling_mean_s: float


def _demand_summary(model, *, horizon_s: float) -> _DemandSummary:
    """Rates and means from a ``DemandModel`` (or from the replayed calls when it replays a file)."""
    if model.replay is not None:
        inc = model.replay
        keep = inc.call_s < horizon_s
        call = inc.call_s[keep]
        hours = int(math.ceil(horizon_s / 3600.0))
        occurrences = np.bincount(np.arange(hours) % HOURS_PER_WEEK, minlength=HOURS_PER_WEEK).astype(float)
        counts = np.bincount((call // 3600).astype(int) % HOURS_PER_WEEK, minlength=HOURS_PER_WEEK)
        per_hour = np.divide(counts, occurrences, out=np.zeros(HOURS_PER_WEEK), where=occurrences > 0)
        need = inc.units_needed[keep].astype(float)
        values, idx = np.unique(need, return_inverse=True)
        prob = np.bincount(idx, minlength=values.size) / max(idx.size, 1)
        scene = float((inc.on_scene_s[keep] * need).sum() / max(need.sum(), 1.0))
        return _DemandSummary(per_hour, values, prob, scene, float(inc.handling_s[keep].mean()) if keep.any() else 0.0)
    per_hour = np.asarray(model.rate_per_hour, float) * model.multiplier
    need = np.asarray(model.type_units_needed, float)
    prob = np.asarray(model.type_prob, float)
    scene = float((prob * need * model.type_on_scene_mean_s).sum() / (prob * need).sum())
    return _DemandSummary(per_hour, need, prob, scene, float(model.call_handling_mean_s))


def _order_weights(units_needed: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Share of unit requests that are the i-th unit of their incident, i = 1..max."""
    top = int(units_needed.max())
    counts = np.array([(prob * (units_needed >= i)).sum() for i in range(1, top + 1)])
    return counts / counts.sum()


def _groups(deployment, level: str, *, speed_kph: dict[str, float], turnout_s: float) -> list[FreeGroup]:
    """Units on duty at ``level`` that answer calls, grouped by kind and role."""
    counts: dict[tuple[str, str], int] = {}
    for u in deployment.units:
        if u.role == "checkpoint" or not u.on_duty(level):
            continue
        if u.role == "patrol" and u.assignment(level) is None:
            continue
        key = (u.kind, "standby" if u.role == "standby" else "patrol")
        counts[key] = counts.get(key, 0) + 1
    out = []
    for (kind, role), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kinds.KIND_NAMES.index(kv[0][0]))):
        name = kind if role == "patrol" else f"standby-{kind}"
        out.append(FreeGroup(kind=name, units=n, speed_mps=speed_kph[kind] / 3.6,
                             delay_s=turnout_s if role == "standby" else 0.0))
    return out


def _quantile(grid: np.ndarray, cdf: np.ndarray, q: float) -> float:
    if cdf[-1] < q:
        return math.inf
    k = int(np.searchsorted(cdf, q))
    if k == 0:
        return float(grid[0])
    x0, x1, y0, y1 = grid[k - 1], grid[k], cdf[k - 1], cdf[k]
    return float(x0 + (q - y0) * (x1 - x0) / (y1 - y0)) if y1 > y0 else float(x1)


def estimate_level(*, level: str, deployment, demand: _DemandSummary, groups: list[FreeGroup], area_m2: float,
                   response_line_s: float, backup_line_s: float, target: float) -> LevelEstimate:
    """The estimate at one alert level (see the module docstring for the model)."""
    c = sum(g.units for g in groups)
    ow = _order_weights(demand.units_needed, demand.type_prob)
    mean_units = float((demand.type_prob * demand.units_needed).sum())
    backup_share = float(demand.type_prob[demand.units_needed >= 2].sum())
    calls = demand.calls_per_hour
    total_calls = float(calls.sum())
    grid = np.arange(0.0, 3 * 3600.0 + DT_S, DT_S)
    cdf1 = np.zeros(grid.size)
    rho_h = np.ones(HOURS_PER_WEEK)
    acc = {"p_wait": 0.0, "wait": 0.0, "t1": 0.0, "t2": 0.0, "resp": 0.0, "line": 0.0, "backup": 0.0}
    unstable = 0
    cache: dict[float, tuple] = {}
    for h in range(HOURS_PER_WEEK):
        w = calls[h] / total_calls if total_calls > 0 else 1.0 / HOURS_PER_WEEK
        lam_u = calls[h] * mean_units / 3600.0
        key = round(lam_u, 12)
        if key not in cache:
            cache[key] = _hour(lam_u, c=c, demand=demand, ow=ow, groups=groups, area_m2=area_m2, grid=grid,
                               response_line_s=response_line_s, backup_line_s=backup_line_s,
                               need_backup=backup_share > 0)
        res = cache[key]
        if res is None:
            unstable += 1
            acc["p_wait"] += w
            acc["wait"] = math.inf
            acc["resp"] = math.inf
            continue
        rho_h[h] = res["rho"]
        for k in acc:
            acc[k] += w * res[k]
        cdf1 += w * res["cdf"]
    stable_w = sum(calls[h] for h in range(HOURS_PER_WEEK) if rho_h[h] < 1.0) / total_calls if total_calls else 1.0
    p50 = _quantile(grid, cdf1, 0.5)
    p90 = _quantile(grid, cdf1, 0.9)
    line = acc["line"]
    backup = acc["backup"] if backup_share > 0 else None
    holds = line >= target and (backup is None or backup >= target)
    close = abs(line - target) < CLOSE_CALL or (backup is not None and abs(backup - target) < CLOSE_CALL)
    staff = deployment.staffing.get(level)
    return LevelEstimate(
        level=level,
        patrol_officers=int(staff.patrol_officers if staff else deployment.patrol_officers),
        on_duty_officers=int(staff.on_duty_officers if staff else deployment.on_duty_officers),
        units={g.kind: g.units for g in groups}, responders=c, calls_per_hour=total_calls / HOURS_PER_WEEK,
        unit_requests_per_hour=total_calls * mean_units / HOURS_PER_WEEK,
        utilisation=float(rho_h.mean()), utilisation_peak=float(rho_h.max()),
        p_wait=acc["p_wait"], mean_wait_s=acc["wait"],
        travel_first_s=acc["t1"] / stable_w if stable_w > 0 else math.inf,
        travel_second_s=(acc["t2"] / stable_w if stable_w > 0 else math.inf) if backup_share > 0 else None,
        response_mean_s=acc["resp"], response_p50_s=p50, response_p90_s=p90,
        response_within_line=line, backup_within_line=backup, lines_hold=bool(holds), close_call=bool(close),
        unstable_hours=unstable)


def _hour(lam_u: float, *, c: int, demand: _DemandSummary, ow: np.ndarray, groups, area_m2: float, grid: np.ndarray,
          response_line_s: float, backup_line_s: float, need_backup: bool) -> dict | None:
    solved = _solve_hour(lam_u, c=c, on_scene_s=demand.on_scene_per_request_s, order_weights=ow, groups=groups,
                         area_m2=area_m2)
    if solved is None:
        return None
    rho, service_s, tt = solved
    free = 1.0 - rho
    if lam_u > 0:
        p_wait = erlang_c(servers=c, offered_load=lam_u * service_s)
        rate = c / service_s - lam_u                     # 1 / s: the conditional wait is exponential
        mean_wait = p_wait / rate
    else:
        p_wait, rate, mean_wait = 0.0, math.inf, 0.0
    common = dict(handling_mean_s=demand.handling_mean_s, p_wait=p_wait, wait_rate=rate, groups=groups,
                  area_m2=area_m2, free_share=free)
    cdf = response_cdf(grid, order=1, **common)
    line = float(np.interp(response_line_s, grid, cdf))
    backup = float(response_cdf(np.array([backup_line_s]), order=2, **common)[0]) if need_backup else 0.0
    return {"rho": rho, "p_wait": p_wait, "wait": mean_wait, "t1": float(tt[0]),
            "t2": float(tt[1]) if tt.size > 1 else 0.0,
            "resp": demand.handling_mean_s + mean_wait + float(tt[0]), "line": line, "backup": backup, "cdf": cdf}


# --------------------------------------------------------------------------- whole scenario
def car_response_kph(graph, *, emergency_speed_factor: float) -> float:
    """Typical car response speed: total street length / total time at road speed, x the emergency factor.

    The length-weighted harmonic mean of the road speeds: the speed of a car that
    drove every street once.
    """
    length = np.asarray(graph.edge_length_m, float)
    kph = np.asarray(graph.edge_speed_kph, float)
    return float(length.sum() / (length / kph).sum() * emergency_speed_factor)


def response_speeds_kph(scenario, graphs) -> dict[str, float]:
    """One typical response speed per kind (sim.kinds): road-speed kinds at their graph's
    ``car_response_kph`` (the length-weighted harmonic mean) times their factor, the others at
    their fixed speed."""
    sp = scenario.network.speeds
    return {k.name: k.response_kph(sp, road_kph=car_response_kph(graphs[k.graph], emergency_speed_factor=1.0))
            for k in kinds.UNIT_KINDS}


def estimate(scenario, *, city=None, levels=LEVELS) -> ScenarioEstimate:
    """The analytic estimate of a validated ``Scenario`` at each of ``levels`` (all four by default).

    Each level's force and demand come from ``sim.world.prepare`` of the scenario at that level,
    exactly as a run prepares them (travel oracles are not built: the estimate needs none).
    """
    from sim.network import load_city
    from sim.world import base_demand, prepare

    city = city or load_city(scenario, quiet=True)
    base = base_demand(scenario, city, quiet=True)
    g = city.places
    area_km2 = g.area_km2()
    if area_km2 <= 0:
        raise InputError("the road network has no area (fewer than three places, or all on a line)",
                         file=scenario.source_file, key="network",
                         fix="use a network that covers an area")
    speed_kph = response_speeds_kph(scenario, city.graphs)
    horizon_s = scenario.horizon_days * 86_400.0
    out = {}
    summary = _demand_summary(base, horizon_s=horizon_s)
    for level in levels:
        sc = scenario.at_level(level)
        world = prepare(sc, city=city, demand=base, with_travel=False)
        demand, dep = world.demand, world.deployment
        groups = _groups(dep, level, speed_kph=speed_kph, turnout_s=sc.force.turnout_s)
        if not groups:
            raise InputError(f"no unit answers calls at the {level} level", file=scenario.source_file,
                             key="force", fix="put officers on patrol or on standby")
        summary = _demand_summary(demand, horizon_s=horizon_s)
        out[level] = estimate_level(level=level, deployment=dep, demand=summary,
                                    groups=groups, area_m2=area_km2 * 1e6,
                                    response_line_s=sc.lines.response_s, backup_line_s=sc.lines.backup_s,
                                    target=sc.lines.target_compliance)
    return ScenarioEstimate(
        scenario=scenario.name, file=scenario.source_file, area_km2=area_km2,
        speeds_kph={(f"{k}_response" if kinds.kind(k).response.per == "road" else k): v
                    for k, v in speed_kph.items()},
        response_line_s=scenario.lines.response_s, backup_line_s=scenario.lines.backup_s,
        target_compliance=scenario.lines.target_compliance,
        call_handling_mean_s=summary.handling_mean_s, levels=out, assumptions=ASSUMPTIONS)
