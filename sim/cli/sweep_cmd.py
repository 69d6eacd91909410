"""``patrolsim sweep``: run a parameter sweep (grid, points or Latin hypercube) on Dask."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import add_cluster_options, add_set_option, non_negative_int, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run a parameter sweep (grid, points or Latin hypercube) on Dask",
        description="Run every point of a sweep file for N replications and write one row per point and "
                    "replication to results/sweeps/<name>/results.parquet (incrementally; --resume finishes "
                    "an interrupted sweep). Same numbers whatever the number of workers.")
    p.add_argument("sweep_file", help="sweep YAML file (see docs/experiments.md)")
    add_cluster_options(p, default_workers="one per core, on a local Dask cluster")
    p.add_argument("--resume", action="store_true", help="run only the rows the results table lacks")
    p.add_argument("--overwrite", action="store_true",
                   help="delete earlier results in --out and start again (only a folder patrolsim wrote)")
    p.add_argument("--retry-errors", action="store_true", help="with --resume, run failed replications again")
    p.add_argument("--replications", type=positive_int, default=None,
                   help="replications per point (default: the sweep file's, else the scenario's)")
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default: the scenario's)")
    add_set_option(p, help="override a base scenario key for every point, e.g. --set horizon_days=2 (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: results/sweeps/<name>/)")
    p.add_argument("--quiet", action="store_true", help="no progress, no table")
    p.set_defaults(func=run)


def _write_resolved(plan, out: Path) -> None:
    from sim.experiment.store import ResultStore
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import resolved_yaml

    if not (out / "sweep.json").exists():
        return
    sc = scenario_from_dict(plan.base, source_file=plan.source_file)
    text = resolved_yaml(sc, seed=plan.seed, replications=plan.replications,
                         extra={"sweep": plan.name, "sweep_file": plan.sweep_file,
                                "note": "base scenario; each point changes the keys in sweep.json"})
    ResultStore(out).write_text("scenario.resolved.yaml", text)


def _saved(plan, out: Path, n_tasks: int) -> str:
    from sim.experiment.store import ResultStore

    store = ResultStore(out)
    saved = len(store.read(plan.param_names)[0]) if store.results.exists() else 0
    return f"saved {saved} of {n_tasks} rows in {out}"


def run(args: argparse.Namespace) -> int:
    from sim.experiment.sweep import point_summary, run_sweep
    from sim.experiment.sweep_file import load_sweep
    from sim.experiment.tasks import open_executor
    from sim.experiment.worker_watch import WorkersGone
    from sim.outputs import Interrupted, default_folder, marked_folder
    from sim.report.experiments import sweep_outcome_line, sweep_table
    from sim.report.terminal import Progress, Throttled

    plan = load_sweep(args.sweep_file, overrides=args.overrides, replications=args.replications, seed=args.seed)
    out = args.out or default_folder(plan.name, "sweeps", file=plan.sweep_file)
    n_tasks = len(plan.points) * plan.replications
    if not args.quiet:
        print(f"patrolsim sweep: {plan.name}: {len(plan.points)} point(s) x {plan.replications} replication(s) "
              f"= {n_tasks} rows, seed {plan.seed}", file=sys.stderr, flush=True)
    progress = None if args.quiet else Throttled(Progress("replications"))
    # the folder is checked (missing, empty or a sweep patrolsim wrote), marked and locked first
    with marked_folder(out, command="sweep", overwrite=args.overwrite):
        try:
            with open_executor(scheduler=args.scheduler, cluster=args.cluster, workers=args.workers,
                               quiet=args.quiet) as ex:
                if not args.quiet:
                    print(f"  running on {ex.description}", file=sys.stderr, flush=True)
                outcome = run_sweep(plan, out, executor=ex, resume=args.resume, overwrite=args.overwrite,
                                    retry_errors=args.retry_errors, progress=progress)
        except KeyboardInterrupt:
            _write_resolved(plan, out)
            raise Interrupted(f"interrupted; {_saved(plan, out, n_tasks)}; "
                              "run the same command with --resume to finish") from None
        except WorkersGone as exc:
            _write_resolved(plan, out)
            lead = "\n" if progress is not None and progress.progress.open else ""  # end the progress line first
            print(f"{lead}patrolsim: {exc}; {_saved(plan, out, n_tasks)}; start workers and run the same "
                  "command with --resume to finish", file=sys.stderr, flush=True)
            return 1
        _write_resolved(plan, out)
        from sim.report.sweep_report import write_sweep_report

        write_sweep_report(out)  # summary.csv, figures and report.html, recorded in the folder's marker
    if not args.quiet:
        where = f"{outcome.folder / 'results.parquet'}"
        print("\n" + sweep_outcome_line(plan.name, outcome))
        print(sweep_table(point_summary(outcome.results, plan), plan.param_names))
        print(f"\n  wrote {where}, {out / 'summary.csv'} and {out / 'report.html'}")
    return 0
