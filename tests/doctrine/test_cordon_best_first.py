"""The cordon measure's fast forms equal the full greedy assignment, bit for bit, on random units.

- ``best_first_cordon_s`` (sim/engine/cordon.py, the kernel backend): (unit, exit) pairs
  taken best first by lower bounds, A* pair searches only where a bound comes first;
- ``CompiledCordon`` (the same walk in one compiled call, ``sim.engine.cordon_jit``);
- ``cordon_kernels.cordon_from_matrix`` (full time matrices): the whole assignment compiled;
- ``_RoadEnds.exits``: the exits from the measured roads' ends only.

The reference is ``greedy_cordon_s`` over every unit's time to every exit from the
oracle's columns (one reversed search per exit, run to the end), on a 4,902-node grid
(above the all-pairs limit: the kernel backend as shipped) and on a small one. Waits and
walks are whole numbers of seconds and some units share a node, so that equal arrivals,
where the order of the walk decides, are common.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim.engine import cordon_kernels as CK
from sim.engine.cordon import CompiledCordon, PairCounter, best_first_cordon_s
from sim.engine.encircle import _RoadEnds, exit_places, greedy_cordon_s
from sim.kinds import MAJOR_ROAD_CLASSES
from sim.network import TravelOracle
from sim.network import travel as travel_mod
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork

MODES = ("car", "motorbike")


def _kernel_town(area_km2: float, block_m: float):
    graph = synthetic_city(SyntheticNetwork(seed=3, area_km2=area_km2, block_m=block_m, stations=2,
                                            exits=2)).graphs["drive"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", min(travel_mod.FULL_MATRIX_MAX_NODES, 100))
        oracles = {"car": TravelOracle(graph, backend="kernel"),
                   "motorbike": TravelOracle(graph, speed_factor=1.3, backend="kernel")}
    assert all(o.stops_at_limit for o in oracles.values())
    return graph, oracles


@pytest.fixture()
def large_town():    # fresh oracles per test: no pair answered from an earlier test's cache
    graph, oracles = _kernel_town(12.0, 50.0)
    assert graph.n_nodes > travel_mod.FULL_MATRIX_MAX_NODES      # the kernel backend without any patch
    return graph, oracles


@pytest.fixture()
def small_town():
    return _kernel_town(3.0, 80.0)


def _random_case(rng, graph, oracles):
    """Units (mode, node, wait, code, circuit bound) and exits, with the full assignment's time."""
    n = graph.n_nodes
    major = np.isin(graph.edge_class, MAJOR_ROAD_CLASSES)
    while True:
        todo = exit_places(graph, int(rng.integers(n)), radius_m=float(rng.choice([400.0, 700.0, 1000.0])),
                           road_mask=major if rng.random() < 0.7 else None)
        if 0 < todo.size <= 12:
            break
    n_units = int(rng.integers(todo.size, todo.size + 25))
    modes = rng.choice(MODES, n_units).tolist()
    nodes = rng.integers(0, n, n_units)
    share = rng.random(n_units) < 0.25
    nodes[share] = nodes[0]                                   # units at the same node: ties
    waits = rng.choice([0.0, 0.0, 30.0, 120.0], n_units)
    target = {m: np.arange(n, dtype=np.int64) for m in MODES}
    extra = {m: rng.choice([0.0, 0.0, 15.0], n) for m in MODES}
    eta = np.empty((n_units, todo.size))
    for a in range(n_units):
        m = modes[a]
        eta[a] = oracles[m].times_between(np.array([nodes[a]]), todo) + waits[a] + extra[m][todo]
    code = rng.choice(np.array([1, 2], np.int8), n_units)
    lb_rows = np.zeros((n_units, n))
    # a circuit's bound at a place is at most the arrival there: here the arrival less some slack
    slack = rng.choice([0.0, 0.0, 60.0, 600.0], (n_units, todo.size))
    lb_rows[:, todo] = np.where(np.isfinite(eta), eta - slack, 0.0)
    units = [SimpleNamespace(mode=m) for m in modes]
    args = dict(units=units, code=code, lb_rows=lb_rows,
                locate=lambda uid: (int(nodes[uid]), float(waits[uid])),
                travel={m: SimpleNamespace(oracle=o) for m, o in oracles.items()}, target=target, extra_s=extra)
    return np.arange(n_units), todo, args, greedy_cordon_s(eta), eta


@pytest.mark.parametrize("town_name", ["small_town", "large_town"])
def test_best_first_equals_the_full_assignment_on_random_units(request, monkeypatch, town_name):
    graph, oracles = request.getfixturevalue(town_name)
    rng = np.random.default_rng(14)
    count = PairCounter()
    pairs = 0
    finite = 0
    for _ in range(40):
        avail, todo, args, want, eta = _random_case(rng, graph, oracles)
        got = best_first_cordon_s(avail, todo, 0.0, count=count, **args)
        assert got == want, (todo.tolist(), got, want)
        pairs += eta.size
        finite += want < np.inf
    assert finite >= 30
    # the bounds spare most pairs their search
    assert count.exact < 0.5 * pairs, (count.exact, pairs)
    assert count.searched == count.exact


@pytest.mark.parametrize("town_name", ["small_town", "large_town", "small_town with a matrix"])
def test_compiled_walk_equals_the_full_assignment_and_the_python_walk(request, monkeypatch, town_name):
    graph, oracles = request.getfixturevalue(town_name.split(" ")[0])
    if town_name.endswith("matrix"):       # motorbikes read a full time matrix, cars search (Liechtenstein's mix)
        oracles = {**oracles, "motorbike": TravelOracle(graph, speed_factor=1.3, backend="kernel")}
        assert oracles["motorbike"].time_matrix is not None and oracles["car"].time_matrix is None
    rng = np.random.default_rng(15)
    count, count_py = PairCounter(), PairCounter()
    finite = pairs = 0
    for _ in range(40):
        avail, todo, args, want, eta = _random_case(rng, graph, oracles)
        pairs += eta.size
        walk = CompiledCordon(list(MODES), [oracles[m] for m in MODES], args["target"], args["extra_s"])
        slot = np.array([MODES.index(u.mode) for u in args["units"]], np.int64)
        got = walk.seconds_s(avail, todo, 0.0, slot=slot[avail], code=args["code"], locate=args["locate"],
                             circuits=None, count=count)
        assert got == want, (todo.tolist(), got, want)
        assert best_first_cordon_s(avail, todo, 0.0, count=count_py, **args) == want
        finite += want < np.inf
    assert finite >= 30
    assert 0 < count.exact == count.searched
    # its bounds are not the Python walk's (one entry per unit first, no circuit's bound), so the pairs it
    # asks may differ from the Python walk's; they still spare most pairs their question
    assert count.exact < 0.5 * pairs, (count.exact, pairs)


def test_best_first_when_a_unit_cannot_reach_an_exit(small_town):
    """Infinite arrivals (the exits past the first cannot be reached): inf, as the full assignment gives."""
    graph, oracles = small_town
    rng = np.random.default_rng(3)
    while True:
        avail, todo, args, want, eta = _random_case(rng, graph, oracles)
        if todo.size > 1:
            break
    far = np.full(graph.n_nodes, np.inf)
    # the walk from the road to every exit but the first is endless
    args["extra_s"] = {m: far.copy() for m in MODES}
    for m in MODES:
        args["extra_s"][m][todo[:1]] = 0.0
    args["lb_rows"][:] = 0.0
    got = best_first_cordon_s(avail, todo, 0.0, **args)
    eta_inf = eta.copy()
    eta_inf[:, 1:] = np.inf
    assert got == greedy_cordon_s(eta_inf) == np.inf
    walk = CompiledCordon(list(MODES), [oracles[m] for m in MODES], args["target"], args["extra_s"])
    slot = np.array([MODES.index(u.mode) for u in args["units"]], np.int64)
    assert walk.seconds_s(avail, todo, 0.0, slot=slot[avail], code=args["code"], locate=args["locate"],
                          circuits=None) == np.inf


def test_compiled_greedy_equals_the_python_walk_on_ties_and_inf():
    rng = np.random.default_rng(5)
    for _ in range(300):
        n_units, n_exits = int(rng.integers(0, 9)), int(rng.integers(0, 6))
        eta = rng.integers(0, 4, (n_units, n_exits)).astype(float)
        eta[rng.random(eta.shape) < 0.1] = np.inf
        assert CK.greedy_cordon(eta) == greedy_cordon_s(eta)


def test_compiled_cordon_equals_the_python_sums_on_full_matrices():
    graph = synthetic_city(SyntheticNetwork(seed=3, area_km2=3.0, block_m=80, stations=2, exits=2)).graphs["drive"]
    mats = [np.ascontiguousarray(TravelOracle(graph, speed_factor=f).time_matrix) for f in (1.0, 1.3, 0.25)]
    assert all(t is not None for t in mats)
    rng = np.random.default_rng(8)
    n = graph.n_nodes
    for _ in range(200):
        n_units, n_exits = int(rng.integers(1, 30)), int(rng.integers(1, 10))
        nodes = rng.integers(0, n, n_units)
        waits = rng.choice([0.0, 12.5, 120.0], n_units) + rng.random(n_units) * (rng.random() < 0.5)
        slots = rng.integers(0, len(mats), n_units)
        targets = rng.integers(0, n, (len(mats), n_exits))
        extras = rng.choice([0.0, 7.25], (len(mats), n_exits))
        eta = np.array([(mats[s][nd, targets[s]] + w) + extras[s] for nd, w, s in zip(nodes, waits, slots)])
        got = CK.cordon_from_matrix(nodes, waits, slots, targets, extras, *mats, mats[0])
        assert got == greedy_cordon_s(eta)


def test_exits_from_the_road_ends_equal_exit_places(small_town):
    graph, _ = small_town
    major = np.isin(graph.edge_class, MAJOR_ROAD_CLASSES)
    for mask in (major, None):
        ends = _RoadEnds(graph, mask)
        for place in range(0, graph.n_nodes, 7):
            # radii within a road, on a block's multiple (nodes exactly on the circle), past the town
            for radius_m in (80.0, 333.3, 400.0, 1000.0, 2500.0, 1e5):
                np.testing.assert_array_equal(ends.exits(place, radius_m),
                                              exit_places(graph, place, radius_m=radius_m, road_mask=mask))
