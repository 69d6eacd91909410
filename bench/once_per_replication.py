"""The work a replication does once, the plain way against the compiled way, in one process (same inputs).

    python bench/once_per_replication.py            # the Seattle drive graph (985 nodes)
    python bench/once_per_replication.py --repeat 7

A replication builds every unit's patrol circuits, the rejoin table of each circuit and,
as units drive, the metres rows of the nodes they start from. On the speed benchmark
(``bench/run_patrolsim.py``: 40 cars, 120 circuits, 953 metres rows in 30 days) this was
about a third of patrolsim's replication. Each line times one piece both ways on the same
inputs (least of ``--repeat`` rounds of CPU time) and checks that both give the same bits:

* metres rows: ``metres_row`` (the pointer jumping as it was, row by row), then
  ``metres_row_in_edges`` (row by row) and ``metres_table`` (every row in one call);
* circuits: 120 beat-like circuits (10 stops among 25 neighbouring nodes) joined leg by leg from ``route`` the way
  ``build_circuit`` did (a Python walk of the predecessors, ``edge_lookup``, ``cumsum``),
  against ``TravelOracle.tour`` (one compiled call per circuit);
* rejoin tables: ``NearestOnCircuit``'s table as numpy's distance matrix and ``argmin``
  against ``sim.network.nearest_jit.nearest_of_set``.

The compiled loops are loaded before timing (as ``kernels.compile_once`` does in a run).
Rows read one by one inside a replication cost more than here (cold caches between
dispatches); ``bench/seattle_ab.py`` measures the replication as a whole.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("PATROLSIM_CACHE_DIR", str(REPO / "networks" / "cache"))


def plain_route(o, source: int, target: int) -> tuple[list, list, list]:
    """``TravelOracle.route`` on a graph with the all-pairs tables, as it was written in Python."""
    if source == target:
        return [source], [0.0], [0.0]
    pred = o._pred_row(source)
    nodes = [target]
    while nodes[-1] != source:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    path = np.array(nodes, np.int64)
    step_s, step_m = o.edge_lookup(path[:-1], path[1:])
    return nodes, [0.0] + np.cumsum(step_s).tolist(), [0.0] + np.cumsum(step_m).tolist()


def plain_tour(o, stops: list[int]) -> tuple[list, list, list]:
    """``build_circuit``'s join of the legs as it was (fresh routes: a replication's first circuits)."""
    from sim.network.travel import join_legs

    return join_legs(lambda a, b: plain_route(o, a, b), stops)


def numpy_nearest(x: np.ndarray, y: np.ndarray, cn: np.ndarray) -> list:
    d2 = (x[:, None] - x[cn][None, :]) ** 2 + (y[:, None] - y[cn][None, :]) ** 2
    return cn[np.argmin(d2, axis=1)].tolist()


def least_cpu(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        c0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - c0)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="rounds per measurement; the least CPU time counts (5)")
    ap.add_argument("--osm", default=None, help="OSM extract (default: the speed benchmark's)")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(REPO / "bench"))
    import run_patrolsim as common
    from sim.engine import kernels
    from sim.network import TravelOracle
    from sim.network.metres_jit import metres_row, metres_row_in_edges, metres_table
    from sim.network.nearest_jit import nearest_of_set
    from sim.network.build import load_city

    scenario = common.bench_scenario(common.osm_path(args.osm), 30)
    graph = load_city(scenario, quiet=True).graphs["drive"]
    o = TravelOracle(graph)
    n = o.n_nodes
    kernels.compile_once()
    P = o._pred_full
    print(f"Seattle drive graph: {n} nodes, {graph.n_edges} edges; least CPU of {args.repeat} rounds\n")
    print(f"{'piece':44} {'plain':>10} {'compiled':>10} {'ratio':>7}  same")

    def row(name: str, plain_s: float, new_s: float, unit: str, per: int, same: bool) -> None:
        print(f"{name:44} {plain_s / per * 1e6:8.1f}{unit} {new_s / per * 1e6:8.1f}{unit} "
              f"{plain_s / new_s:6.2f}x  {'yes' if same else 'NO'}")

    t_old, rows_old = least_cpu(lambda: [metres_row(P[s], s, o._edge_key, o._edge_m) for s in range(n)],
                                args.repeat)
    t_row, rows_new = least_cpu(lambda: [metres_row_in_edges(P[s], s, o._in_ptr, o._in_from, o._in_m)
                                         for s in range(n)], args.repeat)
    t_tab, table = least_cpu(lambda: metres_table(P, o._in_ptr, o._in_from, o._in_m), args.repeat)
    same_rows = all(a.tobytes() == b.tobytes() for a, b in zip(rows_old, rows_new))
    same_tab = all(a.tobytes() == table[s].tobytes() for s, a in enumerate(rows_old))
    row("metres rows, one by one (us a row)", t_old, t_row, "us", n, same_rows)
    row("metres rows, every row in one call (us a row)", t_old, t_tab, "us", n, same_tab)
    print(f"{'':44} all {n} rows: {t_old * 1e3:.1f} ms plain, {t_tab * 1e3:.1f} ms in one call")

    # beat-like circuits: 10 stops among the 25 nodes nearest to a random node (40 beats of 985 nodes)
    rng = np.random.default_rng(1)
    x, y = graph.x_m, graph.y_m
    stop_sets = []
    for centre in rng.choice(n, 120).tolist():
        beat = np.argsort((x - x[centre]) ** 2 + (y - y[centre]) ** 2, kind="stable")[:25]
        stop_sets.append([int(s) for s in rng.choice(beat, 10, replace=False)])
    t_plain, plain = least_cpu(lambda: [plain_tour(o, st) for st in stop_sets], args.repeat)
    t_tour, tours = least_cpu(lambda: [o.tour(st) for st in stop_sets], args.repeat)
    same_tours = all(a[0] == b[0] and np.array(a[1]).tobytes() == np.array(b[1]).tobytes()
                     and np.array(a[2]).tobytes() == np.array(b[2]).tobytes() for a, b in zip(plain, tours))
    row("circuits of 10 stops joined (us a circuit)", t_plain, t_tour, "us", len(stop_sets), same_tours)

    cns = [np.asarray(t[0][:-1], np.int64) for t in tours]
    t_np, near_np = least_cpu(lambda: [numpy_nearest(x, y, cn) for cn in cns], args.repeat)
    t_jit, near_jit = least_cpu(lambda: [nearest_of_set(x, y, cn).tolist() for cn in cns], args.repeat)
    row("rejoin tables (us a circuit)", t_np, t_jit, "us", len(cns), near_np == near_jit)
    mean_nodes = np.mean([cn.size for cn in cns])
    print(f"\n(circuits: {mean_nodes:.0f} nodes on average)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
