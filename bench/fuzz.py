"""Fuzz patrolsim's inputs at scale and print the contract counts.

Draws cases from the same Hypothesis strategies as tests/fuzz (scenario files, OpenStreetMap
files, sweep files, hypercube problems, call CSVs; valid and broken), runs each in-process
through ``sim.cli.main`` and counts the outcomes:

    cases, exit 0 (complete outputs), exit 2 (one line), tracebacks, bad messages,
    incomplete outputs, leftovers, hangs (over --timeout seconds), and exit 0 although an input
    file held .inf/.nan (accepted silently)

Usage (from the repository root)::

    python bench/fuzz.py --cases 10000                 # this checkout
    python bench/fuzz.py --cases 1000 --save-cases cases.pkl
    PYTHONPATH=OTHER_CHECKOUT python bench/fuzz.py --load-cases cases.pkl   # the very same cases

Hypothesis draws the same cases for the same --seed within one checkout, but not always across
two (its generation adapts as it goes), hence --save-cases/--load-cases for before/after counts.

The process is capped at --max-memory-gb of address space so that an input asking for
billions of incidents fails with MemoryError (counted as a traceback) instead of taking the
machine. --details FILE writes every case that broke the contract, with its files.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=10_000, help="cases in all, split evenly over the input kinds")
    p.add_argument("--kinds", default="scenario,osm,sweep,hypercube,calls")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as a hang")
    p.add_argument("--max-memory-gb", type=float, default=4.0, help="address-space cap of this process")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis seed (same seed, same cases)")
    p.add_argument("--details", type=Path, default=None, help="write the cases that broke the contract here (JSONL)")
    p.add_argument("--save-cases", type=Path, default=None,
                   help="write the drawn cases to this file (pickle) so that another checkout runs the very same")
    p.add_argument("--load-cases", type=Path, default=None, help="run the cases saved by --save-cases instead of drawing")
    args = p.parse_args()

    cap = int(args.max_memory_gb * 1e9)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    warnings.simplefilter("ignore")
    from hypothesis import HealthCheck, Phase, given, seed, settings

    import sim
    from contract import run_case
    from strategies import STRATEGIES, describe

    kinds = args.kinds.split(",")
    per_kind = max(1, args.cases // len(kinds))
    counts: dict[str, collections.Counter] = {k: collections.Counter() for k in kinds}
    details = open(args.details, "w", encoding="utf-8") if args.details else None
    work = Path(tempfile.mkdtemp(prefix="patrolsim-fuzz-"))
    what = f"cases from {args.load_cases}" if args.load_cases else f"{per_kind} cases per kind"
    print(f"patrolsim from {Path(sim.__file__).parent}; {what}; timeout {args.timeout:g} s", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        saved = {}
        if args.load_cases:
            import pickle

            saved = pickle.loads(args.load_cases.read_bytes())
            kinds[:] = list(saved)
            counts.update({k: collections.Counter() for k in kinds})
        for kind in kinds:
            cases = list(saved.get(kind, []))

            # draw first, run after: the cases depend on the seed only, never on the code under test,
            # so two checkouts are run on exactly the same inputs
            @seed(args.seed)
            @settings(max_examples=per_kind, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=STRATEGIES[kind])
            def draw(case):
                cases.append(case)

            if not args.load_cases:
                draw()
            if args.save_cases:
                saved[kind] = cases
            for i, case in enumerate(cases):
                folder = work / f"{kind}-{i}"
                outcome = run_case(case, folder, timeout_s=args.timeout)
                counts[kind][outcome.kind] += 1
                if details and outcome.kind not in ("ok", "error"):
                    details.write(json.dumps({"outcome": outcome.kind, "detail": outcome.detail,
                                              "case": describe(case)}) + "\n")
                shutil.rmtree(folder, ignore_errors=True)
            print(f"  {kind:<9} {dict(counts[kind])}", file=sys.stderr, flush=True)
        if args.save_cases:
            import pickle

            args.save_cases.write_bytes(pickle.dumps(saved))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if details:
            details.close()
    total = sum(counts.values(), collections.Counter())
    cols = [("cases", sum(total.values())), ("exit 0", total["ok"]), ("exit 2", total["error"]),
            ("tracebacks", total["traceback"]), ("bad messages", total["bad_message"]),
            ("incomplete", total["incomplete"]), ("leftovers", total["leftover"]), ("hangs", total["hang"]),
            ("exit 0 with .inf/.nan", total["accepted_non_finite"])]
    print("| kind | " + " | ".join(c for c, _ in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for kind in kinds:
        c = counts[kind]
        row = [sum(c.values()), c["ok"], c["error"], c["traceback"], c["bad_message"], c["incomplete"],
               c["leftover"], c["hang"], c["accepted_non_finite"]]
        print(f"| {kind} | " + " | ".join(str(v) for v in row) + " |")
    print("| all | " + " | ".join(str(v) for _, v in cols) + " |")
    print(f"\n{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
