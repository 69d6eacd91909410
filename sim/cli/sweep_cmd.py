"""``patrolsim sweep``: run a parameter sweep (grid, points or Latin hypercube) on Dask."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.cli.common import non_negative_int, positive_int


def add_cluster_options(p: argparse.ArgumentParser, *, default_workers: str) -> None:
    """--scheduler / --cluster / --workers, shared by sweep, compare and hold."""
    g = p.add_argument_group("where replications run")
    ex = g.add_mutually_exclusive_group()
    ex.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="use a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    ex.add_argument("--cluster", choices=("slurm", "pbs"), default=None,
                    help="start Dask workers as batch jobs (dask-jobqueue; see docs/scaling.md)")
    g.add_argument("--workers", type=positive_int, default=None,
                   help=f"worker processes (default: {default_workers}); 1 runs in this process without Dask; "
                        "with --cluster, the number of Dask workers to ask for")


def format_table(headers: list[str], rows: list[list[str]], *, indent: str = "  ") -> str:
    """A plain text table: left-aligned text, columns separated by two spaces."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]
    lines = [indent + "  ".join(f"{h:<{w}}" for h, w in zip(headers, widths)).rstrip()]
    lines.append(indent + "  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(indent + "  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def pct_ci(m: dict | None) -> str:
    if not m or m.get("mean") is None:
        return "n/a"
    lo, hi = m["ci95"]
    ci = "" if lo is None else f" [{100 * lo:.1f}, {100 * hi:.1f}]"
    return f"{100 * m['mean']:.1f}%{ci}"


def mmss(x) -> str:
    if x is None:
        return "n/a"
    m, s = divmod(int(round(x)), 60)
    return f"{m}:{s:02d}"


class Throttled:
    """Calls a progress bar at most every ``every_s`` seconds (and always at the start and end)."""

    def __init__(self, progress, every_s: float | None = None) -> None:
        self.progress = progress
        tty = getattr(progress, "tty", True)
        self.every_s = every_s if every_s is not None else (0.25 if tty else 10.0)
        self.last = -1e9

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 0 or done >= total or now - self.last >= self.every_s:
            self.last = now
            self.progress(done, total)


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
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a base scenario key for every point, e.g. --set horizon_days=2 (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default: results/sweeps/<name>/)")
    p.add_argument("--quiet", action="store_true", help="no progress, no table")
    p.set_defaults(func=run)


def summary_lines(outcome, plan) -> str:
    from sim.experiment.sweep import point_summary

    summ = point_summary(outcome.results, plan)
    headers = [*plan.param_names, "reps", "first unit in line", "backup in line", "p90 response",
               "utilisation", "both lines"]
    rows = []
    for s in summ:
        m = s["metrics"]
        reps = f"{s['ok']}" + (f" ({s['failed']} failed)" if s["failed"] else "")
        hold = "n/a" if s["lines_hold"] is None else ("holds" if s["lines_hold"] else "FAILS")
        rows.append([*(str(s["params"][k]) for k in plan.param_names), reps,
                     pct_ci(m.get("response_within_line")), pct_ci(m.get("backup_within_line")),
                     mmss((m.get("response_time_p90_s") or {}).get("mean")),
                     pct((m.get("utilisation") or {}).get("mean")), hold])
    out = [format_table(headers, rows)]
    errs = [s for s in summ if s["first_error"]]
    for s in errs[:5]:
        out.append(f"  point {s['point_id']}: {s['failed']} failed replication(s), e.g. {s['first_error']}")
    if len(errs) > 5:
        out.append(f"  ... and {len(errs) - 5} more point(s) with failures (see the error column)")
    return "\n".join(out)


def _write_resolved(plan, out: Path) -> None:
    from sim.experiment.sweep import _atomic_text
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import resolved_yaml

    if not (out / "sweep.json").exists():
        return
    sc = scenario_from_dict(plan.base, source_file=plan.source_file)
    text = resolved_yaml(sc, seed=plan.seed, replications=plan.replications,
                         extra={"sweep": plan.name, "sweep_file": plan.sweep_file,
                                "note": "base scenario; each point changes the keys in sweep.json"})
    _atomic_text(text, out / "scenario.resolved.yaml")


def _saved(plan, out: Path, n_tasks: int) -> str:
    from sim.experiment.sweep import ResultStore

    store = ResultStore(out)
    saved = len(store.read(plan.param_names)[0]) if store.results.exists() else 0
    return f"saved {saved} of {n_tasks} rows in {out}"


def run(args: argparse.Namespace) -> int:
    from sim.experiment.dask_cluster import WorkersGone
    from sim.experiment.sweep import open_executor, run_sweep
    from sim.experiment.sweep_file import load_sweep
    from sim.outputs import Interrupted, default_folder, marked_folder
    from sim.report.terminal import Progress

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
            print(f"patrolsim: {exc}; {_saved(plan, out, n_tasks)}; start workers and run the same "
                  "command with --resume to finish", file=sys.stderr, flush=True)
            return 1
        _write_resolved(plan, out)
    if not args.quiet:
        where = f"{outcome.folder / 'results.parquet'}"
        print(f"\n{plan.name}: {len(outcome.results)} rows ({outcome.ran} run now, {outcome.skipped} already done, "
              f"{outcome.errors} failed) in {outcome.runtime_s:.1f} s"
              + (f", {60 * outcome.ran / outcome.runtime_s:.0f} replications/min" if outcome.ran else ""))
        print(summary_lines(outcome, plan))
        print(f"\n  wrote {where}")
    return 0
