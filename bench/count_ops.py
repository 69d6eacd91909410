"""Count the Python calls and bytecodes one engine run executes on the benchmark work.

    python bench/count_ops.py --days 5                       # this checkout
    python bench/count_ops.py --days 5 --repo ../other-tree  # another checkout of patrolsim, same work
    python bench/count_ops.py --days 5 --town --officers 1920  # the default town (scenarios/default.yaml)
    python bench/count_ops.py --days 12 --town --officers 1920 --top 30   # and where the bytecodes go

Wall and CPU times on a shared machine move by 20% from run to run; these counts do not
move at all, so they compare two versions of the engine (a refactor, a speed change)
where timings cannot. They cover Python code only (not numpy, SimPy's C parts or the
interpreter's own cost per bytecode), so read them beside timings, not instead of them.
The engine runs once untraced first, so both versions count with the same warm caches
(travel-time columns, routes); tracing makes the counted run about 30 times slower.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=5.0, help="simulated days (default 5)")
    ap.add_argument("--repo", default=None, help="the patrolsim checkout to count (default: this one)")
    ap.add_argument("--osm", default=None, help="OSM extract (default as in run_patrolsim.py)")
    ap.add_argument("--town", action="store_true", help="the default town (scenarios/default.yaml) instead")
    ap.add_argument("--officers", type=int, default=None, help="with --town: force.total_officers")
    ap.add_argument("--top", type=int, default=0, help="also print the N functions that ran the most bytecodes")
    args = ap.parse_args(argv)
    repo = Path(args.repo).resolve() if args.repo else HERE.parent
    os.environ.setdefault("PATROLSIM_CACHE_DIR", str(HERE.parent / "networks" / "cache"))
    sys.path.insert(0, str(repo))
    import sim                                       # from --repo, before run_patrolsim adds this checkout
    from sim.demand import sample_incidents
    from sim.experiment import prepare
    from sim.experiment.replicate import make_engine
    from sim.streams import replication_seed

    if Path(sim.__file__).resolve().parents[1] != repo:
        sys.exit(f"error: imported sim from {Path(sim.__file__).parent}, not from {repo}")
    sys.path.insert(1, str(HERE))
    import run_patrolsim as rp
    if args.town:
        from sim.scenario_file import load_scenario

        overrides = [f"horizon_days={args.days:g}", "replications=1"]
        if args.officers is not None:
            overrides.append(f"force.total_officers={args.officers}")
        scenario = load_scenario(HERE.parent / "scenarios" / "default.yaml", overrides=overrides)
    else:
        scenario = rp.bench_scenario(rp.osm_path(args.osm), args.days)
    ctx = prepare(scenario, quiet=True)
    rep = replication_seed(ctx.scenario.seed, 0)
    incidents = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    make_engine(ctx, incidents, rep).run()          # warm the shared caches
    engine = make_engine(ctx, incidents, rep)
    counts = {"calls": 0, "bytecodes": 0}
    by_code: Counter = Counter()      # code object -> bytecodes (with --top)
    calls_of: Counter = Counter()

    def tracer(frame, event, arg):
        if event == "call":
            counts["calls"] += 1
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            counts["bytecodes"] += 1
        return tracer

    def tracer_by_function(frame, event, arg):
        if event == "call":
            counts["calls"] += 1
            calls_of[frame.f_code] += 1
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            counts["bytecodes"] += 1
            by_code[frame.f_code] += 1
        return tracer_by_function

    sys.settrace(tracer_by_function if args.top else tracer)
    log = engine.run()
    sys.settrace(None)
    dispatches = sum(map(len, log.units_sent))
    for code, n in by_code.most_common(args.top):
        print(f"{n:>11,} {n / counts['bytecodes']:6.1%} {n / max(1, dispatches):7.0f}/dispatch "
              f"{calls_of[code]:>8,} calls  {Path(code.co_filename).name}:{code.co_name}")
    print(f"engine run, {args.days:g} days, {dispatches} dispatches: {counts['calls']:,} Python calls, "
          f"{counts['bytecodes']:,} bytecodes ({counts['bytecodes'] / max(1, dispatches):.0f} per dispatch)")
    print("RESULT " + json.dumps({"repo": repo.name, "days": args.days, "dispatches": dispatches, **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
