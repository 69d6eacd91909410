"""The best-first cordon over full time matrices (``sim.engine.cordon_lazy``) equals the full greedy walk.

Two checks. (1) Random states of units, circuits and small integer time matrices, where
ties are everywhere (between exact times, and between a bound and an exact time, with
bounds as tight as the exact time): the answer must be the full walk's
(``greedy_cordon_s`` over every free unit at every exit, rows in unit order) and the old
kernel's (``cordon_kernels.cordon_of_free_units``), bit for bit; a tie taken in another order
changes which unit holds which exit and so the answer. (2) Every cordon of real runs of the
default town at 240 and 1,920 officers, against the old kernel on the same state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.engine import encircle as E
from sim.engine import cordon_kernels as CK
from sim.engine import kernels as K
from sim.engine.cordon_lazy import lazy_cordon, sort_circuits
from sim.engine.encircle import greedy_cordon_s

REPO = Path(__file__).resolve().parents[1]


def _state(rng: np.random.Generator):
    """A random state as the engine leaves it for the cordon, and the exact (unit, exit) times of the free units."""
    n_nodes = int(rng.integers(3, 12))
    n_units = int(rng.integers(1, 30))
    k = int(rng.integers(1, 7))
    span = int(rng.integers(1, 5))                    # small integer times: ties everywhere
    times = [rng.integers(0, span + 1, (n_nodes, n_nodes)).astype(float) for _ in range(2)]
    for tm in times:
        tm[rng.random(tm.shape) < 0.05] = np.inf      # unreachable pairs
    # circuits: nodes every 10 patrol seconds, 5 response seconds apart (a unit at a node waits 5 s)
    n_circ = n_units + int(rng.integers(0, n_units + 1)) + (int(rng.integers(0, 100)) if rng.random() < 0.3 else 0)
    flat_cols, seg = [], np.zeros((n_circ, 3))
    lo = 0
    for s in range(n_circ):
        length = int(rng.integers(2, 6))
        nodes = rng.integers(0, n_nodes, length + 1)
        nodes[-1] = nodes[0]
        flat_cols.append(np.array([np.arange(length + 1) * 10.0, nodes, np.arange(length + 1) * 5.0]))
        seg[s] = (lo, lo + length + 1, length * 10.0)
        lo += length + 1
    flat = np.ascontiguousarray(np.concatenate(flat_cols, axis=1))
    owner = np.full(n_circ, -1, np.int64)
    owner[:n_units] = np.arange(n_units)             # circuit u is unit u's; the rest belong to anyone
    owner[n_units:] = rng.integers(0, n_units, n_circ - n_units)
    rng.shuffle(owner)
    t = 1000.0
    code = np.zeros(n_units, np.int8)
    ui = np.zeros((n_units, K.UI_COLUMNS), np.int64)
    ui[:, K.FIXED_NODE] = -1
    uf = np.zeros((n_units, K.UF_COLUMNS))
    uf[:, K.LEG_TEND] = np.inf
    uf[:, K.LEG_SCALE] = 1.0
    out = np.zeros((3, n_units))
    slot = rng.integers(0, 2, n_units)
    own = [np.flatnonzero(owner == u) for u in range(n_units)]
    for u in range(n_units):
        kind = rng.choice(["circuit", "ended drive", "station", "drive", "busy"], p=[.5, .1, .15, .1, .15])
        s = int(rng.choice(own[u])) if own[u].size else -1
        if kind in ("circuit", "ended drive") and s >= 0:
            ui[u, K.SEG] = s
            at = int(rng.integers(0, 8)) * 10.0       # on a node of the circuit (or the lap wrapped)
            if kind == "circuit":
                code[u] = 1
                uf[u, K.ANCHOR_T], uf[u, K.ANCHOR_TAU] = t - at, 0.0
            else:
                code[u] = 2
                ui[u, K.LEG_SEG] = s
                uf[u, K.LEG_TEND], uf[u, K.LEG_TAU] = t - at, 0.0
            out[1, u] = K.SKIPPED
        elif kind in ("station", "drive", "circuit", "ended drive"):
            code[u] = 2
            node = int(rng.integers(0, n_nodes))
            wait = float(rng.choice([0.0, 5.0, 60.0]))
            if kind == "station":
                ui[u, K.FIXED_NODE], uf[u, K.FIXED_WAIT] = node, wait
            else:                                     # a drive the caller located
                uf[u, K.LEG_TEND] = t + 100.0
            ui[u, K.SEG] = int(rng.choice(own[u])) if own[u].size and rng.random() < 0.5 else -1
            out[1, u], out[2, u] = node, wait
        else:
            ui[u, K.SEG] = s
            out[1, u] = -1.0
    places = np.sort(rng.choice(n_nodes, size=min(k, n_nodes), replace=False)).astype(np.int64)
    k = places.size
    perm = rng.permutation(n_nodes)
    targets = np.array([places, perm[places]], np.int64)          # mode 1 drives to another node
    extras = rng.integers(0, 2, (2, k)).astype(float)
    # the exact times (every skipped unit located on a copy), then bounds at most as large
    located = out.copy()
    K.locate_on_circuit(np.arange(n_units), t, code, ui, uf, flat, seg, located)
    free = np.flatnonzero(code > 0)
    eta = np.empty((free.size, k))
    for a, u in enumerate(free.tolist()):
        tm = times[slot[u]]
        for j in range(k):
            eta[a, j] = (tm[int(located[1, u]), targets[slot[u], j]] + located[2, u]) + extras[slot[u], j]
    cap = n_circ + 1
    bounds = np.zeros((n_nodes, cap))
    for s in range(n_circ):
        bounds[:, s + 1] = rng.integers(-3, span + 6, n_nodes)        # stale circuits: any bound
        u = owner[s]
        if code[u] > 0 and ui[u, K.SEG] == s and u in free:
            a = int(np.flatnonzero(free == u)[0])
            for j, p in enumerate(places.tolist()):
                slack = rng.choice([0.0, 0.0, 0.0, 1.0, 2.0, 50.0])
                bounds[p, s + 1] = eta[a, j] - slack if eta[a, j] < np.inf else rng.choice([np.inf, 0.0])
    # a unit on its circuit the caller already located (not skipped) keeps its exact node
    keep = (out[1] == K.SKIPPED) & (rng.random(n_units) < 0.3)
    out[1, keep], out[2, keep] = located[1, keep], located[2, keep]
    return (t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, owner,
            times + times), eta


def _lazy(state) -> float:
    t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, owner, times = state
    order = np.empty(bounds.shape, np.int64)
    order_n = np.full((bounds.shape[0], 2), -1, np.int64)
    sort_circuits(order, order_n, places, bounds, n_circ)
    return lazy_cordon(t, code, ui, uf, flat, seg, out.copy(), slot, places, targets, extras, bounds, n_circ,
                       order, order_n, owner, *times)


def test_best_first_equals_the_full_walk_on_random_states_with_ties():
    rng = np.random.default_rng(2026)
    finite = 0
    for _ in range(4000):
        state, eta = _state(rng)
        t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, owner, times = state
        want = greedy_cordon_s(eta) if eta.shape[0] else (0.0 if places.size == 0 else np.inf)
        old = CK.cordon_of_free_units(t, code, ui, uf, flat, seg, out.copy(), slot, targets, extras, *times)
        got = _lazy(state)
        assert old == want
        assert got == want, (eta, got, want)
        finite += 0 < want < np.inf
    assert finite > 1000              # most cordons were closed, after some time


@pytest.mark.parametrize("officers", [240, 1920])
def test_every_cordon_of_the_default_town_is_the_old_kernels(monkeypatch, officers):
    from sim.demand import sample_incidents
    from sim.experiment import prepare
    from sim.experiment.replicate import make_engine
    from sim.scenario_file import load_scenario
    from sim.streams import replication_seed

    sc = load_scenario(REPO / "scenarios" / "default.yaml",
                       overrides=["horizon_days=4", "replications=1", f"force.total_officers={officers}"])
    ctx = prepare(sc, quiet=True)
    rep = replication_seed(sc.seed, 0)
    incidents = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    seen = {"cordons": 0, "located": 0, "skipped": 0}

    def both(t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, order, order_n,
             owner, *times):
        want = CK.cordon_of_free_units(t, code, ui, uf, flat, seg, out.copy(), slot, targets, extras, *times)
        before = out[1].copy()
        got = lazy_cordon(t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, order,
                          order_n, owner, *times)
        assert got == want
        seen["cordons"] += 1
        skipped = (before == K.SKIPPED) & (code > 0)
        seen["skipped"] += int(skipped.sum())
        seen["located"] += int((skipped & (out[1] != K.SKIPPED)).sum())
        return got

    monkeypatch.setattr(E, "lazy_cordon", both)
    monkeypatch.setattr(E.Encirclement, "LAZY_FROM_FREE", 0)          # every cordon best first
    engine = make_engine(ctx, incidents, rep)
    engine.run()
    assert seen["cordons"] > 50
    assert np.isfinite(engine.encircle_s).sum() >= seen["cordons"] // 2
    if officers == 1920:              # most units the search skipped stay unlocated
        assert seen["located"] < seen["skipped"] / 2


def test_the_sorted_prefix_and_its_rest_walk_every_circuit_in_order_of_bound():
    from sim.engine.cordon_lazy import PREFIX, extend_order

    rng = np.random.default_rng(7)
    for _ in range(300):
        n_circ = int(rng.integers(1, 4 * PREFIX))
        bounds = np.zeros((3, n_circ + 1))
        bounds[:, 1:] = rng.integers(0, int(rng.integers(1, 20)), (3, n_circ))      # many ties
        bounds[rng.random(bounds.shape) < 0.02] = np.nan                             # walked first
        order = np.empty((3, n_circ + 1), np.int64)
        order_n = np.full((3, 2), -1, np.int64)
        sort_circuits(order, order_n, np.array([1], np.int64), bounds, n_circ)
        assert order_n[1, 0] == n_circ and min(n_circ, PREFIX) <= order_n[1, 1] <= n_circ
        extend_order(order, order_n, 1, bounds, n_circ)
        walk = order[1, :n_circ]
        assert sorted(walk.tolist()) == list(range(n_circ))
        keys = np.where(np.isnan(bounds[1, walk + 1]), -np.inf, bounds[1, walk + 1])
        assert (keys[1:] >= keys[:-1]).all()


def test_the_best_first_cordon_leaves_the_whole_run_as_it_was(monkeypatch):
    """The engine's log at 1,920 officers (cordons best first from 112 free units) is the full read's, field for field.

    The best-first walk leaves most skipped units unlocated; whatever reads the search's rows after it
    (sending units, backup, the rules' walk) must find the same, and every cordon time must be the same.
    """
    from sim.demand import sample_incidents
    from sim.experiment import prepare
    from sim.experiment.replicate import make_engine
    from sim.scenario_file import load_scenario
    from sim.streams import replication_seed

    sc = load_scenario(REPO / "scenarios" / "default.yaml",
                       overrides=["horizon_days=3", "replications=1", "force.total_officers=1920"])
    ctx = prepare(sc, quiet=True)
    rep = replication_seed(sc.seed, 0)
    incidents = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    calls = {"lazy": 0}
    real = E.lazy_cordon

    def counted(*args):
        calls["lazy"] += 1
        return real(*args)

    monkeypatch.setattr(E, "lazy_cordon", counted)
    logs = {}
    for lazy in (False, True):
        monkeypatch.setattr(E.Encirclement, "LAZY", lazy)
        logs[lazy] = make_engine(ctx, incidents, rep).run()
    assert calls["lazy"] > 20
    a, b = logs[False], logs[True]
    for name in ("dispatch_s", "first_unit", "clear_s", "encircle_s"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert a.arrivals_s == b.arrivals_s and a.units_sent == b.units_sent
    assert a.patrol_intervals == b.patrol_intervals
    assert [(st.uid, st.patrol_s, st.travel_s, st.distance_m, st.calls) for st in a.units] == \
        [(st.uid, st.patrol_s, st.travel_s, st.distance_m, st.calls) for st in b.units]
