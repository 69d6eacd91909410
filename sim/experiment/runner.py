"""Run replications of one scenario sequentially or in local worker processes; same numbers either way.

Used by ``patrolsim run``, which needs each replication's full tables (not just the
rows of ``sim.experiment.tasks``). Each worker process prepares the scenario once,
through the same per-process cache as every experiment
(``sim.experiment.worker_cache.WORKER_CACHE``; the network comes from the on-disk cache),
and then runs the replications it is given; results come back in replication order
whatever the order they finish in. Workers ignore Ctrl-C: the parent alone handles it.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import signal
from typing import Callable

from sim.experiment.executor import children_ignore_ctrl_c
from sim.experiment.replicate import Context, ReplicationOutput, run_replication
from sim.experiment.worker_cache import WORKER_CACHE


def _init_worker() -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent alone handles it (it
    # stops the pool), so workers print no KeyboardInterrupt tracebacks of their own
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_in_worker(scenario_data: dict, source_file: str | None, replication: int) -> ReplicationOutput:
    return run_replication(WORKER_CACHE.context(scenario_data, source_file), replication)


def run_replications(ctx: Context, replications: list[int], *, workers: int = 1,
                     progress: Callable[[int, int], None] | None = None) -> list[ReplicationOutput]:
    """Outputs of the given replications, in the order given.

    ``progress(done, total)``: called as replications finish; in this process also during each
    one, with ``done`` counting the replication under way by the share of its simulated time done
    (2.4 of 5), so that one long replication (a county week) shows how far it is and the time left.
    Local worker processes report whole replications only."""
    total = len(replications)
    done = 0
    if workers <= 1 or total <= 1:
        out = []
        for r in replications:
            during = (lambda share, k=done: progress(k + share, total)) if progress else None
            out.append(run_replication(ctx, r, progress=during))
            done += 1
            if progress:
                progress(done, total)
        return out
    sc = ctx.scenario
    data, source = sc.to_dict(), sc.source_file
    results: dict[int, ReplicationOutput] = {}
    pool = cf.ProcessPoolExecutor(max_workers=min(workers, total), mp_context=mp.get_context("spawn"),
                                  initializer=_init_worker)
    try:
        with children_ignore_ctrl_c():  # workers start at the first submit and inherit SIG_IGN
            futures = {pool.submit(_run_in_worker, data, source, r): r for r in replications}
        for fut in cf.as_completed(futures):
            results[futures[fut]] = fut.result()
            done += 1
            if progress:
                progress(done, total)
    except BaseException:
        # Ctrl-C, SIGTERM or a failed replication: stop the workers now rather than finish the queue
        _stop(pool)
        raise
    pool.shutdown()
    return [results[r] for r in replications]


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)
