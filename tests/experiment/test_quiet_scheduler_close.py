"""A local cluster's workers say nothing when the command closes its scheduler under a heartbeat.

A local cluster's scheduler lives in the submitting command. When the command ends (or is
interrupted), a worker whose heartbeat was under way logs "Failed to communicate with scheduler
during heartbeat" with a closed-connection traceback, on the command's stderr: a Ctrl-C then looked
like a crash (seen once in a full test run, on a loaded 2-core machine). The worker processes of the
clusters patrolsim starts drop that one record (``dask_cluster.QuietSchedulerClose``).

The record is logged here in real worker processes of a real local cluster, through the worker's own
logger, with the exception distributed raises (``CommClosedError``), because the race itself is too
rare to provoke on demand; another error on the same logger is the control that shows the workers'
stderr is captured, so the test can fail. The message is checked against distributed's source, so a
release that rewords it fails here rather than letting the traceback back.
"""

from __future__ import annotations

import inspect
import logging

from sim.experiment.dask_cluster import _SchedulerClosedFilter, dask_executor

HEARTBEAT_FAILED = "Failed to communicate with scheduler during heartbeat."


def log_heartbeat_failure_and_another_error() -> bool:
    """In a worker: log what a heartbeat against a closed scheduler logs, then an unrelated error."""
    from distributed.comm.core import CommClosedError

    log = logging.getLogger("distributed.worker")
    try:
        raise CommClosedError("in <TCP (closed) ConnectionPool.heartbeat_worker>: Stream is closed")
    except OSError:
        log.exception(HEARTBEAT_FAILED)
    try:
        raise ValueError("control error")
    except ValueError:
        log.exception("an unrelated worker error")
    return True


def test_the_message_is_distributeds_own():
    from distributed.worker import Worker

    assert HEARTBEAT_FAILED in inspect.getsource(Worker.heartbeat)


def test_local_workers_drop_only_the_closed_scheduler_heartbeat(capfd):
    with dask_executor(workers=1, quiet=True) as ex:
        assert all(ex.client.run(log_heartbeat_failure_and_another_error).values())
    err = capfd.readouterr().err
    assert "an unrelated worker error" in err and "ValueError: control error" in err, err
    assert HEARTBEAT_FAILED not in err and "CommClosedError" not in err, err


def test_the_filter_keeps_other_heartbeat_failures():
    record = logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, HEARTBEAT_FAILED, None, None)
    assert _SchedulerClosedFilter().filter(record)   # no exception: kept
    try:
        raise RuntimeError("not a connection")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert _SchedulerClosedFilter().filter(record)
    try:
        raise ConnectionResetError("closed")
    except OSError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert not _SchedulerClosedFilter().filter(record)
