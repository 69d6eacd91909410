"""The ``patrolsim`` command line.

Each sub-command lives in its own module under ``sim.cli`` and exposes
``add_parser(subparsers)`` and ``run(args) -> int``. ``main`` turns every
``InputError`` into one line on stderr and exit code 2, so a user mistake never
shows a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from contextlib import contextmanager

from sim import __version__, interrupts
from sim.errors import InputError

# Command name -> module under sim.cli. Modules are imported lazily so that
# `patrolsim --help` stays fast and one broken optional dependency does not take
# down every command.
COMMANDS = {
    "run": "sim.cli.run_cmd",
    "network": "sim.cli.network_cmd",
    "fit": "sim.cli.fit_cmd",
    "analytic": "sim.cli.analytic_cmd",
    "compare": "sim.cli.compare_cmd",
    "sweep": "sim.cli.sweep_cmd",
    "hold": "sim.cli.hold_cmd",
    "schema": "sim.cli.schema_cmd",
    "export": "sim.cli.export_cmd",
    "report": "sim.cli.report_cmd",
    "playback": "sim.cli.playback_cmd",
    "calibrate": "sim.cli.calibrate_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patrolsim",
        description="Police patrol deployment simulator: do the 5-minute response and "
                    "10-minute backup lines hold?",
    )
    parser.add_argument("--version", action="version", version=f"patrolsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # command not built yet
            raise
        module.add_parser(sub)
    return parser


def _terminate(signum, frame):  # noqa: ARG001 - signal handler signature
    """Ctrl-C and SIGTERM (kill, a batch system's time limit) end a command cleanly, exit 130.

    The request is also recorded (``sim.interrupts``): where the exception is lost (raised
    inside a ctypes callback), the next progress report raises it again."""
    interrupts.ask_to_stop()
    raise KeyboardInterrupt


@contextmanager
def _signals_as_interrupt():
    """Within the block, SIGINT and SIGTERM raise KeyboardInterrupt and are remembered (main
    thread only; the previous handlers restored after, and a request left over forgotten)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # a signal the parent set to be ignored (nohup, a background job) stays ignored
    previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(sig) is not signal.SIG_IGN}
    previous_hook = sys.unraisablehook

    def quiet_when_remembered(unraisable) -> None:
        # Python reports an exception lost in a callback with a traceback on stderr; ours is
        # remembered and raised again at the next progress report, so the user sees one line
        if isinstance(unraisable.exc_value, KeyboardInterrupt) and interrupts.asked():
            return
        previous_hook(unraisable)

    sys.unraisablehook = quiet_when_remembered
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sys.unraisablehook = previous_hook
        interrupts.forget()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        with _signals_as_interrupt():
            return int(args.func(args) or 0)
    except InputError as exc:
        print(f"patrolsim: error: {exc.one_line()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        try:
            sys.stdout = open(__import__("os").devnull, "w")
        except OSError:
            pass
        return 0
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: one line, exit 130
        message = getattr(exc, "message", None) or "interrupted"
        lead = "\n" if sys.stderr.isatty() else ""  # end a progress line first
        print(f"{lead}patrolsim: {message}", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
