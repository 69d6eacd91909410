"""Simulated response times per priority: patrolsim runs of the scenario with the fitted keys set.

The measure is the one ``patrolsim run`` writes: ``response_time_s`` of ``incidents.parquet``,
from the call to the first unit's arrival, which includes call handling
(``demand.call_handling_mean_s``), any wait in the queue for a free unit and the drive, over
the calls after the warm-up. It matches the observed start point (``sim.calibrate.observed``):
in SPD's CAD a call is queued once the call taker has entered it, so patrolsim's call handling
stands for the time from the queue to a dispatcher sending a unit.

Common random numbers: every trial point runs replications ``0 .. R-1`` of the same seed, so
the incidents, call-handling draws (unit exponentials times the mean), availability episodes
(unit exponentials times rate and mean) and patrol routes are the same at every point; only
the keys change. The prepared world (network, demand, beats) is built once; a trial that
changes only ``availability.*`` keys reuses it whole, one that changes the call handling reuses
it with the new mean (a replay, whose missing handling times are drawn when its file is read, is
read again), and one that changes speeds prepares the deployment again (beats by drive time depend
on speed) on the same road graphs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

#: Keys that only the engine reads: the prepared world is reused as it is.
ENGINE_ONLY_PREFIX = "availability."
HANDLING_KEY = "demand.call_handling_mean_s"


@dataclass
class SimSample:
    """Response times (seconds) per priority, one array per replication, at one trial point."""

    values: dict[str, float]
    by_priority: dict[int, list[np.ndarray]]

    def pooled(self, priority: int, replications: list[int] | None = None) -> np.ndarray:
        reps = self.by_priority.get(priority, [])
        idx = range(len(reps)) if replications is None else replications
        parts = [reps[i] for i in idx]
        return np.concatenate(parts) if parts else np.empty(0)


class Simulator:
    """Runs the scenario at trial points; ``replications`` replications of ``days`` measured days each."""

    def __init__(self, scenario, *, replications: int, days: float, quiet: bool = True, progress=None):
        from sim.api import with_keys
        from sim.network import load_city
        from sim.world import base_demand, prepare

        self.replications = int(replications)
        horizon = float(scenario.warmup_days) + float(days)
        self.scenario = with_keys(scenario, {"horizon_days": horizon, "replications": self.replications})
        self.city = load_city(self.scenario, quiet=quiet, progress=progress)
        self.base_demand = base_demand(self.scenario, self.city, quiet=True)
        self.world = prepare(self.scenario, quiet=True, city=self.city, demand=self.base_demand)
        #: the priorities the demand can draw (a fitted or replayed demand has its own types)
        self.priorities = sorted(int(p) for p in np.unique(self.world.demand.type_priority))

    def world_for(self, values: dict[str, float]):
        """The prepared world with ``values`` set (reusing what the keys do not change)."""
        from sim.api import with_keys
        from sim.world import prepare

        sc = with_keys(self.scenario, values)
        if all(k.startswith(ENGINE_ONLY_PREFIX) for k in values):
            return replace(self.world, scenario=sc)
        if HANDLING_KEY in values and self.base_demand.replay is not None:
            # a replay draws the missing handling times when its file is read: read it again
            return prepare(sc, quiet=True, city=self.city)
        if all(k.startswith(ENGINE_ONLY_PREFIX) or k == HANDLING_KEY for k in values):
            demand = replace(self.world.demand, call_handling_mean_s=float(sc.demand.call_handling_mean_s))
            return replace(self.world, scenario=sc, demand=demand)
        demand = replace(self.base_demand, call_handling_mean_s=float(sc.demand.call_handling_mean_s))
        return prepare(sc, quiet=True, city=self.city, demand=demand)

    def run(self, values: dict[str, float]) -> SimSample:
        """Response times per priority of replications ``0 .. R-1`` at the trial point ``values``."""
        world = self.world_for(values)
        by: dict[int, list[np.ndarray]] = {}
        for r in range(self.replications):
            inc = incidents(world, r)
            inc = inc[inc["in_window"].to_numpy(bool)]
            rt = inc["response_time_s"].to_numpy(float)
            pr = inc["priority"].to_numpy(int)
            for p in self.priorities:
                v = rt[(pr == p) & np.isfinite(rt)]
                by.setdefault(p, []).append(np.sort(v))
        return SimSample(values=dict(values), by_priority=by)


def incidents(world, replication: int):
    """The incident rows of one replication, as ``run_replication`` makes them, without its other work.

    The same calls in the same order (``sample_incidents``, ``make_engine``, ``metrics.incident_records``),
    so ``response_time_s`` is the number ``patrolsim run`` writes; the visibility, unit and
    per-level tables that a run also computes (more than half its time) are skipped. A test holds
    the two to the same response times.
    """
    from sim import metrics
    from sim.demand import sample_incidents
    from sim.experiment.replicate import make_engine
    from sim.streams import replication_seed

    sc = world.scenario
    rep = replication_seed(sc.seed, replication)
    inc = sample_incidents(world.demand, rep, horizon_s=world.horizon_s)
    log = make_engine(world, inc, rep).run()
    return metrics.incident_records(log, city=world.city, deployment=world.deployment, demand=world.demand,
                                    replication=replication, lines=sc.lines)
