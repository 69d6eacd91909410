"""The fast paths of a replication's tables against straightforward computations, on real replications.

``sim.experiment.replicate.replication_output`` takes the per-level and per-priority metrics
from arrays (``sim.metrics_groups``), whether a patrol was seen from a compiled loop and the
patrol hours per circuit from another (``sim.visibility_kernel``). Each is checked here
against the plain form it replaces on the log of a real engine run: ``groupby`` with
the plain pandas metrics per group (``plain_metrics``, the reference: ``sim.metrics.replication_metrics``
is the arrays' one group), a Python loop over incidents and circuit passes, and the
(24, intervals) arrays with ``np.bincount``; every figure must be the same bits.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from sim import metrics, visibility
from sim.experiment import replicate as R
from sim.metrics_groups import grouped_metrics
from sim.scenario_file import load_scenario

CALENDAR = "[{day: 2, level: red}, {day: 3, level: orange}, {day: 4, level: yellow}, {day: 5, level: green}]"


@pytest.fixture(scope="module")
def year_slice(repo_root):
    """Six days of the default town with a calendar of levels and the lines on two priorities:
    the world, the engine's log and the replication's output."""
    sc = load_scenario(repo_root / "scenarios" / "default.yaml",
                       overrides=["horizon_days=6", "replications=1", "force.total_officers=480",
                                  "alert.mode=calendar", f"alert.calendar={CALENDAR}", "lines.priorities=[1,2]"])
    ctx = R.prepare(sc, quiet=True)
    rep = R.replication_seed(sc.seed, 0)
    engine = R.make_engine(ctx, R.sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)
    log = engine.run()
    return ctx, log, R.replication_output(ctx, log, 0)


#: The incident columns that the headline metrics read.
METRIC_INPUTS = ("lines_apply",
                  "response_time_s", "units_needed", "response_within_line", "backup_within_line", "served",
                  "cross_area", "major", "cordon_applies", "encircled_within_line", "saw_patrol_last_hour")


def plain_metrics(incidents: pd.DataFrame, units: pd.DataFrame | None = None, *,
                  window_s: float | None = None, lines_only: bool = True) -> dict[str, float]:
    """The reference: ``sim.metrics.replication_metrics`` in plain pandas, each figure as its definition reads.

    A replication's metrics come from arrays (``sim.metrics_groups``); a new metric is computed
    there and here, and the tests below compare the two on real replications, bit for bit.
    """
    d = incidents.loc[incidents["in_window"], [c for c in METRIC_INPUTS if c in incidents]]
    resp = d["response_time_s"].to_numpy()
    served = resp[~np.isnan(resp)]
    lc = d[d["lines_apply"]] if lines_only and "lines_apply" in d else d
    nb = lc[lc["units_needed"] >= 2]
    out = {
        "incidents": int(len(d)),
        "response_within_line": float(lc["response_within_line"].mean()) if len(lc) else math.nan,
        "backup_within_line": float(nb["backup_within_line"].mean()) if len(nb) else math.nan,
        "response_time_mean_s": float(served.mean()) if served.size else math.nan,
        "response_time_p50_s": float(np.percentile(served, 50)) if served.size else math.nan,
        "response_time_p90_s": float(np.percentile(served, 90)) if served.size else math.nan,
        "unserved": int((~d["served"]).sum()),
    }
    if "cross_area" in d:
        out["cross_area_share"] = float(d["cross_area"].mean()) if len(d) else math.nan
        maj = d[d["major"]]
        # over the major incidents with a cordon to draw (the column is null for the others)
        applied = maj["encircled_within_line"].dropna()
        out["encircled_within_line"] = float(applied.mean()) if len(applied) else math.nan
        if "cordon_applies" in maj:
            out["cordon_not_applicable"] = float((~maj["cordon_applies"]).mean()) if len(maj) else math.nan
    if "saw_patrol_last_hour" in d:
        out["saw_patrol_last_hour"] = float(d["saw_patrol_last_hour"].mean()) if len(d) else math.nan
    out.update(metrics.unit_metrics(units, window_s=window_s))
    return out


def _same(a, b) -> bool:
    """Equal to the bit (nan equal to nan), keys in the same order."""
    return repr(a) == repr(b)


def _plain_groups(inc: pd.DataFrame, by: str, units, window_s: float, **kw) -> dict:
    return {k: plain_metrics(g, units, window_s=window_s, **kw) for k, g in inc.groupby(by)}


def test_the_metrics_of_every_group_are_those_of_groupby_bit_for_bit(year_slice):
    ctx, log, out = year_slice
    inc, units = out.incidents, out.units
    window = ctx.horizon_s - ctx.warmup_s
    assert inc["alert_level"].nunique() >= 3 and inc["priority"].nunique() >= 3
    assert (~inc["lines_apply"]).any() and inc["major"].any() and inc["saw_patrol_last_hour"].any()
    assert _same(out.metrics, plain_metrics(inc, units, window_s=window))
    assert _same(metrics.replication_metrics(inc, units, window_s=window), out.metrics)
    assert _same(out.by_alert_level, _plain_groups(inc, "alert_level", units, window))
    assert _same(out.by_priority, {str(k): v for k, v in
                                   _plain_groups(inc, "priority", units, window, lines_only=False).items()})


@pytest.mark.parametrize("by", ["type", "hour_of_day", "grid_cell", "first_unit_kind", "cross_area"])
def test_any_grouping_gives_the_figures_of_groupby_bit_for_bit(year_slice, by):
    # many groups of a few to a few hundred incidents: means whose bits depend on the order of adding
    ctx, _, out = year_slice
    window = ctx.horizon_s - ctx.warmup_s
    figures = metrics.unit_metrics(out.units, window_s=window)
    # response times of a few days are differences of times on a coarse binary grid, so their sums
    # are exact in any order; a third of them fills every bit, and an order changed would show
    thirds = out.incidents.assign(response_time_s=out.incidents["response_time_s"] / 3.0)
    for inc in (out.incidents, thirds):
        for lines_only in (True, False):
            assert _same(grouped_metrics(inc, by, figures, lines_only=lines_only),
                         _plain_groups(inc, by, out.units, window, lines_only=lines_only))


def test_groups_with_no_incident_in_the_window_and_null_keys(year_slice):
    ctx, log, out = year_slice
    inc = out.incidents.copy()
    window = ctx.horizon_s - ctx.warmup_s
    # a group only in the warm-up (all figures nan or 0), and rows with no group at all
    inc["group"] = np.where(inc["in_window"], inc["type"].astype(object), "warm-up only")
    inc.loc[inc.index[::7], "group"] = None
    figures = metrics.unit_metrics(out.units, window_s=window)
    fast = grouped_metrics(inc, "group", figures)
    assert _same(fast, _plain_groups(inc, "group", out.units, window))
    assert fast["warm-up only"]["incidents"] == 0 and math.isnan(fast["warm-up only"]["response_time_mean_s"])
    # without a unit table: the incidents' figures only
    assert _same(grouped_metrics(inc, None)[None], plain_metrics(inc))


def _seen_plainly(log, city, modes, window_s=3600.0) -> list[bool]:
    """The definition, incident by incident: a pass of a patrolled circuit through the incident's node
    during one of the last three intervals on that circuit that started before the call."""
    by_key = defaultdict(list)
    for _uid, t0, t1, key, anchor_t, anchor_tau in log.patrol_intervals:
        by_key[key].append((t0, t1, anchor_t, anchor_tau))
    passes = defaultdict(list)           # (mode, node) -> (key, lap time, lap)
    for key, ivs in by_key.items():
        ivs.sort()
        c = log.circuits[key]
        if c.duration_s > 0:
            for node, tau in zip(c.nodes[:-1], c.t_s[:-1]):
                passes[(modes[key[0]], int(node))].append((key, float(tau), float(c.duration_s)))
    out = []
    for call, place in zip(log.incidents.call_s.tolist(), log.incidents.place.tolist()):
        lo, seen = call - window_s, False
        for mode in sorted(set(modes.values())):
            for key, tau, lap in passes[(mode, int(city.place_node[mode][place]))]:
                for t0, t1, anchor_t, anchor_tau in [iv for iv in by_key[key] if iv[0] < call][-3:]:
                    a, b = max(t0, lo), min(t1, call)
                    seen |= a <= b and (tau - (anchor_tau + (a - anchor_t))) % lap <= b - a
        out.append(seen)
    return out


def test_seen_within_is_the_incident_by_incident_definition(year_slice):
    ctx, log, out = year_slice
    modes = {u.uid: u.mode for u in ctx.deployment.units}
    want = _seen_plainly(log, ctx.city, modes)
    assert 0 < sum(want) < len(want)
    assert out.incidents["saw_patrol_last_hour"].tolist() == want
    short = visibility.seen_within(log, city=ctx.city, modes=modes, window_s=600.0)
    assert short.tolist() == _seen_plainly(log, ctx.city, modes, window_s=600.0)


def test_patrol_hours_per_circuit_are_the_arrays_and_bincount_bit_for_bit(year_slice):
    from sim.visibility_kernel import hours_by_key

    ctx, log, _ = year_slice
    ivs = visibility.interval_columns(log)
    for warmup_s, horizon_s in ((log.warmup_s, log.horizon_s), (0.0, 2.5 * 86_400.0), (3e5, 3e5)):
        by_hour = visibility._hour_seconds_by_hour(np.maximum(ivs.t0, warmup_s), np.minimum(ivs.t1, horizon_s))
        want = visibility._sum_by_key(by_hour, ivs.key_id, len(ivs.keys))
        got = hours_by_key(ivs.t0, ivs.t1, ivs.key_id, len(ivs.keys), float(warmup_s), float(horizon_s))
        assert got.tobytes() == want.tobytes()


def test_interval_columns_number_keys_by_value_in_order_of_first_appearance():
    a, b = (1, "green", 0), (2, "green", 0)
    a_again = tuple(list(a))                      # equal to a, another object
    assert a_again is not a
    intervals = [(2, 5.0, 6.0, b, 5.0, 0.5), (1, 1.0, 2.0, a, 1.0, 0.0), (1, 3.0, 4.0, a_again, 3.0, 0.25)]
    ivs = visibility.interval_columns(type("Log", (), {"patrol_intervals": intervals})())
    assert ivs.keys == [b, a] and ivs.key_id.tolist() == [0, 1, 1]
    assert ivs.t0.tolist() == [5.0, 1.0, 3.0] and ivs.t1.tolist() == [6.0, 2.0, 4.0]
    assert ivs.anchor_t.tolist() == [5.0, 1.0, 3.0] and ivs.anchor_tau.tolist() == [0.5, 0.0, 0.25]


def test_intervals_out_of_time_order_in_the_log_are_sorted_by_start():
    key = (0, "green", 0)
    starts = [300.0, 100.0, 200.0, 50.0]
    ivs = visibility._interval_columns([(0, t, t + 10.0, key, t, 0.0) for t in starts])
    ordered, first = visibility._by_key_and_start(ivs)
    assert ordered.t0.tolist() == sorted(starts) and first.tolist() == [0, 4]


def test_text_columns_from_few_values_are_those_of_np_unique():
    values = np.array(["a", "b", "c", "d", None], dtype=object)
    index = np.array([3, -1, 0, 3, 2, -1, 0])
    got = metrics._labels(values, index)
    assert [None if pd.isna(v) else v for v in got] == [values[i] for i in index]
    used, where = np.unique(index, return_inverse=True)
    assert got.equals(pd.Series(values[used]).array.take(where))


def _levels_plainly(log, inc: pd.DataFrame) -> np.ndarray:
    """The definition with pandas: each area's decisions sorted by time, the last one at or before the call."""
    al = pd.DataFrame(log.alert_log)
    out = inc["alert_level"].to_numpy().copy()
    area_col = inc["patrol_area"].to_numpy() if "patrol_area" in inc else None
    for area, g in al.groupby("area"):
        g = g.sort_values("decided_s")
        idx = np.searchsorted(g["decided_s"].to_numpy(), inc["call_s"].to_numpy(), side="right") - 1
        lv = g["level"].to_numpy()[np.maximum(idx, 0)]
        mask = np.ones(len(inc), bool) if area == "city" or area_col is None else (area_col == area)
        out[mask] = lv[mask]
    return out


def _level_column(values) -> pd.Series:
    return pd.DataFrame({"alert_level": values})["alert_level"]


def test_the_level_of_each_incident_is_the_pandas_definition(year_slice):
    _, log, out = year_slice
    inc = out.incidents.drop(columns="alert_level").assign(alert_level="green")
    got, want = _level_column(R.level_by_incident(log, inc)), _level_column(_levels_plainly(log, inc))
    assert got.dtype == want.dtype and got.equals(want) and got.nunique() >= 3


def test_the_level_by_area_with_decisions_out_of_order():
    # two areas and the city; decisions listed out of time order, two at once; calls before the first decision
    # take it; incidents of no area follow only the city's decisions
    log = type("Log", (), {"alert_log": [
        {"area": "north", "level": "red", "decided_s": 200.0}, {"area": "north", "level": "yellow", "decided_s": 100.0},
        {"area": "north", "level": "orange", "decided_s": 100.0},      # a tie: after yellow, as listed
        {"area": "south", "level": "orange", "decided_s": 150.0},
        {"area": "city", "level": "yellow", "decided_s": 0.0}]})()
    inc = pd.DataFrame({"call_s": [50.0, 120.0, 250.0, 160.0, 10.0, 300.0],
                        "patrol_area": ["north", "north", "north", "south", "south", None],
                        "alert_level": "green"})
    got = _level_column(R.level_by_incident(log, inc))
    assert got.tolist() == ["yellow", "orange", "red", "orange", "orange", "yellow"]
    assert got.equals(_level_column(_levels_plainly(log, inc)))


def test_an_empty_table_gives_the_figures_of_replication_metrics(year_slice):
    ctx, _, out = year_slice
    empty = out.incidents.iloc[:0]
    window = ctx.horizon_s - ctx.warmup_s
    figures = metrics.unit_metrics(out.units, window_s=window)
    assert _same(grouped_metrics(empty, None, figures)[None],
                 plain_metrics(empty, out.units, window_s=window))
    assert grouped_metrics(empty, "priority", figures) == {}
