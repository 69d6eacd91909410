"""Replaying historical calls: the simulation runs on the calls as they happened.

``demand: {replay: CALLS.csv}`` makes a run trace-driven: every usable call of
the file becomes an incident at its (snapped) place and call time, so a planner
can ask what another deployment would have done with last year's calls. The file
is read by the same pipeline as ``patrolsim fit`` (``sim.calls``): the two
Seattle formats are recognised from their headers; any other needs a column
mapping, given as a sidecar file next to the calls (``CALLS.columns.yaml`` for
``CALLS.csv``) or by the scenario key ``demand.replay_columns`` where the
scenario schema has it. Rows left out are counted and reported on stderr.

Times are seconds from Monday 00:00 (local wall clock) of the week of the first
call, or of the mapping's ``replay_start`` date. Incident types are the type
table's (they must be among the scenario's ``demand.types`` names); priority is
the file's where it has one, else the table's; units needed are the table's.
On-scene times are the file's (arrived to cleared) where it has them, else drawn
from the table's lognormal default for the call type; call handling is
dispatched minus queued where the file has both, else drawn with the scenario's
``call_handling_mean_s``. The draws use the scenario's seed, so a replay is
deterministic and every replication sees the same calls.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim.demand import IncidentTable, lognormal_params
from sim.errors import DemandError
from sim.streams import stream

MAX_HANDLING_S = 3600.0


def sidecar_path(path: Path) -> Path:
    """``calls.csv`` -> ``calls.columns.yaml`` (the column mapping kept next to the calls)."""
    name = path.name
    for suffix in (".csv.gz", ".csv.bz2", ".csv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(name + ".columns.yaml")


def replay_format(path: Path, scenario):
    """The column mapping for a replay file: the scenario's, the sidecar's, or None (detect)."""
    from sim.calls.columns import read_format_file

    spec = scenario.demand
    named = getattr(spec, "replay_columns", None)
    if named:
        return read_format_file(scenario.resolve_path(named))
    side = sidecar_path(path)
    return read_format_file(side) if side.exists() else None


def read_replay(path: Path, *, city, scenario, quiet: bool = False) -> IncidentTable:
    """The incidents of a call file, ready for the engine (see the module docstring).

    Unless ``quiet``, one line on stderr says how many rows were used, left out and replayed.
    """
    from sim.calls.load import load_calls

    path = Path(path)
    fmt = replay_format(path, scenario)
    start = getattr(scenario.demand, "replay_start", None) or (fmt.replay_start if fmt else None)
    data = load_calls(path, city=city, max_snap_m=float(scenario.network.max_snap_m), fmt=fmt,
                      start=None if start is None else pd.Timestamp(start).normalize(), window_by_week=True)
    calls = data.calls
    names = [t.name for t in scenario.demand.types]
    missing = sorted(set(calls["type"]) - set(names))
    if missing:
        raise DemandError(f"the call-type table maps calls to type(s) {', '.join(missing)}, which demand.types "
                          f"does not have (it has {', '.join(names)})", file=scenario.source_file,
                          key="demand.types", fix="add incident types with these names, or map the calls to "
                                                  "existing names in the type table")
    origin = data.start
    call_s = ((calls["time"] - origin) / pd.Timedelta(seconds=1)).to_numpy(float)
    n = len(calls)
    root = np.random.SeedSequence(scenario.seed)
    obs = (calls["cleared"] - calls["arrived"]).dt.total_seconds().to_numpy(float)
    obs = np.where((obs > 0) & (obs <= 12 * 3600), obs, np.nan)
    mu, sigma = lognormal_params(calls["on_scene_default_mean_s"].to_numpy(float),
                                 calls["on_scene_default_cv"].to_numpy(float))
    drawn = np.exp(mu + sigma * stream(root, "replay-on-scene").standard_normal(n))
    on_scene = np.where(np.isfinite(obs), obs, drawn)
    handled = (calls["dispatched"] - calls["time"]).dt.total_seconds().to_numpy(float)
    handled = np.where((handled >= 0) & (handled <= MAX_HANDLING_S), handled, np.nan)
    drawn_h = stream(root, "replay-call-handling").exponential(1.0, n) * scenario.demand.call_handling_mean_s
    handling = np.where(np.isfinite(handled), handled, drawn_h)
    order = np.argsort(call_s, kind="stable")
    horizon_s = scenario.horizon_days * 86_400.0
    inside = int((call_s < horizon_s).sum())
    rep = data.report
    msg = (f"  replay: {path.name}: {rep.rows_read} rows, {n} usable, {rep.rows_dropped} left out"
           + "".join(f"; {k} {r}" for r, k in rep.dropped.items())
           + f"; {inside} calls fall within the {scenario.horizon_days:g}-day horizon from Monday {origin.date()}")
    if not quiet:
        print(msg, file=sys.stderr, flush=True)
    index = {name: i for i, name in enumerate(names)}
    return IncidentTable(
        call_s=call_s[order],
        place=calls["place"].to_numpy(np.int64)[order],
        type_idx=calls["type"].map(index).to_numpy(np.int64)[order],
        priority=calls["priority"].to_numpy(np.int64)[order],
        units_needed=calls["units_needed"].to_numpy(np.int64)[order],
        handling_s=handling[order],
        on_scene_s=on_scene[order],
    )
