"""One shortest-path search, compiled kernel against scipy: cost per call and per node reached.

    python bench/kernel_vs_scipy.py                  # the 50 m grid of bench/scale.py (13,002 nodes)
    python bench/kernel_vs_scipy.py --block 200 --searches 400

On the drive graph of the scale benchmark's town, the same random targets are searched
on the reversed graph by ``scipy.sparse.csgraph.dijkstra`` (``indices=target``, with
``limit=`` for the bounded rows) and by the kernel backend's loop
(``sim/network/dijkstra_jit.py``, arrays reused and cleared at the nodes reached, as
``sim/network/searches.py`` does). The two alternate in rounds, so that the load of a
shared machine hits both alike; each figure is the smallest of the rounds. Both are
checked to give the same seconds (within 1e-6 s) before timing.
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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--block", type=float, default=50.0, help="block size in metres (default 50)")
    ap.add_argument("--searches", type=int, default=200, help="targets per round (default 200)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    from scipy.sparse.csgraph import dijkstra

    import scale
    from sim.network import searches
    from sim.network.build import load_city
    from sim.network.travel import TravelOracle
    from sim.scenario import scenario_from_dict

    city = load_city(scenario_from_dict(scale.scenario_dict(args.block, 1.0, "car")), quiet=True)
    oracle = TravelOracle(city.graphs["drive"], backend="per-target")
    wt = oracle._wt
    rev = searches.csr_arrays(wt)
    jit = searches._jit()
    searches._warm(jit)
    n = wt.shape[0]
    dist, pred = np.full(n, np.inf), np.full(n, -1, np.int32)
    no_stop = np.empty(0, np.int64)

    def kernel(target: int, limit_s: float, want: np.ndarray | None = None) -> int:
        """Search ``target`` up to ``limit_s``; check against ``want`` (scipy's seconds) if given."""
        heap_s, heap_node, size, touched, n_t = jit.seed(
            dist, pred, np.empty(64), np.empty(64, np.int32), np.empty(64, np.int32), np.array([target], np.int64))
        _, _, _, touched, n_t, _ = jit.advance(*rev, dist, pred, heap_s, heap_node, size, touched, n_t,
                                               limit_s, no_stop)
        nodes = touched[:n_t]
        if want is not None:
            got = np.where(dist <= limit_s, dist, np.inf)
            assert np.array_equal(np.isinf(got), np.isinf(want)), "different nodes within the limit"
            fin = np.isfinite(want)
            assert np.abs(got[fin] - want[fin]).max() <= 1e-6, "different seconds"
        dist[nodes] = np.inf
        pred[nodes] = -1
        return n_t

    rng = np.random.default_rng(1)
    targets = rng.integers(0, n, args.searches).tolist()
    for t in targets[:20]:                           # the same seconds, full and bounded
        for lim in (np.inf, 120.0):
            kernel(t, lim, dijkstra(wt, directed=True, indices=t, limit=lim))
    print(f"# {n} nodes (drive graph, {args.block:g} m blocks), {args.searches} targets x {args.rounds} rounds")
    print(f"{'search':>14} | {'scipy us/call':>13} {'kernel us/call':>14} | {'nodes/call':>10} "
          f"{'scipy ns/node':>13} {'kernel ns/node':>14}")
    for label, lim in (("full", np.inf), ("limit 60 s", 60.0), ("limit 180 s", 180.0)):
        best_s = best_k = np.inf
        reached = 0
        for _ in range(args.rounds):
            t0 = time.process_time()
            for t in targets:
                if lim == np.inf:
                    dijkstra(wt, directed=True, indices=t)
                else:
                    dijkstra(wt, directed=True, indices=t, limit=lim)
            t1 = time.process_time()
            reached = 0
            for t in targets:
                reached += kernel(t, lim)
            t2 = time.process_time()
            best_s, best_k = min(best_s, t1 - t0), min(best_k, t2 - t1)
        per = reached / len(targets)
        us_s, us_k = best_s / len(targets) * 1e6, best_k / len(targets) * 1e6
        print(f"{label:>14} | {us_s:>13.0f} {us_k:>14.0f} | {per:>10.0f} {us_s / per * 1e3:>13.0f} "
              f"{us_k / per * 1e3:>14.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
