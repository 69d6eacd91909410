"""Hub labels against the kernel backend's A* pair searches: build time, size, and seconds per pair.

    python bench/hub_labels.py                          # the scale town at 50 m blocks (13,002 nodes)
    python bench/hub_labels.py --blocks 100,50 --modes drive,walk --pairs 3000 --radius-m 1500
    python bench/hub_labels.py --scenario scenarios/liechtenstein.yaml

For every travel mode of the network with more than ``FULL_MATRIX_MAX_NODES`` nodes (the
graphs that get no all-pairs matrix): the labels' build time (ranking the nodes and the
pruned searches, numba's compiled code loaded before the timer), their entries per label
and bytes, then ``--pairs`` random pairs of nodes at most ``--radius-m`` apart in a
straight line (the distances at which units are sent): the seconds per pair of the labels
(one compiled loop over all pairs) and of the A* search (``SearchColumns.astar``: what
every pair's time cost before the labels, and to the twelfth session a route's nodes; each
pair asked once, called from Python), side by side in the same process, and the largest
difference of their answers; then the seconds per pair of a route's nodes, from the A*
search (its path) and read from the labels' steps (``sim.network.label_paths.label_path``,
what a route's nodes cost now), both called from Python.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def near_pairs(graph, n_pairs: int, radius_m: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` random (source, target) node pairs at most ``radius_m`` apart in a straight line."""
    us, vs = [], []
    x, y, n = graph.x_m, graph.y_m, graph.n_nodes
    while len(us) < n_pairs:
        a, b = rng.integers(0, n, size=(2, 4 * n_pairs))
        keep = np.hypot(x[a] - x[b], y[a] - y[b]) <= radius_m
        us.extend(a[keep].tolist())
        vs.extend(b[keep].tolist())
    return np.array(us[:n_pairs], np.int64), np.array(vs[:n_pairs], np.int64)


def measure(name: str, ctx, modes: list[str] | None, n_pairs: int, radius_m: float) -> None:
    from sim.network import hub_labels as HL
    from sim.network.label_paths import label_path
    from sim.network.travel import FULL_MATRIX_MAX_NODES

    for mode, mt in ctx.travel.items():
        o = mt.oracle
        if o.n_nodes <= FULL_MATRIX_MAX_NODES or (modes and mode not in modes) or o._kernel is None:
            continue
        metres_of = lambda u, v: o.edge_lookup(u, v)[1]          # noqa: E731
        t0 = time.perf_counter()
        labels = HL.HubLabels.build(o._w, o._wt, metres_of)
        build_s = time.perf_counter() - t0
        rng = np.random.default_rng(1)
        us, vs = near_pairs(ctx.city.graphs[mode], n_pairs, radius_m, rng)
        out = np.empty(us.size)
        t0 = time.perf_counter()
        HL.seconds_of_pairs(*labels.walk_arrays, us, vs, out)
        label_s = time.perf_counter() - t0
        kernel = o._kernel
        t0 = time.perf_counter()
        astar = np.array([kernel.astar(int(u), int(v))[0] for u, v in zip(us.tolist(), vs.tolist())])
        astar_s = time.perf_counter() - t0
        diff = float(np.max(np.abs(astar - out)))
        pairs = list(zip(us.tolist(), vs.tolist()))
        read = [label_path(*labels.path_arrays, u, v) for u, v in pairs[:2]]      # loaded before the timer
        t0 = time.perf_counter()
        read = [label_path(*labels.path_arrays, u, v) for u, v in pairs]
        path_s = time.perf_counter() - t0
        assert all(p.size == 0 or (p[0] == u and p[-1] == v) for p, (u, v) in zip(read, pairs))
        print(f"{name:>22} {mode:>6} {o.n_nodes:>7,} {build_s:>8.2f} {labels.mean_hubs:>8.1f} "
              f"{labels.nbytes / 2**20:>8.1f} {label_s / us.size * 1e6:>10.2f} {astar_s / us.size * 1e6:>10.1f} "
              f"{astar_s / label_s:>8.0f}x {diff:>9.1e} {path_s / us.size * 1e6:>10.2f} "
              f"{astar_s / path_s:>8.1f}x", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", default="50", help="block sizes of the scale town, metres (default 50; '' none)")
    ap.add_argument("--scenario", action="append", default=[], help="also a scenario file (repeatable)")
    ap.add_argument("--modes", default="", help="travel modes, comma-separated (default: every large one)")
    ap.add_argument("--pairs", type=int, default=3000, help="pairs timed per graph (default 3000)")
    ap.add_argument("--radius-m", type=float, default=1500.0, help="straight-line metres between a pair's nodes")
    args = ap.parse_args(argv)

    import scale
    from sim.experiment import prepare
    from sim.network import hub_labels as HL
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import load_scenario

    warm = HL.HubLabels.build  # load the compiled loops before any timer: build a tiny graph's labels
    from scipy import sparse
    w = sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    warm(w, w.T.tocsr(), lambda u, v: np.ones(u.size))
    HL.seconds_of_pairs(np.zeros(4, np.int64), np.zeros(0), np.zeros(0, np.int32), np.zeros(1, np.int64),
                        np.zeros(1, np.int64), np.empty(1))
    modes = [m for m in args.modes.split(",") if m]
    print(f"{'network':>22} {'mode':>6} {'nodes':>7} {'build s':>8} {'hubs':>8} {'MiB':>8} "
          f"{'labels µs':>10} {'A* µs':>10} {'ratio':>9} {'max diff s':>9} {'path µs':>10} {'A*/path':>9}")
    for b in [float(x) for x in args.blocks.split(",") if x]:
        ctx = prepare(scenario_from_dict(scale.scenario_dict(b, 1, "mixed")), quiet=True)
        measure(f"scale town {b:g} m", ctx, modes, args.pairs, args.radius_m)
    for path in args.scenario:
        ctx = prepare(load_scenario(path), quiet=True)
        measure(Path(path).stem, ctx, modes, args.pairs, args.radius_m)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
