"""How an experiment's replications are cut into tasks and spread over workers.

Kept apart from running the tasks because it is pure arithmetic on counts and labels: sweep,
hold and compare size their tasks with :func:`chunk_size` and :func:`blocks`, and the Dask
executor places them with :func:`home_workers`; each is tested on numbers alone.
"""

from __future__ import annotations

import math


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


def home_workers(groups: list, n_workers: int) -> list[int]:
    """The worker (0 .. n_workers-1) each task goes to first: groups in turn, so that each worker
    gets whole groups (each prepares a point once) while the groups last, and a group is split into
    contiguous runs when there are fewer groups than workers (so that no worker starts idle)."""
    order = list(dict.fromkeys(groups))
    if not order:
        return []
    split = max(1, -(-n_workers // len(order)))          # runs per group, ceil(W / groups)
    members: dict = {g: [] for g in order}
    for i, g in enumerate(groups):
        members[g].append(i)
    home = [0] * len(groups)
    slot = 0
    for g in order:
        idx = members[g]
        for r in range(split):
            for i in idx[r * len(idx) // split:(r + 1) * len(idx) // split]:
                home[i] = slot % n_workers
            slot += 1
    return home
