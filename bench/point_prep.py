"""Preparation time of each point of a sweep in one process: what a worker pays when it meets a point.

    python bench/point_prep.py                                    # default town, 1 day
    python bench/point_prep.py scenarios/liechtenstein.yaml
    python bench/point_prep.py --repo ../other-checkout           # the same on another checkout

Runs one replication of each of 4 points (force sizes 80% to 110% of the scenario's) through
``sim.experiment.tasks.run_task`` in a fresh process and prints, per point, the task's wall time less
the replication's (``runtime_s``): the first point pays for the network and the travel tables, later
points only for what they change (demand, deployment) when the worker cache shares the tables.
``--repo`` runs the checkout given (``run_task`` is the same there), to compare before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(scenario: str) -> None:
    from sim.experiment import tasks
    from sim.experiment.points import build_points
    from sim.scenario_file import load_scenario

    sc = load_scenario(scenario, overrides=["horizon_days=1", "warmup_days=0.1"])
    base = sc.to_dict()
    n0 = base["force"]["total_officers"]
    points = build_points(base, [{"force.total_officers": int(n0 * f)} for f in (0.8, 0.9, 1.0, 1.1)],
                          source_file=sc.source_file)
    prep = []
    for p in points:
        t0 = time.perf_counter()
        rows = tasks.run_task(tasks.make_task(p, [0], sweep="prep", source_file=sc.source_file))
        prep.append(round(time.perf_counter() - t0 - rows[0]["runtime_s"], 3))
    print("RESULT " + json.dumps({"prepare_s": prep, "cache": dict(tasks.WORKER_CACHE.stats)}))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=str(REPO / "scenarios" / "default.yaml"))
    ap.add_argument("--repo", type=Path, default=REPO, help="checkout to run (default: this one)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(str(Path(args.scenario).resolve()))
        return 0
    env = {**os.environ, "PYTHONPATH": str(args.repo.resolve())}
    out = subprocess.run([sys.executable, __file__, "--child", str(Path(args.scenario).resolve())],
                         env=env, capture_output=True, text=True, check=True).stdout
    res = json.loads(out.split("RESULT ", 1)[1])
    print(f"{args.repo}: preparing each point {res['prepare_s']} s; worker cache {res['cache']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
