"""Clean interrupts: Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or SIGTERM
during run, compare, hold and sweep prints one line, leaves nothing half-written (no temporary
folder, no lock file) and exits with code 130; no worker tracebacks.

Every command runs as a real ``python -m sim`` process in its own process group, with SIGINT at
its default whatever the shell that started pytest did (``tests.commands``). Signals are sent
when the command shows it is at work (a progress line, its worker processes, a saved part), never
after a fixed delay, and each command has far more work than a test waits for (a town over 600
days, about 20 s a replication on one core); waits are bounded and the group is killed when a
test ends, whatever happens.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.commands import Command
from tests.conftest import small_town
from tests.experiment.conftest import dask_loopback  # noqa: F401 - a fixture (a real scheduler, two workers)


def slow_town(tmp_path: Path, name: str = "slow-town", filename: str = "slow.yaml", **overrides) -> str:
    """A small town over a long horizon: a replication takes many seconds, so it is still running
    whenever the test's signal comes."""
    data = small_town(name=name, horizon_days=600, demand={"incidents_per_day": 300}, **overrides)
    p = tmp_path / filename
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(p)


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if ".partial" in p.name or p.name.endswith((".lock", ".tmp")) or ".old-" in p.name)


#: The start of the replications' progress bar (sim.report.terminal.progress_line), drawn when the
#: work has begun; the headers before it also say "replications", but never with a bar
PROGRESS = "replications ["


@pytest.fixture
def command(tmp_path):
    started: list[Command] = []

    def start(*args: str, tty: bool = False) -> Command:
        c = Command(list(args), tmp_path, tty=tty)
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
    c = command("run", slow_town(tmp_path), "--replications", "1", "--out", str(out), tty=True)
    c.wait_for_text(PROGRESS)   # the replication under way draws its progress bar
    rc, err = c.interrupt(sig, group=group)
    assert_clean_interrupt(rc, err, out, tmp_path)


#: CPU seconds a worker process has used when it is surely past Python's start-up (a worker that
#: did not ignore SIGINT would then print a KeyboardInterrupt traceback, not just vanish)
WORKER_AT_WORK_CPU_S = 0.5


def test_parallel_run_ctrl_c_shows_no_worker_tracebacks(tmp_path, command):
    out = tmp_path / "out"
    c = command("run", slow_town(tmp_path), "--replications", "4", "--workers", "2", "--out", str(out))
    c.wait_for(lambda: len([w for w in c.workers() if w[1] >= WORKER_AT_WORK_CPU_S]) >= 2,
               "two worker processes at work")
    rc, err = c.interrupt(signal.SIGINT, group=True)
    assert_clean_interrupt(rc, err, out, tmp_path)


def test_compare_on_a_local_dask_cluster_ctrl_c(tmp_path, command):
    out = tmp_path / "cmp"
    c = command("compare", slow_town(tmp_path), slow_town(tmp_path, name="b", filename="b.yaml"),
                "--replications", "4", "--workers", "2", "--out", str(out), tty=True)
    c.wait_for_text("running on")
    c.wait_for_text(PROGRESS)   # the progress bar: the tasks are on the cluster
    rc, err = c.interrupt(signal.SIGINT, group=True)
    assert_clean_interrupt(rc, err, out, tmp_path)


def test_hold_sigterm(tmp_path, command):
    out = tmp_path / "hold"
    c = command("hold", slow_town(tmp_path), "--workers", "1", "--levels", "green", "--out", str(out), tty=True)
    c.wait_for_text(PROGRESS)
    rc, err = c.interrupt(signal.SIGTERM, group=False)
    assert_clean_interrupt(rc, err, out, tmp_path)


def test_sweep_ctrl_c_on_local_dask_saves_what_it_has(tmp_path, command):
    town = tmp_path / "town.yaml"
    town.write_text(yaml.safe_dump(small_town(name="t", horizon_days=3, demand={"incidents_per_day": 200})))
    sweep = tmp_path / "sweep.yaml"
    # 120 rows, saved 6 at a time: when the first part is saved, over 100 rows are still to run
    sweep.write_text(f"name: s\nscenario: {town}\nreplications: 60\ngrid:\n  force.total_officers: [12, 16]\n")
    out = tmp_path / "sw"
    c = command("sweep", str(sweep), "--workers", "2", "--out", str(out))
    c.wait_for(lambda: any((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else False,
               "first saved rows")
    rc, err = c.interrupt(signal.SIGINT, group=True)
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("patrolsim: interrupted; saved ") and "of 120 rows" in last and "--resume" in last, err
    saved = int(last.split("saved ")[1].split(" ")[0])
    assert 0 < saved < 120 and len(pd.read_parquet(out / "results.parquet")) == saved
    assert leftovers(tmp_path) == []


def test_sweep_with_a_bad_scheduler_address_ends_at_once(tmp_path, command):
    town = tmp_path / "town.yaml"
    town.write_text(yaml.safe_dump(small_town(name="t")))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: s\nscenario: {town}\nreplications: 1\ngrid:\n  force.total_officers: [12]\n")
    c = command("sweep", str(sweep), "--scheduler", "notanaddress", "--out", str(tmp_path / "sw"))
    rc, err = c.finish(timeout_s=90)
    assert rc == 2, err
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
    c = command("sweep", str(sweep), "--scheduler", dask_loopback.address, "--out", str(out), tty=True)
    c.wait_for(lambda: any((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else False,
               "first saved rows", timeout_s=120)
    for name in list(dask_loopback.workers):
        dask_loopback.kill_worker(name)
    rc, err = c.finish(timeout_s=120)   # the sweep gives up 30 s after the last worker left
    assert rc == 1, err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    # a line of its own on a terminal, not glued to the end of the progress bar
    assert last.startswith("patrolsim: every worker of the scheduler is gone") and "--resume" in last, err
    saved = int(last.split("saved ")[1].split(" ")[0])
    assert 0 < saved < 60 and len(pd.read_parquet(out / "results.parquet")) == saved
    assert leftovers(tmp_path) == []
