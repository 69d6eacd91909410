"""``patrolsim run``: the output contract (summary.json, parquet tables, resolved scenario) end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from sim.cli import main

METRICS = ("response_within_line", "backup_within_line", "response_time_p50_s", "response_time_p90_s",
           "utilisation")
SHORT = ["--replications", "2", "--set", "horizon_days=1", "--set", "warmup_days=0.1"]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The embedded default scenario, 2 replications of one day, through ``main``."""
    out = tmp_path_factory.mktemp("run") / "default-out"
    rc = main(["run", *SHORT, "--out", str(out)])
    assert rc == 0
    return out


def _check_metric(entry: dict, name: str):
    assert set(entry) >= {"mean", "ci95"}, name
    lo, hi = entry["ci95"]
    if entry["mean"] is not None and lo is not None:
        assert lo <= entry["mean"] <= hi, name


def test_run_writes_every_file_and_nothing_else_half_done(default_run):
    names = {p.name for p in default_run.iterdir()}
    assert {"summary.json", "incidents.parquet", "units.parquet", "scenario.resolved.yaml"} <= names
    assert not [n for n in names if "partial" in n or (n.startswith(".") and n != ".patrolsim-results")]
    assert not [p for p in default_run.parent.iterdir() if p.name.startswith(".")]


def test_summary_follows_the_contract(default_run):
    s = json.loads((default_run / "summary.json").read_text(encoding="utf-8"))
    assert s["scenario"] == "default"
    assert s["replications"] == 2
    assert isinstance(s["seed"], int)
    assert isinstance(s["incidents"], int) and s["incidents"] > 0
    for name in METRICS:
        _check_metric(s["metrics"][name], name)
    for name in ("response_within_line", "backup_within_line", "utilisation"):
        m = s["metrics"][name]["mean"]
        assert m is None or 0.0 <= m <= 1.0
    assert s["metrics"]["response_time_p50_s"]["mean"] <= s["metrics"]["response_time_p90_s"]["mean"]
    assert isinstance(s["lines_hold"], bool)
    assert s["by_alert_level"], "by_alert_level is empty"
    for level, block in s["by_alert_level"].items():
        assert level in ("green", "yellow", "orange", "red")
        for name in METRICS:
            _check_metric(block[name], f"{level}.{name}")
        assert isinstance(block["lines_hold"], bool)
    # lines_hold agrees with the means and the target
    target = s["lines"]["target_compliance"]
    r, b = s["metrics"]["response_within_line"]["mean"], s["metrics"]["backup_within_line"]["mean"]
    assert s["lines_hold"] == (r >= target and (b is None or b >= target))


def test_every_metric_in_summary_json_is_in_the_metric_table(default_run):
    """summary.json, sweep rows and comparisons name their metrics from one table (sim.metrics.METRICS)."""
    from sim import metrics

    s = json.loads((default_run / "summary.json").read_text(encoding="utf-8"))
    assert set(s["metrics"]) <= set(metrics.BY_NAME), set(s["metrics"]) - set(metrics.BY_NAME)
    for level, block in s["by_alert_level"].items():
        keys = set(block) - {"lines_hold", "force"}
        assert keys <= set(metrics.BY_NAME), (level, keys - set(metrics.BY_NAME))
    # the contract's metrics are headlines of the table
    assert set(METRICS) <= set(metrics.names(view="headline"))


def test_incidents_parquet(default_run):
    s = json.loads((default_run / "summary.json").read_text(encoding="utf-8"))
    df = pd.read_parquet(default_run / "incidents.parquet")
    for col in ("replication", "call_s", "place", "type", "priority", "alert_level", "grid_cell", "dispatch_s",
                "first_arrival_s", "arrival_s", "clear_s", "units_sent", "response_time_s"):
        assert col in df, col
    assert sorted(df["replication"].unique()) == [0, 1]
    # the summary counts the incidents after the warm-up
    assert int(df["in_window"].sum()) == s["incidents"]
    served = df[df["served"]]
    assert (served["first_arrival_s"] >= served["dispatch_s"]).all()
    assert (served["units_sent"].map(len) >= 1).all()


def test_units_parquet(default_run):
    s = json.loads((default_run / "summary.json").read_text(encoding="utf-8"))
    u = pd.read_parquet(default_run / "units.parquet")
    for col in ("replication", "unit", "kind", "beat", "patrol_s", "travel_s", "on_scene_s", "station_s",
                "distance_km"):
        assert col in u, col
    assert sorted(u["replication"].unique()) == [0, 1]
    assert (u.groupby("replication").size() == len(u) // 2).all()
    window = (s["horizon_days"] - s["warmup_days"]) * 86_400
    time_cols = [c for c in ("patrol_s", "travel_s", "on_scene_s", "station_s", "off_duty_s", "checkpoint_s")
                 if c in u]
    assert (u[time_cols].sum(axis=1) <= window * (1 + 1e-9)).all()


def test_resolved_scenario_runs_again_to_the_same_metrics(default_run, tmp_path):
    resolved = default_run / "scenario.resolved.yaml"
    data = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    assert data["replications"] == 2 and data["horizon_days"] == 1 and data["warmup_days"] == 0.1
    text = resolved.read_text(encoding="utf-8")
    assert "patrolsim:" in text and "numpy:" in text          # provenance: package and dependency versions
    again = tmp_path / "again"
    assert main(["run", str(resolved), "--quiet", "--out", str(again)]) == 0
    first = json.loads((default_run / "summary.json").read_text(encoding="utf-8"))
    second = json.loads((again / "summary.json").read_text(encoding="utf-8"))
    assert second["seed"] == first["seed"] and second["incidents"] == first["incidents"]
    assert second["metrics"] == first["metrics"]
    assert second["by_alert_level"] == first["by_alert_level"]


def test_table_and_progress_are_printed(tmp_path, capsys):
    out = tmp_path / "printed"
    assert main(["run", "--replications", "1", "--set", "horizon_days=0.3", "--set", "warmup_days=0.05",
                 "--set", "network.synthetic.area_km2=2", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "Both lines hold" in captured.out
    assert "300 s" in captured.out
    # one row per headline metric, labelled from the metric table
    from sim import metrics
    from sim.report.terminal import run_label

    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for i, name in enumerate(metrics.names(view="headline")):
        assert "  " + run_label(name, s["lines"], first_time=(name == "response_time_p50_s")) in captured.out
    assert "First unit within 300 s (5 min)" in captured.out and "Response time, median (m:ss)" in captured.out
    # progress is drawn only on a terminal (tests/test_progress.py drives one); captured stderr is not
    assert "elapsed" not in captured.err and "replications" not in captured.out


def test_seed_and_replications_options_win_over_the_file(tmp_path):
    out = tmp_path / "opts"
    assert main(["run", "--quiet", "--seed", "3", "--replications", "1", "--set", "horizon_days=0.3",
                 "--set", "warmup_days=0", "--set", "network.synthetic.area_km2=2", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["seed"] == 3 and s["replications"] == 1
    assert yaml.safe_load((out / "scenario.resolved.yaml").read_text(encoding="utf-8"))["seed"] == 3


def test_an_older_result_is_replaced_whole(tmp_path):
    """A folder patrolsim wrote is replaced whole by the next run; files the user put in it need
    --overwrite, and a folder patrolsim did not write is never replaced (tests/test_outputs_safety.py)."""
    out = tmp_path / "again"
    argv = ["run", "--quiet", "--replications", "1", "--set", "horizon_days=0.2", "--set", "warmup_days=0",
            "--set", "network.synthetic.area_km2=2", "--out", str(out)]
    assert main(argv) == 0
    (out / "visibility.parquet").write_bytes(b"an older, different table")
    assert main([*argv, "--set", "seed=5"]) == 0
    assert (out / "visibility.parquet").read_bytes() != b"an older, different table"
    (out / "stale.txt").write_text("from the user", encoding="utf-8")
    assert main([*argv, "--overwrite"]) == 0
    assert not (out / "stale.txt").exists()
    assert (out / "summary.json").exists()


@pytest.mark.slow
def test_seattle_short_run_end_to_end(seattle_city, repo_root, tmp_path):
    """The shipped Seattle scenario on the real extract: one short replication through the command line."""
    out = tmp_path / "seattle"
    rc = main(["run", str(repo_root / "scenarios" / "seattle_udistrict.yaml"), "--quiet", "--replications", "1",
               "--set", "horizon_days=0.5", "--set", "warmup_days=0.05", "--out", str(out)])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["scenario"] == "seattle_udistrict"
    assert s["network"]["places"] == seattle_city.n_places
    # 55 incidents a day over 0.45 days after the warm-up: about 25 (Poisson; 5-60 is far outside the noise)
    assert 5 <= s["incidents"] <= 60
    assert s["metrics"]["response_within_line"]["mean"] is not None
    inc = pd.read_parquet(out / "incidents.parquet")
    assert inc["lat"].between(47.63, 47.67).all() and inc["lon"].between(-122.34, -122.27).all()
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert resolved["network"]["osm"]["file"].endswith("udistrict.osm.gz")
