"""Visible policing (见警率): where and when patrols are seen, from the engine's patrol record.

Two measures, both pure functions of the log:
- presence: patrol unit-seconds per grid cell and hour of day. Each circuit's
  lap is split by cell once; time on a circuit is spread over its cells in
  proportion (exact over whole laps);
- seen: for each incident, whether a patrol passed its place in the hour
  before the call (the share of demand that "saw police" recently).

A year's log holds ~10^5 patrol intervals and ~10^5 incidents, so both work on
whole columns: the intervals are read into arrays once, and the two loops over
them (every incident's circuit passes; every interval's hours) are compiled
(``sim.visibility_kernel``), with the arithmetic of the array forms they replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from sim.metrics import GRID_CELL_M, grid_cell, grid_rc

DAY_S = 86_400.0


def _hours_before_by_hour(t: np.ndarray) -> np.ndarray:
    """(24, len(t)): seconds of [0, t) that fall in each hour of the day.

    Hour-major, so that each hour's column is contiguous; computed in place to spare
    the memory traffic of a year's worth of temporaries.
    """
    t = np.asarray(t, float)
    days = np.floor(t / DAY_S)
    in_day = t - days * DAY_S
    out = in_day[None, :] - np.arange(24)[:, None] * 3600.0
    np.clip(out, 0.0, 3600.0, out=out)
    out += days * 3600.0
    return out


def _hour_seconds_by_hour(t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """(24, len(t0)): seconds of each [t0, t1) in each hour of the day (empty where t1 <= t0)."""
    t0, t1 = np.asarray(t0, float), np.asarray(t1, float)
    out = _hours_before_by_hour(t1)
    out -= _hours_before_by_hour(t0)
    out[:, t1 <= t0] = 0.0
    return out


def hour_seconds_many(t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
    """(len(t0), 24): seconds of each [t0, t1) in each hour of the day (empty where t1 <= t0)."""
    return _hour_seconds_by_hour(t0, t1).T


def hour_seconds(t0: float, t1: float) -> np.ndarray:
    """Seconds of [t0, t1) falling in each hour of the day (24 values)."""
    return hour_seconds_many(np.array([t0]), np.array([t1]))[0]


def circuit_cells(circuit, graph, *, x0: float, y0: float, cell_m: float = GRID_CELL_M) -> dict[str, float]:
    """Share of a lap's time spent in each cell (by the midpoint of each street edge)."""
    shares = _lap_shares([circuit], [graph], x0=x0, y0=y0, cell_m=cell_m)
    return {cell: float(share) for _, cell, share in zip(*shares)}


def _lap_shares(circuits: list, graphs: list, *, x0: float, y0: float, cell_m: float = GRID_CELL_M
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (circuit, cell) it passes: the circuit's number, the cell's label and the share of a lap spent there
    (``_lap_pairs``, with each pair's cell spelled out)."""
    circuit, cell, names, total = _lap_pairs(circuits, graphs, x0=x0, y0=y0, cell_m=cell_m)
    return circuit, names[cell], total


def _lap_pairs(circuits: list, graphs: list, *, x0: float, y0: float, cell_m: float = GRID_CELL_M
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (circuit, cell) it passes: the circuit's number, the cell's number (among ``names``, the
    labels of the cells passed) and the share of a lap spent there.

    All circuits at once (a year of a large force patrols thousands): one cell label per
    street edge of every circuit, by the edge's midpoint. Each share is the sum of
    ``edge seconds / lap seconds`` over the circuit's edges in that cell, added in edge
    order (``bincount`` adds its weights one after another), so the same floating-point
    sum as adding edge by edge. Pairs come by circuit, then cell in order of first pass.
    A circuit of one node or no length has no share.
    """
    kept = [k for k, c in enumerate(circuits) if len(c.nodes) >= 2 and c.duration_s > 0]
    if not kept:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, object), np.empty(0)
    # every kept circuit's nodes and lap times end to end; an edge joins two entries of one circuit
    lens = np.array([len(circuits[k].nodes) for k in kept], np.int64)
    of = np.repeat(np.array(kept, np.int64), lens)
    nodes = np.fromiter(chain.from_iterable(circuits[k].nodes for k in kept), np.int64, count=int(lens.sum()))
    t = np.fromiter(chain.from_iterable(circuits[k].t_s for k in kept), float, count=int(lens.sum()))
    x, y = np.empty(len(nodes)), np.empty(len(nodes))
    graph_of = np.array([id(graphs[k]) for k in kept], np.int64).repeat(lens)
    for graph in {id(graphs[k]): graphs[k] for k in kept}.values():
        m = graph_of == id(graph)
        x[m], y[m] = graph.x_m[nodes[m]], graph.y_m[nodes[m]]
    edge = of[:-1] == of[1:]
    circuit = of[:-1][edge]
    mx, my = ((x[:-1] + x[1:]) / 2)[edge], ((y[:-1] + y[1:]) / 2)[edge]
    lap_s = np.array([circuits[k].duration_s for k in range(len(circuits))], float)
    share = np.diff(t)[edge] / lap_s[circuit]
    # cells numbered by (row, column), not by label: the pairs, their order and sums do not depend on
    # how cells are numbered, and only the cells the pairs name get a label (spelling 10^5 is slow)
    r, c = grid_rc(mx, my, x0=x0, y0=y0, cell_m=cell_m)
    width = int(c.max() - c.min()) + 1
    cells, cell = np.unique((r - r.min()) * width + (c - c.min()), return_inverse=True)
    cell = cell.ravel()
    # one slot per (circuit, cell) pair, in order of the pair's first edge
    pair_code = circuit * len(cells) + cell
    _, first, pair = np.unique(pair_code, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")            # pairs by first edge: by circuit, then first pass
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    slot = rank[pair.ravel()]
    total = np.bincount(slot, weights=share, minlength=len(order))
    first = first[order]
    rows, columns = (cells // width + r.min()).tolist(), (cells % width + c.min()).tolist()
    names = np.array([f"r{a}c{b}" for a, b in zip(rows, columns)], dtype=object)     # as grid_cell spells them
    return circuit[first], cell[first], names, total


@dataclass
class _Intervals:
    """The patrol intervals as columns; circuit keys numbered in order of first appearance."""

    keys: list
    key_id: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    anchor_t: np.ndarray
    anchor_tau: np.ndarray

    def take(self, rows: np.ndarray) -> _Intervals:
        """The given rows, in the given order."""
        return _Intervals(self.keys, self.key_id[rows], self.t0[rows], self.t1[rows], self.anchor_t[rows],
                          self.anchor_tau[rows])


def _interval_columns(intervals) -> _Intervals:
    """Columns of ``log.patrol_intervals`` (uid, t0, t1, circuit_key, anchor_t, anchor_tau), in log order.

    The engine's ``PatrolIntervals`` read their own columns (``PatrolIntervals.columns``: the four
    times of every record in one pass); a plain list of the records (a log made elsewhere) is read
    as such a sequence without blocks.
    """
    if isinstance(intervals, list):
        from sim.engine.intervals import PatrolIntervals     # (the engine's package: imported only for a list)
        intervals = PatrolIntervals.of(intervals)
    codes, key_at, t0, t1, anchor_t, anchor_tau = intervals.columns()
    return _Intervals(*_number_keys(codes, key_at), t0, t1, anchor_t, anchor_tau)


def _number_keys(codes: np.ndarray, key_at) -> tuple[list, np.ndarray]:
    """Distinct circuit keys in order of first appearance, and each entry's number among them.

    ``codes[i]`` is equal for entries that share a key object (``id`` of the object), ``key_at(i)``
    entry ``i``'s key. A unit's records share its key object, so the entries are told apart
    first by their codes (integers, hashed in C) and only the few distinct objects are then
    compared by value, which gives the same numbers as comparing every entry by value.
    """
    if not len(codes):
        return [], np.empty(0, np.int64)
    by_object, _ = pd.factorize(codes)                     # numbered in order of first appearance
    # so an object appears first where its number exceeds every number before it
    running = np.maximum.accumulate(by_object)
    first = np.flatnonzero(np.concatenate([[True], running[1:] > running[:-1]]))
    numbers: dict = {}
    by_value = np.array([numbers.setdefault(key_at(i), len(numbers)) for i in first.tolist()], np.int64)
    return list(numbers), by_value[by_object]


def interval_columns(log) -> _Intervals | None:
    """``log.patrol_intervals`` as columns (None without any), read once and shared by ``presence`` and
    ``seen_within`` (pass it to both: reading a year's 10^5 records is a good part of their cost)."""
    return _interval_columns(log.patrol_intervals) if log.patrol_intervals else None


def presence(log, *, city, modes: dict[int, str], intervals: _Intervals | None = None) -> pd.DataFrame:
    """Patrol unit-seconds per (grid cell, hour of day) inside the measurement window.

    ``intervals``: ``interval_columns(log)`` if already read. Each circuit's hours are added
    to its cells' totals in order of the circuits' first patrol (``np.add.at`` adds row by
    row), the same sums as adding them circuit by circuit.
    """
    drive = city.places
    x0, y0 = float(drive.x_m.min()), float(drive.y_m.min())
    ivs = intervals if intervals is not None else interval_columns(log)
    if ivs is None:
        return _presence_table({})
    from sim.visibility_kernel import hours_by_key   # numba loads on first use

    # = _sum_by_key(_hour_seconds_by_hour(max(t0, warmup), min(t1, horizon)), ...), without the 24 rows
    per_key = hours_by_key(ivs.t0, ivs.t1, ivs.key_id, len(ivs.keys), float(log.warmup_s), float(log.horizon_s))
    key, cell, names, share = _lap_pairs([log.circuits[k] for k in ivs.keys],
                                         [city.graphs[modes[k[0]]] for k in ivs.keys], x0=x0, y0=y0)
    acc = np.zeros((len(names), 24))
    np.add.at(acc, cell, share[:, None] * per_key[key])
    return _presence_table(dict(zip(names.tolist(), acc)))


def _sum_by_key(by_hour: np.ndarray, key_id: np.ndarray, n_keys: int) -> np.ndarray:
    """(n_keys, 24): each key's intervals added up hour by hour, in log order.

    ``bincount`` adds its weights one after another in input order, so every total is the
    same floating-point sum as adding the intervals one by one.
    """
    return np.stack([np.bincount(key_id, weights=h, minlength=n_keys) for h in by_hour], axis=1)


def _presence_table(acc: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long table: one row per (cell, hour), cells in sorted order."""
    columns = ["grid_cell", "hour_of_day", "patrol_unit_s"]
    if not acc:
        return pd.DataFrame([], columns=columns)
    cells = sorted(acc)
    return pd.DataFrame({
        "grid_cell": np.repeat(np.array(cells, dtype=object), 24),
        "hour_of_day": np.tile(np.arange(24, dtype=np.int64), len(cells)),
        "patrol_unit_s": np.stack([acc[c] for c in cells]).ravel(),
    }, columns=columns)


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


def seen_within(log, *, city, modes: dict[int, str], window_s: float = 3600.0,
                intervals: _Intervals | None = None) -> np.ndarray:
    """Per incident: did a patrolling unit pass the incident's place in the ``window_s`` before the call?

    Every pass of a patrolled circuit through the incident's node (in each mode) is a candidate;
    for each, the last three intervals on that circuit starting before the call are checked.
    ``intervals``: ``interval_columns(log)`` if already read.
    """
    inc = log.incidents
    out = np.zeros(len(inc), bool)
    if not log.patrol_intervals or len(inc) == 0:
        return out
    ivs, first = _by_key_and_start(intervals if intervals is not None else interval_columns(log))
    used_modes = sorted(set(modes.values()))
    visits = _circuit_visits(log.circuits, ivs.keys, modes, used_modes)
    place = np.asarray(inc.place, np.int64)
    place_nodes = [np.asarray(city.place_node[m], np.int64)[place] for m in used_modes]
    n_nodes = 1 + max([int(visits.node.max(initial=-1))] + [int(p.max(initial=-1)) for p in place_nodes])
    code = visits.mode * n_nodes + visits.node
    order = np.argsort(code, kind="stable")
    pass_start = np.zeros(len(used_modes) * n_nodes + 1, np.int64)
    np.cumsum(np.bincount(code, minlength=len(used_modes) * n_nodes), out=pass_start[1:])
    inc_code = np.stack([m * n_nodes + nodes for m, nodes in enumerate(place_nodes)])
    from sim.visibility_kernel import seen_kernel   # numba loads on first use (sim.visibility stays light)

    return seen_kernel(inc_code, np.ascontiguousarray(inc.call_s, float), float(window_s), pass_start,
                       visits.key_id[order], visits.tau[order], visits.duration[order], first.astype(np.int64),
                       ivs.t0, ivs.t1, ivs.anchor_t, ivs.anchor_tau)


def _by_key_and_start(ivs: _Intervals) -> tuple[_Intervals, np.ndarray]:
    """Intervals ordered by key, then as tuples (t0, t1, anchor_t, anchor_tau); and where each key starts.

    Rows ``first[k]`` to ``first[k + 1]`` are key ``k``'s intervals. A unit's intervals do not
    share a start, so sorting by (key, t0) is enough; the full order is only needed for a tie.
    """
    # the log adds a unit's intervals in time order: then a stable sort by key alone is the order
    # (by 16-bit keys, a radix sort); checked, and sorted by (key, start) where it is not
    narrow = ivs.key_id.astype(np.int16) if len(ivs.keys) < 2 ** 15 else ivs.key_id
    order = np.argsort(narrow, kind="stable")
    k, t0 = ivs.key_id[order], ivs.t0[order]
    if np.any((k[1:] == k[:-1]) & (t0[1:] < t0[:-1])):
        order = np.lexsort((ivs.t0, ivs.key_id))
        k, t0 = ivs.key_id[order], ivs.t0[order]
    if np.any((k[1:] == k[:-1]) & (t0[1:] == t0[:-1])):
        order = np.lexsort((ivs.anchor_tau, ivs.anchor_t, ivs.t1, ivs.t0, ivs.key_id))
    return ivs.take(order), np.searchsorted(ivs.key_id[order], np.arange(len(ivs.keys) + 1))


@dataclass
class _Visits:
    """Every pass of a patrolled circuit through a node: mode number, node, circuit key, lap time, lap length."""

    mode: np.ndarray
    node: np.ndarray
    key_id: np.ndarray
    tau: np.ndarray
    duration: np.ndarray


def _circuit_visits(circuits: dict, keys: list, modes: dict[int, str], used_modes: list[str]) -> _Visits:
    """The node passes of the circuits that were patrolled (the closing node is the first one again).

    Circuits of zero length are left out: no time on them passes a node. All circuits' nodes and
    lap times are read end to end at once (a year with a calendar of levels patrols thousands).
    """
    kept = [(k, circuits[key]) for k, key in enumerate(keys) if circuits[key].duration_s > 0]
    if not kept:
        return _Visits(*(np.empty(0, dt) for dt in (np.int64, np.int64, np.int64, float, float)))
    count = np.array([len(c.nodes) - 1 for _, c in kept], np.int64)
    total = int(count.sum())
    nodes = np.fromiter(chain.from_iterable(c.nodes[:-1] for _, c in kept), np.int64, count=total)
    tau = np.fromiter(chain.from_iterable(c.t_s[:-1] for _, c in kept), float, count=total)
    mode_of = {m: i for i, m in enumerate(used_modes)}
    mode = np.array([mode_of[modes[keys[k][0]]] for k, _ in kept], np.int64)
    key_id = np.array([k for k, _ in kept], np.int64)
    lap = np.array([float(c.duration_s) for _, c in kept])
    return _Visits(mode.repeat(count), nodes, key_id.repeat(count), tau, lap.repeat(count))
