"""``patrolsim playback SCENARIO``: an HTML animation (and optionally a GIF) of one shift of one replication.

Drawn from the engine's own trips (``sim.trace``), never re-simulated: the same
replication ``patrolsim run`` makes first, with the engine's trace switched on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sim.cli.common import add_scenario_options, non_negative_int


def _hours(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of hours, got '{text}'") from None
    if not 0 < v <= 24:
        raise argparse.ArgumentTypeError(f"expected more than 0 and at most 24 hours, got {v:g}")
    return v


def _hour_of_day(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an hour of the day (0-23), got '{text}'") from None
    if not 0 <= v < 24:
        raise argparse.ArgumentTypeError(f"expected an hour from 0 to 23, got {v:g}")
    return v


def add_parser(sub) -> None:
    p = sub.add_parser("playback", help="an HTML animation of one shift (units, calls, the 5-minute line)",
                       description="Write a self-contained HTML playback of one shift of one replication "
                                   "(play, pause, speed, a time slider; opens offline) and the trace it is "
                                   "drawn from (trace.parquet: unit, time_s, lon, lat, state).")
    add_scenario_options(p)
    p.add_argument("--start-hour", type=_hour_of_day, default=8.0,
                   help="hour of the day the shift starts, on the first whole day after warm-up (default 8)")
    p.add_argument("--hours", type=_hours, default=8.0, help="length of the shift shown in hours (default 8)")
    p.add_argument("--replication", type=non_negative_int, default=0, help="which replication (default 0)")
    p.add_argument("--out", type=Path, default=None,
                   help="the HTML file (default: results/<scenario-name>-playback/playback.html)")
    p.add_argument("--trace", type=Path, default=None,
                   help="the trace table (default: trace.parquet beside the HTML file)")
    p.add_argument("--gif", type=Path, default=None, help="also write the shift as an animated GIF (slides)")
    p.add_argument("--step-s", type=float, default=10.0, help="seconds between samples of a unit (default 10)")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sim.output_checks import default_folder
    from sim.report.playback_file import write_playback
    from sim.scenario_file import load_scenario

    t0 = time.perf_counter()
    scenario = load_scenario(args.scenario, overrides=args.overrides)
    out = args.out or default_folder(scenario.name + "-playback", file=scenario.source_file) / "playback.html"
    written = write_playback(scenario, out=out, trace_path=args.trace, gif=args.gif, start_hour=args.start_hour,
                             hours=args.hours, replication=args.replication, step_s=args.step_s)
    if not args.quiet:
        for path in written:
            print(f"  wrote {path} ({path.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
        print(f"  in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0
