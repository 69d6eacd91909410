"""What one replication costs in this process against in a Dask worker: thread CPU, process CPU, garbage collection.

    python bench/worker_cost.py                                        # the county, 1 week, 4 replications
    python bench/worker_cost.py scenarios/default.yaml --horizon-days 30 --replications 6
    python bench/worker_cost.py --modes seq,dask1,dask1-trim

Runs the same replications of one point (``sim.experiment.tasks.run_task_logged``, one task each, the
point prepared by an untimed first task in each place) in up to three places, all started first:

- ``seq``: in this process, in its main thread (``patrolsim sweep --workers 1``);
- ``dask1``: on a local Dask cluster of one worker (``sim.experiment.dask_cluster``);
- ``dask1-trim``: the same, with the environment Dask's nanny gives its worker processes by default
  (``MALLOC_TRIM_THRESHOLD_=65536``), which patrolsim's local clusters no longer set
  (``sim.experiment.dask_cluster.MALLOC_TRIM_KEY``): what the workers did before.

By default each replication runs in every place in turn (one task at a time), so that all places see
the same load from the rest of the machine; ``--queued`` instead submits each place's replications at
once, as a sweep does.

Each task is wrapped in a probe that reads, around the task: the CPU of the thread that ran it
(``time.thread_time``), the CPU of the whole process (``time.process_time``: the task log's ``cpu_s``),
the time spent in garbage collection per generation (``gc.callbacks``, timed with ``perf_counter``
and with ``thread_time``), the number of collections, the objects the collector tracks (before the
task), the gc callbacks installed (Dask's ``distributed.gc`` adds one that reads psutil on every
full collection), the threads alive, the thread's page faults and kernel time
(``getrusage(RUSAGE_THREAD)``), and the process's resident memory after the last task and at its peak
(in ``seq`` this process also holds the local clusters' scheduler and nannies). Results of every mode are checked to be identical.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))


def probed_task(task: dict):
    """``run_task_logged(task)``, and what it cost this thread, this process and the collector."""
    from sim.experiment.tasks import run_task_logged

    gen_wall = [0.0, 0.0, 0.0]
    gen_cpu = [0.0, 0.0, 0.0]
    gen_n = [0, 0, 0]
    gen_collected = [0, 0, 0]
    marks: dict = {}

    def cb(phase, info):  # appended last: its "start" sees the others' start callbacks already run
        g = info["generation"]
        if phase == "start":
            marks[g] = (time.perf_counter(), time.thread_time())
        elif g in marks:
            w0, c0 = marks.pop(g)
            gen_wall[g] += time.perf_counter() - w0
            gen_cpu[g] += time.thread_time() - c0
            gen_n[g] += 1
            gen_collected[g] += info["collected"]

    tracked = len(gc.get_objects())
    frozen = gc.get_freeze_count()
    others = [c for c in gc.callbacks]
    gc.callbacks.insert(0, cb)  # first: its "start" runs before Dask's psutil callback, counted in
    try:
        f0 = resource.getrusage(resource.RUSAGE_THREAD)
        t0, p0, w0 = time.thread_time(), time.process_time(), time.perf_counter()
        rows, log = run_task_logged(task)
        t1, p1, w1 = time.thread_time(), time.process_time(), time.perf_counter()
        f1 = resource.getrusage(resource.RUSAGE_THREAD)
    finally:
        gc.callbacks.remove(cb)
    return rows, {"thread_cpu_s": t1 - t0, "process_cpu_s": p1 - p0, "wall_s": w1 - w0,
                  "minor_faults": f1.ru_minflt - f0.ru_minflt, "sys_s": f1.ru_stime - f0.ru_stime,
                  "gc_wall_s": sum(gen_wall), "gc_cpu_s": sum(gen_cpu), "gc2_wall_s": gen_wall[2],
                  "gc_counts": gen_n, "gc_collected": gen_collected, "tracked": tracked, "frozen": frozen,
                  "gc_callbacks": [getattr(c, "__qualname__", repr(c)) for c in others],
                  "threads": threading.active_count(), "threshold": gc.get_threshold(),
                  "prepare_cpu_s": log["prepare_cpu_s"], "pid": os.getpid(),
                  "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                  "rss_mb": _rss_mb(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _rss_mb() -> float:
    """This process's resident memory now (after the task), MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build_task(args) -> list[dict]:
    from sim.experiment.points import build_points
    from sim.experiment.tasks import make_task
    from sim.scenario_file import load_scenario

    sc = load_scenario(Path(args.scenario), overrides=[f"horizon_days={args.horizon_days}",
                                                      f"warmup_days={args.warmup_days}"])
    point = build_points(sc.to_dict(), [{}], source_file=sc.source_file)[0]
    source = str(Path(sc.source_file).resolve()) if sc.source_file else None
    return [make_task(point, [r], sweep="bench", source_file=source) for r in range(args.replications + 1)]


MODES = ("seq", "dask1", "dask1-trim")


def open_runner(mode: str, stack: ExitStack):
    """A function running a list of tasks in ``mode`` -> [(rows, probe)], one task at a time or all queued."""
    from sim.experiment.tasks import clear_worker_cache

    if mode == "seq":
        clear_worker_cache()
        return lambda ts, queued=False: [probed_task(t) for t in ts]
    from sim.experiment import dask_cluster
    from sim.experiment.dask_cluster import dask_executor

    shipped = dict(dask_cluster.WORKER_CONFIG)
    if mode == "dask1-trim":  # Dask's own environment for the worker process
        dask_cluster.WORKER_CONFIG.pop(dask_cluster.MALLOC_TRIM_KEY)
    try:
        ex = stack.enter_context(dask_executor(workers=1, quiet=True))
    finally:
        dask_cluster.WORKER_CONFIG.clear()
        dask_cluster.WORKER_CONFIG.update(shipped)
        # Dask's nanny writes its workers' environment into this process's too (distributed.nanny):
        # take its allocator setting back out, or the next cluster's workers would inherit it
        if mode == "dask1-trim":
            os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    c = ex.client
    c.run(clear_worker_cache)

    def run(ts, queued=False):
        if queued:  # as a sweep submits them
            return c.gather([c.submit(probed_task, t, pure=False) for t in ts])
        return [c.submit(probed_task, t, pure=False).result() for t in ts]
    return run


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default=str(REPO / "scenarios" / "guanghan_county.yaml"))
    p.add_argument("--horizon-days", type=float, default=7.0)
    p.add_argument("--warmup-days", type=float, default=1.0)
    p.add_argument("--replications", type=int, default=4, help="timed replications per mode and round")
    p.add_argument("--modes", default="seq,dask1,dask1-trim", help="of seq, dask1, dask1-trim")
    p.add_argument("--rounds", type=int, default=1, help="repeat this many times")
    p.add_argument("--queued", action="store_true",
                   help="submit each mode's replications at once, as a sweep does (default: one replication "
                        "in each mode in turn, so that all modes see the same load)")
    args = p.parse_args(argv)
    modes = args.modes.split(",")
    for m in modes:
        if m not in MODES:
            p.error(f"--modes: unknown '{m}' (use {', '.join(MODES)})")
    print("command: python bench/worker_cost.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    print(f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores", flush=True)
    tasks = build_task(args)
    probes: dict = {m: [] for m in modes}
    results: dict = {m: [] for m in modes}
    with ExitStack() as stack:
        runners = {m: open_runner(m, stack) for m in modes}
        for m in modes:
            runners[m](tasks[:1])  # prepares the point (network, tables, deployment): not counted
        for rnd in range(args.rounds):
            if args.queued:  # each mode in turn, its tasks submitted at once
                for m in modes:
                    out = runners[m](tasks[1:], queued=True)
                    results[m] += [rr for rr, _ in out]
                    probes[m] += [x for _, x in out]
                continue
            for t in tasks[1:]:  # one replication in each mode in turn: the same load for all
                for m in modes:
                    (rows, probe), = runners[m]([t])
                    results[m].append(rows)
                    probes[m].append(probe)
            each = "; ".join(f"{m} " + ", ".join(f"{x['thread_cpu_s']:.2f}" for x in probes[m][-len(tasks) + 1:])
                             for m in modes)
            print(f"  round {rnd + 1}, thread CPU per replication: {each} s", flush=True)
    ref = [{k: v for k, v in r.items() if k != "runtime_s"} for rr in results[modes[0]] for r in rr]
    for m in modes:
        if [{k: v for k, v in r.items() if k != "runtime_s"} for rr in results[m] for r in rr] != ref:
            raise SystemExit(f"results differ in mode {m}")
    print(f"\nper replication, medians of {args.rounds} x {args.replications}; load average now "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'mode':>11} {'thread CPU':>10} {'process CPU':>11} {'other thr':>9} {'kernel':>7} {'page faults':>11} "
          f"{'gc time':>7} {'gc runs 0/1/2':>13} {'tracked objs':>12} {'thr':>3} "
          f"{'RSS after':>9} {'peak RSS':>9}  MALLOC_TRIM_THRESHOLD_, gc callbacks")
    for mode, pr in probes.items():
        def med(k):
            return statistics.median(x[k] for x in pr)

        counts = "/".join(str(round(statistics.median(x["gc_counts"][g] for x in pr))) for g in range(3))
        print(f"{mode:>11} {med('thread_cpu_s'):>9.3f}s {med('process_cpu_s'):>10.3f}s "
              f"{med('process_cpu_s') - med('thread_cpu_s'):>8.3f}s {med('sys_s'):>6.3f}s {round(med('minor_faults')):>11,} "
              f"{med('gc_wall_s'):>6.3f}s {counts:>13} {round(med('tracked')):>12,} {pr[0]['threads']:>3} "
              f"{pr[-1]['rss_mb']:>6.0f} MB {max(x['peak_rss_mb'] for x in pr):>6.0f} MB  "
              f"{pr[0]['malloc_trim'] or 'unset'}, {', '.join(pr[0]['gc_callbacks']) or '-'}")
    print("results identical in every mode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
