"""The task runner shared by sweep, hold and compare, and the per-worker cache of prepared points.

A *task* is one or more replications of one point (see ``sim.experiment.points``):
a small picklable dict. :func:`run_task` turns it into tidy rows, one per replication::

    {sweep, point_id, replication, <param>..., <metric>..., lines_hold, error, runtime_s}

A row depends only on the point's scenario (which carries the seed) and the
replication index, never on which process ran it or in what order, so an experiment
gives the same numbers sequentially, on a local cluster or on a batch queue.

:func:`run_tasks` maps tasks over an executor (this process, or a Dask client: see
:func:`open_executor`) and yields each task's rows as it completes; a task the
executor lost (e.g. Dask gave up on it) comes back as error rows, so callers see
one shape whatever happened.

The worker cache
----------------
Each process keeps prepared points and loaded networks in :data:`WORKER_CACHE`, the
one module-level mutable object of the experiment package: preparing a point (network,
travel, demand, deployment) costs far more than a replication, and a worker gets many
tasks of the same few points. It holds at most a few of each (least recently used go
first) and counts what it did (``worker_stats``), which tests and diagnostics read.
"""

from __future__ import annotations

import math
import os
import threading
import time
import traceback
from collections import Counter, OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sim import metrics
from sim.experiment.executor import SequentialExecutor
from sim.experiment.points import Point, scenario_key


# --------------------------------------------------------------------------- the worker cache
class WorkerCache:
    """Prepared contexts (by point key) and loaded networks (by network spec) of this process."""

    def __init__(self, *, max_contexts: int = 4, max_cities: int = 2) -> None:
        self.max_contexts = max_contexts
        self.max_cities = max_cities
        self._contexts: OrderedDict = OrderedDict()
        self._cities: OrderedDict = OrderedDict()
        #: networks_loaded, points_prepared, replications, errors
        self.stats: Counter = Counter()
        #: held while a task runs: a process runs one replication at a time, even with worker threads
        self.lock = threading.RLock()

    def clear(self) -> None:
        with self.lock:
            self._contexts.clear()
            self._cities.clear()
            self.stats.clear()

    def context(self, scenario_data: dict, source_file: str | None, key: str | None = None):
        """The prepared context of a scenario, from the cache when this process prepared it before."""
        from sim.experiment.replicate import prepare
        from sim.network import load_city
        from sim.scenario import scenario_from_dict

        key = key or scenario_key(scenario_data, source_file)
        with self.lock:
            ctx = self._contexts.get(key)
            if ctx is not None:
                self._contexts.move_to_end(key)
                return ctx
            scenario = scenario_from_dict(scenario_data, source_file=source_file)
            net_key = scenario_key({"network": scenario_data.get("network"), "name": scenario_data.get("name")},
                                   source_file)
            city = self._cities.get(net_key)
            if city is None:
                city = load_city(scenario, quiet=True)
                self.stats["networks_loaded"] += 1
                self._put(self._cities, net_key, city, self.max_cities)
            else:
                self._cities.move_to_end(net_key)
            ctx = prepare(scenario, quiet=True, city=city)
            self.stats["points_prepared"] += 1
            self._put(self._contexts, key, ctx, self.max_contexts)
            return ctx

    @staticmethod
    def _put(store: OrderedDict, key, value, limit: int) -> None:
        store[key] = value
        while len(store) > limit:
            store.popitem(last=False)


#: This process's cache (see the module docstring).
WORKER_CACHE = WorkerCache()


def worker_stats() -> dict:
    """This process's cache counters; ``client.run(worker_stats)`` asks every Dask worker."""
    return {**WORKER_CACHE.stats, "pid": os.getpid()}


def clear_worker_cache() -> None:
    WORKER_CACHE.clear()


# --------------------------------------------------------------------------- tasks
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
    from sim.experiment import replicate

    cache = WORKER_CACHE
    rows = []
    with cache.lock:
        try:
            ctx = cache.context(task["scenario"], task["source_file"], task["key"])
        except Exception as exc:  # the point itself is broken: every replication fails the same way
            cache.stats["errors"] += len(task["replications"])
            return error_rows(task, error_text(exc))
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
                         **task["params"], **m, "lines_hold": metrics.replication_lines_hold(m, target=target),
                         "error": None, "runtime_s": time.perf_counter() - t0})
    return rows


def run_tasks(executor, tasks: list[dict]) -> Iterator[tuple[int, list[dict]]]:
    """``(index, rows)`` of every task, in completion order, on ``executor`` (default: this process).

    A task the executor lost comes back as error rows. Closing the iterator (or Ctrl-C) cancels
    what has not started.
    """
    executor = executor or SequentialExecutor()
    it = executor.imap(run_task, tasks)
    try:
        for i, rows, exc in it:
            yield i, (error_rows(tasks[i], error_text(exc)) if exc is not None else rows)
    finally:
        close = getattr(it, "close", None)
        if close:
            close()


# --------------------------------------------------------------------------- work split
def blocks(reps: list[int], chunk: int) -> list[list[int]]:
    """``reps`` cut into as few blocks of at most ``chunk`` as possible, of (nearly) equal size."""
    if not reps:
        return []
    n = math.ceil(len(reps) / max(1, chunk))
    size, extra = divmod(len(reps), n)
    out, i = [], 0
    for k in range(n):
        j = i + size + (1 if k < extra else 0)
        out.append(reps[i:j])
        i = j
    return out


def chunk_size(n_tasks: int, replications: int, workers: int) -> int:
    """Replications per task: 1 for one worker; otherwise about 4 tasks per worker, so that
    work stays balanced while each worker prepares a point as rarely as possible."""
    if workers <= 1:
        return 1
    return max(1, min(replications, math.ceil(n_tasks / (4 * workers))))


def n_workers(executor) -> int:
    return getattr(executor, "n_workers", 1) if executor is not None else 1


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
