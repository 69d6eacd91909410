"""The cordon of the default town, every pair read against best first, per cordon, in one process.

    python bench/cordon_ab.py --officers 240,1920 --days 60 --rounds 7
    python bench/cordon_ab.py --officers 240,1920 --days 30 --rounds 5 --in-engine

Runs the default town (``--days``, one replication, ``force.total_officers`` from
``--officers``) and keeps, at every major incident's cordon over full time matrices, the
arguments of the compiled call (``Encirclement._compiled_cordon_s``: the units' state and
the search's rows after the units on a drive were located). Then replays every kept cordon,
in the run's order, with the old kernel (``cordon_kernels.cordon_of_free_units``: every free unit
at every exit) and the best-first one (``cordon_lazy.sort_circuits`` then ``lazy_cordon``,
the sorted circuits kept across the cordons as in a run, so their sorting is counted),
alternately, ``--rounds`` times, each call on fresh copies of the rows both write into;
before each call ``--evict-mb`` of another buffer is read, as the engine's other work
between two cordons leaves the caches. Prints per force: cordons, free units and exits
(mean), the least total of each side over the rounds in µs per cordon and their ratio; and
checks that every best-first answer is the old kernel's, bit for bit (exit 1 if not).
Every cordon is taken best first here, whatever the number of free units (the engine
does so from ``Encirclement.LAZY_FROM_FREE``), so that the crossover shows. ``--in-engine``
times ``Encirclement._compiled_cordon_s`` inside engine runs instead (``in_engine``).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from child import default_town


def capture(officers: int, days: float) -> tuple[list, dict]:
    """The kept cordons of one engine run: a list of argument tuples (copies where the run writes)."""
    from sim.engine import encircle as E
    from sim.experiment.replicate import make_engine

    ctx, rep, incidents = default_town(days, [f"force.total_officers={officers}"])
    kept: list = []
    real = E.lazy_cordon

    def keep(t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, order, order_n,
             owner, *times):
        kept.append((t, code.copy(), ui.copy(), uf.copy(), flat, seg, out.copy(), slot, places.copy(), targets,
                     extras, bounds, n_circ, owner.copy(), times))
        return real(t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, order, order_n,
                    owner, *times)

    E.lazy_cordon = keep
    floor, E.Encirclement.LAZY_FROM_FREE = E.Encirclement.LAZY_FROM_FREE, 0     # every cordon best first
    try:
        make_engine(ctx, incidents, rep).run()
    finally:
        E.lazy_cordon = real
        E.Encirclement.LAZY_FROM_FREE = floor
    return kept, {"units": len(ctx.deployment.units), "incidents": len(incidents)}


def replay(kept: list, side: str, evict: np.ndarray | None) -> tuple[float, int, int, int]:
    """Total ns of one side over the kept cordons, in their order, how many answers differ from the old, and
    the units the search skipped and the side located (summed over the cordons)."""
    from sim.engine import cordon_kernels as CK
    from sim.engine import kernels as K
    from sim.engine.cordon_lazy import lazy_cordon, sort_circuits

    total, bad, skipped, located = 0, 0, 0, 0
    order = order_n = None
    for (t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, owner, times) in kept:
        o = out.copy()
        if side == "new" and (order is None or order.shape != bounds.shape):
            # the run's cache of sorted circuits: made afresh when the bounds grow, kept across cordons
            order = np.empty(bounds.shape, np.int64)
            order_n = np.full((bounds.shape[0], 2), -1, np.int64)
        if evict is not None:
            evict.sum()
        c0 = time.perf_counter_ns()
        if side == "old":
            got = CK.cordon_of_free_units(t, code, ui, uf, flat, seg, o, slot, targets, extras, *times)
        else:
            sort_circuits(order, order_n, places, bounds, n_circ)
            got = lazy_cordon(t, code, ui, uf, flat, seg, o, slot, places, targets, extras, bounds, n_circ, order,
                              order_n, owner, *times)
        total += time.perf_counter_ns() - c0
        was = (out[1] == K.SKIPPED) & (code > 0)
        skipped += int(was.sum())
        located += int((was & (o[1] != K.SKIPPED)).sum())
        if side == "new":
            want = CK.cordon_of_free_units(t, code, ui, uf, flat, seg, out.copy(), slot, targets, extras, *times)
            bad += not (got == want or (got != got and want != want))
    return total, bad, skipped, located


def off_circuit_groups(kept: list) -> tuple[float, float]:
    """Mean free units off their circuit per cordon, and their groups (same node, wait and mode)."""
    from sim.engine import kernels as K

    off, groups = [], []
    for (t, code, ui, uf, flat, seg, out, slot, places, targets, extras, bounds, n_circ, owner, times) in kept:
        on = (code == 1) | ((code == 2) & (ui[:, K.FIXED_NODE] < 0) & (t >= uf[:, K.LEG_TEND]))
        us = np.flatnonzero((code > 0) & ~on)
        off.append(us.size)
        groups.append(len({(int(out[1, u]), float(out[2, u]), int(slot[u])) for u in us.tolist()}))
    return (float(np.mean(off)), float(np.mean(groups))) if kept else (0.0, 0.0)


def in_engine(officers: int, days: float, rounds: int) -> dict:
    """``Encirclement._compiled_cordon_s`` timed call by call inside engine runs, the old way and best first in turn.

    Each round runs the engine once with every cordon read in full (``Encirclement.LAZY`` off) and once
    best first (from any number of free units), in ABBA order; per side the least mean µs per cordon
    over the rounds, and the engine's CPU µs per incident (least)."""
    from sim.engine import encircle as E
    from sim.experiment.replicate import make_engine

    ctx, rep, incidents = default_town(days, [f"force.total_officers={officers}"])
    make_engine(ctx, incidents, rep).run()
    acc = {"ns": 0, "n": 0}
    plain = E.Encirclement._compiled_cordon_s

    def timed(self, *a):
        c0 = time.perf_counter_ns()
        got = plain(self, *a)
        acc["ns"] += time.perf_counter_ns() - c0
        acc["n"] += 1
        return got

    best = {"old": np.inf, "new": np.inf}
    cpu = {"old": np.inf, "new": np.inf}
    saved = E.Encirclement.LAZY, E.Encirclement.LAZY_FROM_FREE
    E.Encirclement._compiled_cordon_s = timed
    E.Encirclement.LAZY_FROM_FREE = 0
    try:
        for r in range(rounds):
            for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
                E.Encirclement.LAZY = side == "new"
                acc["ns"] = acc["n"] = 0
                engine = make_engine(ctx, incidents, rep)
                c0 = time.process_time()
                engine.run()
                cpu[side] = min(cpu[side], (time.process_time() - c0) / len(incidents) * 1e6)
                best[side] = min(best[side], acc["ns"] / max(acc["n"], 1) / 1000.0)
    finally:
        E.Encirclement._compiled_cordon_s = plain
        E.Encirclement.LAZY, E.Encirclement.LAZY_FROM_FREE = saved
    return {"cordons": acc["n"], "us": best, "engine_us": cpu}


def main(argv=None) -> int:
    from sim.engine import cordon_kernels as CK

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--officers", default="240,1920")
    ap.add_argument("--days", type=float, default=60.0)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--evict-mb", type=float, default=2.0, help="MB read before each call (0: none; default 2, "
                    "twice the L2 cache: the state the engine's Python work between two cordons leaves)")
    ap.add_argument("--in-engine", action="store_true", help="time the cordon call by call inside engine runs "
                    "(in_engine) instead of replaying")
    args = ap.parse_args(argv)
    CK.compile_cordon_once()
    if args.in_engine:
        print(f"# python bench/cordon_ab.py {' '.join(argv if argv is not None else sys.argv[1:])}")
        print(f"{'officers':>8} {'cordons':>7} | {'old us':>7} {'best-first us':>13} {'old/new':>7} | "
              f"{'engine us/inc old':>17} {'best-first':>10}")
        for officers in [int(x) for x in args.officers.split(",")]:
            res = in_engine(officers, args.days, args.rounds)
            us, eng = res["us"], res["engine_us"]
            print(f"{officers:>8} {res['cordons']:>7} | {us['old']:>7.2f} {us['new']:>13.2f} "
                  f"{us['old'] / us['new']:>6.2f}x | {eng['old']:>17.1f} {eng['new']:>10.1f}", flush=True)
        return 0
    evict = np.ones(int(args.evict_mb * 2 ** 20) // 8) if args.evict_mb > 0 else None
    print(f"# python bench/cordon_ab.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"{'officers':>8} {'units':>5} {'cordons':>7} {'free':>5} {'off':>4} {'groups':>6} {'exits':>5} {'skipped':>7} "
          f"{'located':>7} | {'old us':>7} {'best-first us':>13} {'old/new':>7}")
    bad = 0
    for officers in [int(x) for x in args.officers.split(",")]:
        kept, info = capture(officers, args.days)
        best = {"old": np.inf, "new": np.inf}
        for r in range(args.rounds):
            for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
                total, wrong, skipped, located = replay(kept, side, evict)
                bad += wrong
                if side == "new":
                    n_skipped, n_located = skipped, located
                best[side] = min(best[side], total / max(len(kept), 1) / 1000.0)
        free = np.mean([int((c[1] > 0).sum()) for c in kept]) if kept else 0
        off, groups = off_circuit_groups(kept)
        exits = np.mean([c[8].size for c in kept]) if kept else 0
        per = max(len(kept), 1)
        print(f"{officers:>8} {info['units']:>5} {len(kept):>7} {free:>5.0f} {off:>4.1f} {groups:>6.1f} {exits:>5.1f} "
              f"{n_skipped / per:>7.1f} "
              f"{n_located / per:>7.1f} | {best['old']:>7.2f} {best['new']:>13.2f} {best['old'] / best['new']:>6.2f}x",
              flush=True)
    if bad:
        print(f"DIFFERENT ANSWERS: {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
