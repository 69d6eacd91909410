"""Metrics: pure functions of the engine's log.

``incident_records`` and ``unit_records`` flatten one replication into tidy rows
(the contents of incidents.parquet and units.parquet); ``replication_metrics``
reduces those rows to the headline numbers; ``summarise`` gives the mean and a
95% confidence interval across replications (Student t, since replications are
independent and few). Only incidents called after the warm-up count.

:data:`METRICS` is the one table of metrics: name (the key in summary.json, the
sweep rows and comparison.json), label, unit, kind of figure, whether it is a
headline, which way is better, and the short column header of sweep and hold
tables. Every table, figure and summary reads it; to add a metric, compute it in
``sim.metrics_groups`` (an incident figure) or ``unit_metrics`` (a unit figure), add its plain
pandas form to the reference in ``tests/test_tables_fast_paths.py``, and add its row here
(docs/architecture.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from sim.arrow_pool import use_system_pool
from sim.metrics_groups import grouped_metrics

use_system_pool()          # the tables' text columns: pyarrow's system pool (sim.arrow_pool says why)

GRID_CELL_M = 1000.0

#: Kinds of figure, and how each is shown (``sim.report.formats``): a share as a percentage
#: (differences in percentage points), seconds as m:ss, counts and hours as plain numbers.
KINDS = ("share", "seconds", "count", "hours")


@dataclass(frozen=True)
class Metric:
    """One row of the metric table."""

    name: str                 # key in summary.json, sweep rows, comparison.json
    label: str                # what a planner reads in a table or a figure title
    unit: str                 # in words, for figure axes and docs
    kind: str                 # one of KINDS: decides the format
    headline: bool = False    # in the run's terminal table and the comparison figure
    direction: int = 0        # +1 higher is better, -1 lower is better, 0 neither (or not judged)
    short: str | None = None  # column header in sweep and hold tables (None: not shown there)
    line: str | None = None   # "response" / "backup": compliance with that line (its threshold names it)
    clip_ci: bool = False     # a share whose 95% CI is clipped to [0, 1] in summaries


#: The metric table, in the order tables list metrics (metrics found but not listed follow, sorted).
METRICS: tuple[Metric, ...] = (
    Metric("response_within_line", "First unit within response line", "share of incidents", "share",
           headline=True, direction=1, short="first unit in line", line="response", clip_ci=True),
    Metric("backup_within_line", "Backup within backup line", "share of incidents needing backup", "share",
           headline=True, direction=1, short="backup in line", line="backup", clip_ci=True),
    Metric("response_time_p50_s", "Response time, median", "seconds", "seconds", headline=True, direction=-1),
    Metric("response_time_p90_s", "Response time, 90th percentile", "seconds", "seconds", headline=True,
           direction=-1, short="p90 response"),
    Metric("response_time_mean_s", "Response time, mean", "seconds", "seconds", direction=-1),
    Metric("utilisation", "Utilisation of units on duty", "share of duty time busy", "share", headline=True,
           short="utilisation", clip_ci=True),
    Metric("other_work_share", "Other work of units on duty (out of service, officer-initiated)",
           "share of duty time", "share", clip_ci=True),
    Metric("free_share", "Free time of units on duty", "share of duty time", "share", clip_ci=True),
    Metric("unserved", "Incidents never reached", "incidents per replication", "count", direction=-1),
    Metric("incidents", "Incidents after warm-up", "incidents per replication", "count"),
    # judged neither way in comparisons (as before this table): their verdict says higher / lower
    Metric("cross_area_share", "First unit from outside the incident's beat", "share of incidents", "share",
           clip_ci=True),
    Metric("encircled_within_line", "Major incidents encircled within backup line",
           "share of major incidents with a cordon to draw", "share"),
    Metric("cordon_not_applicable", "Major incidents with no cordon to draw",
           "share of major incidents (no road of the measured class leaves the circle)", "share"),
    Metric("overtime_officer_h_per_day", "Overtime", "officer-hours per day", "hours"),
    Metric("saw_patrol_last_hour", "Saw a patrol in the hour before the call", "share of incidents", "share",
           direction=1),
)
BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}
RESPONSE_LINE = "response_within_line"
BACKUP_LINE = "backup_within_line"
HEADLINE = tuple(m.name for m in METRICS if m.headline)


def names(*, view: str | None = None) -> tuple[str, ...]:
    """Metric names in table order: all, the ``headline`` ones, or those with a ``sweep`` column."""
    if view is None:
        return tuple(BY_NAME)
    if view == "headline":
        return HEADLINE
    if view == "sweep":
        return tuple(m.name for m in METRICS if m.short)
    raise ValueError(f"unknown metric view {view!r}")


def kind(name: str) -> str:
    """The kind of figure of a metric; one not in the table is judged by its name's ending."""
    if name in BY_NAME:
        return BY_NAME[name].kind
    if name.endswith(("_within_line", "_share")):
        return "share"
    return "seconds" if name.endswith("_s") else "count"


def label(name: str) -> str:
    return BY_NAME[name].label if name in BY_NAME else name.replace("_", " ")


def direction(name: str) -> int:
    return BY_NAME[name].direction if name in BY_NAME else 0


def in_table_order(found) -> list[str]:
    """``found`` names: those of the table in its order, then the others sorted."""
    found = list(found)
    return [m for m in BY_NAME if m in found] + sorted(m for m in found if m not in BY_NAME)


def grid_cell(x_m: np.ndarray, y_m: np.ndarray, *, x0: float, y0: float, cell_m: float = GRID_CELL_M) -> np.ndarray:
    """Cell label 'r{row}c{col}' of a regular grid anchored at the town's south-west corner."""
    r, c = grid_rc(x_m, y_m, x0=x0, y0=y0, cell_m=cell_m)
    return np.char.add(np.char.add("r", r.astype(str)), np.char.add("c", c.astype(str)))


def grid_rc(x_m: np.ndarray, y_m: np.ndarray, *, x0: float, y0: float, cell_m: float = GRID_CELL_M
            ) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of ``grid_cell``'s cells, as integers (one cell, one pair: its label spelled out)."""
    r = np.floor((np.asarray(y_m) - y0) / cell_m).astype(int)
    c = np.floor((np.asarray(x_m) - x0) / cell_m).astype(int)
    return r, c


def incident_records(log, *, city, deployment, demand, replication: int, lines,
                     saw_patrol: np.ndarray | None = None) -> pd.DataFrame:
    """One row per incident of one replication, with every timestamp and the units sent."""
    inc = log.incidents
    n = len(inc)
    g = city.places
    arrivals = log.arrivals_s
    first, second = _first_two(arrivals)
    response = first - inc.call_s
    backup = second - inc.call_s
    needs_backup = inc.units_needed >= 2
    names = [u.name for u in deployment.units]
    place = inc.place
    x0, y0 = float(g.x_m.min()), float(g.y_m.min())
    cols = {
        "replication": np.full(n, replication, np.int32),
        "incident": np.arange(n, dtype=np.int64),
        "call_s": np.array(inc.call_s),
        "hour_of_day": ((inc.call_s // 3600) % 24).astype(np.int16),
        "day": (inc.call_s // 86400).astype(np.int32),
        "place": np.array(place),
        "lon": g.lon[place], "lat": g.lat[place], "x_m": g.x_m[place], "y_m": g.y_m[place],
        # the cells of the places with incidents only (spelling out every place's cell cost
        # 3-4 ms a replication on the 13,002-node town, whatever its length)
        "grid_cell": _labels(lambda used: grid_cell(g.x_m[used], g.y_m[used], x0=x0, y0=y0), place),
        "type": _labels(np.asarray(demand.type_name, dtype=object), inc.type_idx),
        "priority": inc.priority.astype(np.int16),
        "units_needed": inc.units_needed.astype(np.int16),
        "alert_level": deployment.alert_level,
        "handling_s": np.array(inc.handling_s),
        "dispatch_s": np.array(log.dispatch_s),
        "first_arrival_s": first,
        "second_arrival_s": second,
        # the log's own lists, not copies (a copy pass costs ~25 ms a simulated year, reading 10^5 lists
        # spread over the run's memory): the engine is done with them, nothing changes either afterwards
        "arrival_s": arrivals,
        "clear_s": np.array(log.clear_s),
        # most incidents get one unit: its list made directly (no inner comprehension per row: half the time)
        "units_sent": [[names[s[0]]] if len(s) == 1 else [names[u] for u in s] for s in log.units_sent],
        "response_time_s": response,
        "backup_time_s": np.where(needs_backup, backup, np.nan),
        "response_within_line": np.nan_to_num(response, nan=np.inf) <= lines.response_s,
        # null (not False) where the incident needs one unit: the line does not apply, and a mean over
        # the column's non-null rows is the reported backup compliance
        "backup_within_line": _where_applies(np.nan_to_num(backup, nan=np.inf) <= lines.backup_s, needs_backup),
        "served": ~np.isnan(first),
        "in_window": inc.call_s >= log.warmup_s,
        # the lines count only the priorities the scenario names (lines.priorities; None: all)
        "lines_apply": (np.ones(n, bool) if getattr(lines, "priorities", None) is None
                        else np.isin(inc.priority, list(lines.priorities))),
    }
    units = deployment.units
    fu = getattr(log, "first_unit", None)
    if fu is not None:
        fu = np.asarray(fu, np.int64)     # -1 (no unit) picks the None appended to each list below
        cols["first_unit"] = _labels(names + [None], fu)
        cols["first_unit_kind"] = _labels([u.kind for u in units] + [None], fu)
        cols["first_unit_role"] = _labels([u.role for u in units] + [None], fu)
        cols["cross_area"] = np.array(log.cross_area, bool)
        enc = np.asarray(log.encircle_s, float)
        major = ~np.isnan(enc)
        # -inf from the engine: a major incident with no road of the measured class leaving its circle
        applies = major & ~np.isneginf(enc)
        cols["major"] = major
        cols["cordon_applies"] = _where_applies(applies, major)           # null: not major
        cols["encircle_s"] = np.where(applies, enc, np.nan)                # null: not major, or no cordon
        cols["encircled_within_line"] = _where_applies(enc <= lines.backup_s, applies)
    if deployment.areas is not None and deployment.areas.n > 1:
        cols["patrol_area"] = _labels(np.asarray(deployment.areas.names, dtype=object), deployment.areas.label[place])
    if saw_patrol is not None:
        cols["saw_patrol_last_hour"] = np.array(saw_patrol, bool)
    # one table from every column at once, not copied again: each array above is the table's own
    # (columns read from the log or the incidents are copied where they are taken)
    return pd.DataFrame(cols, copy=False)


def _where_applies(values: np.ndarray, applies: np.ndarray) -> pd.arrays.BooleanArray:
    """A nullable boolean column: ``values`` where the line applies to the incident, null elsewhere."""
    return pd.arrays.BooleanArray(np.asarray(values, bool) & applies, ~np.asarray(applies, bool))


def _first_two(arrivals: list) -> tuple[np.ndarray, np.ndarray]:
    """First and second arrival time per incident (nan where fewer units arrived), from one flat array."""
    count = np.fromiter(map(len, arrivals), np.int64, count=len(arrivals))
    flat = np.fromiter(chain.from_iterable(arrivals), float, count=int(count.sum()))
    start = np.cumsum(count) - count
    first, second = np.full(len(arrivals), np.nan), np.full(len(arrivals), np.nan)
    first[count >= 1] = flat[start[count >= 1]]
    second[count >= 2] = flat[start[count >= 2] + 1]
    return first, second


def _labels(values, index: np.ndarray):
    """``values[index]`` as a text column, converted to pandas' text type once per distinct value.

    Building the column from ~10^5 Python strings makes pandas check and convert every one;
    taking from the few values used (from which pandas infers the same column type) gives the
    same column at a fraction of the cost. With no rows it is the plain empty array (or list),
    so that pandas types an empty table's columns as it always has. ``values`` may be a function
    of the distinct indices used (ascending) giving their values, for values costly to make
    for every index (``values(index)`` is then ``values[index]``).
    """
    index = np.asarray(index, np.int64)
    if index.size == 0:
        if callable(values):
            return values(index)
        return values[index] if isinstance(values, np.ndarray) else []
    # np.unique(index, return_inverse=True) by counting: the indices are few and small
    low = int(index.min())
    present = np.bincount(index - low) > 0
    used = np.flatnonzero(present) + low
    where = (np.cumsum(present) - 1)[index - low]
    taken = np.asarray(values(used), dtype=object) if callable(values) else np.asarray(values, dtype=object)[used]
    return pd.Series(taken).array.take(where)


def unit_records(log, *, deployment, replication: int) -> pd.DataFrame:
    """One row per unit of one replication: time by activity inside the window, distance, calls."""
    rows = []
    for u, st in zip(deployment.units, log.units):
        rows.append({
            "replication": replication, "unit": u.name, "kind": u.kind, "role": u.role, "crew": u.crew,
            "beat": u.beat, "station": u.station, "patrol_s": st.patrol_s, "travel_s": st.travel_s,
            "on_scene_s": st.scene_s, "station_s": st.station_s,
            "off_duty_s": getattr(st, "off_s", 0.0), "checkpoint_s": getattr(st, "post_s", 0.0),
            "overtime_officer_h": getattr(st, "overtime_s", 0.0) / 3600.0,
            "distance_km": st.distance_m / 1000.0, "calls": st.calls,
            "cross_area_calls": getattr(st, "cross_area_calls", 0),
            "out_of_service_s": getattr(st, "out_of_service_s", 0.0),
            "officer_initiated_s": getattr(st, "officer_initiated_s", 0.0),
        })
    df = pd.DataFrame(rows)
    window = log.horizon_s - log.warmup_s
    df["busy_share"] = (df["travel_s"] + df["on_scene_s"]) / window if window > 0 else np.nan
    duty = on_duty_s(df).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["incident_share"] = np.where(duty > 0, (df["travel_s"] + df["on_scene_s"]) / duty, np.nan)
        df["other_work_share"] = np.where(duty > 0, (df["out_of_service_s"] + df["officer_initiated_s"]) / duty,
                                          np.nan)
        df["free_share"] = np.where(duty > 0, (df["patrol_s"] + df["station_s"]) / duty, np.nan)
    return df


def on_duty_s(units: pd.DataFrame) -> pd.Series:
    """Seconds each unit was on duty: free (patrol, station), on incidents (travel, scene), on other work."""
    out = units["patrol_s"] + units["travel_s"] + units["on_scene_s"] + units["station_s"]
    for col in ("out_of_service_s", "officer_initiated_s"):
        if col in units:
            out = out + units[col]
    return out


def replication_metrics(incidents: pd.DataFrame, units: pd.DataFrame | None = None, *,
                        window_s: float | None = None, lines_only: bool = True) -> dict[str, float]:
    """Headline metrics of one replication (or of a subset of its incidents).

    Only incidents in the window count (``in_window``). The lines' compliance counts only
    incidents whose priority the lines apply to (``lines_apply``), unless ``lines_only`` is
    False (a per-priority breakdown reports every priority's compliance). The incident figures
    are ``sim.metrics_groups``' (one group: the whole table), where each is computed; the
    figures of the unit table are ``unit_metrics``'.
    """
    figures = grouped_metrics(incidents, None, lines_only=lines_only)[None]
    figures.update(unit_metrics(units, window_s=window_s))
    return figures


def unit_metrics(units: pd.DataFrame | None, *, window_s: float | None) -> dict[str, float]:
    """The figures of ``replication_metrics`` read from the unit table (the same for any subset of incidents)."""
    out = {}
    if units is not None and window_s:
        busy = units["travel_s"].sum() + units["on_scene_s"].sum()
        duty = float(on_duty_s(units).sum()) if "off_duty_s" in units else len(units) * window_s
        responders = units[units["role"] != "checkpoint"] if "role" in units else units
        duty = float(on_duty_s(responders).sum()) if "off_duty_s" in units else duty
        out["utilisation"] = float(busy / duty) if duty > 0 else math.nan
        if "out_of_service_s" in units:     # incident work (utilisation) + other work + free time = 1
            r = units if "role" not in units else units[units["role"] != "checkpoint"]
            other = float(r["out_of_service_s"].sum() + r["officer_initiated_s"].sum())
            free = float(r["patrol_s"].sum() + r["station_s"].sum())
            out["other_work_share"] = other / duty if duty > 0 else math.nan
            out["free_share"] = free / duty if duty > 0 else math.nan
        if "overtime_officer_h" in units:
            out["overtime_officer_h_per_day"] = float(units["overtime_officer_h"].sum() / (window_s / 86_400.0))
    return out


def breakdown(incidents: pd.DataFrame, by: str, *, target: float) -> dict[str, dict]:
    """Both lines' compliance per value of ``by`` (hour, cell, unit kind), mean and CI across replications."""
    d = incidents[incidents["in_window"]]
    if "lines_apply" in d:            # compliance counts the priorities the lines apply to
        d = d[d["lines_apply"]]
    if by not in d or d.empty:
        return {}
    out = {}
    for value, g in d.groupby(by, sort=True):
        per_rep = []
        for _, r in g.groupby("replication"):
            nb = r[r["units_needed"] >= 2]
            per_rep.append({"incidents": int(len(r)),
                            "response_within_line": float(r["response_within_line"].mean()),
                            "backup_within_line": float(nb["backup_within_line"].mean()) if len(nb) else math.nan,
                            "response_time_p90_s": float(np.nanpercentile(r["response_time_s"], 90))
                            if r["response_time_s"].notna().any() else math.nan})
        s = summarise(per_rep)
        s["lines_hold"] = lines_hold(s, target=target)
        out[str(value)] = s
    return out


def mean_ci95(values) -> dict:
    """Mean and 95% t-interval of replication values (None where not defined)."""
    x = np.asarray([v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))], float)
    if x.size == 0:
        return {"mean": None, "ci95": [None, None]}
    m = float(x.mean())
    if x.size < 2:
        return {"mean": m, "ci95": [None, None]}
    from scipy import stats   # imported here: it costs half a second at start-up

    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return {"mean": m, "ci95": [m - half, m + half]}


def _clipped(name: str) -> bool:
    """Shares whose confidence intervals are clipped to [0, 1] (and any other ``*_share``)."""
    return BY_NAME[name].clip_ci if name in BY_NAME else name.endswith("_share")


#: Metrics that are counts (integers per replication): their summary adds the integer ``total``.
COUNT_METRICS = ("incidents", "unserved")


def summarise(per_rep: list[dict[str, float]]) -> dict[str, dict]:
    """{metric: {"mean": x, "ci95": [lo, hi]}} across replications.

    Counts (``COUNT_METRICS``) also get ``"total"``: the integer sum over replications.
    """
    keys = sorted({k for r in per_rep for k in r})
    out = {}
    for k in keys:
        s = mean_ci95([r.get(k, math.nan) for r in per_rep])
        if _clipped(k) and s["ci95"][0] is not None:
            s["ci95"] = [max(0.0, s["ci95"][0]), min(1.0, s["ci95"][1])]
        if k in COUNT_METRICS:
            s["total"] = int(sum(int(r[k]) for r in per_rep if k in r))
        out[k] = s
    return out


def lines_hold(metrics: dict[str, dict], *, target: float) -> bool:
    """Both lines meet the target compliance (on the mean across replications).

    Incidents needing backup may be absent (no backup demand): then only the response line counts.
    """
    r = metrics.get(RESPONSE_LINE, {}).get("mean")
    b = metrics.get(BACKUP_LINE, {}).get("mean")
    return r is not None and r >= target and (b is None or b >= target)


def replication_lines_hold(values: dict[str, float], *, target: float) -> bool | None:
    """Both lines meet the target in one replication (None: no incident in the window)."""
    r, b = values.get(RESPONSE_LINE, math.nan), values.get(BACKUP_LINE, math.nan)
    if math.isnan(r):
        return None
    return bool(r >= target and (math.isnan(b) or b >= target))
