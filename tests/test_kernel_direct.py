"""``kernels.direct``: the compiled search called without numba's type dispatch gives the same answers.

The dispatch search calls ``nearest_unit``'s compiled entry point directly (``K.direct``);
these tests draw random, valid states of the dispatch index and compare that call with
the dispatcher's, bit for bit (returned values and every array it writes), and check
that ``direct`` hands back the dispatcher when it cannot find compiled code for the types.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine import cordon_kernels as CK
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
    # per place (row), a lower bound per circuit (column: segment + 1) after a column of zeros (no
    # circuit): DispatchIndex.bounds_by_place
    bounds = np.hstack([np.zeros((n_places, 1)), rng.uniform(0, 400, (n_places, n_seg))])
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


def test_direct_keeps_one_entry_point_per_numba_type():
    """``direct`` remembers entry points by a key of the arguments' types made without numba's typeof:
    arguments numba types alike share one entry, and any difference numba sees (dtype, dimensions,
    layout, read-only, a tuple's items, an int past 64 bits) gets that type's own entry, never another's."""
    from numba import njit

    from sim.jit_entry import _type_key, direct

    @njit
    def first(a, pair, x):
        return a.ravel()[0] + pair[0][0] + x

    c = np.arange(6.0).reshape(2, 3)
    frozen = c.copy()
    frozen.flags.writeable = False
    variants = {"C": (c, (np.ones(2), np.ones(3)), 1.0), "F": (np.asfortranarray(c), (np.ones(2), np.ones(3)), 1.0),
                "read-only": (frozen, (np.ones(2), np.ones(3)), 1.0),
                "float32": (c.astype(np.float32), (np.ones(2), np.ones(3)), 1.0),
                "int pair": (c, (np.ones(2, np.int64), np.ones(3)), 1.0), "int x": (c, (np.ones(2), np.ones(3)), 1)}
    for args in variants.values():
        first(*args)
    entries = {}
    for name, args in variants.items():
        sig = tuple(first.typeof_pyval(a) for a in args)
        entries[name] = direct(first, args)
        assert entries[name] is first.overloads[sig].entry_point, name
        assert direct(first, args) is entries[name]               # remembered, the same
        assert entries[name](*args) == first(*args)
    assert len({id(e) for e in entries.values()}) == len(variants)
    # the same types in new arrays: the remembered entry
    assert direct(first, (c.copy(), (np.zeros(2), np.zeros(3)), 2.5)) is entries["C"]
    # what the key cannot tell from numba's type has no key: numba's own look-up, never a remembered entry
    assert _type_key(1 << 63) is None and _type_key(np.float64(1.0)) is None and _type_key((c, None)) is None


def _best_of_every_unit(args: tuple, place: int, t: float, backup: bool) -> tuple[int, float]:
    """The least (arrival, unit id) over the units that need no check, with every unit located:
    ``nearest_unit`` with bounds that never prune (-inf), its arrival row read back."""
    code, ui = args[0], args[1]
    bounds = np.full_like(args[7], -np.inf)
    K.nearest_unit(place, t, backup, *args[:7], bounds, *args[8:])
    eta, node = args[6][0].copy(), args[6][1]
    free = (code > 0) & (node >= 0) & ~(ui[:, K.RULED].astype(bool) | (backup & ui[:, K.NO_BACKUP].astype(bool)))
    pairs = sorted((float(eta[u]), u) for u in np.flatnonzero(free & np.isfinite(eta)).tolist())
    return (pairs[0][1], pairs[0][0]) if pairs else (-1, np.inf)


@pytest.mark.parametrize("seed", range(8))
def test_the_first_best_from_the_least_bound_changes_no_choice_even_on_ties(seed):
    """``nearest_unit`` locates first the unit with the least bound (to prune from the start); the
    choice must stay the least (arrival, unit id). Units are made to tie: pairs share a circuit and
    an anchor, and the higher unit id of a pair gets the lower bound, so it is located first."""
    rng = np.random.default_rng(100 + seed)
    n_units = int(rng.integers(6, 50))
    args = list(_state(rng, n_units=n_units, n_nodes=40, n_places=25, n_modes=1 + seed % 2))
    code, ui, uf = args[0], args[1], args[2]
    n_seg = args[4].shape[0]
    twins = []
    for u in range(0, n_units - 1, 2):
        # unit u + 1 stands where unit u stands, on a copy of u's circuit (a segment of its own, so
        # that it can have its own, lower, bound)
        code[u], code[u + 1] = 1, 1
        ui[u + 1, [K.MODE, K.RULED, K.NO_BACKUP]] = ui[u, [K.MODE, K.RULED, K.NO_BACKUP]]
        uf[u + 1, [K.ANCHOR_T, K.ANCHOR_TAU]] = uf[u, [K.ANCHOR_T, K.ANCHOR_TAU]]
        twins.append(ui[u, K.SEG])
        ui[u + 1, K.SEG] = n_seg + len(twins) - 1
    args[4] = np.concatenate([args[4], args[4][twins]])
    args[7] = np.zeros((args[7].shape[0], args[4].shape[0] + 1))
    ties = 0
    for _ in range(30):
        place, t, backup = int(rng.integers(0, 25)), float(rng.uniform(0, 9000)), bool(rng.random() < 0.3)
        want = _best_of_every_unit(tuple(args), place, t, backup)
        exact = args[6][0].copy()
        # valid lower bounds per circuit: below every located arrival of a unit on that circuit
        bounds = np.full_like(args[7], np.inf)
        for u in np.flatnonzero((code == 1) & np.isfinite(exact)).tolist():
            s = ui[u, K.SEG]
            slack = 40.0 if (u % 2 and s >= n_seg) else rng.uniform(0, 30)    # a twin's bound is the lower
            bounds[place, s + 1] = min(bounds[place, s + 1], exact[u] - slack)
        bounds[~np.isfinite(bounds)] = 0.0
        args[7] = bounds
        got = K.nearest_unit(place, t, backup, *args)
        assert (got[0], got[1]) == want
        ties += want[0] >= 0 and want[0] % 2 == 0 and want[0] + 1 < n_units and code[want[0] + 1] == 1
    assert ties > 0          # the tied pairs were exercised


@pytest.mark.parametrize("seed", range(4))
def test_the_cordons_direct_call_gives_the_dispatchers_answers_bit_for_bit(seed):
    """``Encirclement`` calls ``cordon_of_free_units`` through ``K.direct`` as well: the same cordon
    seconds, and the same rows written (units the search skipped, located on their circuit)."""
    rng = np.random.default_rng(100 + seed)
    n_modes = 1 + seed % 3
    n_units, n_nodes = int(rng.integers(5, 60)), 40
    code, ui, uf, flat, seg, te, out, bounds, *times = _state(rng, n_units, n_nodes, 25, n_modes)
    slot = ui[:, K.MODE].copy()
    CK.compile_cordon_once()
    entry = None
    for _ in range(30):
        # where the search left each unit: skipped on its circuit, or located at a node
        out[1] = np.where((code == 1) & (rng.random(n_units) < 0.6), K.SKIPPED, rng.integers(0, n_nodes, n_units))
        out[2] = rng.uniform(0, 30, n_units)
        n_exits = int(rng.integers(1, 8))
        targets = rng.integers(0, n_nodes, (n_modes, n_exits)).astype(np.int64)
        extras = rng.uniform(0, 40, (n_modes, n_exits))
        rows = out.copy()
        args = (float(rng.uniform(0, 9000)), code, ui, uf, flat, seg, out, slot, targets, extras, *times)
        a = CK.cordon_of_free_units(*args)
        rows_a, out[:] = out.copy(), rows
        if entry is None:
            entry = K.direct(CK.cordon_of_free_units, args)
            assert entry is not CK.cordon_of_free_units
        b = entry(*args)
        assert repr(a) == repr(b) and rows_a.tobytes() == out.tobytes()
