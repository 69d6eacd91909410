"""How far simulated response times are from observed ones, per priority and overall.

The distance of one priority is the mean absolute difference of the logarithms of five
quantiles (10th, 25th, 50th, 75th, 90th percentiles) of the simulated and the observed
response times: ``mean_q |ln Q_sim(q) - ln Q_obs(q)|``. Why this and not a KS statistic:
response times span seconds to hours and waits act multiplicatively, so a log-time distance
treats a 2-minute miss on a 5-minute median like a 20-minute miss on a 50-minute one; quantiles
are what a response standard reads (the median, the 90th percentile); and the distance moves
smoothly with the keys under common random numbers, where a KS statistic of a few hundred
observed calls moves in steps of 1/n and gives an optimiser flat plateaus. A distance of 0.1
means the quantiles are about 10% apart on average.

The overall objective is the mean of the priorities' distances, each priority weighted the same
(priorities with at least ``MIN_CALLS`` observed calls that the scenario's demand also draws).
Why equal weights and not by number of calls: the keys are told apart by how the priorities
differ (call handling delays every priority alike; officer-initiated work that priority 1 may
interrupt delays only the others), so the least frequent priority, often priority 1, must not
be drowned by the most frequent one; and a planner reads each priority's standard on its own. The two-sample KS statistic and its p-value are reported per
priority as a second goodness of fit, not optimised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
#: A priority needs this many observed calls to be fitted (fewer: its quantiles are noise).
MIN_CALLS = 10
#: Response times below one second are taken as one second (the log of zero is not defined).
FLOOR_S = 1.0
#: The distance of a priority the simulation did not serve at all at a trial point.
NO_CALLS_DISTANCE = 10.0


@dataclass(frozen=True)
class Target:
    """The observed side: response times of each fitted priority and its weight."""

    times_s: dict[int, np.ndarray]
    weights: dict[int, float]

    @property
    def priorities(self) -> list[int]:
        return sorted(self.times_s)


def target(observed_times: dict[int, np.ndarray], simulated_priorities) -> tuple[Target, dict[int, str]]:
    """The priorities fitted (enough observed calls, drawn by the scenario) and why others are not."""
    use, skipped = {}, {}
    sim = {int(p) for p in simulated_priorities}
    for p, v in sorted(observed_times.items()):
        if v.size < MIN_CALLS:
            skipped[p] = f"{v.size} observed calls (fewer than {MIN_CALLS})"
        elif p not in sim:
            skipped[p] = "the scenario's demand has no incident type of this priority"
        else:
            use[p] = np.asarray(v, float)
    n = sum(v.size for v in use.values())
    return Target(use, {p: 1.0 / len(use) for p in use} if n else {}), skipped


def log_quantiles(times_s: np.ndarray, qs=QUANTILES) -> np.ndarray:
    return np.log(np.maximum(np.quantile(np.asarray(times_s, float), qs), FLOOR_S))


def distance(simulated_s: np.ndarray, observed_s: np.ndarray) -> float:
    """Mean absolute log-quantile difference of one priority (see the module docstring)."""
    if np.asarray(simulated_s).size == 0:
        return NO_CALLS_DISTANCE
    return float(np.mean(np.abs(log_quantiles(simulated_s) - log_quantiles(observed_s))))


def objective(simulated: dict[int, np.ndarray], tgt: Target,
              observed: dict[int, np.ndarray] | None = None) -> tuple[float, dict[int, float]]:
    """(weighted sum, distance per priority); ``observed`` replaces the target's times (a bootstrap)."""
    obs = observed or tgt.times_s
    per = {p: distance(simulated.get(p, np.empty(0)), obs[p]) for p in tgt.priorities}
    return float(sum(tgt.weights[p] * d for p, d in per.items())), per


def goodness_of_fit(simulated: dict[int, np.ndarray], tgt: Target) -> dict[str, dict]:
    """Per priority: calls on each side, the log-quantile distance, the quantiles and the KS statistic."""
    from scipy.stats import ks_2samp

    out = {}
    for p in tgt.priorities:
        sim = np.asarray(simulated.get(p, np.empty(0)), float)
        obs = tgt.times_s[p]
        row = {"observed_calls": int(obs.size), "simulated_calls": int(sim.size), "weight": tgt.weights[p],
               "log_quantile_distance": distance(sim, obs),
               "quantiles": list(QUANTILES),
               "observed_quantiles_s": np.quantile(obs, QUANTILES).tolist()}
        if sim.size:
            ks = ks_2samp(sim, obs)
            row.update(simulated_quantiles_s=np.quantile(sim, QUANTILES).tolist(),
                       ks_statistic=float(ks.statistic), ks_pvalue=float(ks.pvalue))
        out[str(p)] = row
    return out
