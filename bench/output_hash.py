"""Hash everything one replication returns (the rows of the output tables), to show a change of the
tables' code leaves them the same; and time that code (what ``run_replication`` does after the engine).

    python bench/output_hash.py                                  # this checkout
    python bench/output_hash.py --old ../other-checkout          # and another: hashes must match
    python bench/output_hash.py --days 365 --old ../other --rounds 3

``bench/engine_hash.py`` covers the engine's log; this covers what is made of it: the
incident and unit tables, the headline metrics overall, per alert level and per priority,
and the staffing, alert-level and visibility tables (``sim.experiment.replicate``). The
cases are ``scenarios/default.yaml`` (240 officers, one level all day, and 960 officers
with a calendar of levels, so the per-level metrics have several groups) and the Seattle
U-District scenario when the shared data is beside the checkout. Values are hashed by
their text (``repr``: floats by their exact bits), columns with their types.

Each case runs in its own process with ``sim`` from the checkout given. The engine runs
once; the tables are then made ``--rounds`` times from its log, and the least CPU time
is printed (other work on the machine only ever adds to it), old and new side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from child import run_child

REPO = Path(__file__).resolve().parents[1]
CALENDAR = "[" + ", ".join(f"{{day: {d}, level: {lvl}}}" for d, lvl in (
    (2, "red"), (4, "orange"), (7, "green"), (9, "yellow"), (12, "red"), (15, "green"), (20, "orange"))) + "]"
CASES = (("default 240", "default.yaml", ["force.total_officers=240"]),
         ("default 960 calendar", "default.yaml",
          ["force.total_officers=960", "alert.mode=calendar", f"alert.calendar={CALENDAR}"]),
         ("seattle udistrict", "seattle_udistrict.yaml", []))


def frame_text(df) -> str:
    """A canonical text of a table: column names and types, then every value by its repr."""
    cols = [(c, str(df[c].dtype)) for c in df.columns]
    rows = [repr([v.tolist() if hasattr(v, "tolist") else v for v in col]) for col in
            (df[c].to_numpy(dtype=object) for c in df.columns)]
    return repr(cols) + repr(len(df)) + "".join(rows)


def output_digest(out) -> str:
    """sha256 of every table and metric of a ``ReplicationOutput``."""
    h = hashlib.sha256()

    def put(name: str, text: str) -> None:
        h.update(name.encode())
        h.update(text.encode())

    put("incidents", frame_text(out.incidents))
    put("units", frame_text(out.units))
    put("metrics", repr(sorted(out.metrics.items())))
    put("by_level", repr(sorted((k, sorted(v.items())) for k, v in out.by_alert_level.items())))
    put("by_priority", repr(sorted((k, sorted(v.items())) for k, v in out.by_priority.items())))
    for name in sorted(out.tables):
        put(name, frame_text(out.tables[name]))
    return h.hexdigest()


def child(scenario: str, overrides: list[str], days: float, rounds: int) -> None:
    import sim.experiment.replicate as R
    from sim.experiment import prepare
    from sim.scenario_file import load_scenario

    sc = load_scenario(REPO / "scenarios" / scenario,
                       overrides=[f"horizon_days={days:g}", "replications=1", *overrides])
    ctx = prepare(sc, quiet=True)
    log = {}
    make = R.make_engine

    def engine_once(*a, **k):
        """The engine of the first round; later rounds reuse its log (only the tables are timed)."""
        if "log" not in log:
            eng = make(*a, **k)
            log["log"] = eng.run()
            log["horizon_s"] = eng.horizon_s
        return _Done(log["log"], log["horizon_s"])

    R.make_engine = engine_once
    out = R.run_replication(ctx, 0)
    times = []
    for _ in range(max(1, rounds)):
        c = time.process_time()
        again = R.run_replication(ctx, 0)
        times.append(time.process_time() - c)
    digest = output_digest(out)
    if output_digest(again) != digest:
        sys.exit("the tables differ between two rounds on the same log")
    print("RESULT " + json.dumps({"digest": digest, "incidents": len(out.incidents), "tables_cpu_s": min(times)}),
          flush=True)


class _Done:
    """An engine whose run is already done (``run_replication`` asks for ``run``, ``release`` and ``horizon_s``)."""

    def __init__(self, log, horizon_s: float) -> None:
        self._log, self.horizon_s = log, horizon_s

    def run(self):
        return self._log

    def release(self) -> None:
        """``Engine.release``: the log is reused by later rounds, so nothing is let go."""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    ap.add_argument("--old", default=None, help="another checkout whose hashes must match (e.g. main)")
    ap.add_argument("--rounds", type=int, default=1, help="times the tables are made from one log (least counts)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--scenario", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.scenario, args.set, args.days, args.rounds)
        return 0
    sides = {"new": REPO} if args.old is None else {"old": Path(args.old).resolve(), "new": REPO}
    seattle = (REPO.parent / "shared" / "data").is_dir()
    differ = 0
    print(f"# tables of one replication, {args.days:g} days; least CPU of {args.rounds} round(s)")
    for name, scenario, overrides in CASES:
        if scenario.startswith("seattle") and not seattle:
            print(f"{name:>22}: skipped (no ../shared/data beside the checkout)")
            continue
        cli = ["--days", f"{args.days:g}", "--rounds", str(args.rounds), "--scenario", scenario]
        for o in overrides:
            cli += ["--set", o]
        got = {s: run_child(__file__, cli, repo) for s, repo in sides.items()}
        same = len({g["digest"] for g in got.values()}) == 1
        differ += not same
        line = "  ".join(f"{s} {g['digest'][:16]} {g['tables_cpu_s']:.3f} s" for s, g in got.items())
        ratio = (f"  old/new {got['old']['tables_cpu_s'] / got['new']['tables_cpu_s']:.2f}x"
                 if len(sides) == 2 else "")
        print(f"{name:>22}: {got['new']['incidents']} incidents  {line}{ratio}"
              + ("" if len(sides) == 1 else ("  same" if same else "  DIFFERENT")), flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
