"""``patrolsim compare``: paired comparison of scenarios under common random numbers."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from sim.cli.common import (
    add_cluster_options, add_overwrite_option, add_set_option, non_negative_int, positive_int,
)

def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="paired comparison of two or more scenarios (common random numbers)",
        description="Run every scenario with the same seed and replications (replication i of each sees the "
                    "same incidents), then report the paired difference of every metric from the first "
                    "scenario with a 95% CI and whether it is significant; writes a table, a CSV and a figure.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenario YAML files; "
                   "the first is the baseline")
    p.add_argument("--replications", type=positive_int, default=None,
                   help="replications of each scenario (default: the first scenario's)")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help="seed shared by all scenarios (default: the first scenario's)")
    add_set_option(p, help="override a key in every scenario, e.g. --set horizon_days=2 (repeatable)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: results/compare/<A>-vs-<B>/)")
    add_overwrite_option(p)
    add_cluster_options(p, default_workers="one per core, on a local Dask cluster")
    p.add_argument("--quiet", action="store_true", help="no progress, no table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.errors import InputError
    from sim.experiment.compare import compare, differences_frame, labels_for
    from sim.experiment.tasks import open_executor
    from sim.outputs import default_folder, output_folder, write_json, write_run_log
    from sim.report.compare_figure import write_compare_figure
    from sim.report.experiments import comparison_table
    from sim.report.terminal import Progress, Throttled
    from sim.scenario_file import load_scenario, resolved_yaml

    if len(args.scenarios) < 2:
        raise InputError("compare needs two or more scenario files", key="SCENARIO",
                         fix="e.g. patrolsim compare scenarios/compare/force-200.yaml scenarios/compare/force-300.yaml")
    scenarios = [load_scenario(s, overrides=args.overrides) for s in args.scenarios]
    reps = args.replications or scenarios[0].replications
    seed = scenarios[0].seed if args.seed is None else args.seed
    if reps < 2:
        raise InputError("a paired comparison needs at least 2 replications", key="--replications",
                         fix="use --replications 5 or more")
    if not args.quiet:
        print(f"patrolsim compare: {', '.join(s.name for s in scenarios)}: {reps} replications each, seed {seed}",
              file=sys.stderr, flush=True)
    labels = labels_for(scenarios)
    out = args.out or default_folder("-vs-".join(labels).replace("#", "_"), "compare",
                                     file=scenarios[0].source_file)
    progress = None if args.quiet else Throttled(Progress("replications"))
    with output_folder(out, command="compare", overwrite=args.overwrite) as tmp:
        started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        with open_executor(scheduler=args.scheduler, cluster=args.cluster, workers=args.workers,
                           quiet=args.quiet) as ex:
            if not args.quiet:
                print(f"  running on {ex.description}", file=sys.stderr, flush=True)
            try:
                result = compare(scenarios, replications=reps, seed=seed, executor=ex, progress=progress)
            except RuntimeError as exc:
                print(f"patrolsim compare: {exc}", file=sys.stderr)
                return 1
        comp = result["comparison"]
        write_json(tmp / "comparison.json", comp)
        differences_frame(comp).to_csv(tmp / "differences.csv", index=False)
        result["rows"].drop(columns=["runtime_s"], errors="ignore").to_parquet(tmp / "replications.parquet",
                                                                               index=False)
        write_compare_figure(comp, tmp / "compare.png")
        for lab, sc in result["scenarios"].items():
            (tmp / f"{lab.replace('#', '_')}.resolved.yaml").write_text(
                resolved_yaml(sc, seed=seed, replications=reps), encoding="utf-8")
        write_run_log(tmp, {"command": "compare", "started_utc": started.isoformat(timespec="seconds"),
                            "runtime_s": round(time.perf_counter() - t0, 3), "executor": ex.description})
        from sim.report.compare_report import write_compare_report

        write_compare_report(tmp)  # inside the folder before it is renamed into place
    if not args.quiet:
        print(comparison_table(comp))
        print(f"\n  wrote {out}/ (comparison.json, differences.csv, replications.parquet, compare.png, report.html)")
    return 0
