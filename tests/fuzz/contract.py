"""The user's contract for one generated input, checked in-process.

A case is a set of files written into a fresh folder and a ``patrolsim`` command line.
``run_case`` runs it through ``sim.cli.main`` (no subprocess, so thousands of cases run
in minutes) and classifies the outcome:

* ``ok``: exit 0 and every output file the command promises is there;
* ``error``: exit 2 and exactly one stderr line ``patrolsim: error: FILE: ...(fix: ...)``
  that names one of the case's files (or the default scenario);
* ``traceback``: any other exception escaped ``main`` (a bug);
* ``bad_message``: exit 2 without that one line, or any other exit code;
* ``incomplete``: exit 0 with a promised output missing;
* ``leftover``: a ``*.partial*`` or temporary entry next to the output, or an output after an error;
* ``hang``: the case ran past its time limit (SIGALRM);
* ``accepted_non_finite``: exit 0 although an input YAML file holds .inf or .nan (a wrong answer
  given silently: no input of patrolsim has a meaning for an infinite number).

Shared by tests/fuzz/test_fuzz.py (a few hundred derandomized examples) and bench/fuzz.py.
"""

from __future__ import annotations

import contextlib
import io
import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path

OUTCOMES = ("ok", "error", "traceback", "bad_message", "incomplete", "leftover", "hang", "accepted_non_finite")


@dataclass(frozen=True)
class Case:
    """Files to write (name -> bytes, or None for a folder) and the command; ``{dir}`` is the case folder."""

    kind: str
    files: dict = field(default_factory=dict)
    argv: tuple = ()
    out: str = "out"                      # the output path, relative to the case folder
    promises: tuple = ()                  # files that exit 0 must leave in ``out`` ("" : out itself)


@dataclass(frozen=True)
class Outcome:
    kind: str
    detail: str = ""


class Hang(BaseException):
    """Raised by the alarm; a BaseException so no ``except Exception`` in the code under test eats it."""


def _alarm(signum, frame):  # pragma: no cover - only when a case hangs
    raise Hang()


def write_files(case: Case, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(content)


def _non_finite(content: bytes | None) -> bool:
    """Whether a YAML file (as plain safe_load reads it) holds an infinite or NaN number anywhere."""
    import math

    import yaml

    try:
        data = yaml.safe_load(content or b"")
    except Exception:  # noqa: BLE001 - unreadable YAML holds no number
        return False
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, float) and not math.isfinite(x):
            return True
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return False


def run_case(case: Case, folder: Path, *, timeout_s: float = 60.0) -> Outcome:
    """Write the case into ``folder`` (fresh), run it, and classify the result."""
    from sim.cli import main

    write_files(case, folder)
    argv = [a.replace("{dir}", str(folder)) for a in case.argv]
    out = folder / case.out
    err, std = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
            try:
                rc = main(argv)
            except SystemExit as exc:
                rc = exc.code
    except Hang:
        return Outcome("hang", f"{case.kind}: over {timeout_s:g} s")
    except Exception as exc:  # noqa: BLE001 - the point: any escape is a bug
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return Outcome("traceback", f"{case.kind}: {type(exc).__name__}: {exc}"[:300] + "\n" + "".join(tb[-3:]))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    text = err.getvalue()
    leftovers = [p.name for p in out.parent.iterdir() if ".partial" in p.name or p.name.startswith(".tmp")] \
        if out.parent.exists() else []
    if leftovers:
        return Outcome("leftover", f"{case.kind}: {leftovers}")
    if rc == 0:
        missing = [p for p in case.promises if not (out / p if p else out).exists()]
        if missing:
            return Outcome("incomplete", f"{case.kind}: missing {missing}")
        bad = [name for name, content in case.files.items() if name.endswith(".yaml") and _non_finite(content)]
        return Outcome("accepted_non_finite", f"{case.kind}: {bad}") if bad else Outcome("ok")
    lines = [line for line in text.splitlines() if line.strip()]
    if rc != 2 or len(lines) != 1 or not lines[0].startswith("patrolsim: error: ") or "(fix: " not in lines[0]:
        return Outcome("bad_message", f"{case.kind}: exit {rc}: {text[-500:]}")
    names = [str(folder / n) for n in case.files] + [a for a in argv if "/" in a] + ["default.yaml"]
    if not any(n in lines[0] for n in names):
        return Outcome("bad_message", f"{case.kind}: no file named: {lines[0]}")
    if out.exists():
        return Outcome("leftover", f"{case.kind}: {out.name} written despite the error")
    return Outcome("error", lines[0])
