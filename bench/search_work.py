"""Search work per incident on the 13,002-node town, by caller, and whether the runs are the same.

    python bench/search_work.py                            # this tree, every force
    python bench/search_work.py --old ../old-tree --kinds mixed,car

Counts, not times, so the figures do not depend on the machine's load: for one
replication of ``bench/scale.py``'s town (50 m blocks, 3 days by default) on the kernel
backend, the nodes reached per incident by each kind of search, split by the engine
step that asked (a throw-away wrapper around the steps, set up in the child process):
columns of the cordon measure, A* pair searches (to the twelfth session; then paths read
from the hub labels, "label paths", counted as their nodes) of the dispatch search (``eta_s``), of
ordering a circuit's stops and joining its legs, of drives back to a circuit, and the
searches for a new circuit's lower bounds (``bound``: the full search of the old tree,
counted as the graph's nodes; the A* searches of the compiled walks of the cordon and the
dispatch search, which do not go through the oracle's ``_pair``, are counted from the
walks' own counters). Each run also prints a hash of its engine outputs
(incidents with their dispatches, arrivals and cordon times, unit accounts, staffing,
alert levels, visibility): with ``--old`` both trees run in fresh processes, one after
the other, and the hashes must be equal (the work changes, not the results).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: engine steps whose searches are counted apart: (module, attribute path, label)
STEPS = [("sim.engine.duty", "order_stops", "order stops"),
         ("sim.engine.duty", "build_circuit", "circuit legs"),
         ("sim.engine.duty", "circuit_lower_bound_s", "bound"),
         ("sim.engine.search", "UnitSearch.eta_s", "dispatch"),
         ("sim.engine.search", "UnitSearch._best_first", "dispatch"),
         ("sim.engine.search", "UnitSearch._best_first_compiled", "dispatch"),
         ("sim.engine.units", "Movement.join_circuit", "rejoin"),
         ("sim.engine.rejoin", "Rejoin._drive", "rejoin"),           # the shift change in one pass
         ("sim.engine.encircle", "Encirclement.seconds_s", "cordon")]


def _wrap_steps(tag: list) -> None:
    import importlib

    for mod_name, path, label in STEPS:
        mod = importlib.import_module(mod_name)
        owner, _, name = path.rpartition(".")
        holder = getattr(mod, owner) if owner else mod
        f = getattr(holder, name, None)
        if f is None:                   # a tree without this step: its work counts as "other"
            continue

        def wrapped(*a, _f=f, _label=label, **k):
            old = tag[0]
            tag[0] = _label
            try:
                return _f(*a, **k)
            finally:
                tag[0] = old
        setattr(holder, name, functools.wraps(f)(wrapped))


def _wrap_searches(tag: list, nodes: Counter, calls: Counter) -> None:
    from sim.network import searches as S

    cls = S.SearchColumns
    pair, advance, full = cls._pair, cls._advance, cls.from_sources

    def route_counts(oracle) -> tuple[str, int, int]:
        """(kind, nodes, calls) of the oracle's route questions so far: A* searches to the twelfth
        session (``pair_reached``, ``pair_searches``), then paths read from the hub labels' steps."""
        if hasattr(oracle, "paths_read"):
            return "label paths", oracle.path_nodes, oracle.paths_read
        return "A*", oracle.pair_reached, oracle.pair_searches

    def counted_a_star(method):
        """``method`` of SearchColumns with its route questions counted (``route_counts``)."""
        def counted(self, *a, **k):
            _, n0, c0 = route_counts(self)
            out = method(self, *a, **k)
            kind, n1, c1 = route_counts(self)
            nodes[(kind, tag[0])] += n1 - n0
            calls[(kind, tag[0])] += c1 - c0
            return out
        return counted
    counted_pair = counted_a_star(pair)

    def counted_advance(self, *a, **k):
        n0 = self.settled
        advance(self, *a, **k)
        nodes[("columns", tag[0])] += self.settled - n0
        calls[("columns", tag[0])] += 1

    def counted_full(self, *a, **k):
        out = full(self, *a, **k)
        nodes[("full", tag[0])] += self.n
        calls[("full", tag[0])] += 1
        return out

    cls._pair, cls._advance, cls.from_sources = counted_pair, counted_advance, counted_full
    tour = getattr(cls, "tour", None)     # a circuit's legs searched in one compiled call (eighth session on)
    if tour is not None:
        cls.tour = counted_a_star(tour)
    try:                        # the compiled walks ask their pairs themselves (A* to the seventh session, then the labels)
        from sim.engine.cordon import CompiledCordon
    except ImportError:
        CompiledCordon = None
    try:
        from sim.engine.search import UnitSearch
    except ImportError:
        UnitSearch = None
    walks = [(CompiledCordon, "seconds_s"), (UnitSearch, "_best_first_compiled")]
    for owner, name in walks:
        walk = getattr(owner, name, None)
        if walk is None:
            continue

        def counted_walk(self, *a, _walk=walk, **k):
            n0, c0 = getattr(self, "reached", 0), self.searches       # older trees count the nodes searched
            out = _walk(self, *a, **k)
            reached = getattr(self, "reached", 0) - n0
            kind = "A*" if reached else "labels"                      # a pair the labels answer reaches no node
            nodes[(kind, tag[0])] += reached
            calls[(kind, tag[0])] += self.searches - c0
            return out
        setattr(owner, name, functools.wraps(walk)(counted_walk))
    bounded = getattr(cls, "lower_bounds_from_set", None)
    if bounded is not None:
        def counted_bounds(self, *a, **k):
            n0 = self.bound_reached
            out = bounded(self, *a, **k)
            nodes[("bounded", tag[0])] += self.bound_reached - n0
            calls[("bounded", tag[0])] += 1
            return out
        cls.lower_bounds_from_set = counted_bounds


def child(block_m: float, days: float, mix: str) -> None:
    sys.path.insert(0, str(HERE))
    import scale
    from sim.experiment import prepare, run_replication
    from sim.scenario import scenario_from_dict

    tag, nodes, calls = ["other"], Counter(), Counter()
    _wrap_searches(tag, nodes, calls)      # first: the steps' tags wrap the compiled walks' counts
    _wrap_steps(tag)
    ctx = prepare(scenario_from_dict(scale.scenario_dict(block_m, days, mix)), quiet=True)
    nodes.clear()
    calls.clear()
    c0 = time.process_time()
    out = run_replication(ctx, 0)
    cpu_s = time.process_time() - c0
    h = hashlib.sha256()
    for df in [out.incidents, out.units] + [out.tables[k] for k in sorted(out.tables)]:
        h.update(df.to_csv(index=False, float_format="%.17g").encode())
    n_inc = max(len(out.incidents), 1)
    print("RESULT " + json.dumps({
        "mix": mix, "incidents": len(out.incidents), "cpu_s": cpu_s, "hash": h.hexdigest()[:16],
        "nodes": {f"{kind}: {step}": v / n_inc for (kind, step), v in nodes.items()},
        "searches": {f"{kind}: {step}": v for (kind, step), v in calls.items()}}), flush=True)


def run(repo: Path, block_m: float, days: float, mix: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(repo), "PATROLSIM_TRAVEL_BACKEND": "kernel",
           **{k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    cmd = [sys.executable, __file__, "--child", f"{block_m:g}", "--days", f"{days:g}", "--kinds", mix]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"error: {mix} in {repo} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=3.0, help="simulated days (default 3)")
    ap.add_argument("--block", type=float, default=50.0, help="block size in metres (default 50: 13,002 nodes)")
    ap.add_argument("--kinds", default="mixed,car,bicycle,foot,motorbike", help="forces, as in bench/scale.py")
    ap.add_argument("--old", default=None, help="another tree of the repository, run first (same town and seed)")
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        child(args.child, args.days, args.kinds)
        return 0
    trees = ([("old", Path(args.old).resolve())] if args.old else []) + [("new", REPO)]
    print(f"# search work, {args.block:g} m blocks, {args.days:g} days, kernel backend; nodes reached per incident")
    same = True
    for mix in [m for m in args.kinds.split(",") if m]:
        res = {name: run(repo, args.block, args.days, mix) for name, repo in trees}
        keys = sorted(set().union(*(r["nodes"] for r in res.values())),
                      key=lambda k: -max(r["nodes"].get(k, 0.0) for r in res.values()))
        print(f"\n{mix}: " + ", ".join(f"{n} hash {r['hash']} ({r['cpu_s']:.2f} s CPU)" for n, r in res.items()))
        print(f"  {'search: step':26s}" + "".join(f"{n + ' nodes':>12s}{n + ' searches':>14s}" for n in res))
        for k in keys:
            print(f"  {k:26s}" + "".join(f"{r['nodes'].get(k, 0.0):12,.0f}{r['searches'].get(k, 0):14,d}"
                                         for r in res.values()))
        print(f"  {'total':26s}" + "".join(f"{sum(r['nodes'].values()):12,.0f}{sum(r['searches'].values()):14,d}"
                                           for r in res.values()))
        if len({r["hash"] for r in res.values()}) > 1:
            same = False
            print("  THE RUNS DIFFER")
    if args.old:
        print("\nsame engine outputs in both trees" if same else "\nTHE TREES GIVE DIFFERENT RESULTS")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
