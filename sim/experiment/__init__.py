"""Experiments: prepare a scenario once, run its replications (in this process, in local
worker processes or on Dask), compare scenarios and sweep parameters."""

from sim.experiment.replicate import Context, ReplicationOutput, prepare, run_replication
from sim.experiment.runner import run_replications

__all__ = ["Context", "ReplicationOutput", "prepare", "run_replication", "run_replications"]
