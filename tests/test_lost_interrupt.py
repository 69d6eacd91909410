"""A Ctrl-C or SIGTERM whose KeyboardInterrupt is lost on the way still stops the command.

Python prints "Exception ignored" and carries on when a signal handler's exception is raised
inside a ctypes callback (numba's compiler calls one as it writes its cache): a CI run once saw
``patrolsim hold`` go on for a minute after SIGTERM. These tests lose the exception the same
way, through a real ctypes callback, and check the next progress report or replication raises it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

import pytest

from sim import interrupts
from sim.cli import _signals_as_interrupt
from sim.report.terminal import Progress, Throttled

# the lost exception goes to sys.unraisablehook, which pytest turns into this warning
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def _signal_inside_a_callback(sig: int):
    def body() -> None:
        os.kill(os.getpid(), sig)
        for _ in range(10_000):   # the handler runs at the next bytecode boundary: in here
            pass
    return ctypes.CFUNCTYPE(None)(body)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_the_next_progress_report_raises_a_lost_interrupt(sig, monkeypatch):
    reported = []                                    # the hook before the command (Python's prints a traceback)
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    callback = _signal_inside_a_callback(sig)
    with _signals_as_interrupt():
        callback()                                   # raises nothing: the exception is lost
        # and its report held back (the user sees one line in the end): the stop is remembered
        assert reported == [] and interrupts.asked()
        with pytest.raises(KeyboardInterrupt):
            Progress("replications", quiet=True)(1, 10)
        Progress("replications", quiet=True)(2, 10)  # acted on once, not again


def test_a_throttled_callback_and_a_replication_raise_it_too():
    with _signals_as_interrupt():
        _signal_inside_a_callback(signal.SIGTERM)()
        with pytest.raises(KeyboardInterrupt):
            Throttled(lambda done, total: None)(3, 10)
        _signal_inside_a_callback(signal.SIGTERM)()
        from sim.experiment.replicate import run_replication
        with pytest.raises(KeyboardInterrupt):
            run_replication(None, 0)                 # raised before the context is read


def test_the_handlers_and_a_leftover_request_are_gone_after_the_command():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), sys.unraisablehook
    with _signals_as_interrupt():
        _signal_inside_a_callback(signal.SIGTERM)()
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), sys.unraisablehook) == before
    interrupts.raise_if_asked()                      # nothing left to raise


def test_other_lost_exceptions_are_still_reported():
    """Only a remembered stop is kept quiet: another exception lost in a callback reaches the
    hook that was there before (here pytest's, which makes it a warning)."""
    def body() -> None:
        raise ValueError("not a stop")
    callback = ctypes.CFUNCTYPE(None)(body)
    seen = []
    previous = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        with _signals_as_interrupt():
            callback()
    finally:
        sys.unraisablehook = previous
    assert len(seen) == 1 and isinstance(seen[0].exc_value, ValueError)


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _signals_as_interrupt():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
