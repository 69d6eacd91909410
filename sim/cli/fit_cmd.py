"""``patrolsim fit``: fit incident rates from real call data (and score them on hold-out calls)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit", help="fit a demand model (time, place, types) from a CSV of real calls",
        description="Fit a smoothed hour-of-week profile, a day-level dispersion, a spatial intensity over "
                    "the road network and incident types from a CSV of calls; write a fitted-demand YAML "
                    "(name it in a scenario as demand: {fitted: PATH}), a diagnostics page with figures "
                    "and, with --holdout, the hold-out log-likelihood against a homogeneous baseline.")
    p.add_argument("calls", type=Path, help="CSV of calls (the two Seattle formats are recognised)")
    p.add_argument("--network", required=True, metavar="SCENARIO_OR_FILE",
                   help="scenario YAML or OpenStreetMap file (.osm, .osm.gz, .osm.bz2) whose road network calls are snapped to")
    p.add_argument("--out", type=Path, default=None, metavar="DEMAND.yaml",
                   help="fitted-demand file (default: results/fit/<calls-name>.yaml); the diagnostics folder "
                        "and the hold-out JSON are written next to it")
    p.add_argument("--holdout", type=Path, default=None, metavar="CALLS2.csv", help="calls to score the fit on")
    p.add_argument("--from", dest="start", default=None, metavar="DATE",
                   help="first day of the fitting window (local date, default: the file's first day)")
    p.add_argument("--to", dest="end", default=None, metavar="DATE",
                   help="day after the fitting window (exclusive; default: the day after the file's last day)")
    p.add_argument("--holdout-from", default=None, metavar="DATE", help="first day of the hold-out window")
    p.add_argument("--holdout-to", default=None, metavar="DATE", help="day after the hold-out window (exclusive)")
    p.add_argument("--columns", type=Path, default=None, metavar="MAPPING.yaml",
                   help="column mapping file (see docs/demand.md); default: recognise the format from the header")
    p.add_argument("--col", action="append", default=[], metavar="KEY=COLUMN",
                   help="map one column, e.g. --col time=\"Call Time\" (keys: time, latitude, longitude, type, "
                        "priority, queued, dispatched, arrived, cleared, address); repeatable")
    p.add_argument("--tz", default=None, metavar="ZONE", help="local time zone, e.g. America/Los_Angeles")
    p.add_argument("--types", default=None, metavar="TABLE.csv",
                   help="call-type mapping table (default: the Seattle table shipped with patrolsim)")
    p.add_argument("--delay-from", type=Path, default=None, metavar="CALLS.csv",
                   help="estimate the response delay (for files with arrival times only) from calls that have "
                        "both call and arrival times")
    p.add_argument("--max-snap-m", type=float, default=None,
                   help="calls farther than this from a drivable node are left out (default: the scenario's "
                        "network.max_snap_m, 300 m)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulated-count check (default 0)")
    p.add_argument("--no-figures", action="store_true", help="write the diagnostics page without figures")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def _format(args):
    """The column map from --columns and --col (None: recognise a known format from the header)."""
    from sim.calls.columns import apply_column_options, read_format_file

    fmt = read_format_file(args.columns) if args.columns else None
    if args.col:
        fmt = apply_column_options(fmt, args.col)
    return fmt


def _delays(path: Path, table):
    """Response delays estimated from a file with both call and arrival times."""
    from sim.calls.calltypes import assign_types
    from sim.calls.columns import parse_calls, read_table, resolve_format
    from sim.calls.delay import estimate_delays
    from sim.calls.rows import RowReport
    from sim.errors import DemandError

    raw = read_table(path)
    fmt = resolve_format(raw, file=str(path))
    rep = RowReport(str(path))
    calls = assign_types(parse_calls(raw, fmt, rep), table, rep)
    try:
        delays = estimate_delays(calls)
    except ValueError as exc:
        raise DemandError(str(exc), file=str(path), key="--delay-from",
                          fix="name a file with both call (queued) and arrival times") from None
    delays["source"] = f"estimated from {path.name} ({delays['calls']} calls with both times)"
    return delays


def run(args: argparse.Namespace) -> int:
    from sim.calls.calltypes import read_type_table
    from sim.calls.load import load_calls, parse_date
    from sim.errors import InputError
    from sim.fit.model import fit_demand, write_outputs
    from sim.fit.network import load_network
    from sim.report.terminal import Progress

    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    if args.max_snap_m is not None and not args.max_snap_m > 0:
        raise InputError("--max-snap-m must be more than 0", key="--max-snap-m", fix="give a distance in metres")
    if (args.holdout_from or args.holdout_to) and not args.holdout:
        raise InputError("--holdout-from/--holdout-to need --holdout CALLS.csv", key="--holdout",
                         fix="name the hold-out calls (it may be the same file as the fitting calls)")
    out = args.out or Path("results") / "fit" / (args.calls.name.split(".")[0] + ".yaml")
    _check_outputs(out)
    window = {"start": parse_date(args.start, option="--from"), "end": parse_date(args.end, option="--to")}
    hold_window = {"start": parse_date(args.holdout_from, option="--holdout-from"),
                   "end": parse_date(args.holdout_to, option="--holdout-to")}
    fmt = _format(args)
    table = read_type_table(Path(args.types)) if args.types else None
    delays = _delays(args.delay_from, table or read_type_table()) if args.delay_from else None
    city, max_snap_m = load_network(args.network, quiet=args.quiet,
                                    progress=Progress("network graphs", quiet=args.quiet))
    max_snap_m = args.max_snap_m or max_snap_m
    common = dict(city=city, max_snap_m=max_snap_m, fmt=fmt, table=table, delays=delays, time_zone=args.tz)
    data = load_calls(args.calls, **common, **window)
    for line in data.report.lines():
        say("  " + line)
    hold = None
    if args.holdout:
        hold = load_calls(args.holdout, **common, **hold_window)
        for line in hold.report.lines():
            say("  hold-out " + line)
    say("  fitting: profile, dispersion, spatial intensity, types; checking simulated counts")
    result = fit_demand(data, city=city, holdout_data=hold, seed=args.seed, network_label=str(args.network),
                        progress=Progress("fit stages", quiet=args.quiet))
    paths = write_outputs(result, out, figures=not args.no_figures)
    if not args.quiet:
        from sim.report.fit import fit_summary_text

        print(fit_summary_text(result, paths))
    return 0


def _check_outputs(out: Path) -> None:
    """Refuse, before any work, an --out that is a folder, lies under a file, or whose diagnostics
    folder holds files patrolsim did not write."""
    from sim.fit.model import output_paths
    from sim.outputs import check_file, check_folder

    paths = output_paths(out)
    check_file(paths["fitted"])
    check_file(paths["holdout"])
    check_folder(paths["diagnostics"])
