"""Visible policing (见警率): where and when patrols are seen, from the engine's patrol record.

Two measures, both pure functions of the log:
- presence: patrol unit-seconds per grid cell and hour of day. Each circuit's
  lap is split by cell once; time on a circuit is spread over its cells in
  proportion (exact over whole laps);
- seen: for each incident, whether a patrol passed its place in the hour
  before the call (the share of demand that "saw police" recently).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

import numpy as np
import pandas as pd

from sim.metrics import GRID_CELL_M, grid_cell

DAY_S = 86_400.0


def _hours_before(t: np.ndarray) -> np.ndarray:
    """(len(t), 24): seconds of [0, t) that fall in each hour of the day."""
    t = np.asarray(t, float)[:, None]
    days = np.floor(t / DAY_S)
    in_day = t - days * DAY_S
    return days * 3600.0 + np.clip(in_day - np.arange(24)[None, :] * 3600.0, 0.0, 3600.0)


def hour_seconds_many(t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """(len(t0), 24): seconds of each [t0, t1) in each hour of the day (empty where t1 <= t0)."""
    t0, t1 = np.asarray(t0, float), np.asarray(t1, float)
    out = _hours_before(t1) - _hours_before(t0)
    out[t1 <= t0] = 0.0
    return out


def hour_seconds(t0: float, t1: float) -> np.ndarray:
    """Seconds of [t0, t1) falling in each hour of the day (24 values)."""
    return hour_seconds_many(np.array([t0]), np.array([t1]))[0]


def circuit_cells(circuit, graph, *, x0: float, y0: float, cell_m: float = GRID_CELL_M) -> dict[str, float]:
    """Share of a lap's time spent in each cell (by the midpoint of each street edge)."""
    nodes = np.asarray(circuit.nodes, np.int64)
    t = np.asarray(circuit.t_s)
    if len(nodes) < 2 or circuit.duration_s <= 0:
        return {}
    dt = np.diff(t)
    mx = (graph.x_m[nodes[:-1]] + graph.x_m[nodes[1:]]) / 2
    my = (graph.y_m[nodes[:-1]] + graph.y_m[nodes[1:]]) / 2
    cells = grid_cell(mx, my, x0=x0, y0=y0, cell_m=cell_m)
    out: dict[str, float] = defaultdict(float)
    for c, d in zip(cells.tolist(), dt.tolist()):
        out[c] += d / circuit.duration_s
    if not out:  # a one-node post
        out[grid_cell(graph.x_m[nodes[:1]], graph.y_m[nodes[:1]], x0=x0, y0=y0, cell_m=cell_m)[0]] = 1.0
    return dict(out)


def presence(log, *, city, modes: dict[int, str]) -> pd.DataFrame:
    """Patrol unit-seconds per (grid cell, hour of day) inside the measurement window."""
    drive = city.places
    x0, y0 = float(drive.x_m.min()), float(drive.y_m.min())
    by_key: dict = defaultdict(lambda: np.zeros(24))
    if log.patrol_intervals:
        keys = [iv[3] for iv in log.patrol_intervals]
        a = np.maximum(np.array([iv[1] for iv in log.patrol_intervals]), log.warmup_s)
        b = np.minimum(np.array([iv[2] for iv in log.patrol_intervals]), log.horizon_s)
        hours = hour_seconds_many(a, b)
        for key, row in zip(keys, hours):
            by_key[key] += row
    acc: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(24))
    for key, hours in by_key.items():
        graph = city.graphs[modes[key[0]]]
        for cell, share in circuit_cells(log.circuits[key], graph, x0=x0, y0=y0).items():
            acc[cell] += share * hours
    rows = [{"grid_cell": c, "hour_of_day": h, "patrol_unit_s": float(v[h])}
            for c, v in sorted(acc.items()) for h in range(24)]
    return pd.DataFrame(rows, columns=["grid_cell", "hour_of_day", "patrol_unit_s"])


def cell_street_km(city) -> dict[str, float]:
    """Street km per grid cell (edge midpoints, a two-way street once)."""
    g = city.places
    x0, y0 = float(g.x_m.min()), float(g.y_m.min())
    a = np.minimum(g.edge_u, g.edge_v).astype(np.int64)
    b = np.maximum(g.edge_u, g.edge_v).astype(np.int64)
    _, first = np.unique(a * g.n_nodes + b, return_index=True)
    u, v = g.edge_u[first], g.edge_v[first]
    cells = grid_cell((g.x_m[u] + g.x_m[v]) / 2, (g.y_m[u] + g.y_m[v]) / 2, x0=x0, y0=y0)
    km = pd.Series(g.edge_length_m[first] / 1000.0).groupby(cells).sum()
    return km.to_dict()


def seen_within(log, *, city, modes: dict[int, str], window_s: float = 3600.0) -> np.ndarray:
    """Per incident: did a patrolling unit pass the incident's place in the ``window_s`` before the call?"""
    inc = log.incidents
    # intervals per circuit key, sorted by start
    by_key: dict = defaultdict(list)
    for uid, t0, t1, key, at, atau in log.patrol_intervals:
        by_key[key].append((t0, t1, at, atau))
    for v in by_key.values():
        v.sort()
    starts = {k: [iv[0] for iv in v] for k, v in by_key.items()}
    # circuit times at which each circuit passes each node, per mode
    visits: dict = defaultdict(list)   # (mode, node) -> [(key, tau_k, duration)]
    for key, c in log.circuits.items():
        if key not in by_key:
            continue
        mode = modes[key[0]]
        seen_nodes = set()
        for k, n in enumerate(c.nodes[:-1]):
            visits[(mode, n)].append((key, c.t_s[k], c.duration_s))
            seen_nodes.add(n)
    out = np.zeros(len(inc), bool)
    used_modes = sorted(set(modes.values()))
    for i in range(len(inc)):
        call = float(inc.call_s[i])
        lo = call - window_s
        place = int(inc.place[i])
        hit = False
        for mode in used_modes:
            node = int(city.place_node[mode][place])
            for key, tau_k, dur in visits.get((mode, node), ()):
                ivs = by_key[key]
                j = bisect_left(starts[key], call)  # intervals starting before the call
                for t0, t1, at, atau in reversed(ivs[max(0, j - 3):j]):
                    a, b = max(t0, lo), min(t1, call)
                    if a > b:
                        continue
                    ta = atau + (a - at)
                    if dur > 0 and (tau_k - ta) % dur <= b - a:
                        hit = True
                        break
                if hit:
                    break
            if hit:
                break
        out[i] = hit
    return out
