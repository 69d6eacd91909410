"""Two compiled calls of the dispatch path timed in a loop, each against the way it was called before.

    python bench/call_overhead.py

On the default town (``scenarios/default.yaml``, after a 2-day engine run so that the
dispatch index holds real states), prints microseconds per call, CPU time, least of
``--rounds``:

- ``nearest_unit`` through numba's dispatcher (which finds the type of each of its
  fifteen arguments first) against its compiled entry point (``kernels.direct``, what the
  search calls now), with the engine's own arguments;
- one row of ``TravelOracle.metres_from`` by the numpy pointer jumping the oracle ran
  before (kept in ``tests/network/test_metres_row.py``) against the compiled
  ``sim.network.metres_jit.metres_row``, over every source node of the drive graph.

In a loop the data stay in the CPU's caches; inside a run they do not, so read these as
the calls' own overhead, not their share of a run (``bench/search_call.py`` times the
search inside a run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def per_call_us(fn, n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        c = time.process_time()
        for k in range(n):
            fn(k)
        best = min(best, time.process_time() - c)
    return best / n * 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="loops of each; the least CPU time counts (default 3)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO / "tests" / "network"))
    from test_metres_row import numpy_metres_from

    from sim.demand import sample_incidents
    from sim.engine import kernels as K
    from sim.experiment import prepare
    from sim.experiment.replicate import make_engine
    from sim.network.metres_jit import metres_row
    from sim.scenario_file import load_scenario
    from sim.streams import replication_seed

    sc = load_scenario(REPO / "scenarios" / "default.yaml", overrides=["horizon_days=2", "replications=1",
                                                                       "warmup_days=0"])
    ctx = prepare(sc, quiet=True)
    rep = replication_seed(sc.seed, 0)
    engine = make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)
    engine.run()
    search = engine.search
    kargs = search._kernel_args
    n_places = engine.city.n_places
    direct = K.direct(K.nearest_unit, (0, 3600.0, False) + kargs)
    assert direct is not K.nearest_unit, "no compiled entry point found"
    t = float(engine.env.now)
    print(f"# default town, {len(engine.units)} units; least of {args.rounds} loops, CPU")
    print(f"{'call':<44} {'us per call':>11}")
    for name, fn in (("nearest_unit through the dispatcher", K.nearest_unit), ("nearest_unit, compiled entry point", direct)):
        us = per_call_us(lambda k, fn=fn: fn(k % n_places, t, False, *kargs), 20_000, args.rounds)
        print(f"{name:<44} {us:>11.2f}")
    o = ctx.travel["drive"].oracle
    n = o.n_nodes
    metres_row(o._pred_row(0), 0, o._edge_key, o._edge_m)
    for name, fn in (("metres row, numpy pointer jumping", lambda s: numpy_metres_from(o, s, o._pred_row(s))),
                     ("metres row, compiled (metres_jit)",
                      lambda s: metres_row(o._pred_row(s), s, o._edge_key, o._edge_m))):
        us = per_call_us(lambda k, fn=fn: fn(k % n), n, args.rounds)
        print(f"{name:<44} {us:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
