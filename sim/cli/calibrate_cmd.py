"""``patrolsim calibrate``: fit unobserved keys so simulated response times match observed ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import positive_int


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if not (v > 0 and v < 3660):
        raise argparse.ArgumentTypeError(f"expected a number of days above 0 (and below 3660), got {text}")
    return v


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="fit availability, call handling or speed keys to observed response times",
        description="Fit the named scenario keys so that the simulated response times per priority (call "
                    "queued to first unit on scene, including call handling) match those of a call file, under "
                    "common random numbers; write a calibrated scenario (a variant of SCENARIO), a fit JSON and "
                    "a quantile figure beside it (docs/calibration.md).")
    p.add_argument("scenario", type=Path, help="scenario YAML file to calibrate")
    p.add_argument("--observed", type=Path, required=True, metavar="CALLS.csv",
                   help="SPD Call Data export, or a CSV with call_time, arrival_time, priority (optional lon, lat)")
    p.add_argument("--fit", required=True, metavar="KEY[,KEY...]",
                   help="keys to fit: availability.* rates and means, demand.call_handling_mean_s, network.speeds.*")
    p.add_argument("--out", type=Path, required=True, metavar="CALIBRATED.yaml",
                   help="calibrated scenario; NAME.fit.json and NAME.quantiles.png/.svg are written beside it")
    p.add_argument("--trials", type=positive_int, default=40, help="simulated trial points in the search (default 40)")
    p.add_argument("--replications", type=positive_int, default=4,
                   help="replications at each trial point, the same seeds at every point (default 4)")
    p.add_argument("--days", type=_positive_float, default=7.0,
                   help="measured days per replication, after the scenario's warm-up (default 7)")
    p.add_argument("--bootstrap", type=positive_int, default=200, help="bootstrap draws for the intervals (default 200)")
    p.add_argument("--range", dest="ranges", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="search KEY between LOW and HIGH instead of its default range (repeatable)")
    p.add_argument("--no-figure", action="store_true", help="do not write the quantile figure")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing output files that patrolsim calibrate did not write")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.calibrate.keys import key_spaces, parse_fit, parse_ranges
    from sim.calibrate.observed import read_observed
    from sim.calibrate.output import check_outputs
    from sim.calibrate.run import calibrate, write_calibration
    from sim.report.terminal import Progress
    from sim.scenario_file import load_scenario

    say = (lambda *a: None) if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    # everything a user can get wrong is checked before the first simulation
    keys = parse_fit(args.fit)
    ranges = parse_ranges(args.ranges, keys)
    key_spaces(keys, ranges)
    paths = check_outputs(args.out, overwrite=args.overwrite)
    scenario = load_scenario(args.scenario)
    observed = read_observed(args.observed)
    result = calibrate(scenario, observed, keys, trials=args.trials, replications=args.replications, days=args.days,
                       draws=args.bootstrap, ranges=ranges, quiet=args.quiet, say=say,
                       progress=Progress("network graphs", quiet=args.quiet))
    written = write_calibration(result, paths, figure=not args.no_figure)
    if not args.quiet:
        from sim.calibrate.output import header_lines

        print("\n".join(header_lines(result)[2:-1]))
        print("  wrote " + ", ".join(str(p) for p in written))
    return 0
