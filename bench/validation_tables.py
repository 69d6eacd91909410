"""Print the "Simulation vs analytic" tables of docs/validation.md.

    python bench/validation_tables.py                 # everything (about 3 minutes on 2 cores)
    python bench/validation_tables.py --skip-scenario # only Erlang C, hypercube, square-root law (~40 s)

The Erlang C, hypercube and square-root-law runs use the same configurations
and seeds as ``tests/validation`` (so the tables show what the tests check);
the scenario table runs ``patrolsim run --all-levels --replications 5`` on the
default scenario (same seed, hence the same numbers) and puts
``patrolsim analytic scenarios/default.yaml`` next to it, then the same at
green with 600 calls a day instead of 260 (a heavier load).

Every simulated figure is the mean over replications with its 95 % t-interval
(``sim.metrics.mean_ci95``).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sim.analytic import (erlang_c, expected_nearest_distance, load_problem, mmc_mean_wait,  # noqa: E402
                          mmc_p_wait_exceeds, solve_hypercube)
from sim.analytic.problem import HypercubeProblem  # noqa: E402
from sim.experiment.hypercube_sim import simulate_hypercube  # noqa: E402
from sim.experiment.validation_builders import (lattice_nearest_distance, simulate_mmc,  # noqa: E402
                                                simulate_nearest_distance)
from sim.metrics import mean_ci95  # noqa: E402


def ci(samples, fmt="{:.4f}") -> str:
    s = mean_ci95(list(np.asarray(samples, float)))
    lo, hi = s["ci95"]
    return f"{fmt.format(s['mean'])} [{fmt.format(lo)}, {fmt.format(hi)}]"


def inside(samples, value) -> str:
    s = mean_ci95(list(np.asarray(samples, float)))
    lo, hi = s["ci95"]
    return "yes" if lo <= value <= hi else "no"


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def erlang_table() -> None:
    print("### Erlang C (20 replications x 500 mean service times, warm-up 20)\n")
    print(row("queue", "metric", "analytic", "simulated mean [95% CI]", "in CI"))
    print(row(*["---"] * 5))
    for c, a in ((1, 0.5), (4, 3.0)):
        sim = simulate_mmc(servers=c, offered_load=a, replications=20, seed=20240611 + c, horizon_services=500.0,
                           warmup_services=20.0, t=(0.25, 1.0))
        name = f"M/M/{c}, load {a / c:g}"
        values = [("P(wait)", erlang_c(servers=c, offered_load=a), sim.p_wait),
                  ("mean wait (service times)", mmc_mean_wait(servers=c, arrival_rate=a, service_rate=1.0),
                   sim.mean_wait)]
        for k, t in enumerate(sim.t):
            values.append((f"P(wait > {t:g})", mmc_p_wait_exceeds(servers=c, arrival_rate=a, service_rate=1.0,
                                                                  t=float(t)), sim.p_wait_exceeds[:, k]))
        values.append(("utilisation", a / c, sim.utilisation))
        for metric, value, samples in values:
            print(row(name, metric, f"{value:.4f}", ci(samples), inside(samples, value)))
    print()


def _with_queue(problem: HypercubeProblem, queue: str) -> HypercubeProblem:
    return HypercubeProblem(arrival_rates=problem.arrival_rates, preferences=problem.preferences,
                            service_rate=problem.service_rate, queue=queue, travel_times=problem.travel_times,
                            units=problem.units, atoms=problem.atoms)


def hypercube_tables() -> None:
    larson = load_problem(REPO / "scenarios" / "hypercube" / "larson_3units.yaml")
    grid = load_problem(REPO / "scenarios" / "hypercube" / "grid_9units.yaml")
    for name, problem, horizon in (("Larson & Odoni's 3 units, infinite queue", larson, 1000.0),
                                   ("Larson & Odoni's 3 units, loss", _with_queue(larson, "loss"), 1000.0),
                                   ("grid_9units.yaml, infinite queue", grid, 400.0)):
        model = solve_hypercube(problem, method="exact")
        sim = simulate_hypercube(problem, replications=20, seed=20240612, horizon_services=horizon,
                                 warmup_services=20.0)
        print(f"### {name} (20 replications x {horizon:g} mean service times, warm-up 20; "
              f"{sim.calls.mean():,.0f} calls each)\n")
        print(row("metric", "hypercube (exact)", "simulated mean [95% CI]", "in CI"))
        print(row(*["---"] * 4))
        for n, u in enumerate(sim.units):
            print(row(f"workload {u}", f"{model.workloads[n]:.4f}", ci(sim.workloads[:, n]),
                      inside(sim.workloads[:, n], model.workloads[n])))
        what = "P(all busy): waits" if problem.queue == "infinite" else "P(all busy): lost"
        print(row(what, f"{model.p_queue:.4f}", ci(sim.p_queue), inside(sim.p_queue, model.p_queue)))
        print(row("cross-area fraction", f"{model.cross_area_fraction:.4f}", ci(sim.cross_area_fraction),
                  inside(sim.cross_area_fraction, model.cross_area_fraction)))
        if problem.queue == "infinite":
            wq = mmc_mean_wait(servers=problem.n_units, arrival_rate=problem.total_rate,
                               service_rate=problem.service_rate)
            print(row("mean wait (M/M/N)", f"{wq:.4f}", ci(sim.mean_wait), inside(sim.mean_wait, wq)))
        if problem.travel_times is not None:
            print(row("mean travel time (min)", f"{model.mean_travel_time:.4f}", ci(sim.mean_travel_time),
                      inside(sim.mean_travel_time, model.mean_travel_time)))
        f_model = np.asarray(model.dispatch_fractions)
        cover = [inside(sim.dispatch_fractions[:, j, n], f_model[j, n]) == "yes"
                 for j in range(f_model.shape[0]) for n in range(f_model.shape[1])
                 if f_model[j, n] * sim.calls.mean() >= 20]
        diff = np.abs(sim.dispatch_fractions.mean(axis=0) - f_model)
        print(row("dispatch fractions: largest abs. difference", "-", f"{diff.max():.4f}", "-"))
        print(row("dispatch fractions (>= 20 calls a replication): 95% CIs containing the model",
                  "-", f"{sum(cover)} of {len(cover)}", "-"))
        print()


def sqrt_law_table() -> None:
    side, units, spacing = 41, 20, 100.0
    print(f"### Square-root law ({side} x {side} grid, {spacing:g} m blocks, {units} units at random nodes, "
          f"160 layouts x 25 calls)\n")
    print(row("grid", "law 0.6267 sqrt(A/n)", "exact lattice expectation", "simulated mean [95% CI]",
              "simulated / law", "exact in CI"))
    print(row(*["---"] * 6))
    for torus in (True, False):
        sim = simulate_nearest_distance(side=side, n_units=units, replications=160, seed=20240613,
                                        calls_per_replication=25, torus=torus, spacing_m=spacing)
        law = expected_nearest_distance(area=sim.area_m2, n_free=units, metric="right_angle")
        exact = spacing * lattice_nearest_distance(side=side, n_units=units, torus=torus)
        m = float(sim.mean_distance_m.mean())
        print(row("torus (no edges)" if torus else "plain grid (edges)", f"{law:.1f} m",
                  f"{exact:.1f} m ({100 * (exact / law - 1):+.1f} %)", ci(sim.mean_distance_m, "{:.1f}"),
                  f"{100 * (m / law - 1):+.1f} %", inside(sim.mean_distance_m, exact)))
    print()


def _des_levels(scenario, replications: int, levels):
    """Per-level DES summary plus travel (first arrival - dispatch) per replication."""
    from sim.experiment.run import run_scenario

    out = {}
    for level in levels:
        r = run_scenario(scenario.at_level(level).model_copy(update={"replications": replications}),
                         quiet=True)
        d = r.incidents[r.incidents["in_window"]]
        travel = (d["first_arrival_s"] - d["dispatch_s"]).groupby(d["replication"]).mean()
        out[level] = (r.summary["metrics"], travel.to_numpy())
    return out


def _mmss(x: float) -> str:
    s = int(round(x))
    return f"{s // 60}:{s % 60:02d}"


def scenario_table(*, incidents_per_day: float | None, levels, replications: int) -> None:
    from sim.analytic.scenario_estimate import estimate
    from sim.scenario_file import load_scenario

    overrides = [] if incidents_per_day is None else [f"demand.incidents_per_day={incidents_per_day:g}"]
    sc = load_scenario(REPO / "scenarios" / "default.yaml", overrides=overrides)
    t0 = time.perf_counter()
    est = estimate(sc, levels=levels)
    t_est = time.perf_counter() - t0
    t0 = time.perf_counter()
    des = _des_levels(sc, replications, levels)
    t_des = time.perf_counter() - t0
    what = "default scenario" if incidents_per_day is None else f"default scenario at {incidents_per_day:g} calls a day"
    print(f"### {what}: estimate ({t_est:.1f} s) vs simulation ({replications} replications, {t_des:.0f} s)\n")
    print(row("level", "metric", "estimate", "simulated mean [95% CI]"))
    print(row(*["---"] * 4))
    for level in levels:
        e = est.levels[level]
        m, travel = des[level]

        def sim_ci(key, scale=1.0, fmt="{:.1f}"):
            s = m[key]
            return f"{fmt.format(s['mean'] * scale)} [{fmt.format(s['ci95'][0] * scale)}, {fmt.format(s['ci95'][1] * scale)}]"

        util = "unstable" if e.unstable_hours else f"{100 * e.utilisation:.1f} %"
        print(row(level, "utilisation", util, sim_ci("utilisation", 100) + " %"))
        print(row(level, "travel of the first unit (s)", f"{e.travel_first_s:.0f}", ci(travel, "{:.0f}")))
        print(row(level, "response p50 (m:ss)", _mmss(e.response_p50_s),
                  f"{_mmss(m['response_time_p50_s']['mean'])} [{_mmss(m['response_time_p50_s']['ci95'][0])}, "
                  f"{_mmss(m['response_time_p50_s']['ci95'][1])}]"))
        print(row(level, "response p90 (m:ss)", _mmss(e.response_p90_s) if math.isfinite(e.response_p90_s) else "-",
                  f"{_mmss(m['response_time_p90_s']['mean'])} [{_mmss(m['response_time_p90_s']['ci95'][0])}, "
                  f"{_mmss(m['response_time_p90_s']['ci95'][1])}]"))
        print(row(level, "first unit within 5 min", f"{100 * e.response_within_line:.1f} %",
                  sim_ci("response_within_line", 100) + " %"))
        print(row(level, "second unit within 10 min", f"{100 * e.backup_within_line:.1f} %",
                  sim_ci("backup_within_line", 100) + " %"))
    print()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skip-scenario", action="store_true", help="leave out the (slow) scenario tables")
    p.add_argument("--replications", type=int, default=5, help="replications of the scenario runs (default 5)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    erlang_table()
    hypercube_tables()
    sqrt_law_table()
    if not args.skip_scenario:
        scenario_table(incidents_per_day=None, levels=("green", "yellow", "orange", "red"),
                       replications=args.replications)
        scenario_table(incidents_per_day=600, levels=("green",), replications=args.replications)
    print(f"(all tables in {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
