"""Executors: the things that run tasks. The protocol, the in-process one and a local process pool.

An executor has ``n_workers``, a ``description`` for the terminal, and
``imap(fn, tasks)`` yielding ``(index, result, exception)`` for every task in
completion order (``map`` returns results in task order). The Dask executor
(``sim.experiment.dask_cluster``, the only module that imports dask) has the same
shape; :func:`sim.experiment.tasks.open_executor` picks one from the command's options.
:class:`ProcessExecutor` (a plain process pool, no scheduler) is what the scaling benchmark
compares the local Dask cluster with.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterator


class OrderedMap:
    """``map`` on top of an executor's ``imap``: results in task order; the first exception is raised."""

    def map(self, fn: Callable, tasks: list) -> list:
        out = [None] * len(tasks)
        for i, res, exc in self.imap(fn, tasks):
            if exc is not None:
                raise exc
            out[i] = res
        return out


class SequentialExecutor(OrderedMap):
    """Runs tasks one after the other in this process (no Dask, no start-up cost)."""

    n_workers = 1
    description = "this process (sequential)"

    def imap(self, fn: Callable, tasks: list) -> Iterator[tuple[int, object, BaseException | None]]:
        for i, t in enumerate(tasks):
            yield i, fn(t), None


@contextmanager
def children_ignore_ctrl_c():
    """Worker processes started in this block ignore SIGINT (they inherit SIG_IGN).

    Ctrl-C reaches every process of the terminal's group; only patrolsim itself should act on
    it (it stops the pool, or cancels the tasks and closes the cluster in order), so workers
    print no tracebacks of their own. Used by local process pools and local Dask clusters alike.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor(OrderedMap):
    """Runs tasks in ``workers`` local processes (``concurrent.futures``, spawned, one task at a time each).

    No scheduler and no start-up beyond Python's: each process keeps its own worker cache
    (``sim.experiment.worker_cache.WORKER_CACHE``) across the tasks it gets. Use as a context manager;
    leaving it (or closing ``imap``) cancels what has not started and stops the processes.
    """

    def __init__(self, workers: int) -> None:
        self.n_workers = max(1, int(workers))
        self.description = f"local process pool ({self.n_workers} processes)"
        self._pool: cf.ProcessPoolExecutor | None = None

    def __enter__(self) -> "ProcessExecutor":
        self._pool = cf.ProcessPoolExecutor(max_workers=self.n_workers, mp_context=mp.get_context("spawn"),
                                            initializer=_ignore_ctrl_c)
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def imap(self, fn: Callable, tasks: list) -> Iterator[tuple[int, object, BaseException | None]]:
        if self._pool is None:
            raise RuntimeError("use ProcessExecutor as a context manager (with ProcessExecutor(2) as ex: ...)")
        with children_ignore_ctrl_c():  # processes start at the first submit
            futures = {self._pool.submit(fn, t): i for i, t in enumerate(tasks)}
        try:
            for fut in cf.as_completed(futures):
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - reported per task
                    yield futures[fut], None, exc
                else:
                    yield futures[fut], res, None
        finally:
            for fut in futures:
                fut.cancel()

