"""Where a sweep's wall time went, from the logs its tasks return (``sim.experiment.tasks.run_task_logged``).

Used by ``bench/sweep_scaling.py``. Every figure comes from timestamps and CPU times taken inside
the worker processes, plus CPU counters of this machine (``/proc/stat``) and of our own processes
(psutil), so that a run on a machine shared with others can be read apart from their load.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict


def machine_cpu_s() -> tuple[float, float] | None:
    """(busy, stolen) CPU seconds of all cores since boot (Linux ``/proc/stat``), else None.

    Busy: user, nice, system, irq, softirq. Stolen: time the hypervisor gave this virtual
    machine's cores to other machines (it slows every process here and is nobody's CPU time).
    """
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            parts = fh.readline().split()
    except OSError:
        return None
    t = [int(x) for x in parts[1:]] + [0] * 8
    hz = os.sysconf("SC_CLK_TCK")
    return (t[0] + t[1] + t[2] + t[5] + t[6]) / hz, t[7] / hz


def our_cpu_s() -> float:
    """CPU seconds of this process and all its descendants alive now (workers, nannies, pool processes)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


class CpuWindow:
    """CPU used during a block: by our processes, by the whole machine, so by the others; and stolen."""

    def __enter__(self) -> "CpuWindow":
        self.t0, self.ours0, self.machine0 = time.perf_counter(), our_cpu_s(), machine_cpu_s()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_s = time.perf_counter() - self.t0
        self.ours_s = our_cpu_s() - self.ours0
        m1 = machine_cpu_s()
        if m1 is None or self.machine0 is None:
            self.machine_s = self.others_s = self.stolen_s = None
        else:
            self.machine_s = m1[0] - self.machine0[0]
            self.stolen_s = m1[1] - self.machine0[1]
            self.others_s = max(0.0, self.machine_s - self.ours_s)

    def figures(self) -> dict:
        per_s = (lambda v: None if v is None else v / self.wall_s)
        return {"wall_s": self.wall_s, "our_cpu_s": self.ours_s, "machine_cpu_s": self.machine_s,
                "others_cpu_s": self.others_s, "others_cores": per_s(self.others_s),
                "stolen_cores": per_s(self.stolen_s)}


def _spin(seconds: float) -> int:
    """A pure Python loop for ``seconds`` of wall time; returns its iterations."""
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(10_000):
            n += 1
    return n


def parallel_capacity(workers: int, seconds: float = 3.0) -> float:
    """How much of ``workers`` times one process's pure-Python throughput ``workers`` processes get now.

    1.0 on a quiet machine with ``workers`` free cores; less when other processes (or the
    hypervisor) take cores, or when cores share a physical core. The ceiling of any sweep's
    efficiency at this moment, measured with no patrolsim and no Dask in the way.
    """
    import concurrent.futures as cf
    import multiprocessing as mp

    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        list(pool.map(_spin, [0.2] * workers))                         # processes started
        one = pool.submit(_spin, seconds).result()
        many = list(pool.map(_spin, [seconds] * workers))
    return sum(many) / (workers * one)


def timeline(log: list[dict], *, submitted: float, finished: float, workers: int) -> dict:
    """Per-worker and overall figures of one sweep's task logs.

    ``submitted``/``finished``: epoch seconds when the tasks were handed to the executor and when
    the last result was in. A worker slot's time splits into tasks (preparing the world or a point,
    replications) and idle: waiting for its first task, gaps between tasks (scheduler round trips,
    result transfer), and the tail after its last task while others still ran.
    """
    wall = finished - submitted
    by_worker: dict[str, list[dict]] = defaultdict(list)
    for e in log:
        by_worker[e["worker"]].append(e)
    rows = []
    for name, entries in sorted(by_worker.items()):
        entries.sort(key=lambda e: e["start"])
        busy = sum(e["end"] - e["start"] for e in entries)
        gaps = sum(max(0.0, b["start"] - a["end"]) for a, b in zip(entries, entries[1:]))
        builds = [e for e in entries if e["networks_loaded"] or e["travel_tables_built"]]
        world = sum(e["prepare_s"] for e in builds)
        world_cpu = sum(e.get("prepare_cpu_s", 0.0) for e in builds)
        rows.append({
            "worker": name, "tasks": len(entries), "replications": sum(e["replications"] for e in entries),
            "busy_s": busy, "cpu_s": sum(e["cpu_s"] for e in entries),
            "world_s": world, "points_s": sum(e["prepare_s"] for e in entries) - world,
            "world_cpu_s": world_cpu, "points_cpu_s": sum(e.get("prepare_cpu_s", 0.0) for e in entries) - world_cpu,
            "points_prepared": sum(e["points_prepared"] for e in entries),
            "networks_loaded": sum(e["networks_loaded"] for e in entries),
            "travel_tables_built": sum(e["travel_tables_built"] for e in entries),
            "first_wait_s": max(0.0, entries[0]["start"] - submitted), "gaps_s": gaps,
            "tail_s": max(0.0, finished - entries[-1]["end"]),
        })
    idle_workers = max(0, workers - len(rows))       # slots that never got a task
    busy = sum(r["busy_s"] for r in rows)
    cpu = sum(r["cpu_s"] for r in rows)
    n_tasks = len(log)
    return {
        "wall_s": wall, "tasks": n_tasks, "workers_used": len(rows), "workers_idle": idle_workers,
        "task_cpu_s": cpu, "task_busy_s": busy, "prepare_cpu_s": sum(e.get("prepare_cpu_s", 0.0) for e in log),
        "utilisation": busy / (workers * wall) if wall > 0 else float("nan"),
        "cpu_efficiency": cpu / (workers * wall) if wall > 0 else float("nan"),
        "cpu_per_replication_s": cpu / max(1, sum(r["replications"] for r in rows)),
        "world_s_per_worker": sum(r["world_s"] for r in rows) / max(1, len(rows)),
        "points_s_per_worker": sum(r["points_s"] for r in rows) / max(1, len(rows)),
        "world_cpu_s_per_worker": sum(r["world_cpu_s"] for r in rows) / max(1, len(rows)),
        "points_cpu_s": sum(r["points_cpu_s"] for r in rows),
        "points_prepared": sum(r["points_prepared"] for r in rows),
        "first_wait_s": sum(r["first_wait_s"] for r in rows) / max(1, len(rows)),
        "gap_per_task_ms": 1000 * sum(r["gaps_s"] for r in rows) / max(1, n_tasks - len(rows)),
        "tail_s": sum(r["tail_s"] for r in rows) / max(1, len(rows)),
        "per_worker": rows,
    }
