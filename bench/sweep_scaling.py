"""Sweep efficiency: one worker against W local Dask workers (and a plain process pool), with where the time went.

    python bench/sweep_scaling.py                                   # default town, 7 days, 4 points x 8 reps
    python bench/sweep_scaling.py scenarios/liechtenstein.yaml --horizon-days 2 --warmup-days 0.25
    python bench/sweep_scaling.py --synthetic-block-m 50 --horizon-days 1 --warmup-days 0.2   # 13,000 nodes
    python bench/sweep_scaling.py SCENARIO.yaml --points 4 --replications 6 --json scaling.json

Runs the same sweep (the scenario at ``--points`` force sizes, ``--replications`` each, one task per
replication as ``patrolsim sweep`` cuts it) several ways, each in its own worker processes started
and warmed up (patrolsim imported) before the clock starts:

- ``seq``: in this process (``patrolsim sweep --workers 1``), from an empty worker cache;
- ``dask1``: a local Dask cluster of one worker process (the ``T1`` of the efficiency);
- ``daskW``: a local Dask cluster of ``--workers`` processes (``patrolsim sweep`` on this machine);
- ``poolW``: a plain process pool of ``--workers`` processes (``sim.experiment.executor.ProcessExecutor``).

For each it prints the wall time, and from the logs the tasks return (``sim.experiment.tasks``):
CPU per replication, the world's preparation per worker (network and travel tables, once per
worker) and the points' (deployment), utilisation (task time / (workers x wall)), CPU efficiency
(task CPU / (workers x wall)), the idle time between tasks (scheduler round trips) and at the end
(the tail), the CPU of this process (client, and the local scheduler) and what the rest of the
machine used meanwhile (``/proc/stat`` minus our processes). Then

    efficiency = T1 / (W x TW)

against both the one-worker cluster and the sequential run, and the model of docs/scaling.md
projected to a large cluster from the unit costs just measured. On a shared machine the wall-time
efficiency falls with the others' load; the utilisation and the work ratio (task CPU of the
one-worker run over that of the W-worker run) do not, and their product is what a quiet machine
would give if the cores scaled perfectly. The results of every run are checked to be identical.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from sweep_timeline import CpuWindow, our_cpu_s, parallel_capacity, timeline  # noqa: E402


def _noop(x):
    return x


def _warm(_=None):
    """Import what a task needs, then hold the worker a moment so that every worker gets one."""
    importlib.import_module("sim.experiment.replicate")
    time.sleep(0.5)
    return os.getpid()


def base_scenario(args):
    """The scenario to sweep: a file, or the large synthetic town of bench/scale.py."""
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import load_scenario

    over = [f"horizon_days={args.horizon_days}", f"warmup_days={args.warmup_days}"]
    if args.synthetic_block_m:
        import scale

        data = scale.scenario_dict(args.synthetic_block_m, args.horizon_days, "mixed")
        data["warmup_days"] = args.warmup_days
        return scenario_from_dict(data)
    return load_scenario(Path(args.scenario), overrides=over)


def build_plan(args):
    from sim.experiment.points import build_points
    from sim.experiment.sweep import SweepPlan

    sc = base_scenario(args)
    base = sc.to_dict()
    n0 = int(base["force"]["total_officers"])
    forces = sorted({max(4, int(round(n0 * (0.8 + 0.1 * i)))) for i in range(args.points)})
    points = build_points(base, [{"force.total_officers": n} for n in forces], source_file=sc.source_file)
    source = str(Path(sc.source_file).resolve()) if sc.source_file else None
    return SweepPlan(name="bench", source_file=source, base=base, points=points, replications=args.replications,
                     param_names=["force.total_officers"])


def run_mode(mode: str, plan, tmp: Path, workers: int) -> dict:
    """One sweep on the executor ``mode`` names; figures of the sweep only (executor started before)."""
    from contextlib import nullcontext

    from sim.experiment.dask_cluster import dask_executor
    from sim.experiment.executor import ProcessExecutor
    from sim.experiment.tasks import clear_worker_cache

    clear_worker_cache()
    t0 = time.perf_counter()
    if mode == "seq":
        cm, w = nullcontext(None), 1
    elif mode.startswith("dask"):
        w = int(mode[4:])
        cm = dask_executor(workers=w, quiet=True)
    else:
        w = int(mode[4:])
        cm = ProcessExecutor(w)
    out: dict = {"mode": mode, "workers": w}
    trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    try:
        res, finished = _sweep(mode, cm, plan, tmp, w, out, t0)
    finally:  # Dask's nanny writes its workers' environment into ours: later pools would inherit it
        if trim is None:
            os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        else:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = trim
    out["timeline"] = timeline(res.task_log, submitted=res.submitted, finished=finished, workers=w)
    out["results"] = res.results
    return out


def _sweep(mode: str, cm, plan, tmp: Path, w: int, out: dict, t0: float):
    """The sweep on the executor ``cm`` opens: (its result, when it finished); figures go into ``out``."""
    from sim.experiment import sweep as sw
    from sim.experiment.tasks import clear_worker_cache

    with cm as ex:
        if ex is not None:
            pids = ex.map(_warm, list(range(2 * w)))
            out["warm_pids"] = len(set(pids))
            if mode.startswith("dask"):
                ex.client.run(clear_worker_cache)
        out["start_s"] = time.perf_counter() - t0
        with CpuWindow() as cpu:
            res = sw.run_sweep(plan, tmp / mode, executor=ex)
        finished = time.time()
        if ex is not None:  # what the idle executor costs (Dask's housekeeping: scheduler, nannies, workers)
            c0, t1 = our_cpu_s(), time.perf_counter()
            time.sleep(3.0)
            out["idle_cores"] = (our_cpu_s() - c0) / (time.perf_counter() - t1)
        if mode.startswith("dask"):
            m = 500
            t2 = time.perf_counter()
            ex.map(_noop, list(range(m)))
            out["empty_task_ms"] = 1000 * (time.perf_counter() - t2) / m
    out.update(cpu.figures())
    return res, finished


def projected_s(*, replications: int, points: int, workers: int, rep_s: float, world_s: float, point_s: float,
                start_s: float, task_overhead_s: float) -> dict:
    """Wall time of a sweep on ``workers`` single-threaded Dask workers, from measured unit costs.

    Tasks as ``patrolsim sweep`` cuts them (``sim.experiment.work_split.chunk_size``). Dask hands the
    next task to the next free worker, so the compute phase ends at most one task after total
    work / workers (greedy list scheduling); each worker builds the world once and prepares each
    point it meets once (at most one per task); the scheduler handles tasks one after the other;
    the cluster starts once.
    """
    from sim.experiment.tasks import blocks, chunk_size

    per_point = max(1, replications // max(1, points))
    chunk = chunk_size(replications, per_point, workers)
    sizes = [len(b) for b in blocks(list(range(per_point)), chunk)]
    n_tasks = points * len(sizes)
    compute = replications * rep_s / workers + max(sizes) * rep_s
    prepare = world_s + min(points, math.ceil(n_tasks / workers)) * point_s
    scheduler = n_tasks * task_overhead_s
    total = start_s + compute + prepare + scheduler
    return {"workers": workers, "tasks": n_tasks, "replications_per_task": max(sizes), "compute_s": compute,
            "prepare_s": prepare, "scheduler_s": scheduler, "start_s": start_s, "total_s": total,
            "efficiency": (replications * rep_s / workers) / total}


def show(r: dict, n_reps: int) -> None:
    t = r["timeline"]
    others = ("" if r["others_cores"] is None else
              f", others {r['others_cores']:.2f} cores, stolen {r['stolen_cores']:.2f} cores")
    idle = f" (idle executor {r['idle_cores']:.3f} cores)" if "idle_cores" in r else ""
    print(f"  {r['mode']:<6} wall {t['wall_s']:7.1f} s  {60 * n_reps / t['wall_s']:6.1f} reps/min | "
          f"CPU/rep {t['cpu_per_replication_s']:.2f} s, world {t['world_s_per_worker']:.2f} s/worker, "
          f"points {t['points_s_per_worker']:.2f} s/worker | utilisation {100 * t['utilisation']:.0f}%, "
          f"CPU eff. {100 * t['cpu_efficiency']:.0f}% | first task after {t['first_wait_s']:.2f} s, "
          f"{t['gap_per_task_ms']:.0f} ms between tasks, tail {t['tail_s']:.1f} s | "
          f"our processes {r['our_cpu_s'] - t['task_cpu_s']:.1f} CPU s beyond tasks"
          f"{idle}{others}", flush=True)
    for w in t["per_worker"]:
        print(f"         {w['worker']:<22} {w['tasks']:3d} tasks {w['replications']:3d} reps, "
              f"networks {w['networks_loaded']}, travel tables {w['travel_tables_built']}, "
              f"points {w['points_prepared']}, busy {w['busy_s']:.1f} s, CPU {w['cpu_s']:.1f} s", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default=str(REPO / "scenarios" / "default.yaml"),
                   help="scenario file to sweep (default: scenarios/default.yaml)")
    p.add_argument("--synthetic-block-m", type=float, default=None,
                   help="instead of a file: bench/scale.py's 32 km2 town with this block size (50: 13,000 nodes)")
    p.add_argument("--points", type=int, default=4, help="points: force sizes 80%%, 90%%, 100%%, ... of the scenario's")
    p.add_argument("--replications", type=int, default=8, help="replications per point")
    p.add_argument("--horizon-days", type=float, default=7.0)
    p.add_argument("--warmup-days", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=2, help="W: worker processes of the parallel runs")
    p.add_argument("--modes", default=None, help="comma-separated, in this order (default seq,dask1,daskW,poolW)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--dask-housekeeping", choices=["patrolsim", "default"], default="patrolsim",
                   help="'default': local clusters with Dask's own intervals (ticks, monitors, stealing), "
                        "to compare with patrolsim's slower ones (sim.experiment.dask_cluster.WORKER_CONFIG)")
    p.add_argument("--dask-allocator", choices=["patrolsim", "dask"], default="patrolsim",
                   help="'dask': local workers with Dask's MALLOC_TRIM_THRESHOLD_=65536 in their environment "
                        "(glibc's mmap threshold fixed at 128 kB), to compare with patrolsim's (glibc's own "
                        "settings; sim.experiment.dask_cluster.MALLOC_TRIM_KEY, bench/worker_cost.py)")
    p.add_argument("--model-replications", type=int, default=10_000)
    p.add_argument("--model-points", type=int, default=100)
    p.add_argument("--model-cores", type=int, default=32, help="cores (workers) per node of the model")
    p.add_argument("--model-nodes", default="1,2,4,8,16,32")
    args = p.parse_args(argv)
    W = args.workers
    if args.dask_housekeeping == "default":
        from sim.experiment import dask_cluster

        dask_cluster.WORKER_CONFIG = {"distributed.worker.profile.enabled": False,
                                      dask_cluster.MALLOC_TRIM_KEY: None}
    if args.dask_allocator == "dask":
        from sim.experiment import dask_cluster

        dask_cluster.WORKER_CONFIG.pop(dask_cluster.MALLOC_TRIM_KEY)
    # "daskW" and "poolW" (as in the help) stand for --workers processes
    modes = [m.replace("W", str(W)) for m in (args.modes or "seq,dask1,daskW,poolW").split(",")]

    import pandas as pd

    plan = build_plan(args)
    n = len(plan.points) * plan.replications
    load0 = os.getloadavg()
    print("command: " + " ".join(shlex.quote(a) for a in ["python", "bench/sweep_scaling.py", *(argv or sys.argv[1:])]))
    print(f"sweep: {len(plan.points)} points {[pt.params['force.total_officers'] for pt in plan.points]} x "
          f"{plan.replications} replications = {n} of {args.horizon_days:g} days (warm-up {args.warmup_days:g}); "
          f"{os.cpu_count()} cores; load average {load0[0]:.2f}", flush=True)
    cap0 = parallel_capacity(W)
    print(f"  machine now: {W} processes of a pure Python loop get {100 * cap0:.0f}% of {W} x one alone "
          f"(the ceiling of any efficiency measured now)", flush=True)
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            runs[mode] = run_mode(mode, plan, Path(tmp), W if mode != "seq" else 1)
            show(runs[mode], n)
    ref = next(iter(runs.values()))["results"].drop(columns=["runtime_s"]).reset_index(drop=True)
    for r in runs.values():
        pd.testing.assert_frame_equal(ref, r["results"].drop(columns=["runtime_s"]).reset_index(drop=True))
    print("  results identical in every mode: yes", flush=True)
    cap1 = parallel_capacity(W)
    print(f"  machine after: {100 * cap1:.0f}% (before {100 * cap0:.0f}%)", flush=True)

    out = {"command": "python bench/sweep_scaling.py " + " ".join(argv or sys.argv[1:]), "replications": n,
           "points": len(plan.points), "load_average_before": [round(x, 2) for x in load0],
           "load_average_after": [round(x, 2) for x in os.getloadavg()], "runs": {},
           "parallel_capacity": [cap0, cap1]}
    for mode, r in runs.items():
        r = dict(r)
        r.pop("results")
        out["runs"][mode] = r
    print("\nefficiency (T1 / (W x TW), wall time):", flush=True)
    for par in [m for m in modes if m != "seq" and m != "dask1"]:
        w = runs[par]["workers"]
        tw = runs[par]["timeline"]["wall_s"]
        for base in [m for m in ("dask1", "seq") if m in runs]:
            t1 = runs[base]["timeline"]["wall_s"]
            eff = t1 / (w * tw)
            out.setdefault("efficiency", {})[f"{par}_vs_{base}"] = eff
            print(f"  {par} against {base:<5}: {100 * eff:5.1f}%  ({t1:.1f} s / ({w} x {tw:.1f} s))", flush=True)
        if "seq" in runs:
            # load-free estimate: the replications' CPU of the sequential run, against the same plus what
            # the W-worker run added (preparation done again per worker, everything beyond the tasks)
            ts, tp = runs["seq"]["timeline"], runs[par]["timeline"]
            work = ts["task_cpu_s"] - ts["prepare_cpu_s"]
            extra = tp["prepare_cpu_s"] + max(0.0, runs[par]["our_cpu_s"] - tp["task_cpu_s"])
            base_extra = ts["prepare_cpu_s"] + max(0.0, runs["seq"]["our_cpu_s"] - ts["task_cpu_s"])
            util = tp["utilisation"]
            est = util * (work + base_extra) / (work + extra)
            out.setdefault("load_free", {})[par] = {"utilisation": util, "work_s": work, "extra_s": extra,
                                                    "seq_extra_s": base_extra, "estimate": est}
            print(f"  {par}, load-free estimate: utilisation {100 * util:.1f}% x (replications {work:.1f} CPU s "
                  f"+ sequential overhead {base_extra:.1f}) / (replications + {par} overhead {extra:.1f}: "
                  f"preparation in every worker, client, scheduler, Dask) = {100 * est:.1f}%", flush=True)
        cap = (cap0 + cap1) / 2
        eff = runs[par]["timeline"]["wall_s"]
        if "dask1" in runs:
            e = runs["dask1"]["timeline"]["wall_s"] / (w * eff)
            print(f"  {par} against dask1, over the machine's parallel capacity now ({100 * cap:.0f}%): "
                  f"{100 * e / cap:.1f}%", flush=True)

    # the model of docs/scaling.md, from CPU costs of the least disturbed run (sequential when it ran) and
    # the scheduler and start-up costs of the W-worker Dask run
    u = (runs.get("seq") or runs.get("dask1") or next(iter(runs.values())))["timeline"]
    rep_s = (u["task_cpu_s"] - u["prepare_cpu_s"]) / n
    world_s = u["world_cpu_s_per_worker"]
    point_s = u["points_cpu_s"] / max(1, u["points_prepared"])
    d = runs.get(f"dask{W}") or runs.get("dask1") or {}
    task_s = d.get("empty_task_ms", 5.0) / 1000
    start_s = d.get("start_s", 0.0)
    R, P, c = args.model_replications, args.model_points, args.model_cores
    print(f"\nmodel: {R} replications over {P} points on nodes of {c} workers, from one replication "
          f"{rep_s:.2f} s, the world {world_s:.2f} s per worker, a point {point_s:.2f} s, cluster start "
          f"{start_s:.1f} s, {1000 * task_s:.1f} ms per task", flush=True)
    print(f"  {'nodes':>5}  {'workers':>7}  {'tasks':>6}  {'reps/task':>9}  {'wall':>9}  {'reps/min':>9}  "
          f"{'efficiency':>10}", flush=True)
    rows = []
    for nodes in [int(x) for x in args.model_nodes.split(",")]:
        m = projected_s(replications=R, points=P, workers=nodes * c, rep_s=rep_s, world_s=world_s, point_s=point_s,
                        start_s=start_s, task_overhead_s=task_s)
        rows.append({"nodes": nodes, **m})
        print(f"  {nodes:>5}  {m['workers']:>7}  {m['tasks']:>6}  {m['replications_per_task']:>9}  "
              f"{m['total_s'] / 60:>7.1f} m  {60 * R / m['total_s']:>9.0f}  {100 * m['efficiency']:>9.0f}%",
              flush=True)
    out["model"] = {"replications": R, "points": P, "cores_per_node": c, "rep_s": rep_s, "world_s": world_s,
                    "point_s": point_s, "task_s": task_s, "start_s": start_s, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    print("RESULT " + json.dumps(out, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
