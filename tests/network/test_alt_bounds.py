"""The landmarks' pair bounds compiled (``sim.network.alt_jit``) against the numpy formula they replaced.

The engine's outputs depend on these bounds only through which units are located and
which pairs are searched, but the dispatch search's bias is a sum with them, so they
must be the numpy version's bits: checked on a synthetic town above the all-pairs limit
(random sources, targets, waits, walks and units without a fixed node) and on random
tables with negative differences and ties. That they never exceed the exact time is
checked against scipy's Dijkstra.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import dijkstra

from sim.network import TravelOracle
from sim.network import alt_jit
from sim.network.searches import ALT_MARGIN_S
from sim.network.synthetic import synthetic_city
from sim.scenario import SyntheticNetwork


def numpy_bounds_from(lm_from, lm_to, source, targets):
    """The numpy formula of ``SearchColumns.lower_bounds`` before it was compiled."""
    h = np.maximum((lm_from[:, targets] - lm_from[:, source:source + 1]).max(axis=0),
                   (lm_to[:, source:source + 1] - lm_to[:, targets]).max(axis=0))
    return np.maximum(h - ALT_MARGIN_S, 0.0)


def numpy_bounds_to(lm_from, lm_to, sources, target):
    """The numpy formula of ``SearchColumns.lower_bounds_to`` before it was compiled."""
    h = np.maximum((lm_from[:, target:target + 1] - lm_from[:, sources]).max(axis=0),
                   (lm_to[:, sources] - lm_to[:, target:target + 1]).max(axis=0))
    return np.maximum(h - ALT_MARGIN_S, 0.0)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def test_compiled_bounds_equal_the_numpy_formula_on_random_tables():
    rng = np.random.default_rng(3)
    for trial in range(40):
        n, k = int(rng.integers(2, 60)), int(rng.integers(1, 12))
        # coarse values make ties and zero differences common
        lm_from = rng.integers(0, 50, (k, n)).astype(float) * rng.choice([1.0, 0.1, 1.7])
        lm_to = rng.integers(0, 50, (k, n)).astype(float) * rng.choice([1.0, 0.1, 1.7])
        rows_from, rows_to = np.ascontiguousarray(lm_from.T), np.ascontiguousarray(lm_to.T)
        nodes = rng.integers(0, n, int(rng.integers(0, 30)))
        for s in rng.integers(0, n, 5).tolist():
            got = alt_jit.bounds_from(rows_from, rows_to, s, nodes, ALT_MARGIN_S)
            assert _same_bits(got, numpy_bounds_from(lm_from, lm_to, s, nodes))
            got = alt_jit.bounds_to(rows_from, rows_to, nodes, s, ALT_MARGIN_S)
            assert _same_bits(got, numpy_bounds_to(lm_from, lm_to, nodes, s))


def test_fixed_bounds_equal_the_old_sums_and_hold_against_dijkstra():
    """``raise_fixed_bounds_s`` gives what the dispatch search's numpy step gave, and bounds the arrival."""
    city = synthetic_city(SyntheticNetwork(seed=5, area_km2=12.0, block_m=50, stations=2, exits=2))
    o = TravelOracle(city.graphs["drive"], backend="kernel")
    k = o._kernel
    assert k is not None and k._lm_exact
    rng = np.random.default_rng(17)
    n_units = 50
    ui = np.zeros((n_units, 5), np.int64)          # the dispatch index's layout: a strided column
    uf = np.zeros((n_units, 7))
    ui[:, 0] = rng.integers(0, k.n, n_units)
    ui[rng.random(n_units) < 0.2, 0] = -1          # no fixed node (on a drive)
    uf[:, 0] = rng.choice([0.0, 120.0, 37.25], n_units)
    exact = dijkstra(o._w, directed=True, indices=np.maximum(ui[:, 0], 0))
    changed = 0
    for target in rng.integers(0, k.n, 30).tolist():
        extra = float(rng.choice([0.0, 12.5]))
        start = np.where(rng.random(n_units) < 0.7, -np.inf, rng.uniform(0, 900, n_units))
        start[rng.random(n_units) < 0.1] = np.inf
        of_mode = rng.random(n_units) < 0.8
        got = start.copy()
        o.raise_fixed_bounds_s(got, ui[:, 0], uf[:, 0], of_mode, target, extra, 1e-6)
        # the numpy step it replaced (sim/engine/search.py before)
        want = start.copy()
        sel = np.flatnonzero((want == -np.inf) & (ui[:, 0] >= 0) & of_mode)
        if sel.size:
            b = o.lower_bounds_to_s(ui[sel, 0], target)
            want[sel] = (uf[sel, 0] + b + extra) - 1e-6
        assert _same_bits(got, want)
        changed += sel.size
        arrival = uf[sel, 0] + exact[sel, target] + extra
        assert (got[sel] <= arrival).all()
    assert changed > 500


def test_the_compiled_bounds_are_the_oracles_and_hold():
    """The oracle's bounds (now compiled) equal the numpy formula on its own tables and never exceed Dijkstra."""
    city = synthetic_city(SyntheticNetwork(seed=9, area_km2=12.0, block_m=50, stations=2, exits=2))
    o = TravelOracle(city.graphs["drive"], backend="kernel")
    k = o._kernel
    rng = np.random.default_rng(5)
    sources = rng.integers(0, k.n, 20)
    exact = dijkstra(o._w, directed=True, indices=sources)
    targets = rng.integers(0, k.n, 200)
    for i, s in enumerate(sources.tolist()):
        b = o.lower_bounds_s(s, targets)
        assert _same_bits(b, numpy_bounds_from(k._lm_from, k._lm_to, s, targets))
        assert (b <= exact[i, targets]).all()
        assert (b > 0).sum() > 100
