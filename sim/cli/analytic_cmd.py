"""``patrolsim analytic``: analytic estimates without simulation.

Two forms, told apart by the first positional argument:

* ``patrolsim analytic hypercube FILE.yaml [--method exact|approx] [--out OUT.json]``
  solves Larson's hypercube model for a problem file (see docs/analytic.md),
  prints a table and writes JSON (default ``results/analytic/<file stem>.json``).
  ``--simulate --replications N`` also simulates the same problem
  (``sim.experiment.hypercube_sim``) and prints both side by side.
* ``patrolsim analytic SCENARIO.yaml`` estimates a full scenario
  (``sim.cli.analytic_scenario``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import non_negative_int, positive_int
from sim.errors import InputError
from sim.outputs import check_file, write_json_atomic
from sim.report.analytic import hypercube_table

HYPERCUBE = "hypercube"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "analytic", help="analytic models: Larson's hypercube (exact or approximate), scenario estimate",
        description="Solve Larson's hypercube queueing model for a problem file "
                    "('patrolsim analytic hypercube FILE.yaml'), or estimate a scenario analytically "
                    "('patrolsim analytic SCENARIO.yaml'). See docs/analytic.md.")
    p.add_argument("target", metavar="hypercube|SCENARIO",
                   help="the word 'hypercube' followed by a problem file, or a scenario YAML file")
    p.add_argument("file", nargs="?", default=None, metavar="FILE",
                   help="hypercube problem YAML file (after the word 'hypercube')")
    p.add_argument("--method", choices=("exact", "approx"), default="exact",
                   help="exact: 2^N-state Markov chain, up to 16 units (default); "
                        "approx: Larson (1975) approximation, any number of units")
    p.add_argument("--out", type=Path, default=None,
                   help="JSON output file (default: results/analytic/<file stem>.json)")
    p.add_argument("--simulate", action="store_true",
                   help="also simulate the same problem and report it next to the model")
    p.add_argument("--replications", type=positive_int, default=None,
                   help="replications for --simulate (default: the simulator's)")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help="random seed for --simulate (default: the simulator's)")
    p.add_argument("--quiet", action="store_true", help="no progress while --simulate runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.target == HYPERCUBE:
        return _run_hypercube(args)
    return _run_scenario(args)


def _run_scenario(args: argparse.Namespace) -> int:
    if args.file is not None:
        raise InputError(f"unexpected extra argument '{args.file}'", key="FILE",
                         fix="write 'patrolsim analytic hypercube FILE.yaml' for a hypercube problem, "
                             "or 'patrolsim analytic SCENARIO.yaml' for a scenario")
    from sim.cli.analytic_scenario import estimate_scenario

    return estimate_scenario(Path(args.target), args)


def _run_hypercube(args: argparse.Namespace) -> int:
    from sim.analytic.hypercube import solve_hypercube
    from sim.analytic.problem import load_problem

    if args.file is None:
        raise InputError("'patrolsim analytic hypercube' needs a problem file", key="FILE",
                         fix="write patrolsim analytic hypercube scenarios/hypercube/larson_3units.yaml")
    if not args.simulate and (args.replications is not None or args.seed is not None):
        raise InputError("--replications and --seed only apply with --simulate", key="--simulate",
                         fix="add --simulate, or drop --replications/--seed")
    path = Path(args.file)
    out = args.out if args.out is not None else Path("results") / "analytic" / f"{path.stem}.json"
    check_file(out)  # a folder, or a path under a file, is refused before any work

    problem = load_problem(path)
    result = solve_hypercube(problem, method=args.method)
    data = result.to_dict()
    data["problem"] = {"file": str(path), "units": problem.n_units, "atoms": problem.n_atoms,
                       "total_rate": problem.total_rate, "service_rate": problem.service_rate,
                       "offered_load": problem.offered_load}
    if args.simulate:
        from sim.experiment.hypercube_sim import simulate_hypercube
        from sim.report.terminal import Progress

        kwargs = {k: v for k, v in (("replications", args.replications), ("seed", args.seed)) if v is not None}
        sim_out = simulate_hypercube(problem, **kwargs, progress=Progress("replications", quiet=args.quiet))
        data["simulation"] = sim_out.to_dict()

    print(hypercube_table(result, problem_file=str(path)))
    if args.simulate:
        print("\n" + sim_out.format_comparison(result))
    write_json_atomic(out, data)
    print(f"\n  wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    from sim.cli import main
    sys.exit(main(["analytic", *sys.argv[1:]]))
