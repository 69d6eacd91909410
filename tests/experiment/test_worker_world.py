"""The network and its travel tables are built once per worker, not once per task or per point.

Real executors only: a local Dask cluster of two worker processes and a local process pool
run a sweep of 12 one-replication tasks over 3 points on one network; the evidence is the
log each task returns from its own process (``sim.experiment.tasks.run_task_logged``: what
the task had to build there), not a mock.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pytest

from sim.experiment import store, tasks
from sim.experiment.executor import ProcessExecutor
from sim.experiment.points import build_points
from sim.experiment.sweep import SweepPlan
from sim.scenario import scenario_from_dict

FORCES = [12, 16, 24]
REPLICATIONS = 4


@pytest.fixture
def plan(small_town_dict):
    """3 points (force sizes) x 4 replications of the small town; cars, bicycles and foot officers."""
    base = scenario_from_dict(small_town_dict(name="world-once", horizon_days=0.4,
                                              force={"mix": {"car": 0.5, "bicycle": 0.25, "foot": 0.25}})).to_dict()
    points = build_points(base, [{"force.total_officers": n} for n in FORCES], source_file=None)
    return SweepPlan(name="world-once", source_file=None, base=base, points=points, replications=REPLICATIONS,
                     param_names=["force.total_officers"])


def run_all(executor, plan) -> tuple[pd.DataFrame, list[dict]]:
    log: list[dict] = []
    rows = [r for _, rs in tasks.run_tasks(executor, plan.tasks(chunk=1), log=log) for r in rs]
    return store.rows_frame(rows, plan.param_names), log


def values(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["runtime_s"]).sort_values(["point_id", "replication"]).reset_index(drop=True)


@pytest.fixture
def sequential(plan):
    """The sweep in this process, from an empty cache: what one process builds for the whole sweep."""
    tasks.clear_worker_cache()
    df, log = run_all(None, plan)
    return df, log


def per_worker(log: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for entry in log:
        w = out[entry["worker"]]
        w["tasks"] += 1
        for k in ("networks_loaded", "travel_tables_built", "points_prepared"):
            w[k] += entry[k]
    return out


def test_one_process_builds_the_travel_tables_of_the_first_point_only(sequential):
    df, log = sequential
    assert len(log) == len(FORCES) * REPLICATIONS and df["error"].isna().all()
    assert all(set(tasks.TASK_LOG_KEYS) <= set(e) for e in log)
    first, rest = log[0], log[1:]
    assert first["networks_loaded"] == 1
    # one table per (graph, speed) of the kinds in the force: car, bicycle, foot each travel differently
    assert first["travel_tables_built"] == 3
    assert sum(e["networks_loaded"] + e["travel_tables_built"] for e in rest) == 0, \
        "a later point or task built the network or a travel table again"
    assert sum(e["points_prepared"] for e in log) == len(FORCES)
    assert first["prepare_s"] > 0 and all(e["cpu_s"] > 0 for e in log)


@pytest.mark.parametrize("kind", ["dask", "processes"])
def test_each_worker_builds_the_world_once_per_network(kind, plan, sequential):
    seq_df, seq_log = sequential
    tables_per_network = seq_log[0]["travel_tables_built"]
    if kind == "dask":
        from sim.experiment.dask_cluster import dask_executor

        with dask_executor(workers=2, quiet=True) as ex:
            df, log = run_all(ex, plan)
    else:
        with ProcessExecutor(2) as ex:
            df, log = run_all(ex, plan)
    assert len(log) == len(FORCES) * REPLICATIONS
    workers = per_worker(log)
    assert len(workers) == 2, f"expected both workers to run tasks, got {dict(workers)}"
    for name, w in workers.items():
        assert w["networks_loaded"] == 1, f"{name} loaded the network {w['networks_loaded']} times"
        assert w["travel_tables_built"] == tables_per_network, \
            f"{name} built {w['travel_tables_built']} travel tables (one process needs {tables_per_network})"
        assert w["points_prepared"] <= len(FORCES)
        assert w["points_prepared"] <= w["tasks"]
    # the world was built in the first task each worker ran; every later task reused it
    for name in workers:
        mine = sorted((e for e in log if e["worker"] == name), key=lambda e: e["start"])
        assert mine[0]["networks_loaded"] == 1 and all(e["networks_loaded"] == 0 for e in mine[1:])
    pd.testing.assert_frame_equal(values(df), values(seq_df))


def test_a_sweep_over_speeds_shares_the_network_and_builds_tables_per_speed(small_town_dict):
    base = scenario_from_dict(small_town_dict(name="speeds", force={"mix": {"car": 1.0}})).to_dict()
    points = build_points(base, [{"network.speeds.emergency_speed_factor": f} for f in (1.0, 1.2, 1.2)],
                          source_file=None)
    # the third point repeats the second's speed with a different seed: a new point, same tables
    points[2] = build_points(base, [{"network.speeds.emergency_speed_factor": 1.2, "seed": 99}],
                             source_file=None)[0]
    tasks.clear_worker_cache()
    logs = [tasks.run_task_logged(tasks.make_task(p, [0], sweep="speeds"))[1] for p in points]
    assert [e["networks_loaded"] for e in logs] == [1, 0, 0]
    assert [e["travel_tables_built"] for e in logs] == [1, 1, 0]
    assert [e["points_prepared"] for e in logs] == [1, 1, 1]


def test_chunks_are_single_replications_until_the_scheduler_would_be_busy():
    assert tasks.chunk_size(100, 10, 1) == 1
    assert tasks.chunk_size(64, 8, 2) == 1          # small sweeps: the finest split, shortest tail
    assert tasks.chunk_size(10_000, 100, 64) == 10   # about MAX_SINGLE_TASKS tasks
    assert tasks.chunk_size(10_000, 100, 1024) == 2  # at least TASKS_PER_WORKER per worker
    assert tasks.chunk_size(100_000, 5, 4) == 5      # never more than a point's replications


def test_a_points_tasks_go_to_one_worker_first_and_every_worker_starts_busy():
    from sim.experiment.dask_cluster import home_workers

    # whole points in turn: each worker prepares its own points
    assert home_workers(["a"] * 4 + ["b"] * 4, 2) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert home_workers(["a", "a", "b", "b", "c", "c"], 2) == [0, 0, 1, 1, 0, 0]
    # fewer points than workers: a point is split into contiguous runs, no worker starts idle
    assert home_workers(["a"] * 6, 2) == [0, 0, 0, 1, 1, 1]
    assert sorted(set(home_workers(["a"] * 3 + ["b"] * 3, 4))) == [0, 1, 2, 3]
    assert home_workers([], 3) == []
