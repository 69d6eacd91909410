"""Hash the whole engine log of the default town, to show an engine change leaves results bit for bit the same.

    python bench/engine_hash.py                                  # this checkout, the standard cases
    python bench/engine_hash.py --old ../other-checkout          # and another checkout: hashes must match

The cases: ``scenarios/default.yaml`` for ``--days`` (default 30) at 240 and 1,920
officers (green), at 240 officers with the alert level overridden to orange and red, and
at 960 officers with a calendar of levels (units sent off duty, to the station and back
at shift changes: with one level all day, who is on duty never changes).
The hash covers every record the engine returns: dispatch times, arrivals, units sent,
first unit, cross-area flags, clearances, cordon times, lost requests, the end time, every
unit's accounts and trips, patrol intervals, the staffing and alert logs, and the circuits
built. Floats are hashed by their exact bits (``repr``), so any change of rounding shows.
Each case runs in its own process with ``sim`` from the checkout given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from child import default_town, run_child

REPO = Path(__file__).resolve().parents[1]
# a calendar of levels, so that shift changes send units off duty, to the station, to posts and back
CALENDAR = "calendar:" + ", ".join(f"{{day: {d}, level: {lvl}}}" for d, lvl in (
    (2, "red"), (4, "orange"), (7, "green"), (9, "yellow"), (12, "red"), (15, "green"), (20, "orange")))
CASES = (("240 green", 240, None), ("1920 green", 1920, None), ("240 orange", 240, "orange"),
         ("240 red", 240, "red"), ("960 calendar", 960, CALENDAR))
ACCOUNTS = ("status", "patrol_s", "travel_s", "scene_s", "station_s", "off_s", "post_s", "overtime_s",
            "distance_m", "calls", "cross_area_calls", "out_of_service_s", "officer_initiated_s", "trips")


def log_digest(log) -> str:
    """sha256 of a canonical text of every field of an ``EngineLog``."""
    h = hashlib.sha256()

    def put(name, value) -> None:
        h.update(name.encode())
        h.update(repr(value).encode())

    for name in ("dispatch_s", "first_unit", "cross_area", "clear_s", "encircle_s", "lost"):
        arr = getattr(log, name)
        put(name, None if arr is None else arr.tolist())
    put("arrivals", log.arrivals_s)
    put("sent", log.units_sent)
    put("end", (log.warmup_s, log.horizon_s, log.end_s))
    for st in log.units:
        put("unit", (st.uid, [str(getattr(st, a)) if a == "status" else getattr(st, a) for a in ACCOUNTS]))
    put("intervals", log.patrol_intervals)
    put("staffing", log.staffing)
    put("alert", log.alert_log)
    put("circuits", sorted((k, c.nodes, c.t_s) for k, c in log.circuits.items()))
    return h.hexdigest()


def child(days: float, officers: int, level: str | None) -> None:
    from sim.experiment.replicate import make_engine

    overrides = [f"force.total_officers={officers}"]
    if level is not None and level.startswith("calendar:"):
        overrides += ["alert.mode=calendar", f"alert.calendar=[{level[len('calendar:'):]}]"]
    elif level is not None:
        overrides.append(f"alert.level={level}")
    ctx, rep, incidents = default_town(days, overrides)
    log = make_engine(ctx, incidents, rep).run()
    print("RESULT " + json.dumps({"digest": log_digest(log), "incidents": len(incidents),
                                  "dispatches": sum(map(len, log.units_sent))}), flush=True)


def run(repo: Path, days: float, officers: int, level: str | None) -> dict:
    args = ["--days", f"{days:g}", "--officers", str(officers)]
    if level is not None:
        args += ["--level", level]
    return run_child(__file__, args, repo)



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    ap.add_argument("--old", default=None, help="another checkout whose hashes must match (e.g. main)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--officers", type=int, default=240, help=argparse.SUPPRESS)
    ap.add_argument("--level", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.days, args.officers, args.level)
        return 0
    sides = {"new": REPO} if args.old is None else {"old": Path(args.old).resolve(), "new": REPO}
    differ = 0
    for name, officers, level in CASES:
        got = {s: run(repo, args.days, officers, level) for s, repo in sides.items()}
        same = len({g["digest"] for g in got.values()}) == 1
        differ += not same
        line = "  ".join(f"{s} {g['digest'][:16]}" for s, g in got.items())
        print(f"{name:>12}, {args.days:g} days, {got['new']['dispatches']} dispatches: {line}"
              + ("" if len(sides) == 1 else ("  same" if same else "  DIFFERENT")), flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
