"""``patrolsim hold``: the smallest force (or patrol share) at which both lines hold, per alert level."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from sim.kinds import LEVELS
from sim.cli.common import (
    add_cluster_options, add_overwrite_option, add_scenario_options, non_negative_int, positive_int,
)


def _number(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got '{text}'")
    return int(v) if v.is_integer() and "." not in text else v


def _share(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got '{text}'") from None
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {v}")
    return v


def add_parser(sub) -> None:
    p = sub.add_parser(
        "hold", help="smallest force (or patrol share) at which both lines hold, per alert level",
        description="For each alert level, bisect the varied parameter between --min and --max; at each value "
                    "run replications until the 95% CI of both line compliances is clearly above or below the "
                    "target (or --max-replications is reached, then decide on the mean and say so). Prints, per level, "
                    "where the smallest value lies and the probes that bracket it (e.g. 'between 10 and 11 "
                    "officers (11 holds, 10 fails)'), compliance there and the replications used.")
    add_scenario_options(p, optional_scenario=False)
    p.add_argument("--vary", default="force.total_officers",
                   help="key path to vary: force.total_officers (default), alert.patrol_share (each level's "
                        "own share) or any numeric scenario key, list items too (demand.hotspots[0].multiplier)")
    p.add_argument("--min", dest="vmin", type=_number, default=None,
                   help="smallest value tried (default: 1/8 of the scenario's, or 0.2 for a patrol share)")
    p.add_argument("--max", dest="vmax", type=_number, default=None,
                   help="largest value tried (default: 4x the scenario's, or 1.0 for a share)")
    p.add_argument("--step", type=_number, default=None,
                   help="resolution of the answer (default: 1 for whole numbers, 0.01 for shares)")
    p.add_argument("--levels", default=",".join(LEVELS),
                   help="comma-separated alert levels (default: all four)")
    p.add_argument("--target", type=_share, default=None,
                   help="compliance both lines must reach (default: the scenario's lines.target_compliance)")
    p.add_argument("--min-replications", type=positive_int, default=3,
                   help="replications before a value can be judged (default 3)")
    p.add_argument("--max-replications", type=positive_int, default=20,
                   help="replications after which a value is judged on the mean (default 20)")
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default: the scenario's)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: results/hold/<scenario-name>/)")
    add_overwrite_option(p)
    add_cluster_options(p, default_workers="one per core, on a local Dask cluster")
    p.add_argument("--quiet", action="store_true", help="no progress, no table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.errors import InputError
    from sim.experiment.hold import hold_config, run_hold
    from sim.experiment.tasks import open_executor
    from sim.experiment.bisect import max_probes, max_replications_total
    from sim.outputs import default_folder, output_folder, write_json, write_run_log
    from sim.report.experiments import hold_table
    from sim.report.terminal import Progress
    from sim.scenario_file import load_scenario, resolved_yaml

    scenario = load_scenario(args.scenario, overrides=args.overrides)
    if args.seed is not None:
        scenario = scenario.model_copy(update={"seed": args.seed})
    levels = [x.strip() for x in args.levels.split(",") if x.strip()]
    bad = [x for x in levels if x not in LEVELS]
    if bad or not levels:
        raise InputError(f"unknown alert level '{bad[0] if bad else args.levels}'", key="--levels",
                         fix=f"use some of {', '.join(LEVELS)}")
    base = scenario.to_dict()
    cfg = hold_config(base, args.vary, vmin=args.vmin, vmax=args.vmax, step=args.step, target=args.target,
                      levels=levels, min_replications=args.min_replications,
                      max_replications=args.max_replications)
    out = args.out or default_folder(scenario.name, "hold", file=scenario.source_file)
    with output_folder(out, command="hold", overwrite=args.overwrite) as tmp:
        t0 = time.perf_counter()
        progress = Progress("replications", quiet=args.quiet, at_most=True)
        if not args.quiet:
            print(f"patrolsim hold: {scenario.name}: vary {args.vary} in [{cfg.fmt(cfg.vmin)}, {cfg.fmt(cfg.vmax)}] "
                  f"for {', '.join(cfg.levels)}; {cfg.min_replications}-{cfg.max_replications} replications per value",
                  file=sys.stderr, flush=True)
            print(f"  at most {max_replications_total(cfg)} replications: {max_probes(cfg)} values probed at most "
                  f"x {cfg.max_replications} replications x {len(cfg.levels)} level(s); the search usually stops "
                  "sooner", file=sys.stderr, flush=True)
        with open_executor(scheduler=args.scheduler, cluster=args.cluster, workers=args.workers,
                           quiet=args.quiet) as ex:
            if not args.quiet:
                print(f"  running on {ex.description}", file=sys.stderr, flush=True)
            cfg.batch = max(2, -(-getattr(ex, "n_workers", 1) // len(cfg.levels)))
            results = run_hold(base, cfg, source_file=scenario.source_file, executor=ex, progress=progress)
        progress.finish()
        report = {
            "scenario": scenario.name, "vary": cfg.vary, "per_level": cfg.per_level, "min": cfg.vmin, "max": cfg.vmax,
            "step": cfg.step, "target_compliance": cfg.target, "seed": scenario.seed,
            "min_replications": cfg.min_replications, "max_replications": cfg.max_replications,
            "levels": [{"level": r.level, "status": r.status, "smallest_value": r.answer, "interval": [r.low, r.high],
                        "replications": r.replications, "note": r.note,
                        "probes": [{"value": p.value, "replications": p.replications, "holds": p.holds,
                                    "clear": p.clear, "response_within_line": p.response,
                                    "backup_within_line": p.backup} for p in r.probes]} for r in results],
        }
        write_json(tmp / "hold.json", report)
        (tmp / "scenario.resolved.yaml").write_text(
            resolved_yaml(scenario, seed=scenario.seed, replications=cfg.max_replications,
                          extra={"hold": {"vary": cfg.vary, "levels": list(cfg.levels)}}), encoding="utf-8")
        write_run_log(tmp, {"command": "hold", "runtime_s": round(time.perf_counter() - t0, 3),
                            "executor": ex.description})
        from sim.report.hold_report import write_hold_report

        write_hold_report(tmp)  # inside the folder before it is renamed into place
    if not args.quiet:
        print(hold_table(results, cfg))
        print(f"\n  wrote {out}/hold.json and {out}/report.html")
    return 0
