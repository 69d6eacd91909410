"""Run patrolsim on the benchmark work: the Seattle drive graph, 200 incidents a day, 40 cars.

    python bench/run_patrolsim.py --days 30
    python bench/run_patrolsim.py --days 365
    python bench/run_patrolsim.py --days 30 --profile 25     # cProfile, top 25 by cumulative time

Prints the phase times and a sanity figure (response compliance), then one JSON
line starting with ``RESULT`` that ``bench/speed.py`` reads. This module also
holds the pieces both sides of the benchmark share (the scenario, loading the
inputs), so that the baseline gets exactly the same streets, beats and incidents.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# Use the repository's network cache wherever the script is started from.
os.environ.setdefault("PATROLSIM_CACHE_DIR", str(REPO / "networks" / "cache"))

DEFAULT_OSM = "../shared/data/seattle_udistrict/udistrict.osm.gz"   # relative to the repository root
SEED = 1
INCIDENTS_PER_DAY = 200
CARS = 40
DAY_S = 86_400.0


def osm_path(arg: str | None) -> Path:
    """The OSM extract: the given path (relative to the current folder), else the default
    (relative to the repository root). Exits with a clear message if it is missing."""
    path = Path(arg) if arg else REPO / DEFAULT_OSM
    if not path.is_file():
        shown = arg if arg else f"{DEFAULT_OSM} (relative to the repository root)"
        print(f"error: OSM extract not found: {shown} (the benchmark needs the Seattle University "
              f"District extract; pass its location with --osm PATH)", file=sys.stderr)
        sys.exit(2)
    return path.resolve()


def bench_scenario_dict(osm: Path, days: float) -> dict:
    """40 two-officer cars on patrol, no standby units, 200 incidents a day, no warm-up."""
    return {
        "name": "bench-seattle",
        "seed": SEED,
        "horizon_days": days,
        "warmup_days": 0,
        "replications": 1,
        "network": {"osm": {"file": str(osm)}},
        "demand": {"incidents_per_day": INCIDENTS_PER_DAY},
        "force": {"total_officers": 2 * CARS, "mix": {"car": 1.0},
                  "crew": {"car": 2, "bicycle": 1, "foot": 1},
                  # every car on patrol all day, as in the baseline: no duty-hour limit
                  "max_duty_hours_per_day": 24},
        "alert": {"level": "green",
                  "patrol_share": {"green": 1.0, "yellow": 1.0, "orange": 1.0, "red": 1.0}},
    }


def bench_scenario(osm: Path, days: float):
    from sim.scenario import scenario_from_dict

    return scenario_from_dict(bench_scenario_dict(osm, days))


def check_deployment(deployment) -> None:
    cars = deployment.count(kind="car", role="patrol")
    standby = deployment.count(role="standby")
    if cars != CARS or standby != 0 or len(deployment.units) != CARS:
        sys.exit(f"error: the benchmark scenario should deploy {CARS} patrol cars and no standby "
                 f"units, got {cars} patrol cars, {standby} standby, {len(deployment.units)} units "
                 f"in all (has the force model changed? adjust bench_scenario_dict)")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # KiB on Linux


def print_result(result: dict) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def main(argv=None) -> int:
    t_start = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    ap.add_argument("--osm", default=None, help=f"OSM extract (default {DEFAULT_OSM}, "
                    "relative to the repository root)")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="profile the replication with cProfile and print the top N functions")
    args = ap.parse_args(argv)
    osm = osm_path(args.osm)

    from sim.experiment import prepare, run_replication

    t0 = time.perf_counter()
    ctx = prepare(bench_scenario(osm, args.days), quiet=True)
    check_deployment(ctx.deployment)
    # the compiled loops (numba: import and load from its cache, about 0.5-1 s once per process)
    # are loaded with the preparation, not in the timed replication (as bench/scale.py does)
    try:                    # every loop the replication calls (engine and tables; older trees: fewer)
        from sim.experiment.replicate import load_loops
    except ImportError:
        try:
            from sim.engine.warm import load_loops
        except ImportError:
            from sim.engine import kernels

            def load_loops():
                kernels.compile_once()
                kernels.compile_cordon_once()
    load_loops()
    t1 = time.perf_counter()
    c1 = time.process_time()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
    out = run_replication(ctx, 0)
    t2 = time.perf_counter()
    c2 = time.process_time()
    if args.profile:
        prof.disable()
    m = out.metrics
    result = {
        "impl": "patrolsim",
        "days": args.days,
        "nodes": ctx.city.graphs["drive"].n_nodes,
        "edges": ctx.city.graphs["drive"].n_edges,
        "cars": len(ctx.deployment.units),
        "incidents": int(m["incidents"]),
        "response_within_line": m["response_within_line"],
        "backup_within_line": m["backup_within_line"],
        "response_time_p50_s": m["response_time_p50_s"],
        "response_time_p90_s": m["response_time_p90_s"],
        "import_s": t0 - t_start,
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
        "run_cpu_s": c2 - c1,
        "peak_rss_mb": peak_rss_mb(),
    }
    print(f"patrolsim: {result['days']:g} days, {result['incidents']} incidents, {result['cars']} cars, "
          f"drive graph {result['nodes']} nodes / {result['edges']} edges")
    print(f"  imports {result['import_s']:.2f} s, prepare {result['setup_s']:.2f} s, "
          f"replication {result['run_s']:.2f} s, peak RSS {result['peak_rss_mb']:.0f} MB")
    print(f"  response within line {m['response_within_line']:.4f}, backup within line "
          f"{m['backup_within_line']:.4f}, response p50 {m['response_time_p50_s']:.0f} s, "
          f"p90 {m['response_time_p90_s']:.0f} s")
    if args.profile:
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)
    print_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
