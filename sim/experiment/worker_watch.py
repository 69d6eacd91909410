"""Noticing that every worker of a Dask scheduler has gone, so that a run stops instead of waiting.

Why: tasks on a scheduler whose workers have all died wait for ever, without a word; a sweep
should instead save what it has and say so (``patrolsim sweep`` then suggests ``--resume``).
:class:`WorkerWatch` counts the scheduler's workers in a background thread while the tasks of
``sim.experiment.dask_cluster.DaskExecutor.imap`` run. It only calls the client it is given,
so it needs no import of dask itself.
"""

from __future__ import annotations

import threading
import time

#: How often the workers are counted while tasks run, and how long a scheduler that had workers
#: may have none before the run stops (a worker restarting after a crash comes back well within it).
WATCH_EVERY_S = 2.0
WORKERS_GONE_S = 30.0


class WorkersGone(RuntimeError):
    """Every worker of the scheduler left and none came back: the tasks would wait for ever."""


class WorkerWatch:
    """Watches the scheduler's workers while tasks run, in a background thread.

    When the scheduler had workers and then has none for ``WORKERS_GONE_S``, it records why
    and cancels the tasks still waiting, so that ``imap`` stops (the sweep saves what it has)
    instead of waiting without a word. A scheduler that has no workers yet is waited for.
    """

    def __init__(self, executor, futures: list) -> None:
        self.executor = executor   # a DaskExecutor: its .client is asked, its futures cancelled
        self.futures = futures
        self.gone: str | None = None
        # counted before the thread starts: tasks may finish and workers die before its first poll
        self._had_workers = bool(self._workers())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="patrolsim-worker-watch", daemon=True)
        self._thread.start()

    def _workers(self) -> int | None:
        try:
            return len(self.executor.client.scheduler_info(n_workers=-1).get("workers", {}))
        except Exception:  # noqa: BLE001 - the scheduler itself is unreachable
            return None

    def _run(self) -> None:
        had = self._had_workers
        empty_since = None
        while not self._stop.wait(WATCH_EVERY_S):
            n = self._workers()
            if n:
                had, empty_since = True, None
                continue
            if not had and n is not None:
                continue  # no worker has joined yet: keep waiting, as the user was told
            empty_since = empty_since or time.monotonic()
            if time.monotonic() - empty_since >= WORKERS_GONE_S:
                what = "the scheduler is unreachable" if n is None else "every worker of the scheduler is gone"
                self.gone = f"{what} (for {WORKERS_GONE_S:.0f} s)"
                try:
                    self.executor.client.cancel([f for f in self.futures if not f.done()])
                except Exception:  # noqa: BLE001 - client already gone: imap ends anyway
                    pass
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
