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
Each process keeps loaded networks, their travel tables and prepared points in
:data:`WORKER_CACHE`, the one module-level mutable object of the experiment package:
building a network's travel tables and preparing a point (demand, deployment) cost far
more than a replication, and a worker gets many tasks on the same network and the same
few points. Tables are shared by every point on a network (one per graph and speed), so a
worker builds them once per sweep. It holds at most a few of each (least recently used go
first) and counts what it did (``worker_stats``); each task also returns a log of what it
had to build, when, and its CPU (:func:`run_task_logged`), which tests and
``bench/sweep_scaling.py`` read.
"""

from __future__ import annotations

import math
import os
import socket
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
def network_key(scenario_data: dict, source_file: str | None) -> str:
    """What the City depends on: the network section without its speeds, the name and the file.

    Speeds change travel times, not the graphs: a sweep over ``network.speeds.*`` shares one
    loaded network and builds one set of travel tables per speed.
    """
    net = {k: v for k, v in (scenario_data.get("network") or {}).items() if k != "speeds"}
    return scenario_key({"network": net, "name": scenario_data.get("name")}, source_file)


class _Network:
    """A loaded network and the travel oracles built on it, by (graph, speed)."""

    def __init__(self, city) -> None:
        self.city = city
        self.oracles: dict = {}


class WorkerCache:
    """Prepared worlds (by point key), loaded networks and their travel tables, of this process.

    A sweep's points on one network share the network and its travel oracles (the all-pairs
    tables, or the columns and routes filled as replications ask for them): each process
    loads a network and builds each travel table once, however many points and tasks it runs.
    What a point adds (demand, deployment) is prepared once per point and kept for the next
    tasks of that point.
    """

    def __init__(self, *, max_contexts: int = 8, max_cities: int = 2) -> None:
        self.max_contexts = max_contexts
        self.max_cities = max_cities
        self._contexts: OrderedDict = OrderedDict()
        self._cities: OrderedDict = OrderedDict()
        #: networks_loaded, travel_tables_built, points_prepared, replications, errors
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
        from sim.scenario import scenario_from_dict

        key = key or scenario_key(scenario_data, source_file)
        with self.lock:
            ctx = self._contexts.get(key)
            if ctx is not None:
                self._contexts.move_to_end(key)
                return ctx
            scenario = scenario_from_dict(scenario_data, source_file=source_file)
            net = self._network(scenario, network_key(scenario_data, source_file))
            ctx = prepare(scenario, quiet=True, city=net.city,
                          oracle_for=lambda sc, city, kind: self._oracle(net, sc, city, kind))
            self.stats["points_prepared"] += 1
            self._put(self._contexts, key, ctx, self.max_contexts)
            return ctx

    def _network(self, scenario, net_key: str) -> _Network:
        from sim.network import load_city

        net = self._cities.get(net_key)
        if net is None:
            net = _Network(load_city(scenario, quiet=True))
            self.stats["networks_loaded"] += 1
            self._put(self._cities, net_key, net, self.max_cities)
        else:
            self._cities.move_to_end(net_key)
        return net

    def _oracle(self, net: _Network, scenario, city, kind):
        """The kind's travel oracle on ``net``, built the first time its graph and speed are asked for."""
        from sim.world import response_oracle

        spec = kind.response
        key = (kind.graph, spec.per, float(getattr(scenario.network.speeds, spec.key)))
        oracle = net.oracles.get(key)
        if oracle is None or oracle.graph is not city.graphs[kind.graph]:
            oracle = net.oracles[key] = response_oracle(scenario, city, kind)
            self.stats["travel_tables_built"] += 1
        return oracle

    @staticmethod
    def _put(store: OrderedDict, key, value, limit: int) -> None:
        store[key] = value
        while len(store) > limit:
            store.popitem(last=False)


#: This process's cache (see the module docstring).
WORKER_CACHE = WorkerCache()


def worker_name() -> str:
    """This process, as a task's log names it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_stats() -> dict:
    """This process's cache counters; ``client.run(worker_stats)`` asks every Dask worker."""
    return {**WORKER_CACHE.stats, "pid": os.getpid(), "worker": worker_name()}


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


#: Tasks handed to each worker at least (more tasks: a shorter tail when the last ones finish).
TASKS_PER_WORKER = 8
#: Up to this many tasks a sweep is not chunked further (one replication per task): a scheduler
#: handles about a thousand tasks in a few seconds, and with the world cached in each worker a
#: task costs little more than its replications.
MAX_SINGLE_TASKS = 1000


def chunk_size(n_tasks: int, replications: int, workers: int) -> int:
    """Replications per task, for ``n_tasks`` replications in all (``replications`` per point).

    One replication per task while that gives at most ``max(MAX_SINGLE_TASKS, TASKS_PER_WORKER x
    workers)`` tasks: the finest split has the shortest tail (the work left when the first worker
    runs dry), and each worker builds the network and travel tables once whatever it runs
    (``WorkerCache``), so small tasks cost only the scheduler's few milliseconds and, when a
    worker first meets a point, its deployment. Larger sweeps are cut into blocks of equal size,
    about that many tasks, so that the scheduler does not become the bottleneck.
    """
    target = max(MAX_SINGLE_TASKS, TASKS_PER_WORKER * max(1, workers))
    return max(1, min(replications, math.ceil(n_tasks / target)))


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
