"""Self-describing outputs: the Parquet files of ``python -m sim run`` read back on their own.

Nullable "within line" columns, the run level in every table, alert levels as an ordered
category, units and lines in the schema metadata, and integer counts in summary.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from sim.alert import LEVELS
from sim.tables import METADATA_KEY, column_units, level_category, read_description
from tests.conftest import REPO_ROOT, small_town

TABLES = ("incidents", "units", "staffing", "alert_levels", "visibility", "beats")


def _run(folder, *extra) -> None:
    """``python -m sim run`` in a fresh process on the small town (two days, one replication)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s.yaml").write_text(yaml.safe_dump(small_town(horizon_days=2.0, replications=1)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "sim", "run", "s.yaml", "--out", "out", "--quiet", *extra],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("described")
    _run(folder)
    return folder / "out"


@pytest.fixture(scope="module")
def summary(run_out) -> dict:
    return json.loads((run_out / "summary.json").read_text())


def _is_level_category(col: pd.Series) -> bool:
    return (isinstance(col.dtype, pd.CategoricalDtype) and col.cat.ordered
            and list(col.cat.categories) == list(LEVELS))


def test_within_line_columns_are_null_where_the_line_does_not_apply(run_out):
    inc = pd.read_parquet(run_out / "incidents.parquet")
    for col in ("backup_within_line", "encircled_within_line"):
        assert inc[col].dtype == "boolean", col
    one_unit = inc["units_needed"] < 2
    assert one_unit.any() and (~one_unit).any()          # the run has both kinds of incident
    assert inc["backup_within_line"].isna().eq(one_unit).all()
    assert inc["major"].any() and (~inc["major"]).any()
    assert inc["encircled_within_line"].isna().eq(~inc["major"]).all()
    assert inc["response_within_line"].dtype == bool      # the first unit's line applies to every incident


def test_backup_mean_over_non_null_rows_is_the_reported_backup_compliance(run_out, summary):
    inc = pd.read_parquet(run_out / "incidents.parquet")
    window = inc[inc["in_window"]]
    reported = summary["metrics"]["backup_within_line"]["mean"]
    assert window["backup_within_line"].mean() == pytest.approx(reported, abs=1e-12)   # pandas skips nulls
    assert window["backup_within_line"].dropna().astype(bool).mean() == pytest.approx(reported, abs=1e-12)
    # the mistake the nulls prevent: counting one-unit incidents as misses
    naive = window["backup_within_line"].fillna(False).astype(bool).mean()
    assert naive < reported
    major = window[window["major"]]
    assert window["encircled_within_line"].mean() == pytest.approx(
        summary["metrics"]["encircled_within_line"]["mean"], abs=1e-12)
    assert major["encircled_within_line"].notna().all()


def test_every_table_has_the_run_level_and_ordered_levels(run_out, summary):
    for name in TABLES:
        df = pd.read_parquet(run_out / f"{name}.parquet")
        assert _is_level_category(df["run_level"]), name
        assert set(df["run_level"].astype(str)) == {summary["alert_level"]}, name
        for col in ("alert_level", "level"):
            if col in df:
                assert _is_level_category(df[col]), f"{name}.{col}"
                assert df[col].notna().all(), f"{name}.{col}"


def test_every_table_carries_units_and_lines_in_its_schema(run_out, summary):
    for name in TABLES:
        path = run_out / f"{name}.parquet"
        assert METADATA_KEY in pq.read_schema(path).metadata, name
        d = read_description(path)
        assert d["lines"] == summary["lines"], name
        assert d["run_level"] == summary["alert_level"] and d["alert_level_order"] == list(LEVELS)
        df = pd.read_parquet(path)
        assert set(d["units"]) <= set(df.columns), name
        assert all(d["units"][c] == "s" for c in df.columns if c.endswith("_s") and c != "arrival_s"), name
    inc = read_description(run_out / "incidents.parquet")
    assert inc["units"]["call_s"] == "s" and inc["units"]["x_m"] == "m" and inc["units"]["lon"].startswith("degree")
    assert set(inc["null_means"]) >= {"backup_within_line", "encircled_within_line"}
    units = read_description(run_out / "units.parquet")
    assert units["units"]["distance_km"] == "km" and units["units"]["overtime_officer_h"] == "h"


def test_counts_are_integers_in_summary_json(run_out, summary):
    text = (run_out / "summary.json").read_text()
    blocks = [summary["metrics"], *summary["by_alert_level"].values(), *summary["by_hour"].values()]
    for block in blocks:
        for name in ("incidents", "unserved"):
            if name in block:
                assert isinstance(block[name]["total"], int), name
    assert summary["metrics"]["incidents"]["total"] == summary["incidents"]
    inc = pd.read_parquet(run_out / "incidents.parquet")
    assert summary["metrics"]["unserved"]["total"] == int((~inc["served"] & inc["in_window"]).sum())
    assert '"total": 0.0' not in text


def test_all_levels_tables_name_each_rows_run_level(tmp_path):
    _run(tmp_path, "--all-levels")
    out = tmp_path / "out"
    for name in TABLES:
        df = pd.read_parquet(out / f"{name}.parquet")
        assert _is_level_category(df["run_level"]), name
        assert list(df["run_level"].cat.remove_unused_categories().cat.categories) == list(LEVELS), name
        assert read_description(out / f"{name}.parquet")["run_level"] == list(LEVELS), name
    inc = pd.read_parquet(out / "incidents.parquet")
    # a fixed level: every incident of a run is at that run's level
    assert (inc["alert_level"] == inc["run_level"]).all()
    assert "alert_level" not in pd.read_parquet(out / "units.parquet")


def test_levels_sort_in_their_order_not_the_alphabets():
    c = pd.Series(level_category(["red", "green", "orange", "yellow", "green"]))
    assert list(c.sort_values()) == ["green", "green", "yellow", "orange", "red"]
    assert c.max() == "red" and (c > "yellow").sum() == 2
    assert pd.isna(level_category(["red", None])[1])
    with pytest.raises(ValueError, match="not alert levels: purple"):
        level_category(["green", "purple"])


def test_units_come_from_column_names():
    assert column_units(["call_s", "x_m", "distance_km", "area_km2", "speed_kph", "overtime_officer_h",
                         "observed_per_day", "busy_share", "beat", "lon"]) == {
        "call_s": "s", "x_m": "m", "distance_km": "km", "area_km2": "km2", "speed_kph": "km/h",
        "overtime_officer_h": "h", "observed_per_day": "1/day", "busy_share": "share (0-1)",
        "lon": "degree (WGS84)"}
