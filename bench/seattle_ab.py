"""The speed benchmark's patrolsim side (``bench/run_patrolsim.py``), this checkout against another, alternately.

    python bench/seattle_ab.py --old ../old-checkout --rounds 4
    python bench/seattle_ab.py --old ../old-checkout --rounds 4 --days 30

``bench/speed.py`` divides the networkx baseline's replication time by patrolsim's; this
script measures only patrolsim's side, on two checkouts at once: each round runs the old
checkout's ``bench/run_patrolsim.py`` and this one's, each in a fresh process with one
thread, in the order old, new, new, old, ... (ABBA), so that load from other work on a
shared machine falls on both sides alike. It prints each side's least and median CPU
seconds of the timed replication (``run_cpu_s``: the first replication in the process,
so it includes the work a replication does once: circuits, metres rows, join tables)
and their ratio, and checks that both sides report the same results.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from child import run_result

REPO = Path(__file__).resolve().parents[1]
SAME = ("incidents", "response_within_line", "backup_within_line", "response_time_p50_s", "response_time_p90_s")


def run(repo: Path, days: float) -> dict:
    """``repo``'s ``bench/run_patrolsim.py`` in a fresh process; the dict of its ``RESULT`` line."""
    return run_result(repo / "bench" / "run_patrolsim.py", ["--days", f"{days:g}"], repo)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="the other checkout (e.g. main)")
    ap.add_argument("--rounds", type=int, default=3, help="pairs of runs per side, ABBA (default 3)")
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    args = ap.parse_args(argv)
    old = Path(args.old).resolve()
    if not (old / "bench" / "run_patrolsim.py").is_file():
        print(f"error: --old {args.old}: no bench/run_patrolsim.py there (give a checkout of the repository)",
              file=sys.stderr)
        return 2
    sides = {"old": old, "new": REPO}
    runs: dict = {"old": [], "new": []}
    for r in range(args.rounds):
        order = ("old", "new", "new", "old") if r % 2 == 0 else ("new", "old", "old", "new")
        for name in order:
            res = run(sides[name], args.days)
            runs[name].append(res)
            print(f"round {r + 1} {name}: replication {res['run_cpu_s']:.3f} s CPU", flush=True)
    for key in SAME:
        vals = {json.dumps(res[key]) for side in runs.values() for res in side}
        if len(vals) != 1:
            print(f"error: the two checkouts differ in {key}: {sorted(vals)}", file=sys.stderr)
            return 1
    print(f"\n{args.days:g} days, {runs['new'][0]['incidents']} incidents, {len(runs['new'])} runs per side")
    print(f"{'side':5} {'least s':>8} {'median s':>9}")
    least = {}
    for name, side in runs.items():
        cpu = [res["run_cpu_s"] for res in side]
        least[name] = min(cpu)
        print(f"{name:5} {min(cpu):8.3f} {statistics.median(cpu):9.3f}")
    print(f"new / old (least): {least['new'] / least['old']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
