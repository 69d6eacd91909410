"""The compiled greedy cordon over the first k units of each exit equals the full walk.

``sim.engine.kernels.greedy_cordon`` walks only the first k (unit, exit) pairs of each
exit's column when there are more than twice as many units as exits; the reference is
the Python walk over every pair (``sim.engine.encircle.greedy_cordon_s``), on matrices
with many ties (small integer times), unreachable pairs (inf) and whole rows or columns
of equal times, where a wrong tie order would change the answer.
"""

from __future__ import annotations

import numpy as np

from sim.engine import kernels as K
from sim.engine.encircle import greedy_cordon_s


def test_first_k_per_column_walk_equals_the_full_walk():
    rng = np.random.default_rng(14)
    shortened = 0
    for _ in range(3000):
        n_exits = int(rng.integers(1, 7))
        n_units = int(rng.integers(n_exits, 60))
        eta = rng.integers(0, int(rng.integers(1, 6)), (n_units, n_exits)).astype(float)
        eta[rng.random(eta.shape) < 0.15] = np.inf
        if rng.random() < 0.2:
            eta[:, int(rng.integers(n_exits))] = 7.0          # a column of equal times
        if rng.random() < 0.2:
            eta[int(rng.integers(n_units))] = 0.0              # a unit first at every exit
        shortened += n_units > 2 * n_exits
        assert K.greedy_cordon(eta) == greedy_cordon_s(eta), eta
    assert shortened > 1000          # most matrices took the shortened walk


def test_first_k_per_column_are_the_first_by_time_then_row():
    rng = np.random.default_rng(3)
    for _ in range(500):
        k = int(rng.integers(1, 6))
        eta = rng.integers(0, 3, (int(rng.integers(k, 40)), k)).astype(float)
        got = K._first_k_per_column(eta)
        want = sorted(int(a) * k + j for j in range(k)
                      for a in sorted(range(eta.shape[0]), key=lambda a: (eta[a, j], a))[:k])
        assert got.tolist() == want


def test_a_nan_takes_the_full_walk():
    eta = np.array([[1.0, np.nan], [2.0, 3.0], [0.5, 4.0], [9.0, 9.0], [8.0, 8.0]])
    assert K.greedy_cordon(eta) == greedy_cordon_s(eta)
