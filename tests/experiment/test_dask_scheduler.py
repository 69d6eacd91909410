"""A sweep through ``--scheduler`` on a real Dask cluster (scheduler + two workers on loopback),
with one worker killed mid-sweep: every row present exactly once, values equal to a sequential run."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.cli import main
from sim.experiment import tasks

GRID = ("name: killed-worker\nreplications: 6\ngrid:\n  alert.level: [green, red]\n"
        "  force.total_officers: [12, 24, 36]\n")
#: the same points over 10 simulated days. The killer looks for a busy worker from the first row in, on a
#: client connected before the sweep, and tasks last long enough for some to be in flight then: with 1-day
#: tasks (about 40 ms), a new client per look and the sixth row as the start, a loaded machine's workers
#: had sometimes finished every task before the command had taken in the rows, and none was left to kill
KILL_GRID = GRID + "  horizon_days: [10]\n"


def values(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["runtime_s"], errors="ignore").sort_values(["point_id", "replication"]).reset_index(drop=True)


class KillOneWorkerMidSweep:
    """Stands in for the progress bar: once some rows are in, kills a worker that is running tasks."""

    tty = True

    def __init__(self, cluster, client, after: int) -> None:
        self.cluster = cluster
        self.client = client      # connected before the sweep: a connection made here took longer than tasks
        self.after = after
        self.killed: str | None = None
        self.busy_keys: list = []

    def __call__(self, done: int, total: int) -> None:
        if self.killed or done < self.after or done >= total:
            return
        names = {addr: name for name, addr in self.cluster.worker_addresses().items()}
        busy = [(addr, keys) for addr, keys in self.client.processing().items() if keys and addr in names]
        if not busy:
            return  # try again at the next update
        addr, keys = busy[0]
        self.busy_keys = list(keys)
        self.killed = names[addr]
        self.cluster.kill_worker(self.killed)


def test_sweep_on_a_scheduler_survives_a_killed_worker(dask_loopback, write_sweep, tmp_path, monkeypatch):
    f = write_sweep(KILL_GRID)
    import sim.report.terminal as terminal

    out = tmp_path / "dask"
    with dask_loopback.client() as watching:
        killer = KillOneWorkerMidSweep(dask_loopback, watching, after=1)
        monkeypatch.setattr(terminal, "Progress", lambda label: killer)
        assert main(["sweep", str(f), "--scheduler", dask_loopback.address, "--out", str(out)]) == 0
    assert killer.killed is not None, "no worker was busy when the test tried to kill one"
    assert killer.busy_keys, "the killed worker had no task in flight"
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 36
    assert not df.duplicated(["point_id", "replication"]).any()
    assert df["error"].isna().all()

    # the survivor loaded the network once and prepared each point at most once
    survivor = next(n for n in dask_loopback.workers if n != killer.killed)
    with dask_loopback.client() as c:
        stats = c.run(tasks.worker_stats)
        assert len(stats) == 1
        (s,) = stats.values()
    assert s["networks_loaded"] == 1
    assert 1 <= s["points_prepared"] <= 6
    assert dask_loopback.workers[survivor].poll() is None

    # the same numbers as a sequential run in this process
    assert main(["sweep", str(f), "--workers", "1", "--out", str(tmp_path / "seq"), "--quiet"]) == 0
    seq = pd.read_parquet(tmp_path / "seq" / "results.parquet")
    pd.testing.assert_frame_equal(values(df), values(seq))


def test_unreachable_scheduler_is_a_one_line_error(write_sweep, tmp_path, capsys, monkeypatch):
    import socket

    from sim.experiment import dask_cluster

    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT", "2s")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = write_sweep(GRID)
    assert main(["sweep", str(f), "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "cannot reach a Dask scheduler" in err and "--scheduler" in err


@pytest.mark.parametrize("kind", ["slurm", "pbs"])
def test_batch_queue_cluster_that_cannot_start_says_what_to_do(write_sweep, tmp_path, capsys, kind):
    """Without dask-jobqueue, its configuration or the queue's submit command: exit 2 and a fix."""
    f = write_sweep(GRID)
    code = main(["sweep", str(f), "--cluster", kind, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert "--cluster" in err and ("dask-jobqueue" in err or "jobqueue.yaml" in err or "login node" in err)
    assert not (tmp_path / "x").exists()


def _cache_env() -> str | None:
    import os

    return os.environ.get("PATROLSIM_CACHE_DIR")


def test_workers_are_told_the_commands_network_cache(monkeypatch, tmp_path):
    """A worker without PATROLSIM_CACHE_DIR reads built networks from the submitting command's cache folder."""
    from sim.experiment.dask_cluster import dask_executor, network_cache_dir

    monkeypatch.delenv("PATROLSIM_CACHE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)          # the default cache folder is networks/cache under the current folder
    with dask_executor(workers=1, quiet=True) as ex:
        seen = ex.client.run(_cache_env)
    assert list(seen.values()) == [network_cache_dir()]
    assert network_cache_dir() == str((tmp_path / "networks" / "cache").resolve())
