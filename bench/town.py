"""The default town benchmark (issue 14): per-incident cost of one simulated year, and across force sizes.

    python bench/town.py --days 365                                  # this checkout, one year
    python bench/town.py --days 365 --old ../old-checkout --rounds 3  # old and new side by side (ABBA)
    python bench/town.py --days 60 --sweep 240,480,960,1920 --old ../old-checkout

The work is ``scenarios/default.yaml`` (the synthetic county town, 260 incidents a day,
the 240-officer force at green) for ``--days`` simulated days, one replication (index 0).
``--sweep`` scales ``force.total_officers`` (same mix, same demand), which scales the
units on the streets (34 units at 240 officers to 278 at 1,920); per-incident cost
should not grow with them.

Each run is its own Python process with one thread; it prints one ``RESULT`` line:
units, incidents, the replication's CPU seconds (``run_replication``: drawing the
incidents, the engine, visibility, the tables and metrics; with warm travel caches, the
least of ``--repeat`` replications), the first engine run's CPU seconds (cold caches,
circuits built, the compiled search loaded), and microseconds per incident of each.
With ``--old`` every point runs the old checkout and this one alternately (old, new,
new, old, ...), so load from other work on a shared machine falls on both alike; the
rounds are outermost and the points alternate within them too, so that the growth from
the first point to the last (printed after the table with ``--sweep``) compares runs
made close together; with ``--rounds`` above one the growth is also printed round by round
(median and range), which shows how far the machine's load moves it. The table shows the
least CPU time of each side (other work on the machine only ever adds to it) and their
ratio. Results (incidents, response compliance) must match.
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


def child(days: float, officers: int | None, repeat: int = 1) -> None:
    """One replication in this process (``sim`` from PYTHONPATH); prints one RESULT line."""
    import resource

    from sim.experiment.replicate import make_engine, run_replication

    ctx, rep, incidents = default_town(days, [] if officers is None else [f"force.total_officers={officers}"])
    c0 = time.process_time()
    make_engine(ctx, incidents, rep).run()                 # the engine alone (warms shared caches too)
    c1 = time.process_time()
    repl = []
    for _ in range(max(1, repeat)):
        c2 = time.process_time()
        out = run_replication(ctx, 0)                      # what `patrolsim run` does per replication
        repl.append(time.process_time() - c2)
    n = int(len(out.incidents))
    print("RESULT " + json.dumps({
        "officers": ctx.scenario.force.total_officers, "units": len(ctx.deployment.units), "incidents": n,
        "engine_cpu_s": c1 - c0, "replication_cpu_s": min(repl), "replication_runs_s": repl,
        "engine_us": (c1 - c0) / max(n, 1) * 1e6, "replication_us": min(repl) / max(n, 1) * 1e6,
        "response_within_line": out.metrics["response_within_line"],
        "backup_within_line": out.metrics["backup_within_line"],
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}), flush=True)


def run(repo: Path, days: float, officers: int | None, repeat: int) -> dict:
    args = ["--days", f"{days:g}", "--repeat", str(repeat)]
    if officers is not None:
        args += ["--officers", str(officers)]
    return run_child(__file__, args, repo)



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=365.0, help="simulated days (default 365)")
    ap.add_argument("--sweep", default="", help="force.total_officers values, comma-separated "
                    "(default: the scenario's 240 only)")
    ap.add_argument("--old", default=None, help="another checkout to run side by side (e.g. main)")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each side per point (default 1)")
    ap.add_argument("--repeat", type=int, default=1, help="replications timed in each run; the least CPU "
                    "time counts (default 1)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--officers", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.days, args.officers, args.repeat)
        return 0
    points = [int(x) for x in args.sweep.split(",") if x] or [None]
    sides = {"new": REPO} if args.old is None else {"old": Path(args.old).resolve(), "new": REPO}
    print(f"# default town, {args.days:g} days, {args.rounds} run(s) per side and point; "
          f"python bench/town.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    head = f"{'officers':>8} {'units':>5} {'incid.':>6}"
    for s in sides:
        head += f" | {s + ' repl us/inc':>16} {'cold us/inc':>11} {'repl s':>6}"
    if len(sides) == 2:
        head += f" | {'old/new':>7}"
    print(head, flush=True)
    # rounds outermost, points and sides alternating within a round (ABBA), so that a change in the
    # machine's load during the command falls on every point alike, and the growth from the first
    # point to the last (the goal's ratio) compares runs made close together
    runs: dict = {p: {s: [] for s in sides} for p in points}
    order = list(sides)
    for r in range(args.rounds):
        for k, officers in enumerate(points if r % 2 == 0 else points[::-1]):
            for s in (order if (r + k) % 2 == 0 else order[::-1]):
                runs[officers][s].append(run(sides[s], args.days, officers, args.repeat))
    least: dict = {}
    for officers in points:
        first = runs[officers]["new"][0]
        row = f"{first['officers']:>8} {first['units']:>5} {first['incidents']:>6}"
        med = least[officers] = {}
        for s in sides:
            med[s] = min(r["replication_us"] for r in runs[officers][s])
            eng = min(r["engine_us"] for r in runs[officers][s])
            sec = min(r["replication_cpu_s"] for r in runs[officers][s])
            row += f" | {med[s]:>16.1f} {eng:>11.1f} {sec:>6.2f}"
        if len(sides) == 2:
            row += f" | {med['old'] / med['new']:>6.2f}x"
            a, b = runs[officers]["old"][0], runs[officers]["new"][0]
            if (a["incidents"], a["response_within_line"]) != (b["incidents"], b["response_within_line"]):
                row += f"  RESULTS DIFFER: old {a['response_within_line']} new {b['response_within_line']}"
        print(row, flush=True)
    if len(points) > 1:
        lo, hi = points[0], points[-1]
        print(f"growth of the cost per incident from {lo} to {hi} officers (goal: within 1.5x): " +
              ", ".join(f"{s} {least[hi][s] / least[lo][s]:.2f}x" for s in sides))
        if args.rounds > 1:
            # the same ratio round by round (each round's two points ran close together): its spread shows
            # how far the machine's load moves it
            parts = []
            for s in sides:
                g = sorted(b["replication_us"] / a["replication_us"] for a, b in zip(runs[lo][s], runs[hi][s]))
                parts.append(f"{s} median {statistics.median(g):.2f}x ({g[0]:.2f}-{g[-1]:.2f})")
            print(f"  round by round ({args.rounds} rounds): " + ", ".join(parts))
    for officers in points:
        for s in sides:
            print("RUNS " + json.dumps({"side": s, "officers": officers, "runs": runs[officers][s]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
