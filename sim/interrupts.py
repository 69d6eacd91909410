"""A stop asked for by Ctrl-C or SIGTERM, remembered until the work notices it.

The command line turns SIGINT and SIGTERM into ``KeyboardInterrupt`` (``sim.cli``). Raised
at an arbitrary point, that exception can be lost: inside a ctypes callback (numba's
compiler writing its cache calls one), Python prints "Exception ignored" and the work goes
on as if no signal had come. So the handler also records the request here, and the places
the work passes often (every progress report: each replication, and 200 times within one)
call ``raise_if_asked`` to raise it again. A stop is then never lost, only delayed until
the next progress report; and Python's report of the lost exception (a traceback on stderr)
is held back, since the stop is acted on (``sim.cli``).
"""

from __future__ import annotations

_asked = False


def ask_to_stop() -> None:
    """Record that the user asked the command to stop (called from the signal handler)."""
    global _asked
    _asked = True


def asked() -> bool:
    """Whether a stop was asked for and not yet acted on."""
    return _asked


def raise_if_asked() -> None:
    """Raise ``KeyboardInterrupt`` if a stop was asked for and not yet acted on."""
    global _asked
    if _asked:
        _asked = False
        raise KeyboardInterrupt


def forget() -> None:
    """Drop a request already acted on (the command ends; the next one in this process starts clean)."""
    global _asked
    _asked = False
