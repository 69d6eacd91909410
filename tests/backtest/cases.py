"""The six check scenarios of the back-test layer, and how one is run and reduced to tables.

A back test stores what the code produced on these scenarios at a known commit and asserts
that later code reproduces it (see ``test_backtest.py``). It guards refactors: moving code
must not move a single dispatch. When a change is *meant* to alter results, re-record with
``python tests/backtest/record.py`` and say why in the commit message.

The horizons are short (the stored files stay small and the test runs in seconds), but long
enough to cross shift changes, an adaptive alert decision and backup dispatches.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO / ".." / "shared" / "data"
SEATTLE_OSM = SHARED_DATA / "seattle_udistrict" / "udistrict.osm.gz"
EXPECTED = Path(__file__).resolve().parent / "expected"

# Columns that say what the simulation did (not how it is presented): these must not move.
INCIDENT_COLUMNS = ["replication", "incident", "call_s", "place", "type", "priority", "units_needed",
                    "alert_level", "handling_s", "dispatch_s", "first_arrival_s", "second_arrival_s",
                    "clear_s", "units_sent", "first_unit", "encircle_s", "saw_patrol_last_hour"]
UNIT_COLUMNS = ["replication", "unit", "kind", "role", "crew", "beat", "station", "patrol_s", "travel_s",
                "on_scene_s", "station_s", "off_duty_s", "checkpoint_s", "distance_km", "calls"]
# Relative tolerance for floats: the same arithmetic in a different order may differ in the
# last bits (1e-16 relative); 1e-9 leaves room for that and nothing else.
RTOL = 1e-9
ATOL_S = 1e-6          # one microsecond of simulated time (times near zero)


@dataclass(frozen=True)
class Case:
    name: str
    scenario: str                    # a file under scenarios/, or "bench" for the benchmark dict
    overrides: tuple[str, ...]
    needs_shared_data: bool = False


CASES = [
    Case("benchmark", "bench", ("horizon_days=1",), needs_shared_data=True),
    Case("default_green", "scenarios/default.yaml", ("horizon_days=2", "replications=2", "alert.level=green")),
    Case("default_orange", "scenarios/default.yaml", ("horizon_days=2", "replications=2", "alert.level=orange")),
    Case("default_red", "scenarios/default.yaml", ("horizon_days=2", "replications=2", "alert.level=red")),
    Case("guanghan_doctrine", "scenarios/guanghan_doctrine.yaml", ("horizon_days=5", "replications=2")),
    Case("seattle_udistrict", "scenarios/seattle_udistrict.yaml", ("horizon_days=2", "replications=2"),
         needs_shared_data=True),
]


def load_case(case: Case):
    """The validated scenario of a case."""
    from sim.scenario_file import load_scenario

    if case.scenario == "bench":
        sys.path.insert(0, str(REPO / "bench"))
        try:
            from run_patrolsim import bench_scenario_dict
        finally:
            sys.path.remove(str(REPO / "bench"))
        from sim.scenario import scenario_from_dict
        from sim.scenario_file import apply_overrides

        data = apply_overrides(bench_scenario_dict(SEATTLE_OSM.resolve(), 1.0), list(case.overrides), file=None)
        return scenario_from_dict(data)
    return load_scenario(REPO / case.scenario, overrides=list(case.overrides))


def run_case(case: Case) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """(headline metrics, incident table, unit table) of a case, reduced to the stable columns."""
    from sim.experiment.run import run_scenario

    result = run_scenario(load_case(case), quiet=True)
    s = result.summary
    headline = {"incidents": s["incidents"],
                "metrics": {k: v["mean"] for k, v in sorted(s["metrics"].items())},
                "by_alert_level": {lvl: {k: v["mean"] for k, v in sorted(m.items()) if isinstance(v, dict)}
                                   for lvl, m in sorted(s["by_alert_level"].items())}}
    inc = result.incidents[INCIDENT_COLUMNS].copy()
    inc["units_sent"] = inc["units_sent"].map(lambda u: " ".join(map(str, u)) if u is not None else "")
    inc["alert_level"] = inc["alert_level"].astype(str)
    units = result.units[UNIT_COLUMNS].copy()
    return headline, inc.reset_index(drop=True), units.reset_index(drop=True)


def frames_equal(expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """Differences between two tables, as readable lines (empty when they agree)."""
    problems = []
    if len(expected) != len(actual):
        return [f"{len(actual)} rows, expected {len(expected)}"]
    for col in expected.columns:
        if col not in actual:
            problems.append(f"column {col} missing")
            continue
        e, a = expected[col], actual[col]
        if pd.api.types.is_float_dtype(e) or pd.api.types.is_float_dtype(a):
            ev, av = e.to_numpy(float), a.to_numpy(float)
            bad = ~(np.isclose(ev, av, rtol=RTOL, atol=ATOL_S, equal_nan=True))
        else:
            bad = (e.astype(str).fillna("") != a.astype(str).fillna("")).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.append(f"column {col}: {int(bad.sum())} rows differ, first at row {i}: "
                            f"expected {e.iloc[i]!r}, got {a.iloc[i]!r}")
    return problems


def values_close(expected, actual, path: str = "") -> list[str]:
    """Differences between two nested dicts of numbers."""
    if isinstance(expected, dict):
        out = []
        for k in expected:
            if not isinstance(actual, dict) or k not in actual:
                out.append(f"{path}{k}: missing")
            else:
                out += values_close(expected[k], actual[k], f"{path}{k}.")
        return out
    if expected is None or actual is None:
        return [] if expected is None and actual is None else [f"{path[:-1]}: expected {expected}, got {actual}"]
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        ok = np.isclose(float(expected), float(actual), rtol=RTOL, atol=1e-12, equal_nan=True)
        return [] if ok else [f"{path[:-1]}: expected {expected!r}, got {actual!r}"]
    return [] if expected == actual else [f"{path[:-1]}: expected {expected!r}, got {actual!r}"]
