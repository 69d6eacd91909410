"""The compiled greedy cordon, found from each unit's least pair, equals the sorted walk over every pair.

``sim.engine.cordon_kernels.greedy_cordon`` takes one kept pair per step from each free unit's
least free pair (``_greedy_by_row_minima``); the reference is the Python walk over every
pair in sorted order (``sim.engine.encircle.greedy_cordon_s``), on matrices with many
ties (small integer times), unreachable pairs (inf) and whole rows or columns of equal
times, where a wrong tie order would change the answer.
"""

from __future__ import annotations

import numpy as np

from sim.engine import cordon_kernels as CK
from sim.engine.encircle import greedy_cordon_s


def test_the_walk_by_row_minima_equals_the_sorted_walk():
    rng = np.random.default_rng(14)
    for _ in range(3000):
        n_exits = int(rng.integers(1, 12))
        n_units = int(rng.integers(n_exits, 80))
        eta = rng.integers(0, int(rng.integers(1, 6)), (n_units, n_exits)).astype(float)
        eta[rng.random(eta.shape) < 0.15] = np.inf
        if rng.random() < 0.2:
            eta[:, int(rng.integers(n_exits))] = 7.0          # a column of equal times
        if rng.random() < 0.2:
            eta[int(rng.integers(n_units))] = 0.0              # a unit first at every exit
        if rng.random() < 0.1:
            eta[:] = np.inf                                    # no unit reaches any exit
        assert CK.greedy_cordon(eta) == greedy_cordon_s(eta), eta


def test_real_valued_times_as_the_engine_makes_them():
    rng = np.random.default_rng(2)
    for _ in range(500):
        n_exits = int(rng.integers(1, 15))
        eta = rng.gamma(2.0, 150.0, (int(rng.integers(n_exits, 300)), n_exits))
        assert CK.greedy_cordon(eta) == greedy_cordon_s(eta)


def test_the_walk_keeps_the_least_pair_first():
    # unit 1 is nearest exit 0 and unit 0 is nearest exit 1: the greedy answer is the larger
    # of the two; taking unit 0 for exit 0 first (row order) would give 9
    eta = np.array([[5.0, 2.0], [1.0, 9.0], [9.0, 9.0]])
    assert CK.greedy_cordon(eta) == 2.0 == greedy_cordon_s(eta)


def test_a_nan_takes_the_full_walk():
    eta = np.array([[1.0, np.nan], [2.0, 3.0], [0.5, 4.0], [9.0, 9.0], [8.0, 8.0]])
    assert CK.greedy_cordon(eta) == greedy_cordon_s(eta)
