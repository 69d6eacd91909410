"""Executors: the things that run tasks. Only the protocol and the in-process one live here.

An executor has ``n_workers``, a ``description`` for the terminal, and
``imap(fn, tasks)`` yielding ``(index, result, exception)`` for every task in
completion order (``map`` returns results in task order). The Dask executor
(``sim.experiment.dask_cluster``, the only module that imports dask) has the same
shape; :func:`sim.experiment.tasks.open_executor` picks one from the command's options.
"""

from __future__ import annotations

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
