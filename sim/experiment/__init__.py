"""Experiments: prepare a scenario once, run its replications (in this process, in local
worker processes or on Dask), compare scenarios, sweep parameters, search for the force that holds.

sweep, hold and compare share one task runner and per-worker cache (``sim.experiment.tasks``);
docs/architecture.md lists the modules."""

from sim.experiment.replicate import Context, ReplicationOutput, prepare, run_replication
from sim.experiment.runner import run_replications

__all__ = ["Context", "ReplicationOutput", "prepare", "run_replication", "run_replications"]
