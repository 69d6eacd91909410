"""``kernels.direct``: the compiled search called without numba's type dispatch gives the same answers.

The dispatch search calls ``nearest_unit``'s compiled entry point directly (``K.direct``);
these tests draw random, valid states of the dispatch index and compare that call with
the dispatcher's, bit for bit (returned values and every array it writes), and check
that ``direct`` hands back the dispatcher when it cannot find compiled code for the types.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import kernels as K


def _state(rng: np.random.Generator, n_units: int, n_nodes: int, n_places: int, n_modes: int) -> tuple:
    """Random arguments of ``nearest_unit`` after (place, t, is_backup): valid indices, real-looking times."""
    n_seg = 5
    lengths = rng.integers(2, 12, n_seg)
    flat = np.empty((3, int(lengths.sum()) + 8))
    seg = np.empty((n_seg, 3))
    lo = 0
    for s, m in enumerate(lengths.tolist()):
        t_s = np.concatenate([[0.0], np.cumsum(rng.uniform(5, 90, m - 1))])
        flat[0, lo:lo + m] = t_s
        flat[1, lo:lo + m] = rng.integers(0, n_nodes, m)
        flat[2, lo:lo + m] = t_s / rng.uniform(1.2, 2.0)
        seg[s] = (lo, lo + m, max(t_s[-1], 60.0))
        lo += m
    code = rng.integers(0, 3, n_units).astype(np.int8)
    ui = np.zeros((n_units, K.UI_COLUMNS), np.int64)
    ui[:, K.FIXED_NODE] = np.where(rng.random(n_units) < 0.4, rng.integers(0, n_nodes, n_units), -1)
    ui[:, K.SEG] = rng.integers(0, n_seg, n_units)
    ui[:, K.MODE] = rng.integers(0, n_modes, n_units)
    ui[:, K.RULED] = rng.random(n_units) < 0.2
    ui[:, K.NO_BACKUP] = rng.random(n_units) < 0.2
    ui[:, K.LEG_SEG] = rng.integers(0, n_seg, n_units)
    uf = np.zeros((n_units, K.UF_COLUMNS))
    uf[:, K.FIXED_WAIT] = rng.choice([0.0, 60.0], n_units)
    uf[:, K.ANCHOR_T] = rng.uniform(0, 5000, n_units)
    uf[:, K.ANCHOR_TAU] = rng.uniform(0, 500, n_units)
    uf[:, K.LEG_SRC] = rng.integers(0, n_nodes, n_units)
    uf[:, K.LEG_T0] = rng.uniform(0, 5000, n_units)
    uf[:, K.LEG_WAIT] = rng.uniform(0, 20, n_units)
    uf[:, K.LEG_SCALE] = rng.uniform(1.0, 2.0, n_units)
    uf[:, K.LEG_TEND] = np.where(rng.random(n_units) < 0.5, rng.uniform(0, 8000, n_units), np.inf)
    uf[:, K.LEG_TAU] = rng.uniform(0, 500, n_units)
    te = np.stack([rng.integers(0, n_nodes, (n_modes, n_places)).astype(float),
                   rng.uniform(0, 30, (n_modes, n_places))])
    times = [rng.uniform(0, 900, (n_nodes, n_nodes)) for _ in range(n_modes)]
    for T in times:
        np.fill_diagonal(T, 0.0)
    times += [times[0]] * (K.MODE_SLOTS - n_modes)
    bounds = rng.uniform(0, 400, (n_seg, n_places))      # a lower bound per circuit (segment) and place
    out = np.empty((3, n_units))
    return (code, ui, uf, flat, seg, te, out, bounds, *times)


@pytest.mark.parametrize("seed", range(6))
def test_direct_call_gives_the_dispatchers_answers_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n_modes = 1 + seed % 3
    args = _state(rng, n_units=int(rng.integers(5, 60)), n_nodes=40, n_places=25, n_modes=n_modes)
    K.compile_once()
    first = (3, 1000.0, False) + args
    K.nearest_unit(*first)
    entry = K.direct(K.nearest_unit, first)
    assert entry is not K.nearest_unit          # numba keeps the compiled entry point
    out = args[6]
    for _ in range(40):
        place, t, backup = int(rng.integers(0, 25)), float(rng.uniform(0, 9000)), bool(rng.random() < 0.3)
        a = K.nearest_unit(place, t, backup, *args)
        rows_a = out.copy()
        b = entry(place, t, backup, *args)
        assert repr(a) == repr(b)
        assert rows_a.tobytes() == out.tobytes()


def test_direct_falls_back_to_the_dispatcher_when_no_compiled_code_matches():
    K.compile_once()
    rng = np.random.default_rng(1)
    args = _state(rng, n_units=8, n_nodes=10, n_places=5, n_modes=1)
    # float32 times: a signature nothing was compiled for
    odd = (0, 0.0, False) + args[:8] + tuple(T.astype(np.float32) for T in args[8:])
    assert K.direct(K.nearest_unit, odd) is K.nearest_unit

    def plain(*a):
        return a
    assert K.direct(plain, (1, 2.0)) is plain   # not a numba dispatcher
