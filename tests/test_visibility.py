"""Visibility measures on a hand-built patrol log: every expected value is arithmetic.

One car patrols a three-node loop: node 0 at x = 0 m, node 1 at x = 1000 m, node 2 at x = 3000 m
(all at y = 0), lap times 0 -> 100 -> 300 -> 400 s (back at node 0). Places 0, 1, 2 sit on the
nodes; place 3 is a fourth node the loop never passes.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim import visibility
from sim.patrol import Circuit

KEY = (0, "green", 0)
LOOP = Circuit(nodes=[0, 1, 2, 0], t_s=[0.0, 100.0, 300.0, 400.0], resp_s=[0.0, 50.0, 150.0, 200.0],
               dist_m=[0.0, 1000.0, 3000.0, 6000.0])
MODES = {0: "drive"}


def _city():
    x = np.array([0.0, 1000.0, 3000.0, 500.0])
    graph = SimpleNamespace(x_m=x, y_m=np.zeros(4))
    return SimpleNamespace(places=graph, graphs={"drive": graph}, place_node={"drive": np.arange(4)})


class _Incidents:
    """Calls and places, in call order."""

    def __init__(self, calls, places):
        self.call_s = np.asarray(calls, float)
        self.place = np.asarray(places, np.int64)

    def __len__(self):
        return len(self.call_s)


def _log(intervals, calls=(), places=(), *, circuits=None, warmup_s=0.0, horizon_s=86_400.0):
    """A log with the fields the visibility measures read; intervals are (t0, t1, anchor_tau) on KEY."""
    return SimpleNamespace(incidents=_Incidents(calls, places), warmup_s=warmup_s, horizon_s=horizon_s,
                           patrol_intervals=[(KEY[0], t0, t1, KEY, t0, tau) for t0, t1, tau in intervals],
                           circuits=circuits or {KEY: LOOP})


def _seen(log, **kw):
    return visibility.seen_within(log, city=_city(), modes=MODES, **kw).tolist()


def test_seen_when_the_patrol_passed_in_the_hour_before_the_call():
    # On patrol from 1000 s to 2000 s, lap time 0 at 1000 s: at node 1 at 1100, 1500, 1900 s.
    log = _log([(1000.0, 2000.0, 0.0)],
               calls=[500.0, 1050.0, 1150.0, 1150.0, 5500.0, 5600.0],
               places=[1, 1, 1, 3, 1, 1])
    # before any patrol; patrol started but not yet at node 1; passed at 1100; never passes place 3;
    # the hour before 5500 s opens at 1900 s, when the car is at node 1; before 5600 s it opens too late
    assert _seen(log) == [False, False, True, False, True, False]
    assert _seen(log, window_s=60.0) == [False, False, True, False, False, False]


def test_the_lap_position_comes_from_the_anchor():
    # Lap time 250 at 1000 s: node 2 (lap time 300) is reached at 1050 s, node 1 (lap 100+400) at 1250 s.
    log = _log([(1000.0, 1300.0, 250.0)], calls=[1060.0, 1200.0, 1260.0], places=[2, 1, 1])
    assert _seen(log) == [True, False, True]


def test_only_the_last_three_intervals_before_the_call_count():
    # Four short patrols on the same circuit; only the oldest passes node 1 (lap time 100, at 105 s).
    short = [(100.0, 110.0, 95.0), (200.0, 210.0, 0.0), (300.0, 310.0, 0.0), (400.0, 410.0, 0.0)]
    assert _seen(_log(short[:3], calls=[500.0], places=[1])) == [True]
    assert _seen(_log(short, calls=[500.0], places=[1])) == [False]


def test_intervals_with_the_same_start_are_ordered_as_tuples():
    # Two patrols start at 200 s; ordered as (t0, t1, ...) the longer one is later and so among the
    # last three before the call. Only it passes node 1 (lap time 100 at 250 s), whatever the log order.
    ivs = [(200.0, 290.0, 50.0), (200.0, 210.0, 50.0), (300.0, 310.0, 200.0), (400.0, 410.0, 200.0)]
    assert _seen(_log(ivs, calls=[500.0], places=[1])) == [True]
    assert _seen(_log([ivs[1], ivs[0]] + ivs[2:], calls=[500.0], places=[1])) == [True]


def test_nothing_is_seen_without_patrols_or_incidents():
    assert _seen(_log([], calls=[100.0], places=[0])) == [False]
    assert _seen(_log([(0.0, 100.0, 0.0)])) == []


def test_presence_spreads_patrol_time_over_the_loop_cells_by_hour():
    # Edge midpoints: 500 m (cell c0, 100 of 400 s), 2000 m (c2, 200 s), 1500 m (c1, 100 s).
    # Patrol 0-5400 s, with the first 1800 s inside the warm-up: 1800 s in hour 0, 1800 s in hour 1.
    log = _log([(0.0, 5400.0, 0.0)], warmup_s=1800.0)
    p = visibility.presence(log, city=_city(), modes=MODES)
    assert list(p.columns) == ["grid_cell", "hour_of_day", "patrol_unit_s"]
    assert len(p) == 3 * 24
    s = p.set_index(["grid_cell", "hour_of_day"])["patrol_unit_s"]
    assert s["r0c0", 0] == pytest.approx(450.0) and s["r0c0", 1] == pytest.approx(450.0)
    assert s["r0c2", 0] == pytest.approx(900.0) and s["r0c1", 1] == pytest.approx(450.0)
    assert s.sum() == pytest.approx(3600.0)
    assert (s.drop(index=[0, 1], level="hour_of_day") == 0).all()


def test_presence_adds_up_many_intervals_by_hour_of_day():
    # The same hour on 30 days: 30 x 600 s in hour 9, whatever the order of the intervals.
    days = [(d * 86_400.0 + 9 * 3600.0, d * 86_400.0 + 9 * 3600.0 + 600.0, 0.0) for d in range(30)]
    log = _log(days[::-1], horizon_s=31 * 86_400.0)
    p = visibility.presence(log, city=_city(), modes=MODES)
    by_hour = p.groupby("hour_of_day")["patrol_unit_s"].sum()
    assert by_hour[9] == pytest.approx(30 * 600.0)
    assert by_hour.drop(9).eq(0).all()


def test_presence_is_empty_without_patrols():
    p = visibility.presence(_log([]), city=_city(), modes=MODES)
    assert p.empty and list(p.columns) == ["grid_cell", "hour_of_day", "patrol_unit_s"]


def test_hour_seconds_split_at_the_hours():
    h = visibility.hour_seconds_many(np.array([3000.0, 86_000.0, 10.0]), np.array([4000.0, 87_000.0, 5.0]))
    assert h.shape == (3, 24)
    assert h[0, 0] == 600.0 and h[0, 1] == 400.0 and h[0].sum() == 1000.0
    assert h[1, 23] == 400.0 and h[1, 0] == 600.0       # across midnight
    assert not h[2].any()                                # empty interval


def _presence_circuit_by_circuit(log, city, modes):
    """The definition: each circuit's hours spread over its cells, circuit after circuit (as ``presence``
    did before it took all circuits at once); cells by the midpoint of each edge."""
    from collections import defaultdict

    from sim.metrics import grid_cell
    x0, y0 = float(city.places.x_m.min()), float(city.places.y_m.min())
    ivs = visibility.interval_columns(log)
    by_hour = visibility._hour_seconds_by_hour(np.maximum(ivs.t0, log.warmup_s), np.minimum(ivs.t1, log.horizon_s))
    per_key = visibility._sum_by_key(by_hour, ivs.key_id, len(ivs.keys))
    acc = defaultdict(lambda: np.zeros(24))
    for key, hours in zip(ivs.keys, per_key):
        c, g = log.circuits[key], city.graphs[modes[key[0]]]
        if len(c.nodes) < 2 or c.duration_s <= 0:
            continue
        nodes = np.asarray(c.nodes)
        cells = grid_cell((g.x_m[nodes[:-1]] + g.x_m[nodes[1:]]) / 2, (g.y_m[nodes[:-1]] + g.y_m[nodes[1:]]) / 2,
                          x0=x0, y0=y0)
        share = defaultdict(float)
        for cell, d in zip(cells.tolist(), np.diff(np.asarray(c.t_s)).tolist()):
            share[cell] += d / c.duration_s
        for cell, s in share.items():
            acc[cell] += s * hours
    return acc


def test_presence_of_many_circuits_at_once_is_the_circuit_by_circuit_sum_bit_for_bit():
    # 40 random circuits on two mode graphs (different coordinates), a one-node post, a lap of no length
    # and edges of no time; 600 intervals over 20 days in random order: every total the same bits.
    rng = np.random.default_rng(7)
    n = 60
    drive = SimpleNamespace(x_m=rng.uniform(0, 5000, n), y_m=rng.uniform(0, 4000, n))
    walk = SimpleNamespace(x_m=drive.x_m + rng.uniform(-50, 50, n), y_m=drive.y_m + rng.uniform(-50, 50, n))
    city = SimpleNamespace(places=drive, graphs={"drive": drive, "walk": walk})
    modes = {u: ("walk" if u % 3 == 0 else "drive") for u in range(40)}
    circuits = {}
    for u in range(40):
        k = int(rng.integers(3, 12))
        nodes = [int(v) for v in rng.integers(0, n, k)]
        nodes.append(nodes[0])
        t = np.concatenate([[0.0], np.cumsum(rng.choice([0.0, 13.7, 41.3, 97.1], k))]).tolist()
        circuits[(u, "green", u % 3)] = Circuit(nodes=nodes, t_s=t, resp_s=t, dist_m=t)
    circuits[(0, "green", 0)] = Circuit(nodes=[5], t_s=[0.0], resp_s=[0.0], dist_m=[0.0])
    circuits[(1, "green", 1)] = Circuit(nodes=[5, 9, 5], t_s=[0.0, 0.0, 0.0], resp_s=[0.0] * 3, dist_m=[0.0] * 3)
    keys = list(circuits)
    intervals = []
    for _ in range(600):
        key = keys[int(rng.integers(len(keys)))]
        t0 = float(rng.uniform(0, 20 * 86_400.0))
        intervals.append((key[0], t0, t0 + float(rng.uniform(0, 20_000.0)), key, t0, 0.0))
    log = SimpleNamespace(warmup_s=86_400.0, horizon_s=19 * 86_400.0, patrol_intervals=intervals, circuits=circuits)
    want = _presence_circuit_by_circuit(log, city, modes)
    got = visibility.presence(log, city=city, modes=modes).set_index(["grid_cell", "hour_of_day"])["patrol_unit_s"]
    assert sorted(set(got.index.get_level_values(0))) == sorted(want)
    for cell, hours in want.items():
        assert got[cell].to_numpy().tolist() == hours.tolist()      # the same bits, not approximately
    # and the shares of one circuit as circuit_cells gives them
    c = circuits[(4, "green", 1)]
    cc = visibility.circuit_cells(c, drive, x0=float(drive.x_m.min()), y0=float(drive.y_m.min()))
    assert sum(cc.values()) == pytest.approx(1.0)
