"""Executors: the things that run tasks. Only the protocol and the in-process one live here.

An executor has ``n_workers``, a ``description`` for the terminal, and
``imap(fn, tasks)`` yielding ``(index, result, exception)`` for every task in
completion order (``map`` returns results in task order). The Dask executor
(``sim.experiment.dask_cluster``, the only module that imports dask) has the same
shape; :func:`sim.experiment.tasks.open_executor` picks one from the command's options.
"""

from __future__ import annotations

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
