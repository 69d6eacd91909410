"""SimPy's own floor under the default town: what the events alone cost, against the whole replication.

    python bench/event_floor.py --days 60
    python bench/event_floor.py --days 60 --officers 1920

Issue 14 asks for one simulated year of the default town in under 2 s while SimPy stays
the event engine. This script says how much of that budget the events themselves take.
It runs the engine on ``scenarios/default.yaml`` for ``--days`` (one replication, warm
caches), counts the SimPy events it scheduled, then schedules the same number of
events the way the engine does (``Engine._at``: a ``Call`` event, scheduled as a timeout,
in a chain) with callbacks that do nothing, and times both in this process (CPU time,
smallest of ``--rounds``); and, for comparison, the same chain of plain SimPy timeouts
with a closure each (what the engine scheduled before ``sim.engine.event``). It prints the events per incident, the engine's and the
empty chain's microseconds per incident, and both scaled to the incidents of one year
(365 days at the same rate): the empty chain is the least a year can cost with SimPy
as the event engine; the difference is the model's own work per incident.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import simpy

REPO = Path(__file__).resolve().parents[1]


def empty_chain(n_events: int, *, calls: bool = True) -> float:
    """CPU seconds of ``n_events`` SimPy events with no-op callbacks, scheduled as the engine does.

    ``calls``: the engine's ``Call`` events (``Engine._at``); else ``env.timeout`` with a closure.
    """
    from simpy.events import NORMAL

    from sim.engine.event import Call

    env = simpy.Environment()
    schedule = env.schedule

    if calls:
        def after(delay_s, fn, *args):
            ev = Call()
            ev.callbacks = [fn]
            ev.args = args
            schedule(ev, NORMAL, delay_s)
    else:
        def after(delay_s, fn, *args):
            ev = env.timeout(delay_s)
            ev.callbacks.append(lambda _ev: fn(_ev))

    half = n_events // 2
    made = iter(range(1, half))           # the requests after the first

    def request(_ev):                     # a request schedules the next one and its unit's clearance
        k = next(made, None)
        if k is not None:
            after(60.0, request, k)
        after(900.0, clear, k)

    def clear(_ev):
        pass

    t0 = time.process_time()
    after(0.0, request, 0)
    env.run()
    return time.process_time() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=60.0, help="simulated days of the engine run (default 60)")
    ap.add_argument("--officers", type=int, default=None, help="force.total_officers (default: the scenario's)")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each; the least CPU time counts (default 3)")
    args = ap.parse_args(argv)

    from sim.demand import sample_incidents
    from sim.experiment import prepare
    from sim.experiment.replicate import make_engine
    from sim.scenario_file import load_scenario
    from sim.streams import replication_seed

    overrides = [f"horizon_days={args.days:g}", "replications=1"]
    if args.officers is not None:
        overrides.append(f"force.total_officers={args.officers}")
    sc = load_scenario(REPO / "scenarios" / "default.yaml", overrides=overrides)
    ctx = prepare(sc, quiet=True)
    rep = replication_seed(sc.seed, 0)
    incidents = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    n_inc = len(incidents)
    make_engine(ctx, incidents, rep).run()            # warm caches and the compiled search
    engine_s, empty_s, timeout_s, n_events = [], [], [], 0
    for _ in range(max(1, args.rounds)):
        eng = make_engine(ctx, incidents, rep)
        t0 = time.process_time()
        eng.run()
        engine_s.append(time.process_time() - t0)
        n_events = next(eng.env._eid)                  # events scheduled in this run (SimPy's counter)
        empty_s.append(empty_chain(n_events))
        timeout_s.append(empty_chain(n_events, calls=False))
    per_year = n_inc / args.days * 365.0
    e_us, f_us = min(engine_s) / n_inc * 1e6, min(empty_s) / n_inc * 1e6
    o_us = min(timeout_s) / n_inc * 1e6
    print(f"# default town, {args.days:g} days, {len(ctx.deployment.units)} units, {n_inc} incidents, "
          f"{n_events} events ({n_events / n_inc:.2f} per incident); least of {args.rounds} rounds, CPU")
    print(f"{'':<22} {'us/incident':>11} {'s per year':>10}")
    print(f"{'engine':<22} {e_us:>11.1f} {e_us * per_year / 1e6:>10.2f}")
    print(f"{'SimPy events alone':<22} {f_us:>11.1f} {f_us * per_year / 1e6:>10.2f}")
    print(f"{'the model beyond them':<22} {e_us - f_us:>11.1f} {(e_us - f_us) * per_year / 1e6:>10.2f}")
    print(f"{'(timeouts + closures)':<22} {o_us:>11.1f} {o_us * per_year / 1e6:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
