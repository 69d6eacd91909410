"""``patrolsim run``: run a scenario and write the output contract's files."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from sim.cli.common import add_overwrite_option, add_scenario_options, non_negative_int, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run a scenario (the embedded default when none is named)",
                       description="Run a scenario's replications and write summary.json, "
                                   "incidents.parquet, units.parquet and scenario.resolved.yaml.")
    add_scenario_options(p)
    p.add_argument("--replications", type=positive_int, default=None, help="replications (default: scenario's)")
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default: scenario's)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: results/<scenario-name>/)")
    add_overwrite_option(p)
    p.add_argument("--workers", type=positive_int, default=1,
                   help="local worker processes for replications (results are identical for any number)")
    p.add_argument("--all-levels", action="store_true",
                   help="run the scenario at each alert level (green, yellow, orange, red) and print whether "
                        "both lines hold at each")
    p.add_argument("--report", action="store_true",
                   help="also write report.html (table, maps, figures) into the output folder")
    p.add_argument("--quiet", action="store_true", help="no progress, no table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.experiment.run import run_scenario
    from sim.outputs import default_folder, output_folder, write_json, write_run_log
    from sim.report.terminal import Progress, summary_table
    from sim.scenario_file import load_scenario, resolved_yaml
    from sim.tables import write_parquet

    scenario = load_scenario(args.scenario, overrides=args.overrides)
    update = {}
    if args.seed is not None:
        update["seed"] = args.seed
    if args.replications is not None:
        update["replications"] = args.replications
    if update:
        scenario = scenario.model_copy(update=update)
    out = args.out or default_folder(scenario.name, file=scenario.source_file)
    # checked, locked and a temporary folder made before the simulation: an unwritable or
    # foreign --out, or a second run on the same folder, fails now, not after the run
    with output_folder(out, command="run", overwrite=args.overwrite) as tmp:
        if not args.quiet:
            print(f"patrolsim run: {scenario.name} ({scenario.source_file})", file=sys.stderr, flush=True)
        started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        if args.all_levels:
            from sim.experiment.levels import run_all_levels

            result = run_all_levels(scenario, workers=args.workers, quiet=args.quiet,
                                    progress_for=lambda lvl: Progress(f"{lvl:<6} level", quiet=args.quiet))
        else:
            from sim.network import load_city
            from sim.world import prepare

            city = load_city(scenario, quiet=args.quiet, progress=Progress("network graphs", quiet=args.quiet))
            ctx = prepare(scenario, quiet=args.quiet, city=city)
            result = run_scenario(scenario, workers=args.workers,
                                  progress=Progress("replications", quiet=args.quiet), quiet=args.quiet, ctx=ctx)
        runtime_s = time.perf_counter() - t0
        described = dict(lines=scenario.lines.model_dump(), run_level=scenario.alert.level)
        write_json(tmp / "summary.json", result.summary)
        write_parquet(result.incidents, tmp / "incidents.parquet", **described)
        write_parquet(result.units, tmp / "units.parquet", **described)
        for name, table in (result.tables or {}).items():
            write_parquet(table, tmp / f"{name}.parquet", **described)
        (tmp / "scenario.resolved.yaml").write_text(
            resolved_yaml(scenario, seed=scenario.seed, replications=scenario.replications), encoding="utf-8")
        write_run_log(tmp, {"command": "run", "started_utc": started.isoformat(timespec="seconds"),
                            "runtime_s": round(runtime_s, 3), "workers": args.workers,
                            "replications": scenario.replications})
        if args.report:  # inside the folder before it is renamed into place: part of the same atomic write
            from sim.report.run_report import write_run_report

            write_run_report(tmp)
    if not args.quiet:
        print(summary_table(result.summary))
        if args.all_levels:
            from sim.report.terminal import levels_table

            print()
            print(levels_table(result.summary))
        extra = "".join(f", {n}.parquet" for n in (result.tables or {}))
        print(f"\n  wrote {out}/ (summary.json, incidents.parquet, units.parquet{extra}, scenario.resolved.yaml, "
              f"run.log.json{', report.html' if args.report else ''})")
    return 0
