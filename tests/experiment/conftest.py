"""Fixtures for the experiment tests: tiny scenarios, sweep files, and a real Dask cluster on loopback.

The cluster is started the way a user would start one (``dask scheduler`` and two
``dask worker`` processes, 127.0.0.1, random ports, no dashboards), each in its own
process group so that a test can kill a worker outright, and every process is
killed when the test ends whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPARE = REPO / "scenarios" / "compare"
#: Short runs of the default town: one simulated day after a short warm-up.
TINY = ["horizon_days=1", "warmup_days=0.1"]


def set_args(pairs: list[str]) -> list[str]:
    out = []
    for t in pairs:
        out += ["--set", t]
    return out


@pytest.fixture
def town_file(tmp_path_factory, small_town_dict):
    """A small synthetic town as a scenario file: a replication takes a fraction of a second."""
    import yaml

    data = small_town_dict(name="sweep-town", horizon_days=1.0, demand={"incidents_per_day": 120},
                           alert={"level": "green"}, replications=3)
    p = tmp_path_factory.mktemp("town") / "town.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


@pytest.fixture
def write_sweep(tmp_path, town_file):
    """Write a sweep file into tmp_path; its scenario is the small town unless the body names one."""

    def _write(body: str, name: str = "sweep.yaml") -> Path:
        p = tmp_path / name
        text = body if "scenario:" in body else f"scenario: {town_file}\n{body}"
        p.write_text(text, encoding="utf-8")
        return p

    return _write


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # as docs/scaling.md advises for workers: no statistical profiler (it slows replications down)
    env["DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED"] = "False"
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


class LoopbackCluster:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.scheduler_file = tmp / "scheduler.json"
        self.scheduler: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        self.address = ""

    def _spawn(self, args: list[str], log: Path) -> subprocess.Popen:
        fh = open(log, "wb")
        try:
            return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=fh, stderr=subprocess.STDOUT,
                                    env=_env(), cwd=self.tmp, start_new_session=True)
        finally:
            fh.close()

    def start(self, n_workers: int = 2, timeout_s: float = 60.0) -> None:
        self.scheduler = self._spawn(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(self.scheduler_file)], self.tmp / "scheduler.log")
        deadline = time.monotonic() + timeout_s
        while not self.scheduler_file.exists():
            if self.scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start: " + (self.tmp / "scheduler.log").read_text())
            time.sleep(0.1)
        while True:  # the file can be seen before it is complete
            try:
                self.address = json.loads(self.scheduler_file.read_text())["address"]
                break
            except (ValueError, KeyError):
                time.sleep(0.1)
        for i in range(n_workers):
            name = f"w{i}"
            self.workers[name] = self._spawn(
                ["worker", "--scheduler-file", str(self.scheduler_file), "--name", name, "--nthreads", "1",
                 "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "2GB",
                 "--local-directory", str(self.tmp / f"{name}-space")], self.tmp / f"{name}.log")
        self.wait_for_workers(n_workers, timeout_s=timeout_s)

    def client(self):
        from distributed import Client

        return Client(self.address, timeout="20s", set_as_default=False)

    def wait_for_workers(self, n: int, timeout_s: float = 60.0) -> None:
        with self.client() as c:
            c.wait_for_workers(n, timeout=timeout_s)

    def worker_addresses(self) -> dict[str, str]:
        """worker name -> address, from the scheduler."""
        with self.client() as c:
            info = c.scheduler_info(n_workers=-1)["workers"]
        return {w["name"]: addr for addr, w in info.items()}

    def kill_worker(self, name: str) -> None:
        """Kill the worker's whole process group (nanny and worker) at once, like a node failure."""
        proc = self.workers[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.workers.values():
            _kill_group(proc)
        if self.scheduler is not None:
            _kill_group(self.scheduler)


@pytest.fixture
def dask_loopback(tmp_path_factory):
    """A dask scheduler and two dask workers on 127.0.0.1 (random ports), killed at the end."""
    cluster = LoopbackCluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.start(n_workers=2)
        yield cluster
    finally:
        cluster.stop()
