"""What building patrol circuits costs a replication of the scale town, step by step, at two grid sizes.

    python bench/circuit_cost.py                          # 200 m and 50 m blocks, cars, 3 days
    python bench/circuit_cost.py --blocks 200,50 --mix car --days 14 --runs 3

The town of ``bench/scale.py`` (same area, force and demand; only the block size changes).
Each block size runs in its own process: the world is prepared and the compiled loops
loaded, then ``--runs`` replications (index 0, the same work each time). The steps of
``Circuits._build`` (the named streams, the stops drawn, their order, the tour, the circuit's
lower bound per place, adding it and its bound row to the dispatch index; on graphs whose
bounds are worked out on demand, the bound search kept and added instead) and the nearest-node tables of
``Movement.nearest_on`` are wrapped with a timer; for each the least total over the runs is
printed, with the calls and microseconds per call, beside the replication's least CPU time.
A circuit is built per unit, level and period in every replication (its stops are drawn
from the replication's stream), so this is work each replication does again whatever its
length: on the 13,002-node town it is the largest share of the gap to the 847-node town
in a 3-day replication.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STEPS = ("stream", "choose_stops", "order_stops", "build_circuit", "circuit_lower_bound_s")


def child(block_m: float, days: float, mix: str, runs: int) -> None:
    """One block size in this process; prints one RESULT line."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(REPO))
    import scale

    from sim.engine import duty as D
    from sim.engine import kernels
    from sim.engine.dispatch_index import DispatchIndex
    from sim.engine import units as U
    from sim.experiment import prepare, run_replication
    from sim.experiment.replicate import load_loops
    from sim.scenario import scenario_from_dict

    ctx = prepare(scenario_from_dict(scale.scenario_dict(block_m, days, mix)), quiet=True)
    kernels.compile_once()
    load_loops()
    for name in ("cordon_jit", "walk_handle"):
        __import__(f"sim.engine.{name}", fromlist=["warm"]).warm()
    totals: dict = {}
    counts: dict = {}

    def timed(owner, name, label):
        fn = getattr(owner, name)

        def wrapper(*a, **k):
            t0 = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                totals[label] = totals.get(label, 0.0) + time.process_time() - t0
                counts[label] = counts.get(label, 0) + 1
        setattr(owner, name, wrapper)

    for name in STEPS:                        # the names duty.py calls, as imported there
        timed(D, name, name)
    timed(D.Circuits, "_build", "all of Circuits._build")
    timed(DispatchIndex, "add_circuit", "add_circuit (bound row kept)")
    from sim.network.travel import TravelOracle
    if hasattr(TravelOracle, "bound_params_from_set"):      # bounds kept on demand (large graphs)
        timed(TravelOracle, "bound_params_from_set", "bound search kept (on demand)")
        timed(DispatchIndex, "add_circuit_bound", "add_circuit_bound (kept on demand)")
    timed(U.Movement, "nearest_on", "nearest node tables (nearest_on)")
    best: dict = {}
    replication = []
    for _ in range(runs):
        totals.clear()
        counts.clear()
        t0 = time.process_time()
        out = run_replication(ctx, 0)
        replication.append(time.process_time() - t0)
        for label, s in totals.items():
            best[label] = (min(s, best[label][0]) if label in best else s, counts[label])
    print("RESULT " + json.dumps({
        "block_m": block_m, "nodes": max(g.n_nodes for g in ctx.city.graphs.values()),
        "units": len(ctx.deployment.units), "incidents": int(len(out.incidents)),
        "replication_s": min(replication), "steps": best}), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", default="200,50", help="block sizes in metres (default 200,50)")
    ap.add_argument("--days", type=float, default=3.0, help="simulated days (default 3)")
    ap.add_argument("--mix", default="car", help="force, as bench/scale.py's --kinds (default car)")
    ap.add_argument("--runs", type=int, default=3, help="replications per block size; least counts (default 3)")
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        child(args.child, args.days, args.mix, args.runs)
        return 0
    print(f"# circuit cost, {args.mix}, {args.days:g} days, least of {args.runs} replications; "
          f"python bench/circuit_cost.py --blocks {args.blocks} --mix {args.mix} --days {args.days:g}")
    for block in (float(b) for b in args.blocks.split(",")):
        cmd = [sys.executable, __file__, "--child", f"{block:g}", "--days", f"{args.days:g}",
               "--mix", args.mix, "--runs", str(args.runs)]
        env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**__import__("os").environ, **env})
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            sys.exit(f"error: block {block:g} failed:\n{proc.stderr}")
        r = json.loads(lines[-1][len("RESULT "):])
        rep_ms = r["replication_s"] * 1e3
        print(f"{r['block_m']:g} m blocks: {r['nodes']:,} nodes, {r['units']} units, {r['incidents']:,} incidents, "
              f"replication {rep_ms:.1f} ms")
        for label, (s, n) in sorted(r["steps"].items(), key=lambda kv: -kv[1][0]):
            print(f"  {label:<34} {s * 1e3:7.1f} ms {100 * s * 1e3 / rep_ms:5.1f}%  {n:5d} calls "
                  f"{s / n * 1e6:8.1f} us/call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
