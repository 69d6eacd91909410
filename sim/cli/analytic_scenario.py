"""``patrolsim analytic SCENARIO.yaml [--out OUT.json]``: a scenario's analytic estimate, printed.

Why a module of its own: the estimate itself (``sim.analytic.scenario_estimate``) is a
model that takes a loaded scenario and returns numbers; reading the file, refusing the
hypercube form's options, printing the table and writing the JSON are the command's work.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.analytic.scenario_estimate import CLOSE_CALL, HOURS_PER_WEEK, estimate
from sim.errors import InputError
from sim.outputs import write_json_atomic
from sim.report.analytic import scenario_estimate_table
from sim.scenario_file import load_scenario


def estimate_scenario(path: Path, args: argparse.Namespace) -> int:
    """Print the estimate of the scenario at ``path``; write JSON only with ``--out``.

    ``--simulate``, ``--replications``, ``--seed`` and ``--method approx`` belong to the
    hypercube form and are refused with the command that does what the user meant.
    """
    file = str(path)
    if args.simulate or args.replications is not None or args.seed is not None:
        raise InputError("--simulate, --replications and --seed apply to hypercube problems only", file=file,
                         key="--simulate", fix=f"run 'patrolsim run {file} --all-levels' to simulate the scenario")
    if args.method not in (None, "exact"):
        raise InputError("--method applies to hypercube problems only", file=file, key="--method",
                         fix="drop --method for a scenario estimate")
    out = args.out
    if out is not None and Path(out).is_dir():
        raise InputError("--out is a folder", file=str(out), key="--out", fix="give a file name ending in .json")
    t0 = time.perf_counter()
    scenario = load_scenario(path)
    est = estimate(scenario)
    print(scenario_estimate_table(est, seconds=time.perf_counter() - t0, close_call=CLOSE_CALL,
                                  hours_per_week=HOURS_PER_WEEK))
    if out is not None:
        write_json_atomic(Path(out), est.to_dict())
        print(f"\n  wrote {out}")
    return 0
