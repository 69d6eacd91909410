"""A real ``python -m sim`` process for the tests that interrupt one (Ctrl-C, SIGTERM, a dying worker).

Why not a plain ``subprocess.Popen``: such tests broke in two ways that had nothing to do with
what they check.

* A shell that starts pytest in the background sets SIGINT to "ignore" for it, and every
  child inherits that: the command then ignored the test's Ctrl-C and finished with code 0.
  The command is therefore started through a two-line launcher that puts SIGINT back to
  its default and then execs ``python -m sim`` (same process id, so signals and process
  groups work as before), just as a terminal would start it. (Not ``preexec_fn``: it is unsafe
  when the test process has threads, as it has with a Dask cluster on loopback.)
* A signal sent after a fixed delay could arrive, on a loaded machine, before the work began or
  after it ended. Tests now wait for a sign the command gives: a line it writes (with
  ``tty=True`` stderr is a pseudo-terminal, so the command draws its progress lines, as it
  does for a user), a file it makes, or its worker processes having started (:meth:`workers`).

Each command runs in its own process group (Ctrl-C in a terminal reaches the whole group) and
is killed outright by :meth:`Command.kill` at the end of the test, whatever happened.
"""

from __future__ import annotations

import errno
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Runs in the new process before patrolsim: SIGINT back to its default (a background shell
#: leaves it ignored, and an ignored signal stays ignored across exec), then becomes ``python -m sim``.
LAUNCHER = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
            "os.execv(sys.executable, [sys.executable, '-m', 'sim', *sys.argv[1:]])")


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PYTHONUNBUFFERED"] = "1"
    return e


def patrolsim_argv(args: list[str]) -> list[str]:
    """The argument list that runs ``python -m sim ARGS`` with SIGINT at its default."""
    return [sys.executable, "-c", LAUNCHER, *args]


def _stat(pid: int) -> tuple[int, int, float] | None:
    """(parent pid, process group, CPU seconds used) of a live process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()   # after "pid (name) ": state, ppid, pgrp, ...
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks


class Command:
    """A patrolsim process in its own process group, its stderr read as it comes."""

    def __init__(self, args: list[str], cwd: Path, *, tty: bool = False) -> None:
        if tty:
            self._fd, slave = pty.openpty()
            stderr = slave
        else:
            self._fd, slave, stderr = None, None, subprocess.PIPE
        self.proc = subprocess.Popen(patrolsim_argv(args), cwd=cwd, env=env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        if slave is not None:
            os.close(slave)
        else:
            self._fd = self.proc.stderr.fileno()
        os.set_blocking(self._fd, False)
        self.err = b""
        self._closed = False   # every process holding stderr (the command and its workers) has ended

    # ------------------------------------------------------------------ reading
    def _read(self) -> None:
        while not self._closed:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError as exc:      # a pseudo-terminal whose every writer has closed it
                if exc.errno != errno.EIO:
                    raise
                chunk = b""
            if not chunk:
                self._closed = True
                return
            self.err += chunk

    def stderr_has(self, text: str) -> bool:
        self._read()
        return text.encode() in self.err

    def stderr(self) -> str:
        return self.err.decode(errors="replace")

    # ------------------------------------------------------------------ waiting
    def wait_for(self, ready, what: str, timeout_s: float = 120) -> None:
        """Poll ``ready()`` until true; fail if the command ends first or nothing comes in time."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            self._read()
            if self.proc.poll() is not None:
                self.finish(timeout_s=30)
                raise AssertionError(f"ended (code {self.proc.returncode}) before {what}: {self.stderr()}")
            assert time.monotonic() < deadline, f"no {what} after {timeout_s} s: {self.stderr()}"
            time.sleep(0.05)

    def wait_for_text(self, text: str, timeout_s: float = 120) -> None:
        self.wait_for(lambda: self.stderr_has(text), repr(text), timeout_s)

    def workers(self) -> list[tuple[int, float]]:
        """(pid, CPU seconds) of the multiprocessing workers the command started (its process group)."""
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == self.proc.pid:
                continue
            st = _stat(int(entry))
            if st is None or st[1] != self.proc.pid:
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline:
                out.append((int(entry), st[2]))
        return out

    def finish(self, timeout_s: float = 60) -> tuple[int, str]:
        """Wait until the command has exited and every process writing its stderr has closed it."""
        deadline = time.monotonic() + timeout_s
        while self.proc.poll() is None or not self._closed:
            self._read()
            if time.monotonic() >= deadline:
                raise AssertionError(f"still running {timeout_s} s later: {self.stderr()}")
            time.sleep(0.05)
        return self.proc.returncode, self.stderr()

    def interrupt(self, sig: int, *, group: bool) -> tuple[int, str]:
        """Send ``sig`` (to the whole group, as Ctrl-C in a terminal does, or to the process alone)
        and wait for the end (stderr includes whatever worker processes wrote before they ended)."""
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        return self.finish(timeout_s=60)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        elif self._fd is not None:
            os.close(self._fd)
        self._fd = None
