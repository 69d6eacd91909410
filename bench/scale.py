"""Scale benchmark: per-incident cost and peak memory as the street grid gets finer, old backends against new.

    python bench/scale.py                               # the full table (about 15 minutes)
    python bench/scale.py --days 3 --blocks 200,50 --kinds car,bicycle,foot,motorbike
    python bench/scale.py --blocks 200,50 --backends bounded,kernel --kinds ''
    python bench/scale.py --days 14 --blocks 200,50 --kinds car --no-mixed --backends kernel --old ../old --calls

The town keeps its area (32 km², so that the finest grid the scenario allows,
50 m blocks, gives about 13,000 nodes), its population, demand, stations and force
(the default scenario's 240 officers and incident rate); only ``block_m`` changes
(``network.synthetic.block_m``), from 200 m (about 850 nodes) to 50 m (about 13,000),
with ``arterial_every`` scaled so that the main roads stay 1 km apart.
Each point is one replication in a fresh Python process (one thread), so its peak
memory (``ru_maxrss``) is its own. Per-incident cost is the replication's CPU time
divided by the incidents it dispatched; the network and its oracles are built, and
the compiled dispatch search of small graphs loaded (numba, about 0.4 s of CPU, which
counted as about 500 µs per incident of a 3-day run at 847 nodes before it was moved
here), and the large graphs' compiled walks (``sim.engine.cordon_jit``,
``sim.engine.best_first_jit``), before the timer starts; their time is shown apart ("prep s").

The travel backend of graphs above ``FULL_MATRIX_MAX_NODES`` is chosen with the
environment variable ``PATROLSIM_TRAVEL_BACKEND``: ``per-target`` (a full scipy
Dijkstra per target and per route source), ``bounded`` (scipy searches per target
stopped at a guessed limit, ``sim/network/bounded.py``) and ``kernel`` (the default:
compiled, resumable searches, ``sim/network/searches.py``). Below that size all use
the full matrix, so their figures there differ only by noise. The backends of a
point run one after the other, so that the machine's load hits them alike;
``--next`` also times replication 1 in the same process after replication 0 (column
"next"): what each further replication of a run or a sweep's worker costs, with the
process's lazily filled caches warm (another seed, so not the first's questions again).
``--repeat N`` runs every point N times in rounds (a round runs every point; a force's
grids run one after the other, fine first in every other round, and the backends
alternate) and keeps each backend's smallest CPU time; the ratio of the finest grid
to the coarsest is also printed round by round (median and range). ``--old TREE`` also runs every backend with the code of
another tree of the repository (e.g. a worktree of main), alternating with this one,
in columns marked "old": the same town, seed and measurement for both.

The rows use the default town's mix of cars, bicycles and foot officers; ``--kinds``
adds one-kind forces (all cars, all bicycles, all on foot, all motorbikes) at the
coarsest and the finest grid, where every unit travels on its own kind's network
(drive, bike, walk; motorbikes on the drive network at their own speed). The last
lines give, per force and backend, the finest grid's cost per incident over the
coarsest's (the goal of issue 14: at most 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AREA_KM2 = 32.0
DEFAULT_BLOCKS = "200,135,100,80,67,50"
ARTERIAL_SPACING_M = 1000.0
MIXES = {"mixed": {"car": 0.6, "bicycle": 0.2, "foot": 0.2}, "car": {"car": 1.0},
         "bicycle": {"bicycle": 1.0}, "foot": {"foot": 1.0}, "motorbike": {"motorbike": 1.0}}
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def arterial_every(block_m: float) -> int:
    """Streets between arterials so that arterials stay about 1 km apart at every block size.

    The finer grid adds local streets, not main roads: the same town, with the same
    major roads (which also set the cordon exits of major incidents).
    """
    return max(2, int(round(ARTERIAL_SPACING_M / block_m)))


def scenario_dict(block_m: float, days: float, mix: str) -> dict:
    """The default town's force and demand on a 32 km² grid of ``block_m`` blocks."""
    return {
        "name": f"scale-{block_m:g}m-{mix}",
        "seed": 20261128,
        "horizon_days": days,
        "warmup_days": 0,
        "replications": 1,
        "network": {"synthetic": {"seed": 7, "area_km2": AREA_KM2, "population": 200000,
                                  "block_m": block_m, "arterial_every": arterial_every(block_m),
                                  "stations": 4, "exits": 6},
                    "speeds": {"emergency_speed_factor": 1.1}},
        "demand": {"incidents_per_day": 260, "spatial": "population", "call_handling_mean_s": 90},
        "force": {"total_officers": 240, "crew": {"car": 2, "bicycle": 1, "foot": 2},
                  "mix": MIXES[mix], "turnout_s": 120},
        "alert": {"level": "green", "patrol_share": {"green": 0.2, "yellow": 0.4, "orange": 0.6,
                                                      "red": 0.8}},
    }


def child(block_m: float, days: float, mix: str, repo: Path = REPO, calls: bool = False, next_rep: bool = False
          ) -> None:
    """Run one point (with the code of ``repo``) in this process and print one RESULT line.

    ``next_rep``: then time replication 1 in the same process as well (``next_us_per_incident``): what
    each further replication of a run (``patrolsim run``'s default is 3) or of a sweep's worker costs, once
    the process's lazily filled caches (the routes of drives asked for, pandas' first string columns)
    hold what the first left; another seed, so not the first's questions again.

    ``calls``: after the timed replication, run it again under cProfile and report the Python
    function calls (and C calls cProfile sees: numpy, the compiled loops' entry points) per
    incident, a count the machine's load does not move (the second run finds the caches the first
    left, in both trees alike).
    """
    import resource

    sys.path.insert(0, str(repo))
    from sim.experiment import prepare, run_replication
    from sim.scenario import scenario_from_dict

    t0 = time.perf_counter()
    ctx = prepare(scenario_from_dict(scenario_dict(block_m, days, mix)), quiet=True)
    # numba's import and the compiled loops' load from its cache (about 0.5-1.5 s of CPU) go
    # into "prep s" at every size, not into the small graphs' µs/inc only (the large ones
    # already load them in prepare, with the kernel backend's searches); an older tree
    # (--old) may lack some of the loops
    try:
        from sim.engine import kernels
    except ImportError:
        kernels = None
    for name in ("compile_once", "compile_cordon_once"):
        getattr(kernels, name, lambda: None)()
    try:                              # and the shift change's and the tables' loops (newer trees)
        from sim.experiment.replicate import load_loops
    except ImportError:
        try:
            from sim.engine.warm import load_loops
        except ImportError:
            load_loops = None
    if load_loops is not None:
        load_loops()
    # the large graphs' compiled walks (sixth session on; walk_handle: the dispatch walk behind one handle)
    for name in ("cordon_jit", "best_first_jit", "walk_handle"):
        try:
            __import__(f"sim.engine.{name}", fromlist=["warm"]).warm()
        except ImportError:
            pass
    t1 = time.perf_counter()
    c1 = time.process_time()
    out = run_replication(ctx, 0)
    c2 = time.process_time()
    n_inc = int(len(out.incidents))
    nodes = {m: g.n_nodes for m, g in ctx.city.graphs.items()}
    # nodes reached by the kernel backend's searches (columns, A* pairs): counts, free of the machine's noise
    kernels = {id(k): k for k in (mt.oracle._kernel for mt in ctx.travel.values()) if k is not None}
    reached = sum(k.settled for k in kernels.values())
    # (A* pairs to the twelfth session; then paths read from the hub labels: their nodes)
    reached_pairs = sum(getattr(k, "path_nodes", getattr(k, "pair_reached", 0)) for k in kernels.values())
    reached_bounds = sum(getattr(k, "bound_reached", 0) for k in kernels.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0      # the timed replication's
    next_us = None
    if next_rep:
        c3 = time.process_time()
        again = run_replication(ctx, 1)
        next_us = (time.process_time() - c3) / max(len(again.incidents), 1) * 1e6
    calls_per_incident = None
    if calls:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        again = run_replication(ctx, 0)
        prof.disable()
        calls_per_incident = sum(v[1] for v in pstats.Stats(prof).stats.values()) / max(len(again.incidents), 1)
    print("RESULT " + json.dumps({
        "block_m": block_m, "mix": mix, "nodes": max(nodes.values()), "units": len(ctx.deployment.units),
        "incidents": n_inc, "prepare_s": t1 - t0, "replication_cpu_s": c2 - c1,
        "us_per_incident": (c2 - c1) / max(n_inc, 1) * 1e6, "next_us_per_incident": next_us,
        "reached_per_incident": reached / max(n_inc, 1),
        "pair_reached_per_incident": reached_pairs / max(n_inc, 1),
        "bound_reached_per_incident": reached_bounds / max(n_inc, 1),
        "calls_per_incident": calls_per_incident,
        "peak_mb": peak_mb,
        "backend": os.environ.get("PATROLSIM_TRAVEL_BACKEND", "kernel")}), flush=True)


def run_point(block_m: float, days: float, mix: str, backend: str, repo: Path = REPO, calls: bool = False,
              next_rep: bool = False) -> dict:
    env = {**os.environ, **ONE_THREAD, "PATROLSIM_TRAVEL_BACKEND": backend,
           "PYTHONPATH": str(repo)}
    cmd = [sys.executable, __file__, "--child", f"{block_m:g}", "--days", f"{days:g}", "--mix", mix,
           "--repo", str(repo)] + (["--calls"] if calls else []) + (["--next"] if next_rep else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd[2:])} with backend {backend} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def _pairs_reversed(points: list) -> list:
    """``points`` with each force's run of grids reversed (fine first), the forces in the same order."""
    out: list = []
    for mix in dict.fromkeys(m for _, m in points):
        out += [p for p in points if p[1] == mix][::-1]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=3.0, help="simulated days per point (default 3)")
    ap.add_argument("--blocks", default=DEFAULT_BLOCKS,
                    help=f"block sizes in metres (default {DEFAULT_BLOCKS})")
    ap.add_argument("--backends", default="per-target,bounded,kernel", help="backends to compare, in this order")
    ap.add_argument("--kinds", default="car,bicycle,foot,motorbike",
                    help="one-kind forces run at the coarsest and the finest grid (default car,bicycle,foot,"
                         "motorbike; '' for none)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds: runs per point and backend (the fastest is kept; "
                    "the ratio is also given round by round)")
    ap.add_argument("--no-mixed", action="store_true", help="skip the rows of the default mixed force")
    ap.add_argument("--old", default=None,
                    help="another tree of the repository (e.g. a worktree of main): each backend also runs "
                         "there, alternating with this tree, in columns marked old")
    ap.add_argument("--next", action="store_true",
                    help="also time replication 1 in the same process after replication 0 (the cost of each "
                         "further replication of a run, its caches warm; column 'next')")
    ap.add_argument("--calls", action="store_true",
                    help="also count the Python calls per incident (cProfile of the replication run again "
                         "after the timed one; a count the machine's load does not move)")
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--repo", default=str(REPO), help=argparse.SUPPRESS)
    ap.add_argument("--mix", default="mixed", choices=sorted(MIXES), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        child(args.child, args.days, args.mix, Path(args.repo), args.calls, args.next)
        return 0
    blocks = [float(b) for b in args.blocks.split(",") if b]
    backends = [b for b in args.backends.split(",") if b]
    old = Path(args.old).resolve() if args.old else None
    # columns: (label, backend, tree); with --old each backend runs in the old tree first
    cols = [c for b in backends for c in ([(f"old {b}", b, old)] if old else []) + [(b, b, REPO)]]
    points = [] if args.no_mixed else [(b, "mixed") for b in blocks]
    for k in (k for k in args.kinds.split(",") if k):
        points += [(max(blocks), k), (min(blocks), k)] if len(blocks) > 1 else [(blocks[0], k)]
    print(f"# scale benchmark {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {args.days:g} days "
          f"per point, {AREA_KM2:g} km2, python bench/scale.py {' '.join(argv or sys.argv[1:])}")
    head = f"{'block_m':>7} {'force':>7} {'nodes':>6} {'units':>5} {'incid.':>6}"
    for label, _, _ in cols:
        head += f" | {label + ' us/inc':>18} {'peak MB':>7} {'prep s':>6}" + (f" {'next':>5}" if args.next else "")
    print(head, flush=True)
    # rounds outermost (``--repeat``), each point's backends and trees alternating within a round, and a
    # force's coarse and fine grids run one after the other (the order reversed every other round): the
    # ratio of a round compares runs made close together, so a change in the machine's load during the
    # command falls on both alike; the table keeps each column's least CPU time (load only ever adds to it)
    runs: dict = {p: {label: [] for label, _, _ in cols} for p in points}
    for r in range(max(1, args.repeat)):
        for block_m, mix in (points if r % 2 == 0 else _pairs_reversed(points)):
            for label, b, tree in (cols if r % 2 == 0 else cols[::-1]):
                runs[(block_m, mix)][label].append(run_point(block_m, args.days, mix, b, tree, args.calls,
                                                                          args.next))
    # the first replication's cost per incident, and with --next the next replication's ("next")
    measures = {"us_per_incident": ""} | ({"next_us_per_incident": "next replication: "} if args.next else {})
    cost: dict = {}
    for block_m, mix in points:
        res = {label: min(rs, key=lambda x: x["us_per_incident"]) for label, rs in runs[(block_m, mix)].items()}
        r0 = res[cols[0][0]]
        row = f"{block_m:>7g} {mix:>7} {r0['nodes']:>6} {r0['units']:>5} {r0['incidents']:>6}"
        for label, _, _ in cols:
            r = res[label]
            row += f" | {r['us_per_incident']:>18.0f} {r['peak_mb']:>7.0f} {r['prepare_s']:>6.1f}"
            for m in measures:                 # each measure's least over the rounds
                cost[(mix, block_m, label, m)] = min(x[m] for x in runs[(block_m, mix)][label])
            if args.next:
                row += f" {cost[(mix, block_m, label, 'next_us_per_incident')]:>5.0f}"
        for label, _, _ in cols:
            r = res[label]
            if r.get("calls_per_incident") is not None:
                row += f"  ({label}: {r['calls_per_incident']:,.1f} calls per incident)"
        for label, _, _ in cols:
            r = res[label]
            if r["reached_per_incident"] or r["pair_reached_per_incident"]:
                row += (f"  ({label}: nodes reached per incident {r['reached_per_incident']:,.0f} by columns, "
                        f"{r['pair_reached_per_incident']:,.0f} by A* or on paths read from the labels"
                        + (f", {r['bound_reached_per_incident']:,.0f} by circuit bounds"
                           if r.get("bound_reached_per_incident") else "") + ")")
        print(row, flush=True)
    if len(blocks) > 1:
        coarse, fine = max(blocks), min(blocks)
        print(f"# cost per incident at {fine:g} m blocks over {coarse:g} m (goal: at most 2); with --repeat above "
              "one, also round by round (median, range: how far the machine's load moves it)")
        for mix in dict.fromkeys(m for _, m in points):
            if (coarse, mix) not in runs or (fine, mix) not in runs:
                continue
            for m, title in measures.items():
                parts = []
                for label, _, _ in cols:
                    part = f"{label} {cost[(mix, fine, label, m)] / cost[(mix, coarse, label, m)]:.2f}x"
                    if args.repeat > 1:
                        g = sorted(f[m] / c[m] for c, f in zip(runs[(coarse, mix)][label], runs[(fine, mix)][label]))
                        part += f" (rounds median {statistics.median(g):.2f}x, {g[0]:.2f}-{g[-1]:.2f})"
                    parts.append(part)
                print(f"{mix:>15} {title}" + "   ".join(parts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
