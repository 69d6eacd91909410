"""Garbage collection inside a replication of the default town: its time and its runs (issue 14).

    python bench/gc_share.py --days 365 --old ../old-checkout --rounds 2

Each run is its own process (``sim`` from the checkout, one thread): one replication to warm
the caches, then ``--repeat`` times making the engine and running it (``make_engine`` and
``Engine.run``, what a replication spends in the engine) with ``gc.callbacks`` timing every
collection. Prints per run the CPU seconds of that window, the collector's seconds in it (wall
time between its start and stop callbacks: the process is otherwise busy, so on a loaded
machine read the share more than the seconds), collections per generation, and the seconds of
the full (generation 2) collections. With ``--old`` the two checkouts alternate (old, new,
new, old, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from child import default_town, run_child

REPO = Path(__file__).resolve().parents[1]


def child(days: float, officers: int | None, repeat: int) -> None:
    import gc

    from sim.experiment.replicate import make_engine

    ctx, rep, inc = default_town(days, [] if officers is None else [f"force.total_officers={officers}"])
    make_engine(ctx, inc, rep).run()                 # warm the shared caches
    runs = []
    for _ in range(max(1, repeat)):
        acc = {"start": 0.0, "s": [0.0, 0.0, 0.0], "n": [0, 0, 0]}

        def timed(phase, info, acc=acc):
            if phase == "start":
                acc["start"] = time.perf_counter()
            else:
                g = info["generation"]
                acc["s"][g] += time.perf_counter() - acc["start"]
                acc["n"][g] += 1
        gc.callbacks.append(timed)
        c0 = time.process_time()
        make_engine(ctx, inc, rep).run()
        cpu = time.process_time() - c0
        gc.callbacks.remove(timed)
        runs.append({"cpu_s": cpu, "gc_s": sum(acc["s"]), "share": sum(acc["s"]) / cpu,
                     "collections": acc["n"], "full_s": acc["s"][2]})
    print("RESULT " + json.dumps({"incidents": len(inc), "tracked_objects": len(gc.get_objects()), "runs": runs}),
          flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=365.0, help="simulated days (default 365)")
    ap.add_argument("--officers", type=int, default=None, help="force.total_officers (default: the scenario's)")
    ap.add_argument("--old", default=None, help="another checkout to run side by side")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each side (default 1)")
    ap.add_argument("--repeat", type=int, default=1, help="engines made and run in each run (default 1)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.days, args.officers, args.repeat)
        return 0
    sides = {"new": REPO} if args.old is None else {"old": Path(args.old).resolve(), "new": REPO}
    print(f"# default town, {args.days:g} days; python bench/gc_share.py "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"{'side':>4} {'engine CPU s':>12} {'gc s':>6} {'share':>6} {'gen0/1/2 runs':>14} {'full gc s':>9}")
    order = list(sides)
    cli = ["--days", f"{args.days:g}", "--repeat", str(args.repeat)]
    if args.officers is not None:
        cli += ["--officers", str(args.officers)]
    for r in range(args.rounds):
        for s in (order if r % 2 == 0 else order[::-1]):
            res = run_child(__file__, cli, sides[s])
            for run in res["runs"]:
                n = "/".join(str(x) for x in run["collections"])
                print(f"{s:>4} {run['cpu_s']:>12.3f} {run['gc_s']:>6.3f} {run['share']:>6.1%} {n:>14} "
                      f"{run['full_s']:>9.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
