"""An interval for each fitted key: bootstrap refits on a quadratic surrogate of the objective.

Two things make a fitted value uncertain: the observed calls are a sample (a few hundred
calls, tens per priority), and the simulated side is a sample too (``R`` replications). Each
bootstrap draw resamples both, the observed calls of each priority with replacement and the
replications with replacement, and recomputes the objective at every trial point already
simulated (the simulated times of each point are kept, so no new simulation is run). The
draw's fitted point is the minimum of a quadratic in the keys' unit coordinates fitted by least
squares to the trial points nearest the draw's best point (``2c - 1`` of them for a quadratic of
``c`` coefficients: 5 for one key, 11 for two), kept inside the box those points span; when the quadratic has no
minimum there (not convex), the draw's best trial point is taken instead. The interval is the
2.5th to 97.5th percentile of the draws' fitted values.

What the interval is not: it is conditional on the model (a wrong structure, say availability
that really varies by hour, is not in it), and it cannot leave the region the search visited; an
interval that reaches a range's end says the data do not bound the key inside that range.
"""

from __future__ import annotations

import itertools

import numpy as np

from sim.calibrate.objective import Target, objective

DRAWS = 200
LEVEL = 0.95


def _design(u: np.ndarray) -> np.ndarray:
    """Columns 1, u_i, u_i u_j (i <= j) of a full quadratic."""
    n, k = u.shape
    cols = [np.ones(n)] + [u[:, i] for i in range(k)]
    cols += [u[:, i] * u[:, j] for i, j in itertools.combinations_with_replacement(range(k), 2)]
    return np.column_stack(cols)


def surrogate_minimum(u: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, bool]:
    """(minimiser, from the quadratic?) of a quadratic fitted to the points nearest the best of (u, f)."""
    n, k = u.shape
    n_coef = 1 + k + k * (k + 1) // 2
    m = min(n, 2 * n_coef - 1)
    best = u[int(np.lexsort((np.arange(n), f))[0])]
    if m < n_coef + 1:
        return best, False
    near = np.lexsort((np.arange(n), np.sum((u - best) ** 2, axis=1)))[:m]     # the best point first
    uu, ff = u[near], f[near]
    coef, *_ = np.linalg.lstsq(_design(uu), ff, rcond=None)
    g = coef[1:1 + k]
    h = np.zeros((k, k))
    for c, (i, j) in zip(coef[1 + k:], itertools.combinations_with_replacement(range(k), 2)):
        if i == j:
            h[i, i] = 2 * c
        else:
            h[i, j] = h[j, i] = c
    try:
        if np.any(np.linalg.eigvalsh(h) <= 1e-9):
            return best, False
        x = np.linalg.solve(h, -g)
    except np.linalg.LinAlgError:
        return best, False
    lo, hi = uu.min(axis=0), uu.max(axis=0)
    return np.clip(x, lo, hi), True


def bootstrap(trials, spaces, tgt: Target, *, replications: int, draws: int = DRAWS, seed: int = 0,
              level: float = LEVEL) -> dict[str, dict]:
    """Per fitted key: the interval, the draws' median, and how the intervals were obtained."""
    u = np.array([t.unit for t in trials], float)
    out_u = np.empty((draws, len(spaces)))
    used_quadratic = 0
    for b in range(draws):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(b,))))
        obs = {p: rng.choice(v, size=v.size, replace=True) for p, v in tgt.times_s.items()}
        reps = [int(r) for r in rng.integers(0, replications, replications)]
        f = np.array([objective({p: t.sample.pooled(p, reps) for p in tgt.priorities}, tgt, observed=obs)[0]
                      for t in trials])
        x, quad = surrogate_minimum(u, f)
        out_u[b] = x
        used_quadratic += quad
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    res = {}
    for i, s in enumerate(spaces):
        col = out_u[:, i]
        lo, hi, med = (float(np.quantile(col, q)) for q in (lo_q, hi_q, 0.5))
        res[s.key] = {"low": s.from_unit(lo), "high": s.from_unit(hi), "bootstrap_median": s.from_unit(med),
                      "level": level, "at_range_end": bool(lo <= 1e-6 or hi >= 1 - 1e-6),
                      "range": [s.low, s.high]}
    method = (f"bootstrap, {draws} draws: observed calls of each priority and the {replications} replications "
              f"resampled with replacement, the objective recomputed at the {len(trials)} simulated trial points; "
              f"each draw's fit is the minimum of a quadratic surrogate near its best point ({used_quadratic} "
              f"draws) or, where the quadratic has no minimum, its best trial point (the other "
              f"{draws - used_quadratic}); {level:.0%} percentile interval")
    return {"keys": res, "method": method}
