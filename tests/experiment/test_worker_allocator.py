"""Workers of the local Dask clusters patrolsim starts allocate memory as a plain Python process does.

Dask's nanny starts its worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes glibc's
mmap threshold at 128 kB: every array above that is mapped from the kernel when created and unmapped
when freed, so a replication (arrays of every size, created and dropped by the thousand) took 100
times the page faults and about 24% more CPU in a worker than in this process (bench/worker_cost.py,
docs/scaling.md). ``sim.experiment.dask_cluster.WORKER_CONFIG`` leaves the variable out.

The check runs in real worker processes of a real local cluster: the worker's environment, and what
its allocator does (page faults of allocating and freeing 1 MB arrays, which differ by two orders of
magnitude between the two settings). A cluster with Dask's own environment is the control: it shows
the probe tells the two apart, so the test can fail.
"""

from __future__ import annotations

import os
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator (Linux)")

ARRAYS = 200


def allocator_probe() -> dict:
    """This process's allocator setting, and the page faults of ARRAYS 1 MB arrays made, written and freed."""
    import resource

    import numpy as np

    np.ones(1 << 17).sum()  # a first 1 MB array: with glibc's own settings its free raises the threshold
    f0 = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    for i in range(ARRAYS):
        a = np.full(1 << 17, float(i))  # 1 MB, every page written
        del a
    return {"env": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            "faults": resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - f0}


def worker_probe(dask_defaults: bool) -> dict:
    from sim.experiment import dask_cluster
    from sim.experiment.dask_cluster import dask_executor

    shipped = dict(dask_cluster.WORKER_CONFIG)
    if dask_defaults:
        dask_cluster.WORKER_CONFIG.pop(dask_cluster.MALLOC_TRIM_KEY)
    try:
        with dask_executor(workers=1, quiet=True) as ex:
            return ex.client.submit(allocator_probe, pure=False).result()
    finally:
        dask_cluster.WORKER_CONFIG.clear()
        dask_cluster.WORKER_CONFIG.update(shipped)
        if dask_defaults:  # Dask's nanny also writes the worker's environment into this process's
            os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)


@pytest.mark.skipif("MALLOC_TRIM_THRESHOLD_" in os.environ,
                    reason="set in this environment: worker processes inherit it")
def test_local_dask_workers_keep_glibcs_allocator_settings():
    pages_per_array = (1 << 20) // os.sysconf("SC_PAGE_SIZE")
    ours = worker_probe(dask_defaults=False)
    dasks = worker_probe(dask_defaults=True)
    assert ours["env"] is None, f"the worker was started with MALLOC_TRIM_THRESHOLD_={ours['env']}"
    # control: with Dask's setting every array is mapped anew (a fault per page of each)
    assert dasks["env"] == "65536"
    assert dasks["faults"] >= ARRAYS * pages_per_array // 2, dasks
    # ours reuses the freed memory: at most a few arrays' pages in all
    assert ours["faults"] < 10 * pages_per_array, ours
    # and as this process does
    here = allocator_probe()
    assert here["faults"] < 10 * pages_per_array, here
