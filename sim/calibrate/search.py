"""The search over the fitted keys: deterministic, every trial point under the same seeds.

Each key is searched on the logarithm of its value between its range's ends, mapped to
[0, 1] (``sim.calibrate.keys.KeySpace``). The budget ``trials`` counts simulations (a point met
twice is simulated once). Two phases:

1. **Coarse:** the scenario's own values (clipped into the ranges) and the first points of an
   unscrambled Halton sequence, which spreads points evenly over the box without a random draw
   (about a third of the budget, at least ``2k + 2`` points for ``k`` keys);
2. **Local:** Nelder-Mead (scipy) from the best coarse point, with a first simplex of steps of
   0.15 along each axis, inside the box, until the budget is spent or the simplex is smaller
   than ``XATOL`` (about 1% of each key's log range).

The same seeds at every point (``sim.calibrate.simulated``) make the objective a fixed function
of the keys, not a noisy one, so the simplex does not chase noise; what noise remains (the finite
sample of simulated calls) is carried into the intervals by ``sim.calibrate.uncertainty``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

SIMPLEX_STEP = 0.15
XATOL = 0.01
FATOL = 1e-4


@dataclass
class Trial:
    """One simulated trial point: its key values, its place in the unit box and its objective."""

    index: int
    phase: str                   # "start", "coarse", "local"
    values: dict[str, float]
    unit: tuple[float, ...]
    objective: float
    per_priority: dict[int, float]
    sample: object = field(repr=False, default=None)     # the SimSample, for the intervals and the figure


class _Budget(Exception):
    pass


def coarse_points(k: int, n: int) -> np.ndarray:
    """``n`` points of the unscrambled Halton sequence in [0, 1]^k (deterministic)."""
    from scipy.stats import qmc

    if n <= 0:
        return np.empty((0, k))
    return qmc.Halton(d=k, scramble=False).random(n + 1)[1:]      # the first point is the origin


def run_search(evaluate: Callable[[dict[str, float]], tuple[float, dict, object]], spaces, *, trials: int,
               start: dict[str, float], on_trial: Callable[[Trial, int], None] | None = None) -> list[Trial]:
    """Trials in the order simulated; the best is ``min(trials, key=objective)``.

    ``evaluate(values) -> (objective, per-priority distances, sample)`` runs the simulation.
    """
    from scipy.optimize import minimize

    k = len(spaces)
    done: list[Trial] = []
    seen: dict[tuple, Trial] = {}

    def at(u, phase: str) -> Trial:
        u = tuple(round(float(min(max(x, 0.0), 1.0)), 6) for x in u)
        if u in seen:
            return seen[u]
        if len(done) >= trials:
            raise _Budget
        values = {s.key: s.from_unit(x) for s, x in zip(spaces, u)}
        obj, per, sample = evaluate(values)
        t = Trial(len(done), phase, values, u, float(obj), per, sample)
        done.append(t)
        seen[u] = t
        if on_trial:
            on_trial(t, trials)
        return t

    n_coarse = min(trials, max(2 * k + 2, trials // 3))
    try:
        at([s.to_unit(start[s.key]) for s in spaces], "start")
        for u in coarse_points(k, n_coarse - 1):
            at(u, "coarse")
        best = min(done, key=lambda t: t.objective)
        x0 = np.array(best.unit)
        simplex = [x0] + [_step(x0, i) for i in range(k)]
        minimize(lambda u: at(u, "local").objective, x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * k,
                 options={"initial_simplex": np.array(simplex), "xatol": XATOL, "fatol": FATOL,
                          "maxiter": 50 * trials, "maxfev": 50 * trials})
    except _Budget:
        pass
    return done


def _step(x0: np.ndarray, i: int) -> np.ndarray:
    """A simplex vertex ``SIMPLEX_STEP`` from ``x0`` along axis ``i``, turned back at the box's edge."""
    x = x0.copy()
    x[i] = x[i] + SIMPLEX_STEP if x[i] + SIMPLEX_STEP <= 1.0 else x[i] - SIMPLEX_STEP
    return x


def best_trial(trials: list[Trial]) -> Trial:
    """The trial with the smallest objective (the earliest among equals)."""
    return min(trials, key=lambda t: (t.objective, t.index))
