"""Tasks, the unit of work of sweep, hold and compare, and running them on an executor.

A *task* is one or more replications of one point (see ``sim.experiment.points``):
a small picklable dict. :func:`run_task` turns it into tidy rows, one per replication::

    {sweep, point_id, replication, <param>..., <metric>..., lines_hold, error, runtime_s}

A row depends only on the point's scenario (which carries the seed) and the
replication index, never on which process ran it or in what order, so an experiment
gives the same numbers sequentially, on a local cluster or on a batch queue.

:func:`run_tasks` maps tasks over an executor (this process, or a Dask client: see
:func:`open_executor`) and yields each task's rows as it completes; a task the
executor lost (e.g. Dask gave up on it) comes back as error rows, so callers see
one shape whatever happened. Each task also returns a log of what it had to build, when,
and its CPU (:func:`run_task_logged`), which tests and ``bench/sweep_scaling.py`` read.

What a task reuses in its process lives in ``sim.experiment.worker_cache`` (the worker cache);
how replications are cut into tasks, in ``sim.experiment.work_split``. Both are re-exported here,
where experiments and benchmarks have always imported them from.
"""

from __future__ import annotations

import os
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sim import metrics
from sim.experiment.executor import SequentialExecutor
from sim.experiment.points import Point
from sim.experiment.work_split import (  # noqa: F401 - re-exported (callers import them from here)
    MAX_SINGLE_TASKS, TASKS_PER_WORKER, blocks, chunk_size, home_workers, n_workers,
)
from sim.experiment.worker_cache import (  # noqa: F401 - re-exported (callers import them from here)
    WORKER_CACHE, WorkerCache, clear_worker_cache, network_key, worker_name, worker_stats,
)


def make_task(point: Point, replications: list[int], *, sweep: str, source_file: str | None = None) -> dict:
    """A task: ``replications`` of ``point``, labelled ``sweep`` in its rows."""
    return {"sweep": sweep, "point_id": point.point_id, "replications": [int(r) for r in replications],
            "params": dict(point.params), "scenario": point.scenario_data, "key": point.key,
            "source_file": source_file if source_file is not None else point.source_file}


def point_tasks(point: Point, replications: list[int], *, sweep: str, chunk: int,
                source_file: str | None = None) -> list[dict]:
    """Tasks of ``point`` covering ``replications`` in blocks of at most ``chunk``."""
    return [make_task(point, block, sweep=sweep, source_file=source_file)
            for block in blocks(list(replications), chunk)]


def error_text(exc: BaseException) -> str:
    """One line naming the exception and where it was raised (stored in a row's ``error``)."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    text = f"{type(exc).__name__}: {exc}{where}"
    return " ".join(text.split())[:1000]


def error_row(task: dict, replication: int, error: str, runtime_s: float = 0.0) -> dict:
    return {"sweep": task["sweep"], "point_id": task["point_id"], "replication": int(replication),
            **task["params"], "lines_hold": None, "error": error, "runtime_s": runtime_s}


def error_rows(task: dict, error: str) -> list[dict]:
    return [error_row(task, r, error) for r in task["replications"]]


def run_task(task: dict) -> list[dict]:
    """The task's replications of one point, as tidy rows (one per replication).

    A replication that raises gives a row with its error (the others still run); a point that
    cannot be prepared gives an error row for each replication. ``runtime_s`` is the time of the
    replication itself (preparing the point is not counted).
    """
    return run_task_logged(task)[0]


#: What :func:`run_task_logged` says about a task besides its rows (see there).
TASK_LOG_KEYS = ("worker", "start", "end", "prepare_s", "prepare_cpu_s", "cpu_s", "replications",
                 "networks_loaded", "travel_tables_built", "points_prepared")


def run_task_logged(task: dict) -> tuple[list[dict], dict]:
    """``run_task``'s rows, and a log of the task: which process ran it, when (``start``,
    ``end``: epoch seconds), how long preparing took (``prepare_s``, ``prepare_cpu_s``: 0 when the
    point was ready), its CPU seconds (``cpu_s``, preparation included), and what it had to build in this
    process (``networks_loaded``, ``travel_tables_built``, ``points_prepared``: 0 when the cache
    had it). Sweeps and the scaling benchmark read it; it never enters a result."""
    from sim.experiment import replicate

    cache = WORKER_CACHE
    rows = []
    with cache.lock:
        start, c0 = time.time(), time.process_time()
        before = {k: cache.stats[k] for k in ("networks_loaded", "travel_tables_built", "points_prepared")}
        try:
            ctx = cache.context(task["scenario"], task["source_file"], task["key"])
        except Exception as exc:  # the point itself is broken: every replication fails the same way
            cache.stats["errors"] += len(task["replications"])
            return error_rows(task, error_text(exc)), _task_log(start, c0, time.time() - start,
                                                                time.process_time() - c0, before)
        prepare_s, prepare_cpu_s = time.time() - start, time.process_time() - c0
        target = float(task["scenario"].get("lines", {}).get("target_compliance", 0.9))
        for rep in task["replications"]:
            t0 = time.perf_counter()
            try:
                out = replicate.run_replication(ctx, rep)
            except Exception as exc:  # recorded; the experiment goes on
                cache.stats["errors"] += 1
                rows.append(error_row(task, rep, error_text(exc), time.perf_counter() - t0))
                continue
            cache.stats["replications"] += 1
            m = {k: float(v) for k, v in out.metrics.items()}
            rows.append({"sweep": task["sweep"], "point_id": task["point_id"], "replication": int(rep),
                         **task["params"], **m,
                         "lines_hold": metrics.replication_lines_hold(m, target=target),
                         "error": None, "runtime_s": time.perf_counter() - t0})
        return rows, _task_log(start, c0, prepare_s, prepare_cpu_s, before, replications=len(rows))


def _task_log(start: float, cpu0: float, prepare_s: float, prepare_cpu_s: float, before: dict,
              replications: int = 0) -> dict:
    stats = WORKER_CACHE.stats
    return {"worker": worker_name(), "start": start, "end": time.time(), "prepare_s": prepare_s,
            "prepare_cpu_s": prepare_cpu_s, "cpu_s": time.process_time() - cpu0, "replications": replications,
            **{k: stats[k] - v for k, v in before.items()}}


def run_tasks(executor, tasks: list[dict], *, log: list | None = None) -> Iterator[tuple[int, list[dict]]]:
    """``(index, rows)`` of every task, in completion order, on ``executor`` (default: this process).

    A task the executor lost comes back as error rows. Closing the iterator (or Ctrl-C) cancels
    what has not started. ``log``, when given, receives each finished task's log
    (:func:`run_task_logged`) with its ``index``.
    """
    executor = executor or SequentialExecutor()
    if getattr(executor, "groups_tasks", False):   # tasks of a point go to one worker first (Dask)
        it = executor.imap(run_task_logged, tasks, groups=[t["key"] for t in tasks])
    else:
        it = executor.imap(run_task_logged, tasks)
    try:
        for i, res, exc in it:
            if exc is not None:
                yield i, error_rows(tasks[i], error_text(exc))
                continue
            rows, info = res
            if log is not None:
                log.append({"index": i, **info})
            yield i, rows
    finally:
        close = getattr(it, "close", None)
        if close:
            close()


# --------------------------------------------------------------------------- choosing an executor
@contextmanager
def open_executor(*, scheduler: str | None = None, cluster: str | None = None,
                  workers: int | None = None, quiet: bool = False):
    """The executor the options ask for: a running Dask scheduler, a batch-queue cluster,
    a local Dask cluster with ``workers`` processes (default: one per core), or this
    process alone when ``workers`` is 1."""
    if scheduler is None and cluster is None:
        n = workers if workers is not None else (os.cpu_count() or 1)
        if n <= 1:
            yield SequentialExecutor()
            return
        workers = n
    from sim.experiment.dask_cluster import dask_executor

    with dask_executor(scheduler=scheduler, cluster=cluster, workers=workers, quiet=quiet) as ex:
        yield ex
