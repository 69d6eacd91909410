"""``patrolsim compare``: paired comparison of scenarios under common random numbers."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from sim.cli.common import non_negative_int, positive_int
from sim.cli.sweep_cmd import Throttled, add_cluster_options, format_table

SHARES = {"response_within_line", "backup_within_line", "utilisation", "saw_patrol_last_hour"}
NAMES = {"response_within_line": "First unit within response line",
         "backup_within_line": "Backup within backup line",
         "response_time_p50_s": "Response time, median",
         "response_time_p90_s": "Response time, 90th percentile",
         "response_time_mean_s": "Response time, mean",
         "utilisation": "Utilisation of units on duty",
         "unserved": "Incidents never reached",
         "incidents": "Incidents after warm-up"}


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
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a key in every scenario, e.g. --set horizon_days=2 (repeatable)")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: results/compare/<A>-vs-<B>/)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a results folder patrolsim wrote even when it holds other files too "
                        "(a folder patrolsim did not write is never replaced)")
    add_cluster_options(p, default_workers="one per core, on a local Dask cluster")
    p.add_argument("--quiet", action="store_true", help="no progress, no table")
    p.set_defaults(func=run)


def is_share(metric: str) -> bool:
    return metric in SHARES or metric.endswith(("_within_line", "_share"))


def display_name(metric: str) -> str:
    return NAMES.get(metric, metric.replace("_", " "))


def fmt_value(metric: str, x) -> str:
    if x is None:
        return "n/a"
    if is_share(metric):
        return f"{100 * x:.1f}%"
    if metric.endswith("_s"):
        m, s = divmod(int(round(x)), 60)
        return f"{m}:{s:02d}"
    return f"{x:.1f}"


def fmt_diff(metric: str, d: dict) -> str:
    if d["mean"] is None:
        return "n/a"
    scale, unit, nd = (100.0, " pts", 1) if is_share(metric) else ((1.0, " s", 0) if metric.endswith("_s")
                                                                    else (1.0, "", 1))
    m = d["mean"] * scale
    lo, hi = d["ci95"]
    text = f"{m:+.{nd}f}{unit}"
    if lo is not None:
        text += f" [{lo * scale:+.{nd}f}, {hi * scale:+.{nd}f}]"
    return text


def comparison_table(comp: dict) -> str:
    base = comp["baseline"]
    out = []
    crn = ("same incidents in replication i of every scenario (common random numbers)"
           if comp["common_random_numbers"] else
           "demand, network or horizon differ: replications share seeds, not incidents")
    out.append(f"Paired differences from {base}: {comp['replications']} replications, seed {comp['seed']}; {crn}")
    for lab in comp["scenarios"]:
        if lab == base:
            continue
        rows = []
        for d in (x for x in comp["differences"] if x["scenario"] == lab):
            m = d["metric"]
            sig = "n/a" if d["significant"] is None else ("yes" if d["significant"] else "no")
            if d["significant"] and d["verdict"]:
                sig += f" ({d['verdict']})"
            rows.append([display_name(m), fmt_value(m, comp["metrics"][base][m]["mean"]),
                         fmt_value(m, comp["metrics"][lab][m]["mean"]), fmt_diff(m, d), sig])
        out.append("")
        out.append(format_table(["metric", base, lab, f"{lab} - {base} [95% CI]", "significant"], rows))
    sig = [d for d in comp["differences"] if d["significant"]]
    out.append("")
    if sig:
        out.append("  Significant (95% CI excludes 0): " + "; ".join(
            f"{display_name(d['metric'])} ({d['scenario']}: {d['verdict']})" for d in sig))
    else:
        out.append("  No difference is significant at 95%.")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from sim.errors import InputError
    from sim.experiment.compare import compare, differences_frame, labels_for
    from sim.experiment.sweep import open_executor
    from sim.outputs import default_folder, output_folder, write_json, write_run_log
    from sim.report.compare_figure import write_compare_figure
    from sim.report.terminal import Progress
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
    if not args.quiet:
        print(comparison_table(comp))
        print(f"\n  wrote {out}/ (comparison.json, differences.csv, replications.parquet, compare.png)")
    return 0
