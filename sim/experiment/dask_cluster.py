"""Dask clusters for experiments: the only module that imports dask / distributed.

Three ways to get workers:

- a **local cluster** (default): one worker process per core, one thread each, on loopback,
  no dashboard; it lives as long as the command;
- a **running scheduler** (``--scheduler tcp://host:port``): workers started elsewhere with
  ``dask scheduler`` / ``dask worker`` (patrolsim must be importable on every worker);
- a **batch-queue cluster** (``--cluster slurm|pbs``): dask-jobqueue submits worker jobs,
  configured by the usual dask config (``~/.config/dask/jobqueue.yaml``).

Tasks are self-contained (a small dict) and pure functions of their content, so when a
worker dies Dask simply runs its tasks again elsewhere and the numbers do not change.

Every worker is told, when it joins, where the submitting command keeps its network cache
(:class:`NetworkCacheFolder`), unless the worker has its own ``PATROLSIM_CACHE_DIR``: it then
reads built networks from there instead of building them again (see docs/scaling.md).

Which worker a task goes to first (``work_split.home_workers``) and the watch that stops a run whose
workers are all gone (``worker_watch``) need no dask, so they live apart, beside the other users.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from sim.errors import InputError
from sim.experiment.executor import OrderedMap, children_ignore_ctrl_c
from sim.experiment.work_split import home_workers
from sim.experiment.worker_watch import WorkersGone, WorkerWatch

try:  # the plugin base class (only where distributed is installed: this module needs it anyway)
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover - dask_executor raises a clear error first
    WorkerPlugin = object

CLUSTERS = ("slurm", "pbs")
#: Settings for clusters this module starts (for others, see docs/scaling.md). No statistical
#: profiler (DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False in a worker's environment does the same):
#: it cost a third of a replication. The next four slow down Dask's housekeeping, which an idle
#: local cluster of 2 workers spent 8% of a core on (event-loop ticks every 20 ms, system and memory
#: monitors, work stealing every 100 ms) and now 2%: on a machine with as many workers as cores that
#: time is taken from the replications. Tasks last seconds; none of these needs to be finer.
#: The last one (:data:`MALLOC_TRIM_KEY`) starts worker processes with glibc's own allocator settings,
#: as any other Python process: Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in their environment,
#: which also fixes glibc's mmap threshold at 128 kB, so every array above that was mapped and unmapped
#: anew (100 times the page faults, 0.3 s of kernel time in a 1.4 s county replication; see
#: bench/worker_cost.py and docs/scaling.md).
MALLOC_TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
WORKER_CONFIG = {"distributed.worker.profile.enabled": False,
                 "distributed.admin.tick.interval": "200ms",
                 "distributed.admin.system-monitor.interval": "2s",
                 "distributed.worker.memory.monitor-interval": "1s",
                 "distributed.scheduler.work-stealing-interval": "500ms",
                 MALLOC_TRIM_KEY: None}
#: How long to keep trying to reach a --scheduler address before giving up.
CONNECT_TIMEOUT = "20s"


class _CtrlCRaceFilter(logging.Filter):
    """Drops the one error distributed logs when Ctrl-C lands inside its ``sync`` helper.

    Why: ``distributed.utils.sync`` schedules a ``cancel`` callback that reads a variable
    not yet set when the interrupt comes first; tornado logs the NameError with a traceback
    although the run stops cleanly (rows saved, exit 130). Only that record is dropped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, NameError) and "sync.<locals>.cancel" in record.getMessage())


logging.getLogger("tornado.application").addFilter(_CtrlCRaceFilter())


class _SchedulerClosedFilter(logging.Filter):
    """Drops a local worker's "Failed to communicate with scheduler during heartbeat" error.

    Why: a local cluster's scheduler lives in the submitting command, so it goes away only when
    the command closes it (at the end, or on Ctrl-C). A worker whose heartbeat was under way at
    that moment logs the closed connection with a traceback, on the command's stderr, although
    nothing went wrong. Only that record, with a closed-connection error, is dropped.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, OSError)
                    and record.getMessage().startswith("Failed to communicate with scheduler during heartbeat"))


class QuietSchedulerClose(WorkerPlugin):
    """Puts :class:`_SchedulerClosedFilter` on the worker loggers of a local cluster patrolsim started.

    Not registered on a ``--scheduler`` or batch-queue cluster: there a lost scheduler is news.
    """

    name = "patrolsim-quiet-scheduler-close"

    def setup(self, worker) -> None:
        logging.getLogger("distributed.worker").addFilter(_SchedulerClosedFilter())


class NetworkCacheFolder(WorkerPlugin):
    """Points a joining worker without ``PATROLSIM_CACHE_DIR`` at the submitting command's cache folder.

    The network cache reads its folder from the environment (``sim.network.cache``), so this
    is the one place that sets it, in the worker process, at set-up, and never over a value the
    worker was started with.
    """

    name = "patrolsim-network-cache"

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def setup(self, worker) -> None:
        import os

        os.environ.setdefault("PATROLSIM_CACHE_DIR", self.folder)


def network_cache_dir() -> str:
    """The network cache folder of this process, as an absolute path workers can share."""
    from sim.network.cache import cache_dir

    return str(Path(cache_dir()).resolve())


class DaskExecutor(OrderedMap):
    """Runs tasks on a Dask client; results are yielded as they complete."""

    #: ``imap`` takes ``groups`` (``sim.experiment.tasks.run_tasks`` passes each task's point)
    groups_tasks = True

    def __init__(self, client, description: str, *, expected_workers: int | None = None,
                 place_groups: bool = False) -> None:
        self.client = client
        self.description = description
        self.expected_workers = expected_workers or 0
        #: send a group's tasks to one worker first (local clusters patrolsim starts; see ``imap``)
        self.place_groups = place_groups

    @property
    def n_workers(self) -> int:
        """Workers now (or the number asked for from a batch queue, whichever is larger)."""
        try:
            now = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        except Exception:  # pragma: no cover - scheduler unreachable
            now = 0
        return max(1, now, self.expected_workers)

    def imap(self, fn: Callable, tasks: list, *, groups: list | None = None
             ) -> Iterator[tuple[int, object, BaseException | None]]:
        """(index, result, exception) for every task, in completion order.

        A task that fails (its function raised, or Dask gave up on it, e.g. ``KilledWorker``
        after it took several workers down) is yielded with its exception; the others go on.
        Closing the iterator (or Ctrl-C) cancels what has not finished.

        ``groups`` (one label per task, e.g. the point): on a local cluster patrolsim started,
        tasks of a group go to one worker first (:func:`home_workers`), which then prepares that
        point once instead of every worker preparing every point; Dask's work stealing still moves
        tasks to a worker that runs dry. On a scheduler of the user's (``--scheduler``) or a batch
        queue, Dask places tasks itself: workers come and go there, and with placed tasks a sweep
        whose workers had all died was not noticed (tests/test_interrupts.py).
        """
        from distributed import as_completed

        if not tasks:
            return
        token = uuid.uuid4().hex[:10]
        keys = [f"patrolsim-{token}-{i}" for i in range(len(tasks))]
        homes = self._homes(groups) if groups is not None and self.place_groups else None
        if homes is None:
            futures = self.client.map(fn, tasks, key=keys, pure=False)
        else:
            futures = [self.client.submit(fn, t, key=k, pure=False, workers=[w], allow_other_workers=True)
                       for t, k, w in zip(tasks, keys, homes)]
        index = {f.key: i for i, f in enumerate(futures)}
        watch = WorkerWatch(self, futures)
        try:
            for fut in as_completed(futures, loop=self.client.loop):
                if watch.gone:
                    raise WorkersGone(watch.gone)
                i = index[fut.key]
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - reported per task
                    yield i, None, exc
                else:
                    yield i, res, None
                fut.release()
            if watch.gone:
                raise WorkersGone(watch.gone)
        finally:
            watch.stop()
            pending = [f for f in futures if not f.done()]
            if pending:
                try:
                    self.client.cancel(pending)
                except Exception:  # pragma: no cover - client already gone
                    pass

    def _homes(self, groups: list) -> list | None:
        """A first worker for each task (None: let the scheduler place them all). Only when every
        worker asked for is there: workers that join later would get work only by stealing."""
        try:
            workers = sorted(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        except Exception:  # noqa: BLE001 - scheduler unreachable: imap reports it
            return None
        if len(workers) < max(2, self.expected_workers):
            return None
        return [workers[i] for i in home_workers(groups, len(workers))]


def _timeout_s(text: str) -> float:
    from dask.utils import parse_timedelta

    return float(parse_timedelta(text, default="seconds"))


def _check_address(address: str) -> None:
    """Refuse a malformed or unreachable address *before* a Client exists: a Client whose
    constructor fails still closes itself from ``__del__`` later and prints a traceback
    (about 40 s after the error line)."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    fix = "give tcp://HOST:PORT of a running 'dask scheduler', e.g. tcp://10.0.0.5:8786"
    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location) if scheme in ("tcp", "tls") else (None, None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"'{address}' is not a scheduler address ({exc})", key="--scheduler", fix=fix) from None
    if host is None:
        return  # another transport (inproc, ucx): let the Client try
    deadline = time.monotonic() + _timeout_s(CONNECT_TIMEOUT)
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=2.0):
                return
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise InputError(f"cannot reach a Dask scheduler at {address} ({type(exc).__name__})",
                                 key="--scheduler",
                                 fix="start one with 'dask scheduler' (and workers with 'dask worker ADDRESS'), "
                                     "or check the address") from None
            time.sleep(0.5)


def _connect(address: str):
    from distributed import Client

    _check_address(address)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach a Dask scheduler at {address} ({type(exc).__name__})",
                         key="--scheduler",
                         fix="start one with 'dask scheduler' (and workers with 'dask worker ADDRESS'), "
                             "or check the address") from None
    return client


def _jobqueue_cluster(kind: str, workers: int | None):
    try:
        import dask_jobqueue
    except ImportError:
        raise InputError(f"--cluster {kind} needs dask-jobqueue", key="--cluster",
                         fix="pip install dask-jobqueue (or pip install 'patrolsim[slurm]')") from None
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]
    submit = getattr(cls.job_cls, "submit_command", None)
    if submit and shutil.which(submit) is None:
        raise InputError(f"--cluster {kind} submits jobs with '{submit}', which is not on this machine",
                         key="--cluster", fix="run the sweep on a login node of the cluster, or start workers "
                                              "yourself and use --scheduler") from None
    try:
        cluster = cls()
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(f"cannot build a {kind} cluster: {exc}", key="--cluster",
                         fix=f"describe the jobs in ~/.config/dask/jobqueue.yaml under jobqueue.{kind} "
                             "(cores, memory, queue, walltime); see docs/scaling.md") from None
    if workers:
        cluster.scale(n=workers)
    else:
        cluster.scale(jobs=1)
    return cluster


@contextmanager
def dask_executor(*, scheduler: str | None = None, cluster: str | None = None, workers: int | None = None,
                  quiet: bool = False):
    """Yield a :class:`DaskExecutor` on the cluster the options describe; close what we opened."""
    from distributed import Client, LocalCluster

    own_cluster = None
    local = False   # a local cluster this command starts: groups placed, scheduler's close kept quiet
    if scheduler and cluster:
        raise InputError("give --scheduler or --cluster, not both", key="--cluster",
                         fix="drop one of them")
    if scheduler:
        client = _connect(scheduler)
        n = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        description = f"Dask scheduler {scheduler} ({n} worker(s) now)"
        if n == 0 and not quiet:
            print(f"  no workers at {scheduler} yet: tasks wait until one joins", file=sys.stderr, flush=True)
    elif cluster:
        if cluster not in CLUSTERS:
            raise InputError(f"unknown cluster kind '{cluster}'", key="--cluster",
                             fix=f"use one of {', '.join(CLUSTERS)}")
        import dask

        with dask.config.set(WORKER_CONFIG):
            own_cluster = _jobqueue_cluster(cluster, workers)
        client = Client(own_cluster, set_as_default=False)
        description = f"{cluster} cluster ({workers or 'one job of'} workers, via dask-jobqueue)"
        if not quiet:
            print(f"  submitted worker jobs to {cluster}; tasks start as they begin", file=sys.stderr,
                  flush=True)
    else:
        import dask

        n = max(1, int(workers or 1))
        # Dask's statistical profiler samples the worker's stack every 10 ms; on replication code
        # (deep SimPy generator stacks) that costs about a third of the run time, so it is off here.
        with dask.config.set(WORKER_CONFIG), children_ignore_ctrl_c():
            own_cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(own_cluster, set_as_default=False)
        description = f"local Dask cluster ({n} worker processes)"
        local = True
    try:
        client.register_plugin(NetworkCacheFolder(network_cache_dir()))
        if local:
            client.register_plugin(QuietSchedulerClose())
        yield DaskExecutor(client, description, expected_workers=workers if cluster else None,
                           place_groups=local)
    finally:
        try:
            client.close()
        finally:
            if own_cluster is not None:
                own_cluster.close()
