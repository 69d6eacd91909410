"""Where a replication of the default town spends its CPU, part by part, at each force size (issue 14).

    python bench/town_parts.py --days 60 --officers 240,1920
    python bench/town_parts.py --days 60 --officers 240,1920 --old ../old-checkout --rounds 3

The goal this measures against: cost per incident within 1.5 times from 34 to 280 units
(``bench/town.py --sweep`` gives the ratio). A profiler's samples inflate Python work
against compiled work, so here each part is timed with ``time.perf_counter`` around its
calls inside one replication (``run_replication``, the caches warm from an engine run
and a replication before it), and the replication's own CPU seconds are printed beside
them. Parts (inclusive: a part's time holds the parts called inside it):

- ``shift changes``: ``Duty.shift_change`` (every unit's duty at each change of shift), of which
  ``circuits built`` (``Circuits._build``), ``rejoin plans`` (``Rejoin._plan``) and
  ``rejoin batch`` (``Rejoin.flush``: the compiled switch and the write-back per unit);
- ``dispatch search``: ``UnitSearch._search_compiled``;
- ``cordon``: ``Encirclement.seconds_s``;
- ``output tables``: ``replication_output`` (incident and unit tables, metrics, visibility).

The wrappers add about a third of a microsecond per call. Each point is its own process
(one thread); with ``--old`` the sides alternate (ABBA) and the least of the rounds is kept
per part.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from child import default_town, run_child

REPO = Path(__file__).resolve().parents[1]

#: (label, module, class or None, attribute)
PARTS = [
    ("shift changes", "sim.engine.duty", "Duty", "shift_change"),
    ("  circuits built", "sim.engine.duty", "Circuits", "_build"),
    ("  rejoin plans", "sim.engine.rejoin", "Rejoin", "_plan"),
    ("  rejoin batch", "sim.engine.rejoin", "Rejoin", "flush"),
    ("dispatch search", "sim.engine.search", "UnitSearch", "_search_compiled"),
    ("cordon", "sim.engine.encircle", "Encirclement", "seconds_s"),
    ("output tables", "sim.experiment.replicate", None, "replication_output"),
]


def child(days: float, officers: int) -> None:
    """One timed replication in this process (``sim`` from PYTHONPATH); prints one RESULT line."""
    import importlib

    from sim.experiment.replicate import make_engine, run_replication

    ctx, rep, incidents = default_town(days, [f"force.total_officers={officers}"])
    make_engine(ctx, incidents, rep).run()
    run_replication(ctx, 0)                                # warm: the compiled code, the shared caches
    spent: dict = {}
    for label, mod_name, cls_name, attr in PARTS:
        mod = importlib.import_module(mod_name)
        owner = getattr(mod, cls_name) if cls_name else mod
        inner = getattr(owner, attr)

        def timed(*a, _inner=inner, _label=label, **k):
            t0 = time.perf_counter()
            try:
                return _inner(*a, **k)
            finally:
                spent[_label] = spent.get(_label, 0.0) + time.perf_counter() - t0
        setattr(owner, attr, timed)
    c0 = time.process_time()
    out = run_replication(ctx, 0)
    cpu = time.process_time() - c0
    print("RESULT " + json.dumps({"officers": officers, "units": len(ctx.deployment.units),
                                  "incidents": int(len(out.incidents)), "replication_ms": cpu * 1e3,
                                  "parts_ms": {k: spent.get(k, 0.0) * 1e3 for k, *_ in PARTS}}), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=60.0, help="simulated days (default 60)")
    ap.add_argument("--officers", default="240,1920", help="force.total_officers values (default 240,1920)")
    ap.add_argument("--old", default=None, help="another checkout to run side by side")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each side per point (default 1)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.days, int(args.officers))
        return 0
    sides = {"new": REPO} if args.old is None else {"old": Path(args.old).resolve(), "new": REPO}
    print(f"# default town, {args.days:g} days; python bench/town_parts.py "
          f"{' '.join(argv if argv is not None else sys.argv[1:])}")
    for officers in [int(x) for x in args.officers.split(",") if x]:
        runs: dict = {s: [] for s in sides}
        order = list(sides)
        for r in range(args.rounds):
            for s in (order if r % 2 == 0 else order[::-1]):
                runs[s].append(run_child(__file__, ["--days", f"{args.days:g}", "--officers", str(officers)],
                                         sides[s]))
        first = runs["new"][0]
        print(f"\n{officers} officers, {first['units']} units, {first['incidents']} incidents; ms of CPU "
              f"(least of {args.rounds})")
        print(f"{'part':<20}" + "".join(f" {s:>9}" for s in sides))
        rows = [("replication", {s: min(r["replication_ms"] for r in runs[s]) for s in sides})]
        rows += [(k, {s: min(r["parts_ms"][k] for r in runs[s]) for s in sides}) for k, *_ in PARTS]
        for label, by_side in rows:
            print(f"{label:<20}" + "".join(f" {by_side[s]:>9.1f}" for s in sides))
        for s in sides:
            print("RUNS " + json.dumps({"side": s, "officers": officers, "runs": runs[s]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
