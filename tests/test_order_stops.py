"""The compiled nearest-neighbour order of a circuit's stops (``sim.order_jit``) is the Python one.

``order_stops`` with a full time matrix must give the order of ``min`` over the keys
``(seconds, node)`` pair by pair, on random matrices and on matrices full of ties,
unreachable pairs (inf) and nan, and on the default engine's travel times.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.patrol import order_stops


def _python_order(stops, time_m):
    return order_stops(stops, lambda a, b: float(time_m[a, b]))


@pytest.mark.parametrize("seed", range(40))
def test_same_order_as_python(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 60))
    kind = seed % 4
    if kind == 0:                          # distinct times
        time_m = rng.random((n, n)) * 600
    elif kind == 1:                        # many ties: a handful of values
        time_m = rng.integers(0, 4, (n, n)).astype(float)
    elif kind == 2:                        # unreachable pairs
        time_m = rng.integers(0, 6, (n, n)).astype(float)
        time_m[rng.random((n, n)) < 0.4] = np.inf
    else:                                  # nan among ties
        time_m = rng.integers(0, 3, (n, n)).astype(float)
        time_m[rng.random((n, n)) < 0.2] = np.nan
    k = int(rng.integers(3, min(n, 14) + 1))
    stops = rng.choice(np.arange(n, dtype=np.int64), size=k, replace=False)
    got = order_stops(stops, None, time_m=time_m)
    assert got == _python_order(stops, time_m)
    assert sorted(got) == sorted(int(s) for s in stops) and got[0] == int(stops[0])
    assert all(type(s) is int for s in got)


def test_short_lists_and_float32():
    time_m = np.array([[0, 2, 1], [2, 0, 1], [1, 1, 0]], np.float32)
    for stops in ([2], [1, 0], [0, 1, 2], [2, 1, 0]):
        arr = np.array(stops, np.int64)
        fn = lambda a, b: float(time_m[a, b])              # noqa: E731
        assert order_stops(arr, fn, time_m=time_m) == _python_order(arr, time_m)
    assert order_stops(np.array([0, 1, 2], np.int64), None, time_m=time_m) == [0, 2, 1]


@pytest.mark.parametrize("seed", range(12))
def test_bound_same_as_numpy(seed):
    """``circuit_lower_bound_s`` with the full matrix is the oracle's minimum over the circuit's nodes, bit for bit."""
    from sim.patrol import Circuit, circuit_lower_bound_s

    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(5, 80))
    time_m = rng.random((n, n)) * 900
    if seed % 3 == 1:
        time_m = np.round(time_m / 60)                  # ties
    if seed % 3 == 2:
        time_m[rng.random((n, n)) < 0.3] = np.inf
        time_m[0, 1] = np.nan

    class Oracle:                                      # the oracle's full-matrix answer (TravelOracle)
        def lower_bounds_from_set(self, sources, nodes, *, exact_within_s):
            return time_m[np.asarray(sources)].min(axis=0)[np.asarray(nodes)]

    nodes = rng.integers(0, n, int(rng.integers(1, 30))).tolist()
    c = Circuit(nodes + nodes[:1], [0.0] * (len(nodes) + 1), [0.0] * (len(nodes) + 1), [0.0] * (len(nodes) + 1))
    place_node = rng.integers(0, n, 200).astype(np.int64)
    extra = rng.random(200) * 30
    want = circuit_lower_bound_s(Oracle(), [c], place_node, extra)
    got = circuit_lower_bound_s(Oracle(), [c], place_node, extra, time_m=time_m)
    assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(got.view(np.int64), want.view(np.int64))      # the same bits
