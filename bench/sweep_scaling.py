"""Replications per minute: a sweep run sequentially vs on a local Dask cluster.

    python bench/sweep_scaling.py                          # default town, 7-day horizon, 4 points x 8 reps
    python bench/sweep_scaling.py --horizon-days 1 --points 4 --replications 8 --workers 2
    python bench/sweep_scaling.py --json scaling.json      # also write the figures as JSON

Runs the same sweep (the default scenario at ``--points`` force sizes, every point with
``--replications`` replications) three ways and prints, for each, wall time and
replications per minute:

1. sequential, in this process (``patrolsim sweep --workers 1``);
2. a local Dask cluster with ``--workers`` processes, counting only the sweep
   (the cluster already running, as with ``--scheduler``);
3. the same including starting and stopping the cluster (what ``patrolsim sweep``
   with its default local cluster costs end to end).

It also measures what the scaling model in docs/scaling.md needs: the cost of one
replication and of preparing a point (from the sequential run), the cluster's
start-up time, and Dask's round-trip overhead per task (1,000 empty tasks).
The results of every run are checked to be identical. Other processes on the
machine slow everything down; the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _noop(x):
    return x


def build_plan(args):
    from sim.experiment.points import build_points
    from sim.experiment.sweep import SweepPlan
    from sim.scenario_file import load_scenario

    sc = load_scenario(REPO / "scenarios" / "default.yaml",
                       overrides=[f"horizon_days={args.horizon_days}", f"warmup_days={args.warmup_days}"])
    base = sc.to_dict()
    forces = [200 + 40 * i for i in range(args.points)]
    points = build_points(base, [{"force.total_officers": n} for n in forces], source_file=sc.source_file)
    return SweepPlan(name="bench", source_file=str(Path(sc.source_file).resolve()), base=base, points=points,
                     replications=args.replications, param_names=["force.total_officers"])


def projected_s(*, replications: int, points: int, workers: int, rep_s: float, prep_s: float, start_s: float,
                task_overhead_s: float) -> dict:
    """Wall time of a sweep on ``workers`` single-threaded Dask workers, from measured unit costs.

    Each point's replications are cut into equal blocks, about four per worker
    (``sim.experiment.tasks.chunk_size`` and ``blocks``). Dask hands the next block to the next
    free worker, so the compute phase ends at most one block after total work / workers (the
    bound of greedy list scheduling); a worker prepares a point at most once per block; the
    scheduler handles the tasks one after the other; the cluster starts once.
    """
    import math

    from sim.experiment.tasks import blocks, chunk_size

    per_point = max(1, replications // max(1, points))
    chunk = chunk_size(replications, per_point, workers)
    sizes = [len(b) for b in blocks(list(range(per_point)), chunk)]
    n_tasks = points * len(sizes)
    compute = replications * rep_s / workers + max(sizes) * rep_s
    prepare = math.ceil(n_tasks / workers) * prep_s
    scheduler = n_tasks * task_overhead_s
    total = start_s + compute + prepare + scheduler
    return {"workers": workers, "tasks": n_tasks, "replications_per_task": max(sizes), "compute_s": compute,
            "prepare_s": prepare, "scheduler_s": scheduler, "start_s": start_s, "total_s": total,
            "efficiency": (replications * rep_s / workers) / total}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=4, help="points (force sizes 200, 240, ...)")
    p.add_argument("--replications", type=int, default=8, help="replications per point")
    p.add_argument("--horizon-days", type=float, default=7.0)
    p.add_argument("--warmup-days", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="local cluster processes")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--model-replications", type=int, default=10_000,
                   help="project a sweep of this many replications ... (default 10,000)")
    p.add_argument("--model-points", type=int, default=100, help="... over this many points (default 100)")
    p.add_argument("--model-cores", type=int, default=32, help="... on nodes of this many cores (default 32)")
    p.add_argument("--model-nodes", default="1,2,4,8,16,32", help="... for these node counts")
    args = p.parse_args(argv)

    import pandas as pd

    from sim.experiment import sweep as sw
    from sim.experiment.tasks import clear_worker_cache
    from sim.experiment.dask_cluster import dask_executor

    plan = build_plan(args)
    n = len(plan.points) * plan.replications
    load0 = os.getloadavg()
    out: dict = {"points": len(plan.points), "replications_per_point": plan.replications, "rows": n,
                 "horizon_days": args.horizon_days, "warmup_days": args.warmup_days, "workers": args.workers,
                 "cpu_count": os.cpu_count(), "load_average_before": [round(x, 2) for x in load0]}
    print(f"sweep: {len(plan.points)} points x {plan.replications} replications = {n} replications of "
          f"{args.horizon_days:g} days (warm-up {args.warmup_days:g}); {os.cpu_count()} cores; "
          f"load average {load0[0]:.2f}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        # 1. sequential
        clear_worker_cache()
        t0 = time.perf_counter()
        seq = sw.run_sweep(plan, Path(tmp) / "seq")
        t_seq = time.perf_counter() - t0
        rep_s = float(seq.results["runtime_s"].mean())
        prep_s = max(0.0, (t_seq - float(seq.results["runtime_s"].sum())) / len(plan.points))
        out["sequential"] = {"wall_s": round(t_seq, 2), "replications_per_min": round(60 * n / t_seq, 1)}
        out["replication_s"] = round(rep_s, 3)
        out["prepare_and_io_s_per_point"] = round(prep_s, 3)
        print(f"  sequential           {t_seq:7.1f} s  {60 * n / t_seq:7.1f} replications/min "
              f"(one replication {rep_s:.2f} s; preparing a point + I/O {prep_s:.2f} s)", flush=True)

        # 2 and 3. local cluster
        t0 = time.perf_counter()
        with dask_executor(workers=args.workers, quiet=True) as ex:
            ex.client.run(importlib.import_module, "sim.experiment.replicate")  # workers import sim now
            t_start = time.perf_counter() - t0
            ex.client.run(clear_worker_cache)
            t1 = time.perf_counter()
            dsk = sw.run_sweep(plan, Path(tmp) / "dask", executor=ex)
            t_run = time.perf_counter() - t1
            # Dask's own overhead per task (empty tasks submitted together: scheduler throughput)
            m = 1000
            t2 = time.perf_counter()
            ex.map(_noop, list(range(m)))
            t_task = (time.perf_counter() - t2) / m
            t_stop0 = time.perf_counter()
        t_stop = time.perf_counter() - t_stop0
        end_to_end = t_start + t_run + t_stop
        rep_dask_s = float(dsk.results["runtime_s"].mean())
        out["local_cluster"] = {"wall_s": round(t_run, 2), "replications_per_min": round(60 * n / t_run, 1),
                                "speedup": round(t_seq / t_run, 2), "replication_s": round(rep_dask_s, 3)}
        out["local_cluster_end_to_end"] = {"wall_s": round(end_to_end, 2),
                                           "replications_per_min": round(60 * n / end_to_end, 1),
                                           "speedup": round(t_seq / end_to_end, 2)}
        out["cluster_start_s"] = round(t_start, 2)
        out["cluster_stop_s"] = round(t_stop, 2)
        out["dask_overhead_per_task_ms"] = round(1000 * t_task, 2)
        print(f"  local cluster x{args.workers}     {t_run:7.1f} s  {60 * n / t_run:7.1f} replications/min "
              f"(speed-up {t_seq / t_run:.2f}x; one replication {rep_dask_s:.2f} s on a worker)", flush=True)
        print(f"  ... with start/stop  {end_to_end:7.1f} s  {60 * n / end_to_end:7.1f} replications/min "
              f"(start {t_start:.1f} s, stop {t_stop:.1f} s)", flush=True)
        print(f"  Dask overhead        {1000 * t_task:7.2f} ms per task ({m} empty tasks submitted together)",
              flush=True)
        a = seq.results.drop(columns=["runtime_s"]).reset_index(drop=True)
        b = dsk.results.drop(columns=["runtime_s"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
        print("  results identical: yes", flush=True)
        out["identical"] = True
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]

    # the model: a large sweep on N nodes, from the unit costs just measured
    R, P, c = args.model_replications, args.model_points, args.model_cores
    print(f"\nmodel: {R} replications over {P} points on nodes of {c} cores (one worker per core), from "
          f"one replication {rep_s:.2f} s, preparing a point {prep_s:.2f} s, cluster start "
          f"{out['cluster_start_s']:.1f} s, {out['dask_overhead_per_task_ms']:.1f} ms per task", flush=True)
    print(f"  {'nodes':>5}  {'workers':>7}  {'tasks':>6}  {'reps/task':>9}  {'wall':>9}  {'reps/min':>9}  "
          f"{'efficiency':>10}", flush=True)
    rows = []
    for nodes in [int(x) for x in args.model_nodes.split(",")]:
        m = projected_s(replications=R, points=P, workers=nodes * c, rep_s=rep_s, prep_s=prep_s,
                        start_s=out["cluster_start_s"], task_overhead_s=out["dask_overhead_per_task_ms"] / 1000)
        rows.append({"nodes": nodes, **{k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()}})
        print(f"  {nodes:>5}  {m['workers']:>7}  {m['tasks']:>6}  {m['replications_per_task']:>9}  "
              f"{m['total_s'] / 60:>7.1f} m  {60 * R / m['total_s']:>9.0f}  {100 * m['efficiency']:>9.0f}%",
              flush=True)
    out["model"] = {"replications": R, "points": P, "cores_per_node": c, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print("RESULT " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
