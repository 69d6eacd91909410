"""Clean interrupts: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or SIGTERM
during run, compare, hold and sweep prints one line, leaves nothing half-written (no temporary
folder, no lock file) and exits with code 130; no worker tracebacks.

Every command runs as a real ``python -m sim`` process in its own process group; waits are
bounded and the group is killed when a test ends, whatever happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import small_town
from tests.experiment.conftest import dask_loopback  # noqa: F401 - a fixture (a real scheduler, two workers)

REPO = Path(__file__).resolve().parents[1]


def env() -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e["PYTHONUNBUFFERED"] = "1"
    return e


def slow_town(tmp_path: Path, name: str = "slow-town", filename: str = "slow.yaml", **overrides) -> str:
    """A small town over a long horizon: a replication takes seconds, so there is time to interrupt."""
    data = small_town(name=name, horizon_days=600, demand={"incidents_per_day": 300}, **overrides)
    p = tmp_path / filename
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(p)


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if ".partial" in p.name or p.name.endswith((".lock", ".tmp")) or ".old-" in p.name)


class Command:
    """A patrolsim process in its own process group, killed outright at the end of the test."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, env=env(),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

    def wait_for(self, ready, what: str, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"ended before {what}: {self.proc.communicate()[1].decode()}")
            assert time.monotonic() < deadline, f"no {what} after {timeout_s} s"
            time.sleep(0.05)

    def interrupt(self, sig: int, *, group: bool) -> tuple[int, str]:
        """Send ``sig`` (to the whole group, as Ctrl-C in a terminal does, or to the process alone)."""
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("still running 60 s after the signal") from None
        time.sleep(0.5)   # let worker processes finish writing to the (closed) terminal
        return self.proc.returncode, err.decode()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.communicate(timeout=30)


@pytest.fixture
def command(tmp_path):
    started: list[Command] = []

    def start(*args: str) -> Command:
        c = Command(list(args), tmp_path)
        started.append(c)
        return c

    yield start
    for c in started:
        c.kill()


def partial_folder(tmp_path: Path, name: str):
    return lambda: bool(list(tmp_path.glob(f".{name}.partial-*")))


def assert_clean_interrupt(rc: int, err: str, out: Path, tmp_path: Path) -> str:
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.strip().splitlines()[-1]
    assert last == f"patrolsim: interrupted; nothing written to {out}", err
    assert not out.exists()
    assert leftovers(tmp_path) == []
    return last


@pytest.mark.parametrize("sig,group", [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"])
def test_run_interrupted(tmp_path, command, sig, group):
    out = tmp_path / "out"
    c = command("run", slow_town(tmp_path), "--replications", "1", "--out", str(out))
    c.wait_for(partial_folder(tmp_path, "out"), "temporary folder")
    time.sleep(1.0)   # well into the simulation
    rc, err = c.interrupt(sig, group=group)
    assert_clean_interrupt(rc, err, out, tmp_path)


def test_parallel_run_ctrl_c_shows_no_worker_tracebacks(tmp_path, command):
    out = tmp_path / "out"
    c = command("run", slow_town(tmp_path), "--replications", "4", "--workers", "2", "--out", str(out))
    c.wait_for(partial_folder(tmp_path, "out"), "temporary folder")
    time.sleep(4.0)   # the worker processes have started and are running replications
    rc, err = c.interrupt(signal.SIGINT, group=True)
    assert_clean_interrupt(rc, err, out, tmp_path)


def test_compare_on_a_local_dask_cluster_ctrl_c(tmp_path, command):
    out = tmp_path / "cmp"
    c = command("compare", slow_town(tmp_path), slow_town(tmp_path, name="b", filename="b.yaml"),
                "--replications", "4", "--workers", "2", "--out", str(out))
    c.wait_for(partial_folder(tmp_path, "cmp"), "temporary folder")
    c.wait_for(lambda: c.proc.poll() is None and _stderr_has(c, "running on"), "cluster", timeout_s=120)
    time.sleep(3.0)
    rc, err = c.interrupt(signal.SIGINT, group=True)
    assert_clean_interrupt(rc, err, out, tmp_path)


def _stderr_has(c: Command, text: str) -> bool:
    """Read what the process wrote to stderr so far (non-blocking) and look for ``text``."""
    import fcntl

    fd = c.proc.stderr.fileno()
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    try:
        chunk = c.proc.stderr.read()
    except (BlockingIOError, TypeError):
        chunk = None
    c.seen = getattr(c, "seen", b"") + (chunk or b"")
    return text.encode() in c.seen


def test_hold_sigterm(tmp_path, command):
    out = tmp_path / "hold"
    c = command("hold", slow_town(tmp_path), "--workers", "1", "--levels", "green", "--out", str(out))
    c.wait_for(partial_folder(tmp_path, "hold"), "temporary folder")
    time.sleep(1.0)
    rc, err = c.interrupt(signal.SIGTERM, group=False)
    assert_clean_interrupt(rc, err, out, tmp_path)


def test_sweep_ctrl_c_on_local_dask_saves_what_it_has(tmp_path, command):
    town = tmp_path / "town.yaml"
    town.write_text(yaml.safe_dump(small_town(name="t", horizon_days=3, demand={"incidents_per_day": 200})))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: s\nscenario: {town}\nreplications: 20\ngrid:\n  force.total_officers: [12, 16]\n")
    out = tmp_path / "sw"
    c = command("sweep", str(sweep), "--workers", "2", "--out", str(out))
    c.wait_for(lambda: any((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else False,
               "first saved rows", timeout_s=120)
    rc, err = c.interrupt(signal.SIGINT, group=True)
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("patrolsim: interrupted; saved ") and "of 40 rows" in last and "--resume" in last, err
    saved = int(last.split("saved ")[1].split(" ")[0])
    assert 0 < saved < 40 and len(pd.read_parquet(out / "results.parquet")) == saved
    assert leftovers(tmp_path) == []


def test_sweep_with_a_bad_scheduler_address_ends_at_once(tmp_path, command):
    town = tmp_path / "town.yaml"
    town.write_text(yaml.safe_dump(small_town(name="t")))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: s\nscenario: {town}\nreplications: 1\ngrid:\n  force.total_officers: [12]\n")
    c = command("sweep", str(sweep), "--scheduler", "notanaddress", "--out", str(tmp_path / "sw"))
    try:
        _, err = c.proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        raise AssertionError("still running 90 s after a bad --scheduler") from None
    err = err.decode()
    assert c.proc.returncode == 2, err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("patrolsim sweep:")]
    assert len(lines) == 1 and lines[0].startswith("patrolsim: error: ") and "--scheduler" in lines[0], err
    assert not (tmp_path / "sw").exists() and leftovers(tmp_path) == []


def test_sweep_whose_workers_are_all_gone_says_so_and_saves(tmp_path, command, dask_loopback, monkeypatch):
    """When every worker of a --scheduler dies the sweep used to wait without a word."""
    town = tmp_path / "town.yaml"
    town.write_text(yaml.safe_dump(small_town(name="t", horizon_days=3, demand={"incidents_per_day": 200})))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: s\nscenario: {town}\nreplications: 30\ngrid:\n  force.total_officers: [12, 16]\n")
    out = tmp_path / "sw"
    c = command("sweep", str(sweep), "--scheduler", dask_loopback.address, "--out", str(out))
    c.wait_for(lambda: any((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else False,
               "first saved rows", timeout_s=120)
    for name in list(dask_loopback.workers):
        dask_loopback.kill_worker(name)
    try:
        _, err = c.proc.communicate(timeout=120)   # the sweep gives up 30 s after the last worker left
    except subprocess.TimeoutExpired:
        raise AssertionError("the sweep still waits 120 s after every worker died") from None
    err = err.decode()
    assert c.proc.returncode == 1, err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert "every worker of the scheduler is gone" in last and "--resume" in last, err
    saved = int(last.split("saved ")[1].split(" ")[0])
    assert 0 < saved < 60 and len(pd.read_parquet(out / "results.parquet")) == saved
    assert leftovers(tmp_path) == []
