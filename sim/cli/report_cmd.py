"""``patrolsim report RESULTS_DIR``: write RESULTS_DIR/report.html from a run's output files."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write report.html (table, maps, figures) for a run's results folder",
                       description="Write RESULTS_DIR/report.html: one self-contained page that opens offline "
                                   "with the verdict, the table with 95%% CIs, maps of beats, incidents and "
                                   "compliance per grid cell, and figures by hour, alert level and unit.")
    p.add_argument("results_dir", type=Path, help="a folder written by `patrolsim run` (e.g. results/default)")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.report.run_report import write_run_report

    t0 = time.perf_counter()
    path = write_run_report(args.results_dir)
    if not args.quiet:
        print(f"  wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)",
              file=sys.stderr)
    return 0
