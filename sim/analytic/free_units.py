"""The travel and response times of the nearest free units, when free units are scattered at random.

Why a module of its own: it is the spatial half of the scenario estimate
(``sim.analytic.scenario_estimate``, whose docstring states the model): free units of
each kind, ``n_k`` of them at speed ``v_k`` after a delay ``d_k``, scattered uniformly
over an area ``A`` and travelling right-angle distances. The number that can reach a
call within ``t`` seconds is then Poisson with mean
``m(t) = sum_k 2 (n_k / A) (v_k (t - d_k)_+)^2``, so the ``i``-th unit's travel time has
``P(T_i > t) = P(Poisson(m(t)) < i)``; with one kind and no delay ``E[T_1]`` is the
square-root law ``0.6267 sqrt(A / n) / v`` (``sim.analytic.sqrt_law``). Response times
add call handling and the queue's wait by convolution on a 1-second grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

__all__ = ["DT_S", "FreeGroup", "travel_cdf", "travel_moments", "response_cdf"]

DT_S = 1.0                      # time grid of the distributions
MIN_T_MAX_S = 7200.0



@dataclass(frozen=True)
class FreeGroup:
    """Units of one kind available to answer: how many on duty, how fast, after what delay."""

    kind: str            # a kind of sim.kinds, or standby-<kind>
    units: int
    speed_mps: float
    delay_s: float = 0.0


def _reach_mean(t: np.ndarray, groups, *, area_m2: float, free_share: float) -> np.ndarray:
    """m(t): expected number of free units that can reach a random call within ``t`` seconds."""
    m = np.zeros_like(t)
    for g in groups:
        if g.units <= 0:
            continue
        r = g.speed_mps * np.maximum(t - g.delay_s, 0.0)
        m += 2.0 * g.units * free_share / area_m2 * r * r
    return m


def _t_max(groups, *, area_m2: float, free_share: float, floor_s: float = MIN_T_MAX_S, order: int = 2) -> float:
    """A horizon beyond which the travel-time tails are negligible (for the first ``order`` units)."""
    dens = sum(g.units * free_share * g.speed_mps ** 2 for g in groups if g.units > 0)
    if dens <= 0:
        return math.inf
    scale = math.sqrt(area_m2 / dens)                # seconds; E[T_1] = 0.6267 x scale without delays
    delay = max((g.delay_s for g in groups if g.units > 0), default=0.0)
    return max(floor_s, (12.0 + 2.0 * math.sqrt(order)) * scale + delay)


def _poisson_below(order: int, m: np.ndarray) -> np.ndarray:
    """``P(Poisson(m) < order)`` = ``exp(-m) sum_{j < order} m^j / j!`` (small ``order``)."""
    term = np.exp(-m)
    total = term.copy()
    for j in range(1, order):
        term = term * m / j
        total += term
    return np.minimum(total, 1.0)


def travel_cdf(t: np.ndarray, order: int, groups, *, area_m2: float, free_share: float = 1.0) -> np.ndarray:
    """``P(T_order <= t)``: the ``order``-th nearest free unit (by arrival time) arrives within ``t``."""
    m = _reach_mean(np.asarray(t, float), groups, area_m2=area_m2, free_share=free_share)
    return 1.0 - _poisson_below(order, m)


def travel_moments(groups, *, area_m2: float, free_share: float, max_order: int) -> np.ndarray:
    """``E[T_i]`` in seconds for ``i = 1..max_order`` (inf when no unit is free)."""
    t_max = _t_max(groups, area_m2=area_m2, free_share=free_share, floor_s=0.0, order=max_order)
    if not math.isfinite(t_max):
        return np.full(max_order, math.inf)
    dt = min(DT_S, t_max / 4000.0)
    t = np.arange(0.0, t_max + dt, dt)
    m = _reach_mean(t, groups, area_m2=area_m2, free_share=free_share)
    out = np.empty(max_order)
    term = np.exp(-m)
    surv = term.copy()                                # P(T_i > t) = P(Poisson(m(t)) < i)
    for i in range(1, max_order + 1):
        if i > 1:
            term = term * m / (i - 1)
            surv = surv + term
        out[i - 1] = float(dt * (surv.sum() - 0.5 * (surv[0] + surv[-1])))   # trapezoid rule
    return out


def _pmf_from_cdf(cdf: np.ndarray) -> np.ndarray:
    """Mass of each grid cell [k dt, (k+1) dt) from a CDF sampled at the cell edges."""
    pmf = np.diff(cdf)
    return np.maximum(pmf, 0.0)


def response_cdf(x: np.ndarray, *, handling_mean_s: float, p_wait: float, wait_rate: float, order: int,
                 groups, area_m2: float, free_share: float) -> np.ndarray:
    """``P(H + W + T_order <= x)`` for independent handling, wait and travel.

    ``H`` is exponential with mean ``handling_mean_s`` (0: no handling);
    ``W`` is 0 with probability ``1 - p_wait`` and else exponential with rate
    ``wait_rate`` (per second; the M/M/c wait); ``T_order`` as in
    :func:`travel_cdf`. Computed by convolving the three distributions on a
    1-second grid (masses placed at cell midpoints, so the error is well under
    a second).
    """
    x = np.asarray(x, float)
    t_max = max(_t_max(groups, area_m2=area_m2, free_share=free_share), float(x.max()) + 10.0)
    edges = np.arange(0.0, t_max + DT_S, DT_S)
    travel = _pmf_from_cdf(travel_cdf(edges, order, groups, area_m2=area_m2, free_share=free_share))
    pmf, parts = travel, 1
    if handling_mean_s > 0:
        pmf = np.maximum(fftconvolve(pmf, _pmf_from_cdf(1.0 - np.exp(-edges / handling_mean_s)))[: pmf.size], 0.0)
        parts += 1
    out = _grid_cdf(x, pmf, parts)
    if p_wait > 0:
        if wait_rate > 0 and math.isfinite(wait_rate):
            waited = np.maximum(fftconvolve(pmf, _pmf_from_cdf(1.0 - np.exp(-wait_rate * edges)))[: pmf.size], 0.0)
            out = (1.0 - p_wait) * out + p_wait * _grid_cdf(x, waited, parts + 1)
        else:
            out = (1.0 - p_wait) * out
    return out


def _grid_cdf(x: np.ndarray, pmf: np.ndarray, parts: int) -> np.ndarray:
    """CDF at ``x`` of a sum of ``parts`` grid distributions whose masses sit at cell midpoints.

    The sum's mass at index ``k`` sits at ``(k + parts/2) dt``, spread over a cell of
    width ``dt``, so the cumulative mass up to ``k`` is reached at ``(k + parts/2 + 1/2) dt``.
    """
    right = (np.arange(pmf.size) + (parts + 1) / 2.0) * DT_S
    cdf = np.cumsum(pmf)
    return np.interp(x, np.concatenate([[0.0], right]), np.concatenate([[0.0], cdf]), right=float(cdf[-1]))
