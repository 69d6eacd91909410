"""Metrics as pure functions of the engine's log: records, line compliance, percentiles, CIs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import metrics
from sim.demand import IncidentTable
from sim.engine import Engine, ModeTravel
from sim.force import Deployment, Unit
from sim.network import TravelOracle
from sim.network.graph import City, RoadGraph, map_places
from sim.scenario import LinesSpec


# --------------------------------------------------------------------------- a hand-built log
def _line_city() -> City:
    """Nodes 0 - 1 - 2 on a line, 1000 m then 500 m, 36 km/h; stations at 0 and 2."""
    x = np.array([0.0, 1000.0, 1500.0])
    g = RoadGraph(mode="drive", node_id=np.arange(3, dtype=np.int64), x_m=x, y_m=np.zeros(3), lon=x / 1e5,
                  lat=np.zeros(3), edge_u=np.array([0, 1, 1, 2], np.int32), edge_v=np.array([1, 0, 2, 1], np.int32),
                  edge_length_m=np.array([1000.0, 1000.0, 500.0, 500.0]), edge_speed_kph=np.full(4, 36.0),
                  edge_class=np.array(["residential"] * 4))
    node, off = map_places({"drive": g})
    return City(name="line", graphs={"drive": g}, place_weight=np.ones(3), station_place=np.array([0, 2]),
                station_name=("a", "b"), bureau_place=0, exit_place=np.array([], np.int64), place_node=node,
                place_offset_m=off)


class _Demand:
    type_name = ("violent", "theft")


@pytest.fixture(scope="module")
def trace():
    """Two standby cars (stations 0 and 2), three incidents; every time is arithmetic.

    a: call 50 at node 0, handling 0 -- before the 60 s warm-up, so outside the window. The unit at
       node 0 arrives after its turnout at 170 and clears at 270.
    b: call 100 at node 1, handling 60, needs 2: at 160 only the unit at node 2 is free; it arrives
       160+120+50 = 330 (response 230 s). The backup request waits until the other unit clears call a
       at 270 and drives from node 0 with no turnout: 270+100 = 370 (backup 270 s).
    c: call 2000 at node 2, handling 100, needs 1: the unit at node 2 arrives 2100+120 = 2220 (response 220 s).
    """
    city = _line_city()
    units = tuple(Unit(uid=i, name=f"standby-{i}", kind="car", role="standby", crew=2, station=i, beat=-1,
                       beat_places=np.empty(0, np.int64)) for i in range(2))
    dep = Deployment(units=units, alert_level="green", patrol_officers=0, standby_officers=4, on_duty_officers=4)
    order = np.argsort([100.0, 2000.0, 50.0], kind="stable")
    rows = np.array([[100.0, 1, 0, 1, 2, 60.0, 400.0], [2000.0, 2, 1, 3, 1, 100.0, 300.0],
                     [50.0, 0, 1, 3, 1, 0.0, 100.0]])[order]
    inc = IncidentTable(call_s=rows[:, 0], place=rows[:, 1].astype(np.int64), type_idx=rows[:, 2].astype(np.int64),
                        priority=rows[:, 3].astype(np.int64), units_needed=rows[:, 4].astype(np.int64),
                        handling_s=rows[:, 5], on_scene_s=rows[:, 6])
    travel = {"drive": ModeTravel(TravelOracle(city.graphs["drive"]), 2.0, 1.0)}
    log = Engine(city=city, deployment=dep, travel=travel, incidents=inc, rep=np.random.SeedSequence(0),
                 warmup_s=60.0, horizon_s=3660.0, turnout_s=120.0).run()
    df = metrics.incident_records(log, city=city, deployment=dep, demand=_Demand(), replication=4,
                                  lines=LinesSpec(response_s=225.0, backup_s=300.0))
    units = metrics.unit_records(log, deployment=dep, replication=4)
    return log, df, units


def test_incident_records_have_every_timestamp(trace):
    _, df, _ = trace
    assert len(df) == 3
    for col in ("replication", "call_s", "place", "type", "priority", "units_needed", "alert_level", "grid_cell",
                "handling_s", "dispatch_s", "first_arrival_s", "second_arrival_s", "arrival_s", "clear_s",
                "units_sent", "response_time_s", "backup_time_s", "response_within_line", "backup_within_line",
                "served", "in_window"):
        assert col in df, col
    assert (df["replication"] == 4).all()
    r = df.set_index("call_s")
    assert r.loc[100.0, "type"] == "violent"
    assert r.loc[100.0, "dispatch_s"] == pytest.approx(160.0)
    assert r.loc[100.0, "first_arrival_s"] == pytest.approx(330.0)
    assert r.loc[100.0, "second_arrival_s"] == pytest.approx(370.0)
    assert r.loc[100.0, "response_time_s"] == pytest.approx(230.0)
    assert r.loc[100.0, "backup_time_s"] == pytest.approx(270.0)
    assert list(r.loc[100.0, "units_sent"]) == ["standby-1", "standby-0"]
    assert r.loc[100.0, "clear_s"] == pytest.approx(370.0 + 400.0)
    assert r.loc[50.0, "clear_s"] == pytest.approx(270.0)
    assert r.loc[2000.0, "response_time_s"] == pytest.approx(220.0)
    assert math.isnan(r.loc[2000.0, "backup_time_s"])           # needs no backup
    assert not r.loc[50.0, "in_window"] and r.loc[100.0, "in_window"]


def test_line_compliance_uses_the_lines(trace):
    _, df, _ = trace
    r = df.set_index("call_s")
    # response line 225 s: 230 s misses, 220 s makes it; backup line 300 s: 270 s makes it
    assert not r.loc[100.0, "response_within_line"]
    assert r.loc[2000.0, "response_within_line"]
    assert r.loc[100.0, "backup_within_line"]
    assert r.loc[2000.0, "backup_within_line"] is pd.NA           # no backup needed: the line does not apply


def test_replication_metrics_of_the_trace(trace):
    log, df, units = trace
    m = metrics.replication_metrics(df, units, window_s=log.horizon_s - log.warmup_s)
    assert m["incidents"] == 2 and isinstance(m["incidents"], int)   # the call before the warm-up is left out
    assert m["response_within_line"] == pytest.approx(0.5)
    assert m["backup_within_line"] == pytest.approx(1.0)          # one incident needed backup; it made the line
    assert m["response_time_p50_s"] == pytest.approx(225.0)
    assert m["unserved"] == 0.0
    # busy = travel + on scene inside the window, over the two units' 3600 s each
    busy = units["travel_s"].sum() + units["on_scene_s"].sum()
    assert m["utilisation"] == pytest.approx(busy / 7200.0)
    assert 0 < m["utilisation"] < 1


def test_unit_records(trace):
    log, _, units = trace
    assert list(units["unit"]) == ["standby-0", "standby-1"]
    assert (units["calls"] >= 1).all()
    total = units["patrol_s"] + units["travel_s"] + units["on_scene_s"] + units["station_s"]
    for col in ("off_duty_s", "checkpoint_s"):
        if col in units:
            total = total + units[col]
    np.testing.assert_allclose(total, log.horizon_s - log.warmup_s)
    assert (units["distance_km"] > 0).all()


# --------------------------------------------------------------------------- on tables
def _incidents(resp, needed=None, backup=None, in_window=None) -> pd.DataFrame:
    resp = np.asarray(resp, float)
    n = resp.size
    needed = np.ones(n, int) if needed is None else np.asarray(needed)
    backup = np.full(n, np.nan) if backup is None else np.asarray(backup, float)
    lines = LinesSpec()
    return pd.DataFrame({
        "response_time_s": resp, "units_needed": needed, "backup_time_s": backup,
        "response_within_line": np.nan_to_num(resp, nan=np.inf) <= lines.response_s,
        "backup_within_line": np.where(needed >= 2, np.nan_to_num(backup, nan=np.inf) <= lines.backup_s, False),
        "served": ~np.isnan(resp), "in_window": np.ones(n, bool) if in_window is None else np.asarray(in_window),
        "replication": 0,
    })


def test_unserved_incidents_count_as_missing_the_line():
    m = metrics.replication_metrics(_incidents([100, 200, np.nan, 400]))
    assert m["response_within_line"] == pytest.approx(0.5)
    assert m["unserved"] == 1.0
    assert m["response_time_p50_s"] == pytest.approx(200.0)     # percentiles over served incidents only
    assert m["response_time_p90_s"] == pytest.approx(np.percentile([100, 200, 400], 90))


def test_backup_share_only_over_incidents_needing_backup():
    m = metrics.replication_metrics(_incidents([100, 100, 100], needed=[2, 2, 1], backup=[500, 700, np.nan]))
    assert m["backup_within_line"] == pytest.approx(0.5)
    m = metrics.replication_metrics(_incidents([100, 100]))
    assert math.isnan(m["backup_within_line"])


def test_incidents_outside_the_window_are_ignored():
    m = metrics.replication_metrics(_incidents([100, 900], in_window=[True, False]))
    assert m["incidents"] == 1.0 and m["response_within_line"] == 1.0


def test_mean_ci95_is_the_t_interval():
    x = [0.8, 0.9, 0.85, 0.95]
    s = metrics.mean_ci95(x)
    half = stats.t.ppf(0.975, 3) * np.std(x, ddof=1) / 2
    assert s["mean"] == pytest.approx(np.mean(x))
    assert s["ci95"] == pytest.approx([np.mean(x) - half, np.mean(x) + half])
    assert metrics.mean_ci95([0.5]) == {"mean": 0.5, "ci95": [None, None]}
    assert metrics.mean_ci95([math.nan, None]) == {"mean": None, "ci95": [None, None]}


def test_summarise_clips_shares_to_zero_one():
    s = metrics.summarise([{"response_within_line": 1.0, "response_time_p50_s": 100.0},
                           {"response_within_line": 0.9, "response_time_p50_s": 300.0}])
    lo, hi = s["response_within_line"]["ci95"]
    assert 0.0 <= lo and hi == 1.0
    lo, hi = s["response_time_p50_s"]["ci95"]
    assert lo < 100.0 and hi > 300.0                              # not a share: not clipped


def test_lines_hold():
    def m(r, b):
        return {"response_within_line": {"mean": r}, "backup_within_line": {"mean": b}}

    assert metrics.lines_hold(m(0.95, 0.92), target=0.9)
    assert not metrics.lines_hold(m(0.95, 0.85), target=0.9)
    assert not metrics.lines_hold(m(0.85, 0.95), target=0.9)
    assert metrics.lines_hold(m(0.95, None), target=0.9)        # no backup demand: only the response line
    assert not metrics.lines_hold(m(None, None), target=0.9)


def test_grid_cells():
    cells = metrics.grid_cell(np.array([0.0, 999.0, 1000.0, 2500.0]), np.array([0.0, 0.0, 1500.0, 0.0]),
                              x0=0.0, y0=0.0)
    assert list(cells) == ["r0c0", "r0c0", "r1c1", "r0c2"]


@pytest.mark.parametrize("values, index", [
    (["standby-0", "standby-1", None], [0, 1, 2, 1, -1]),   # -1 (no unit) picks the trailing None
    (["standby-0", None], [1, 1]),                           # no text at all: pandas keeps objects
    (np.array(["r0c0", "r1c1", "r0c2"]), [2, 0, 0]),
    (np.array(["violent", "theft"], dtype=object), [1, 0]),
    (["standby-0", None], []),
    (np.array(["r0c0"]), []),
    (np.array(["violent"], dtype=object), []),
])
def test_text_columns_are_what_pandas_makes_of_the_values(values, index):
    index = np.array(index, np.int64)
    plain = values[index] if isinstance(values, np.ndarray) else [values[i] for i in index]
    expected = pd.DataFrame({"c": plain})["c"]
    pd.testing.assert_series_equal(pd.DataFrame({"c": metrics._labels(values, index)})["c"], expected)


# --------------------------------------------------------------------------- the metric table
def test_the_metric_table_is_well_formed():
    names = [m.name for m in metrics.METRICS]
    assert len(names) == len(set(names))
    assert {m.kind for m in metrics.METRICS} <= set(metrics.KINDS)
    assert metrics.HEADLINE[:2] == (metrics.RESPONSE_LINE, metrics.BACKUP_LINE)
    for m in metrics.METRICS:
        assert m.direction in (-1, 0, 1) and m.label and m.unit
        assert m.kind != "seconds" or m.name.endswith("_s"), m.name   # names carry units
        assert m.line in (None, "response", "backup")
    # a metric the table does not know is judged by its name
    assert metrics.kind("x_share") == "share" and metrics.kind("wait_s") == "seconds" and metrics.kind("n") == "count"
    assert metrics.in_table_order(["zzz", "utilisation", "response_within_line"]) == \
        ["response_within_line", "utilisation", "zzz"]


def test_replication_metrics_are_all_in_the_table(small_ctx):
    from sim.experiment.replicate import run_replication

    out = run_replication(small_ctx, 0)
    assert set(out.metrics) <= set(metrics.BY_NAME), set(out.metrics) - set(metrics.BY_NAME)


def test_labels_are_spelled_only_in_the_table():
    """No other module of sim/ spells a metric's label: tables and figures read it from the table."""
    from pathlib import Path

    root = Path(metrics.__file__).parent
    for path in root.rglob("*.py"):
        if path.name == "metrics.py" and path.parent == root:
            continue
        text = path.read_text(encoding="utf-8")
        for m in metrics.METRICS:
            if len(m.label.split()) >= 3:   # a one- or two-word label ("Overtime") may be ordinary prose
                assert m.label not in text, f"{path.relative_to(root.parent)} spells the label of {m.name}"


def test_tables_follow_the_metric_table(monkeypatch):
    """Change a label or a short header in the table, and the run, compare and sweep tables change."""
    from dataclasses import replace

    from sim.report.experiments import comparison_table, sweep_table
    from sim.report.terminal import metrics_rows

    by_name = dict(metrics.BY_NAME)
    by_name["utilisation"] = replace(by_name["utilisation"], label="Busy share of duty", short="busy")
    monkeypatch.setattr(metrics, "BY_NAME", by_name)
    m = {k: {"mean": 0.5, "ci95": [0.4, 0.6]} for k in metrics.HEADLINE}
    lines = {"response_s": 300.0, "backup_s": 600.0, "target_compliance": 0.9}
    assert [r[0] for r in metrics_rows(m, lines)] == [
        "First unit within 300 s (5 min)", "Backup within 600 s (10 min)", "Response time, median (m:ss)",
        "Response time, 90th percentile", "Busy share of duty"]
    d = {"scenario": "b", "baseline": "a", "metric": "utilisation", "mean": 0.1, "ci95": [0.05, 0.15],
         "significant": True, "verdict": "higher"}
    comp = {"baseline": "a", "scenarios": ["a", "b"], "replications": 3, "seed": 1, "common_random_numbers": True,
            "metrics": {"a": m, "b": m}, "differences": [d]}
    text = comparison_table(comp)
    assert "Busy share of duty" in text and "+10.0 pts [+5.0, +15.0]" in text
    summ = [{"point_id": 0, "params": {"x": 1}, "ok": 3, "failed": 0, "metrics": m, "lines_hold": False,
             "first_error": None}]
    header = sweep_table(summ, ["x"]).splitlines()[0].split()
    assert "busy" in header and "utilisation" not in header



def test_labels_made_for_the_used_indices_only_are_the_full_tables():
    """``_labels(values_of_used, index)`` (the grid cells of the places with incidents only, on the
    grid anchored at the south-west corner of every place) gives the column ``_labels`` gives
    from every place's cell: the same values and type, with and without rows."""
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-3000, 3000, 500), rng.uniform(-3000, 3000, 500)
    x0, y0 = float(x.min()), float(y.min())
    every = metrics.grid_cell(x, y, x0=x0, y0=y0)
    asked = []

    def of_used(used):
        asked.append(used)
        return metrics.grid_cell(x[used], y[used], x0=x0, y0=y0)

    for index in (rng.integers(100, 140, 1000), np.array([7]), np.zeros(0, np.int64)):
        want, got = metrics._labels(every, index), metrics._labels(of_used, index)
        assert pd.Series(got).equals(pd.Series(want)) and pd.Series(got).dtype == pd.Series(want).dtype
    assert asked[0].tolist() == sorted(set(asked[0].tolist())) and asked[0].size <= 40   # the places used
