"""Sweeps in this process and on a local Dask cluster: rows, determinism, errors, resume, atomic tables."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest

from sim.cli import main
from sim.errors import InputError
from sim.experiment import store, sweep as sw, tasks
from sim.experiment.sweep_file import load_sweep

from tests.commands import Command

GRID = "name: town-grid\nreplications: 3\ngrid:\n  alert.level: [green, red]\n  force.total_officers: [12, 24]\n"


def values(df: pd.DataFrame) -> pd.DataFrame:
    """The table without the timing column (kept in timings.parquet, not in results.parquet)."""
    return df.drop(columns=["runtime_s"], errors="ignore").sort_values(["point_id", "replication"]).reset_index(drop=True)


@pytest.fixture
def reference(write_sweep, tmp_path):
    """The grid run sequentially, uninterrupted."""
    plan = load_sweep(write_sweep(GRID))
    tasks.clear_worker_cache()
    out = sw.run_sweep(plan, tmp_path / "reference")
    return plan, out.results


def test_one_row_per_point_and_replication_with_params_and_metrics(reference):
    plan, df = reference
    assert len(df) == 12
    assert list(df.columns[:5]) == ["sweep", "point_id", "replication", "alert.level", "force.total_officers"]
    assert not df.duplicated(["point_id", "replication"]).any()
    for col in ("response_within_line", "backup_within_line", "response_time_p50_s", "response_time_p90_s",
                "utilisation", "incidents", "lines_hold", "error", "runtime_s"):
        assert col in df.columns
    assert df["error"].isna().all()
    assert set(df["alert.level"]) == {"green", "red"} and set(df["force.total_officers"]) == {12, 24}
    # common random numbers: every point sees the same incidents in replication i
    assert df.groupby("replication")["incidents"].nunique().eq(1).all()
    # each point prepared once, one network for the whole sweep
    stats = tasks.worker_stats()
    assert stats["networks_loaded"] == 1 and stats["points_prepared"] == 4


def test_rows_depend_only_on_scenario_seed_and_replication(reference, write_sweep, tmp_path):
    plan, df = reference
    # a different order of work (one point alone, replications reversed) gives the same numbers
    tasks.clear_worker_cache()
    p = plan.points[2]
    rows = [row for r in (2, 0, 1) for row in tasks.run_task(tasks.make_task(p, [r], sweep=plan.name,
                                                                         source_file=plan.source_file))]
    got = store.rows_frame(rows, plan.param_names)
    want = df[df["point_id"] == 2]
    assert values(got).equals(values(want).reset_index(drop=True))


def test_same_numbers_on_a_local_dask_cluster(reference, write_sweep, tmp_path):
    plan, df = reference
    assert main(["sweep", str(write_sweep(GRID)), "--workers", "2", "--out", str(tmp_path / "dask"),
                 "--quiet"]) == 0
    got = pd.read_parquet(tmp_path / "dask" / "results.parquet")
    pd.testing.assert_frame_equal(values(got), values(df))


def test_a_replication_that_raises_is_recorded_and_the_sweep_goes_on(write_sweep, tmp_path, monkeypatch, capsys):
    from sim.experiment import replicate

    real = replicate.run_replication

    def flaky(ctx, r):
        if ctx.scenario.force.total_officers == 24 and ctx.scenario.alert.level == "red" and r == 1:
            raise ZeroDivisionError("boom in the engine")
        return real(ctx, r)

    monkeypatch.setattr(replicate, "run_replication", flaky)
    f = write_sweep(GRID)
    tasks.clear_worker_cache()
    assert main(["sweep", str(f), "--workers", "1", "--out", str(tmp_path / "s")]) == 0
    text = capsys.readouterr().out
    assert "1 failed" in text and "ZeroDivisionError: boom in the engine" in text
    df = pd.read_parquet(tmp_path / "s" / "results.parquet")
    assert len(df) == 12
    bad = df[df["error"].notna()]
    assert len(bad) == 1 and bad.iloc[0]["replication"] == 1 and bad.iloc[0]["alert.level"] == "red"
    assert "ZeroDivisionError: boom in the engine" in bad.iloc[0]["error"]
    assert pd.isna(bad.iloc[0]["response_within_line"])
    # --resume alone keeps the error; --retry-errors runs it again (now it succeeds)
    monkeypatch.setattr(replicate, "run_replication", real)
    assert main(["sweep", str(f), "--workers", "1", "--out", str(tmp_path / "s"), "--resume", "--quiet"]) == 0
    assert pd.read_parquet(tmp_path / "s" / "results.parquet")["error"].notna().sum() == 1
    assert main(["sweep", str(f), "--workers", "1", "--out", str(tmp_path / "s"), "--resume", "--retry-errors",
                 "--quiet"]) == 0
    df = pd.read_parquet(tmp_path / "s" / "results.parquet")
    assert len(df) == 12 and df["error"].isna().all()


def test_interrupted_sweep_leaves_a_readable_table_and_resume_finishes_it(reference, write_sweep, tmp_path):
    plan, full = reference
    out = tmp_path / "interrupted"

    def ctrl_c_after_five(done, total):
        if done >= 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sw.run_sweep(plan, out, progress=ctrl_c_after_five, flush_rows=2)
    part = pd.read_parquet(out / "results.parquet")   # readable, never corrupt
    assert 5 <= len(part) < 12
    assert not part.duplicated(["point_id", "replication"]).any()
    assert not (out / "parts").exists() or not any((out / "parts").iterdir())
    # running again without --resume refuses to mix two sweeps
    with pytest.raises(InputError, match="--resume"):
        sw.run_sweep(plan, out)
    again = sw.run_sweep(plan, out, resume=True)
    assert again.skipped == len(part) and again.ran == 12 - len(part)
    pd.testing.assert_frame_equal(values(again.results), values(full))


def test_resume_refuses_a_folder_of_another_sweep(write_sweep, tmp_path):
    a = load_sweep(write_sweep(GRID, "a.yaml"))
    b = load_sweep(write_sweep(GRID.replace("[12, 24]", "[12, 36]"), "b.yaml"))
    sw.run_sweep(a, tmp_path / "x", progress=None)
    with pytest.raises(InputError, match="different points"):
        sw.run_sweep(b, tmp_path / "x", resume=True)
    # --overwrite starts again
    out = sw.run_sweep(b, tmp_path / "x", overwrite=True)
    assert set(out.results["force.total_officers"]) == {12, 36}


def test_ctrl_c_on_the_command_line(write_sweep, tmp_path, reference):
    """A real SIGINT to `patrolsim sweep`: exit 130, a readable partial table, then --resume completes it."""
    plan, full = reference
    body = GRID.replace("replications: 3", "replications: 12")
    f = write_sweep(body)
    out = tmp_path / "cli"
    c = Command(["sweep", str(f), "--workers", "1", "--out", str(out)], tmp_path)
    try:
        # 48 rows saved 3 at a time: at the first part 45 rows are still to run
        c.wait_for(lambda: any((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else False,
                   "first saved rows")
        rc, err = c.interrupt(signal.SIGINT, group=False)
    finally:
        c.kill()
    assert rc == 130, err
    assert "--resume" in err
    part = pd.read_parquet(out / "results.parquet")
    assert 0 < len(part) < 48
    assert main(["sweep", str(f), "--workers", "1", "--out", str(out), "--resume", "--quiet"]) == 0
    done = pd.read_parquet(out / "results.parquet")
    assert len(done) == 48 and not done.duplicated(["point_id", "replication"]).any()
    # the first three replications are those of the 3-replication reference run
    pd.testing.assert_frame_equal(values(done[done["replication"] < 3]).drop(columns="sweep"),
                                  values(full).drop(columns="sweep"))


def test_store_prefers_success_and_ignores_unreadable_parts(tmp_path):
    st = store.ResultStore(tmp_path)
    base = {"sweep": "s", "point_id": 0, "replication": 0, "x": 1}
    st.write_part([{**base, "error": "Boom", "response_within_line": None}], ["x"])
    st.write_part([{**base, "error": None, "response_within_line": 0.9}], ["x"])
    (tmp_path / "parts" / "part-zzz-garbage.parquet").write_bytes(b"not parquet")
    (tmp_path / "parts" / ".part-x.parquet.tmp").write_bytes(b"half written")
    df = st.consolidate(["x"])
    assert len(df) == 1 and df.iloc[0]["error"] is None and df.iloc[0]["response_within_line"] == 0.9
    assert pd.read_parquet(tmp_path / "results.parquet").equals(df)


def test_blocks_of_a_point_are_as_equal_as_possible():
    # (chunk sizes: tests/experiment/test_worker_world.py)
    # blocks of a point's replications are as equal as possible
    assert [len(b) for b in tasks.blocks(list(range(100)), 79)] == [50, 50]
    assert [len(b) for b in tasks.blocks(list(range(10)), 3)] == [3, 3, 2, 2]
    assert sum(tasks.blocks([4, 7, 9], 1), []) == [4, 7, 9] and tasks.blocks([], 5) == []


def test_results_folder_and_resolved_scenario_from_the_cli(write_sweep, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    f = write_sweep(GRID.replace("replications: 3", "replications: 2"))
    assert main(["sweep", str(f), "--workers", "1"]) == 0
    folder = tmp_path / "results" / "sweeps" / "town-grid"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".patrolsim-results", "report.html", "results.parquet", "scenario.resolved.yaml", "summary.csv",
        "sweep-force-total-officers.png",
        "sweep-force-total-officers.svg", "sweep.json", "timings.parquet"]
    out = capsys.readouterr().out
    assert "both lines" in out and "alert.level" in out and "results.parquet" in out
    assert os.stat(folder / "results.parquet").st_mode & 0o044  # an ordinary file, not private


def test_two_runs_of_a_sweep_give_byte_identical_folders_except_the_timings(write_sweep, tmp_path):
    """results.parquet used to carry each row's runtime_s, so no two sweep folders were the same bytes."""
    f = write_sweep(GRID.replace("replications: 3", "replications: 2"))
    folders = [tmp_path / "a", tmp_path / "b"]
    for out in folders:
        tasks.clear_worker_cache()
        assert main(["sweep", str(f), "--workers", "1", "--quiet", "--out", str(out)]) == 0
    fa, fb = ({str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()} for d in folders)
    assert sorted(fa) == sorted(fb) and {"results.parquet", "timings.parquet", "sweep.json"} <= set(fa)
    assert [n for n in fa if fa[n] != fb[n]] in ([], ["timings.parquet"])
    assert "runtime_s" not in pd.read_parquet(folders[0] / "results.parquet").columns
    t = pd.read_parquet(folders[0] / "timings.parquet")
    assert list(t.columns) == ["point_id", "replication", "runtime_s"] and len(t) == 8 and (t["runtime_s"] > 0).all()


def test_resume_keeps_the_timings_of_earlier_rows(write_sweep, tmp_path):
    plan = load_sweep(write_sweep(GRID.replace("replications: 3", "replications: 1")))
    tasks.clear_worker_cache()
    first = sw.run_sweep(plan, tmp_path / "s")
    before = pd.read_parquet(tmp_path / "s" / "timings.parquet")
    plan.replications = 2
    second = sw.run_sweep(plan, tmp_path / "s", resume=True)
    assert second.ran == 4 and second.skipped == 4 and len(second.results) == 8
    after = pd.read_parquet(tmp_path / "s" / "timings.parquet")
    assert len(after) == 8 and after["runtime_s"].notna().all()
    old = after.merge(before, on=["point_id", "replication"], suffixes=("", "_before"))
    assert len(old) == 4 and (old["runtime_s"] == old["runtime_s_before"]).all()
    assert second.results["runtime_s"].notna().all() and "runtime_s" in first.results.columns
    assert "runtime_s" not in pd.read_parquet(tmp_path / "s" / "results.parquet").columns
