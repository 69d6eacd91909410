"""The cost that grows with the force: shift changes and circuit builds, per call, old and new side by side.

    python bench/shift_cost.py --days 60 --officers 1920 --old ../old-checkout
    python bench/shift_cost.py --days 60 --officers 240,1920 --runs 5
    python bench/shift_cost.py --days 60 --officers 240,1920 --runs 3 --rounds 3 --old ../old-checkout

The default town (``scenarios/default.yaml``) at ``--officers`` for ``--days``; the engine
runs once to warm the shared caches, then ``--runs`` times. Every run does the same work,
so each shift change (``Rejoin.shift_change``, the circuits it builds left out) and the
builds (``Circuits._build``, ``Rejoin._plan`` with the builds it asks for) are timed per call in thread CPU time, and the
least of each call over the runs is kept: other work on a shared machine only ever adds
to a call, so the sums of least times move far less than a whole run's time (a whole
60-day engine run moved by 30% between identical runs here; these sums by a few per cent).
Each side runs in its own process (``child.run_child``); the counts of calls must match.
With ``--rounds N`` the sides' processes alternate N times (old, new, old, new, ...) and
each call keeps its least time over all of a side's rounds: a load that comes and goes
during the command then reaches both sides alike (on the shared 2-core machine one side's
process alone moved by 20% from one command to the next).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from child import default_town, run_child

REPO = Path(__file__).resolve().parents[1]


def child(days: float, officers: int, runs: int) -> None:
    """One side: prints one RESULT line with the sums of least thread times (ms)."""
    from sim.engine import duty as D
    from sim.engine import rejoin as R
    from sim.experiment.replicate import make_engine

    ctx, rep, incidents = default_town(days, [f"force.total_officers={officers}"])
    clock = time.thread_time_ns
    built = [0, 0]                    # thread ns in builds so far; depth of build calls under way
    calls: dict = {"shift": [], "build": []}

    def timed_build(fn):
        def wrapper(*a, **k):
            if built[1]:                         # inside another build or plan: counted there
                return fn(*a, **k)
            built[1] = 1
            c0 = clock()
            try:
                return fn(*a, **k)
            finally:
                dt = clock() - c0
                built[0] += dt
                built[1] = 0
                calls["build"].append(dt)
        return wrapper

    def timed_shift(fn):
        def wrapper(*a, **k):
            b0, c0 = built[0], clock()
            out = fn(*a, **k)
            calls["shift"].append(clock() - c0 - (built[0] - b0))
            return out
        return wrapper

    D.Circuits._build = timed_build(D.Circuits._build)
    R.Rejoin._plan = timed_build(R.Rejoin._plan)
    R.Rejoin.shift_change = timed_shift(R.Rejoin.shift_change)
    make_engine(ctx, incidents, rep).run()
    least: dict = {}
    engine = []
    for _ in range(max(1, runs)):
        for v in calls.values():
            v.clear()
        c0 = clock()
        make_engine(ctx, incidents, rep).run()
        engine.append(clock() - c0)
        for k, v in calls.items():
            least[k] = list(v) if k not in least else [min(a, b) for a, b in zip(least[k], v)]
    shift = least["shift"]
    print("RESULT " + json.dumps({
        "officers": officers, "units": len(ctx.deployment.units), "shift_changes": len(shift),
        "shift_ms": sum(shift) / 1e6, "shift_median_us": statistics.median(shift) / 1e3,
        "builds": len(least["build"]), "build_plan_ms": sum(least["build"]) / 1e6, "engine_least_ms": min(engine) / 1e6,
        "shift_calls_ns": shift, "build_calls_ns": least["build"]}), flush=True)


def merged(rounds: list[dict]) -> dict:
    """One side's rounds as one: per call the least time over the rounds, the sums and median of those."""
    r = dict(rounds[0])
    for other in rounds[1:]:
        if (len(other["shift_calls_ns"]), len(other["build_calls_ns"])) != (len(r["shift_calls_ns"]),
                                                                            len(r["build_calls_ns"])):
            sys.exit("error: two rounds of the same side did different work")
        for k in ("shift_calls_ns", "build_calls_ns"):
            r[k] = [min(a, b) for a, b in zip(r[k], other[k])]
        r["engine_least_ms"] = min(r["engine_least_ms"], other["engine_least_ms"])
    shift = r["shift_calls_ns"]
    r.update(shift_ms=sum(shift) / 1e6, shift_median_us=statistics.median(shift) / 1e3,
             build_plan_ms=sum(r["build_calls_ns"]) / 1e6, rounds=len(rounds))
    return r


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=60.0, help="simulated days (default 60)")
    ap.add_argument("--officers", default="1920", help="force.total_officers, comma-separated (default 1920)")
    ap.add_argument("--runs", type=int, default=3, help="timed engine runs per side (default 3)")
    ap.add_argument("--rounds", type=int, default=1, help="processes per side, the sides alternating (default 1)")
    ap.add_argument("--old", default=None, help="another checkout to run side by side (e.g. main)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.days, int(args.officers), args.runs)
        return 0
    sides = {"new": REPO} if args.old is None else {"old": Path(args.old).resolve(), "new": REPO}
    print(f"# default town, {args.days:g} days, least thread time per call over {args.runs} runs "
          f"x {max(1, args.rounds)} rounds; "
          f"python bench/shift_cost.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"{'officers':>8} {'units':>5} {'side':>4} {'shift changes':>13} {'ms':>7} {'median us':>9} "
          f"{'builds+plans ms':>15} {'engine ms':>9}")
    for officers in (int(x) for x in args.officers.split(",") if x):
        rounds: dict = {s: [] for s in sides}
        for _ in range(max(1, args.rounds)):
            for s, repo in sides.items():
                rounds[s].append(run_child(__file__, ["--days", f"{args.days:g}", "--officers", str(officers),
                                                      "--runs", str(args.runs)], repo))
        res = {s: merged(rs) for s, rs in rounds.items()}
        for s, r in res.items():
            print(f"{officers:>8} {r['units']:>5} {s:>4} {r['shift_changes']:>13} {r['shift_ms']:>7.1f} "
                  f"{r['shift_median_us']:>9.0f} {r['build_plan_ms']:>15.1f} {r['engine_least_ms']:>9.0f}", flush=True)
        if len(res) == 2:
            a, b = res["old"], res["new"]
            if (a["shift_changes"], a["builds"]) != (b["shift_changes"], b["builds"]):
                print("  CALLS DIFFER: the two sides did not do the same work")
            print(f"{'':>8} {'':>5} old/new: shift changes {a['shift_ms'] / b['shift_ms']:.2f}x, builds "
                  f"{a['build_plan_ms'] / b['build_plan_ms']:.2f}x")
        for s, r in res.items():
            print("RUNS " + json.dumps({"side": s, **{k: v for k, v in r.items() if not k.endswith("_calls_ns")}}),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
