"""Time the compiled dispatch search's calls inside an engine run of the default town (issue 14).

    python bench/search_call.py --days 20 --officers 1920 --old ../other-checkout --rounds 2

Each run is its own process (``sim`` from the checkout): one engine run to warm the
caches, then a second whose calls to ``sim.engine.kernels.nearest_unit`` are timed one by
one (``process_time``: CPU time, so that other work on a shared machine does not count;
reading it twice per call, about a microsecond, is counted in). Inside a run the call meets cold caches (the Python work between
dispatches evicts them), so it costs far more than in a loop of calls; this shows that
cost. Prints, per run, the engine's CPU seconds, the calls, microseconds per call and the
share of the engine's time; with ``--old`` the two checkouts alternate (old, new, new, old).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from child import run_child

REPO = Path(__file__).resolve().parents[1]


def child(days: float, officers: int) -> None:
    from sim.demand import sample_incidents
    from sim.engine import search
    from sim.experiment import prepare
    from sim.experiment.replicate import make_engine
    from sim.scenario_file import load_scenario
    from sim.streams import replication_seed

    sc = load_scenario(REPO / "scenarios" / "default.yaml", overrides=[
        f"horizon_days={days:g}", "replications=1", f"force.total_officers={officers}"])
    ctx = prepare(sc, quiet=True)
    rep = replication_seed(sc.seed, 0)
    inc = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    make_engine(ctx, inc, rep).run()
    kernel = search.nearest_unit
    spent = [0.0, 0]

    def timed(*args):
        c = time.process_time()
        out = kernel(*args)
        spent[0] += time.process_time() - c
        spent[1] += 1
        return out
    search.nearest_unit = timed
    engine = make_engine(ctx, inc, rep)
    c0 = time.process_time()
    engine.run()
    cpu = time.process_time() - c0
    print("RESULT " + json.dumps({"engine_cpu_s": cpu, "calls": spent[1],
                                  "us_per_call": spent[0] / max(1, spent[1]) * 1e6, "share": spent[0] / cpu}))


def run(repo: Path, days: float, officers: int) -> dict:
    return run_child(__file__, ["--days", f"{days:g}", "--officers", str(officers)], repo)



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=20.0, help="simulated days (default 20)")
    ap.add_argument("--officers", type=int, default=1920, help="force.total_officers (default 1920)")
    ap.add_argument("--old", default=None, help="another checkout to run side by side")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each side (default 2)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.days, args.officers)
        return 0
    sides = {"new": REPO} if args.old is None else {"old": Path(args.old).resolve(), "new": REPO}
    order = list(sides)
    print(f"# python bench/search_call.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    for r in range(args.rounds):
        for s in (order if r % 2 == 0 else order[::-1]):
            got = run(sides[s], args.days, args.officers)
            print(f"{s:>4}: engine {got['engine_cpu_s']:.2f} s CPU, {got['calls']} calls, "
                  f"{got['us_per_call']:.1f} us per call ({got['share']:.0%} of the engine)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
