"""Simulate a hypercube problem with the engine (``patrolsim analytic hypercube FILE --simulate``).

Why: Larson's hypercube model and the simulator answer the same question (how
busy is each unit, who serves whom, how often does a call wait) under
different assumptions. Set the simulator's assumptions to the model's and the
answers must agree within sampling error; that is the check in
``tests/validation/test_hypercube_des.py`` and the table in docs/validation.md.

How the problem becomes a simulation (``sim.experiment.validation_builders``):

* every unit is a standby unit waiting at its own post, turnout 0;
* every atom is a place; the travel time from post ``n`` to atom ``j`` is
  ``0.1 s + 0.001 s x (rank of n in j's preference list)`` and the drive back
  to any post takes a microsecond, so the engine's rule (nearest free unit by
  arrival time, ties to the lower unit id) sends the first free unit of the
  list and a unit that has cleared is back at its post at once;
* one time unit of the problem is ``3600 / service_rate`` seconds, so the mean
  on-scene time is one hour and travel (at most about 0.12 s) is negligible,
  as the model assumes (no travel inside the service time);
* calls are Poisson at the atoms' rates with exponential on-scene times, no
  call handling, one unit each; ``queue: loss`` drops calls that find every
  unit busy (``DispatchRules(lost_when_all_busy=True)``), ``queue: infinite``
  queues them first come first served.

Measured per replication over the window after the warm-up, then averaged
with 95% t-intervals across replications (``sim.metrics.mean_ci95``):
workloads (share of the window each unit is busy: travelling or on scene),
``p_queue`` (share of calls that found every unit busy: dispatched later than
called, or lost), dispatch fractions (share of dispatched calls from atom ``j``
answered by unit ``n``, counting queued calls like the model), the cross-area
fraction (the unit sent is not the atom's first choice), the mean wait in
queue and, when the problem has travel times, the mean travel time implied by
who was sent (as the model defines it, from the unit's post).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analytic.problem import HypercubeProblem
from sim.experiment.validation_builders import (busy_shares, make_travel, poisson_incidents, preference_city,
                                                run_stationed, stationed_deployment)
from sim.metrics import mean_ci95
from sim.streams import replication_seed

__all__ = ["DEFAULT_REPLICATIONS", "DEFAULT_SEED", "HypercubeSimulation", "simulate_hypercube"]

DEFAULT_REPLICATIONS = 10
DEFAULT_SEED = 20240605
DEFAULT_HORIZON_SERVICES = 2000.0   # mean service times per replication, after the warm-up
DEFAULT_WARMUP_SERVICES = 20.0
SERVICE_S = 3600.0                  # the mean on-scene time in the simulation
WAIT_EPS_S = 1e-3                   # a call dispatched later than this after its call time waited


@dataclass(frozen=True)
class HypercubeSimulation:
    """Per-replication measurements of a simulated hypercube problem.

    Arrays have the replications on their first axis. Times (``mean_wait``,
    ``mean_travel_time``) are in the problem's time unit.
    """

    units: tuple[str, ...]
    atoms: tuple[str, ...]
    queue: str
    seed: int
    replications: int
    horizon: float                   # window per replication, problem time units (after the warm-up)
    warmup: float
    time_unit_s: float
    total_rate: float                # calls per time unit (the problem's lambda)
    service_rate: float              # the problem's mu
    workloads: np.ndarray            # (R, N)
    p_queue: np.ndarray              # (R,)
    dispatch_fractions: np.ndarray   # (R, J, N), each replication sums to 1
    dispatch_given_atom: np.ndarray  # (R, J, N), rows sum to 1
    cross_area_fraction: np.ndarray  # (R,)
    mean_wait: np.ndarray            # (R,) over all calls in the window (0 for calls that did not wait)
    calls: np.ndarray                # (R,) calls in the window
    lost: np.ndarray                 # (R,) calls lost (loss queue)
    unserved: np.ndarray             # (R,) calls in the window never dispatched nor lost (should be 0)
    mean_travel_time: np.ndarray | None = None   # (R,) when the problem has travel times

    def summary(self) -> dict:
        """Means and 95% t-intervals across replications, keyed like ``HypercubeResult.to_dict()``."""
        ci = mean_ci95
        out = {
            "method": "simulation",
            "queue": self.queue,
            "replications": self.replications,
            "seed": self.seed,
            "horizon": self.horizon,
            "warmup": self.warmup,
            "time_unit_s": self.time_unit_s,
            "calls_per_replication": float(self.calls.mean()),
            "workloads": {u: ci(self.workloads[:, n]) for n, u in enumerate(self.units)},
            "p_queue": ci(self.p_queue),
            "dispatch_fractions": {a: {u: ci(self.dispatch_fractions[:, j, n]) for n, u in enumerate(self.units)}
                                   for j, a in enumerate(self.atoms)},
            "dispatch_given_atom": {a: {u: ci(self.dispatch_given_atom[:, j, n]) for n, u in enumerate(self.units)}
                                    for j, a in enumerate(self.atoms)},
            "cross_area_fraction": ci(self.cross_area_fraction),
            "unserved_calls": float(self.unserved.sum()),
        }
        if self.queue == "infinite":
            out["mean_wait"] = ci(self.mean_wait)
        else:
            out["lost_calls_per_replication"] = float(self.lost.mean())
        if self.mean_travel_time is not None:
            out["mean_travel_time"] = ci(self.mean_travel_time)
        return out

    def to_dict(self) -> dict:
        return self.summary()

    def format_comparison(self, result) -> str:
        """Simulated values with 95% CIs next to a ``HypercubeResult`` of the same problem."""
        s = self.summary()

        def cell(d: dict) -> str:
            lo, hi = d["ci95"]
            if lo is None:
                return f"{d['mean']:.4f}"
            return f"{d['mean']:.4f} [{lo:.4f}, {hi:.4f}]"

        def flag(value: float, d: dict) -> str:
            lo, hi = d["ci95"]
            return "" if lo is None or lo <= value <= hi else "  outside CI"

        lines = [f"Simulation ({self.replications} replications of {self.horizon:g} time units after a "
                 f"warm-up of {self.warmup:g}, seed {self.seed}): mean and 95% CI",
                 f"  {'':<28}{'model':>9}  simulated"]
        for n, u in enumerate(self.units):
            d = s["workloads"][u]
            lines.append(f"  {'workload ' + u:<28}{result.workloads[n]:9.4f}  {cell(d)}{flag(result.workloads[n], d)}")
        what = "P(all busy) (wait)" if self.queue == "infinite" else "P(all busy) (lost)"
        lines.append(f"  {what:<28}{result.p_queue:9.4f}  {cell(s['p_queue'])}{flag(result.p_queue, s['p_queue'])}")
        d = s["cross_area_fraction"]
        lines.append(f"  {'cross-area fraction':<28}{result.cross_area_fraction:9.4f}  {cell(d)}"
                     f"{flag(result.cross_area_fraction, d)}")
        if self.queue == "infinite":
            from sim.analytic.erlang import mmc_mean_wait

            wq = mmc_mean_wait(servers=len(self.units), arrival_rate=self.total_rate, service_rate=self.service_rate)
            d = s["mean_wait"]
            lines.append(f"  {'mean wait (M/M/N)':<28}{wq:9.4f}  {cell(d)}{flag(wq, d)}")
        if self.mean_travel_time is not None and result.mean_travel_time is not None:
            d = s["mean_travel_time"]
            lines.append(f"  {'mean travel time':<28}{result.mean_travel_time:9.4f}  {cell(d)}"
                         f"{flag(result.mean_travel_time, d)}")
        f_sim = self.dispatch_fractions.mean(axis=0)
        lines.append(f"  largest |simulated - model| dispatch fraction: "
                     f"{float(np.abs(f_sim - np.asarray(result.dispatch_fractions)).max()):.4f}"
                     f" (all fractions with CIs in the JSON file)")
        return "\n".join(lines)


def simulate_hypercube(problem: HypercubeProblem, *, replications: int = DEFAULT_REPLICATIONS,
                       seed: int = DEFAULT_SEED, horizon_services: float = DEFAULT_HORIZON_SERVICES,
                       warmup_services: float = DEFAULT_WARMUP_SERVICES, progress=None) -> HypercubeSimulation:
    """Run a hypercube problem through the engine; see the module docstring for the construction.

    Parameters
    ----------
    problem : HypercubeProblem
        A validated problem (``sim.analytic.load_problem``).
    replications : int
        Independent replications (each with its own seed from ``seed``).
    seed : int
        Root seed; replication ``r`` uses ``replication_seed(seed, r)``.
    horizon_services, warmup_services : float
        Length of the measured window and of the warm-up before it, in mean
        service times (``1 / service_rate``).

    Returns
    -------
    HypercubeSimulation
        Per-replication measurements; ``to_dict()`` gives means and 95% CIs.
    """
    if replications < 1:
        raise ValueError("replications must be 1 or more")
    if horizon_services <= 0 or warmup_services < 0:
        raise ValueError("horizon_services must be > 0 and warmup_services >= 0")
    pref = np.asarray(problem.preferences, np.int64)
    n_atoms, n_units = pref.shape
    units = problem.units or tuple(f"u{i + 1}" for i in range(n_units))
    atoms = problem.atoms or tuple(f"a{j + 1}" for j in range(n_atoms))
    time_unit_s = SERVICE_S * problem.service_rate          # seconds per time unit of the problem
    warmup_s = warmup_services * SERVICE_S
    horizon_s = warmup_s + horizon_services * SERVICE_S
    rates_per_s = np.asarray(problem.arrival_rates, float) / time_unit_s

    city, posts, atom_places = preference_city(pref)
    deployment = stationed_deployment(posts)
    travel = make_travel(city)
    loss = problem.queue == "loss"
    first_choice = pref[:, 0]
    atom_of_place = np.full(city.n_places, -1, np.int64)
    atom_of_place[atom_places] = np.arange(n_atoms)

    R = int(replications)
    work = np.zeros((R, n_units))
    p_queue = np.zeros(R)
    frac = np.zeros((R, n_atoms, n_units))
    given = np.zeros((R, n_atoms, n_units))
    cross = np.zeros(R)
    wait = np.zeros(R)
    calls = np.zeros(R)
    lost = np.zeros(R)
    unserved = np.zeros(R)
    if progress:
        progress(0, R)
    for r in range(R):
        rep = replication_seed(seed, r)
        inc = poisson_incidents(rep, rates_per_s=rates_per_s, places=atom_places, mean_service_s=SERVICE_S,
                                horizon_s=horizon_s, name="hypercube-atoms")
        log = run_stationed(city=city, deployment=deployment, travel=travel, incidents=inc, rep=rep,
                            warmup_s=warmup_s, horizon_s=horizon_s, lost_when_all_busy=loss)
        work[r] = busy_shares(log)
        m = calls_in_window(log)
        delay = log.dispatch_s[m] - inc.call_s[m]
        was_lost = log.lost[m] if log.lost is not None else np.zeros(int(m.sum()), bool)
        sent = ~np.isnan(delay)
        unserved[r] = float((~sent & ~was_lost).sum())
        queued = was_lost | ~sent | (delay > WAIT_EPS_S)
        calls[r] = float(m.sum())
        lost[r] = float(was_lost.sum())
        p_queue[r] = float(queued.mean()) if m.any() else np.nan
        wait[r] = float(np.nanmean(np.where(sent, delay, np.nan)) / time_unit_s) if sent.any() else np.nan
        idx = np.flatnonzero(m)[sent]
        atom = atom_of_place[inc.place[idx]]
        unit = np.array([log.units_sent[i][0] for i in idx], np.int64)
        counts = np.zeros((n_atoms, n_units))
        np.add.at(counts, (atom, unit), 1.0)
        total = counts.sum()
        frac[r] = counts / total if total else np.nan
        per_atom = counts.sum(axis=1, keepdims=True)
        given[r] = np.divide(counts, per_atom, out=np.full_like(counts, np.nan), where=per_atom > 0)
        cross[r] = float((unit != first_choice[atom]).mean()) if unit.size else np.nan
        if progress:
            progress(r + 1, R)
    mtt = None
    if problem.travel_times is not None:
        mtt = (frac * np.asarray(problem.travel_times, float)[None]).sum(axis=(1, 2))
    return HypercubeSimulation(units=tuple(units), atoms=tuple(atoms), queue=problem.queue, seed=int(seed),
                               replications=R, horizon=horizon_services / problem.service_rate,
                               warmup=warmup_services / problem.service_rate, time_unit_s=time_unit_s,
                               total_rate=problem.total_rate, service_rate=problem.service_rate,
                               workloads=work, p_queue=p_queue, dispatch_fractions=frac,
                               dispatch_given_atom=given, cross_area_fraction=cross, mean_wait=wait,
                               calls=calls, lost=lost, unserved=unserved, mean_travel_time=mtt)


def calls_in_window(log) -> np.ndarray:
    """Boolean mask of the calls made in ``[warmup, horizon)``."""
    call = log.incidents.call_s
    return (call >= log.warmup_s) & (call < log.horizon_s)
