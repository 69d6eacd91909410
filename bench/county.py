"""The whole-county benchmark: CPU time and peak memory of `patrolsim run` on the Guanghan county.

    python bench/county.py                       # 1 week, 1 replication: the issue's target (< 60 s, < 1.5 GB)
    python bench/county.py --days 2              # a shorter horizon
    python bench/county.py --profile             # where the time goes: phases and the top functions
    python bench/county.py --set force.total_officers=900

The first form runs the real command, ``python -m sim run scenarios/guanghan_county.yaml
--replications 1 --quiet`` (in a fresh process, one thread for numpy/BLAS, output in a temporary
folder), and prints its CPU time (user + system, from the operating system's accounting of the
child), wall time and peak resident memory (``ru_maxrss`` of the child). The CPU time is the
figure to compare: it does not count waiting for a core that other work holds.

``--profile`` runs the same work inside this process under cProfile, phase by phase (network,
prepare: beats and travel tables, the replication: engine and tables) and prints the CPU time
of each phase and the functions with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "guanghan_county.yaml"
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def warmup(days: float) -> float:
    """The scenario's one day of warm-up, or a seventh of a shorter horizon."""
    return min(1.0, days / 7.0)


def run_command(days: float, sets: list[str]) -> dict:
    """Run ``patrolsim run`` on the county in a child process; its CPU time, wall time and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim", "run", str(SCENARIO), "--replications", "1", "--quiet",
               "--out", str(Path(tmp) / "county"), "--set", f"horizon_days={days:g}",
               "--set", f"warmup_days={warmup(days):g}"]
        for s in sets:
            cmd += ["--set", s]
        env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(REPO)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(f"error: {' '.join(cmd[1:])} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        import pandas as pd

        incidents = len(pd.read_parquet(Path(tmp) / "county" / "incidents.parquet", columns=["replication"]))
    return {"cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), "wall_s": wall,
            "peak_mb": after.ru_maxrss / 1024.0, "incidents": incidents}


def profile(days: float, sets: list[str], top: int) -> None:
    """The same work in this process: CPU time of each phase, then the functions under cProfile."""
    sys.path.insert(0, str(REPO))
    from sim.experiment import prepare, run_replication
    from sim.network import load_city
    from sim.scenario_file import load_scenario

    sc = load_scenario(str(SCENARIO), overrides=[f"horizon_days={days:g}", f"warmup_days={warmup(days):g}", *sets])
    sc = sc.model_copy(update={"replications": 1})

    def phases(prof: cProfile.Profile | None) -> tuple[list[tuple[str, float]], object, object]:
        out, state = [], {}
        steps = (("network (generate the county)", lambda: state.update(city=load_city(sc, quiet=True))),
                 ("prepare (beats, travel tables, demand)",
                  lambda: state.update(ctx=prepare(sc, quiet=True, city=state["city"]))),
                 ("replication (engine, metrics, tables)",
                  lambda: state.update(rep=run_replication(state["ctx"], 0))))
        for label, work in steps:
            c0 = time.process_time()
            if prof:
                prof.enable()
            work()
            if prof:
                prof.disable()
            out.append((label, time.process_time() - c0))
        return out, state["ctx"], state["rep"]

    timed, ctx, rep = phases(None)
    print(f"# county phases: {ctx.city.places.n_nodes:,} nodes, {len(ctx.deployment.units)} units, "
          f"{len(rep.incidents):,} incidents, {days:g} days (CPU seconds, no profiler)")
    for label, s in timed:
        print(f"  {label:<40} {s:8.2f} s")
    print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0:,.0f} MB")
    prof = cProfile.Profile()
    phases(prof)
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats(order).print_stats(top)
        print(f"\n# cProfile, by {order} (a second run of the same phases; the profiler slows Python ~2x)")
        print("\n".join(ln for ln in text.getvalue().splitlines() if ln.strip() and "Ordered by" not in ln))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=7.0, help="simulated days (default 7: one week)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="a scenario override, as `patrolsim run --set` (repeatable)")
    ap.add_argument("--profile", action="store_true", help="profile the phases in this process instead")
    ap.add_argument("--top", type=int, default=25, help="functions listed by --profile (default 25)")
    args = ap.parse_args(argv)
    if args.profile:
        os.environ.update(ONE_THREAD)
        profile(args.days, args.sets, args.top)
        return 0
    r = run_command(args.days, args.sets)
    print(f"# county benchmark: patrolsim run {SCENARIO.relative_to(REPO)} --replications 1, "
          f"{args.days:g} days{''.join(' --set ' + s for s in args.sets)}")
    print(f"  incidents {r['incidents']:,}  CPU {r['cpu_s']:.1f} s  wall {r['wall_s']:.1f} s  "
          f"peak memory {r['peak_mb']:,.0f} MB  ({r['cpu_s'] / max(r['incidents'], 1) * 1e6:,.0f} µs CPU per incident,"
          f" whole command)")
    print(f"  target: one week under 60 s per replication, under 1,500 MB: "
          f"{'met' if args.days >= 7 and r['cpu_s'] < 60 and r['peak_mb'] < 1500 else 'see the figures'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
