"""``patrolsim report RESULTS_DIR``: write RESULTS_DIR/report.html for a run, compare, sweep or hold folder.

The kind of folder is read from its marker's "command" and, for a folder without one,
from the files it holds (comparison.json, sweep.json, hold.json; else a run).
"""

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
    p.add_argument("results_dir", type=Path, help="a folder written by `patrolsim run`, `compare`, `sweep` or "
                                                  "`hold` (e.g. results/default)")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run)


#: The file that names each kind of experiment folder, and the module.function that reports it.
WRITERS = {"compare": ("comparison.json", "sim.report.compare_report", "write_compare_report"),
           "sweep": ("sweep.json", "sim.report.sweep_report", "write_sweep_report"),
           "hold": ("hold.json", "sim.report.hold_report", "write_hold_report")}


def folder_kind(folder: Path) -> str:
    """"run", "compare", "sweep" or "hold": from the folder's marker, else from its files."""
    from sim.output_checks import read_marker

    marker = read_marker(folder) if folder.is_dir() else None
    command = (marker or {}).get("command")
    if command in WRITERS:
        return command
    for kind, (name, _, _) in WRITERS.items():
        if (folder / name).is_file():
            return kind
    return "run"


def run(args: argparse.Namespace) -> int:
    import importlib

    from sim.errors import InputError

    folder = Path(args.results_dir)
    kind = folder_kind(folder)
    t0 = time.perf_counter()
    if kind == "run":
        from sim.report.run_report import write_run_report

        path = write_run_report(folder)
    else:
        name, module, func = WRITERS[kind]
        if not (folder / name).is_file():
            raise InputError(f"{folder} is a {kind} folder without {name}", key="RESULTS_DIR",
                             fix=f"run `patrolsim {kind}` again into this folder")
        path = getattr(importlib.import_module(module), func)(folder)
    if not args.quiet:
        print(f"  wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)",
              file=sys.stderr)
    return 0
