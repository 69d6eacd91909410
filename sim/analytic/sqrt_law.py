"""The square-root law: how far is the nearest free unit?

Why: before running a simulation it helps to know the order of magnitude of the
response distance. If the free units are scattered at random over a region of
area ``A``, the distance from a call to the nearest free one shrinks like
``sqrt(A / n_free)``: doubling the free units cuts the distance by about 30 %,
not 50 %. This is the law Kolesar and Blum found for fire engines and the
reason extra patrol cars buy less response time than intuition suggests.

Assumptions (all of them matter; the simulation drops each one):

* Free units form a spatial Poisson process (positions independent and
  uniform over the region). Beats that spread units evenly do better than this;
  units clustered at a station do worse.
* The region is large compared with the spacing of units, so edge effects are
  ignored (near a boundary the nearest unit is farther away).
* Travel follows a metric on the plane: ``"euclidean"`` (straight line) or
  ``"right_angle"`` (Manhattan, ``|dx| + |dy|``, streets on a grid aligned with
  the axes). Real road networks add detours on top of either.
* The number of free units is the long-run mean; use :func:`free_units` to
  get it from the utilisation.

Derivation: with ``gamma = n_free / A`` units per unit area, the nearest unit
is farther than ``r`` when the ball of radius ``r`` is empty,
``P(D > r) = exp(-gamma * area_of_ball(r))``. Integrating gives
``E[D] = 0.5 / sqrt(gamma)`` for the Euclidean ball (area ``pi r^2``) and
``E[D] = sqrt(pi / 8) / sqrt(gamma) = 0.6267 / sqrt(gamma)`` for the
right-angle ball (a diamond of area ``2 r^2``).

References
----------
Larson, R. C. and Odoni, A. R. (1981). *Urban Operations Research*,
Prentice-Hall, chapter 3 (geometrical probability: nearest-neighbour distances
in a spatial Poisson process, Euclidean and right-angle metrics).
Kolesar, P. and Blum, E. H. (1973). "Square root laws for fire engine response
distances", *Management Science* 19(12), 1368-1378.
"""

from __future__ import annotations

import math
from numbers import Real

from sim.errors import InputError

__all__ = ["NEAREST_DISTANCE_CONSTANTS", "expected_nearest_distance", "free_units"]

#: ``c`` in ``E[D] = c sqrt(A / n)`` for each travel metric (see module docstring).
NEAREST_DISTANCE_CONSTANTS: dict[str, float] = {
    "right_angle": math.sqrt(math.pi / 8.0),  # 0.62666
    "euclidean": 0.5,
}


def _finite(value, *, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise InputError(f"{key} must be a finite number, got {value!r}", key=key, fix=f"give {key} as a number")
    return float(value)


def expected_nearest_distance(*, area: float, n_free: float, metric: str = "right_angle") -> float:
    """Mean distance from a random call to the nearest of ``n_free`` free units.

    ``E[D] = c * sqrt(area / n_free)`` with ``c = 0.6267`` (right-angle) or
    ``0.5`` (Euclidean). See the module docstring for the assumptions; the
    most important is that free units are scattered at random.

    Parameters
    ----------
    area : float
        Area of the region, in square length units (e.g. km^2). The result is
        in the matching length unit (km).
    n_free : float
        Number of free units (may be fractional: a long-run mean). Must be
        greater than 0: with no free unit there is no nearest one.
    metric : {"right_angle", "euclidean"}
        Travel metric: Manhattan grid (default, the usual choice for city
        streets) or straight line.

    Returns
    -------
    float
        Expected nearest distance, in the length unit of ``sqrt(area)``.

    References
    ----------
    Larson & Odoni (1981), chapter 3; Kolesar & Blum (1973).
    """
    a = _finite(area, key="area")
    n = _finite(n_free, key="n_free")
    if a <= 0:
        raise InputError(f"area must be greater than 0, got {a:g}", key="area",
                         fix="give the region's area in square length units, e.g. 12.5 for 12.5 km^2")
    if n <= 0:
        raise InputError(f"n_free must be greater than 0, got {n:g}: with no free unit there is no nearest "
                         f"one", key="n_free", fix="add units or lower the utilisation")
    try:
        c = NEAREST_DISTANCE_CONSTANTS[metric]
    except (KeyError, TypeError):
        raise InputError(f"unknown metric {metric!r}", key="metric",
                         fix="use metric='right_angle' or metric='euclidean'") from None
    return c * math.sqrt(a / n)


def free_units(*, n: float, utilisation: float) -> float:
    """Long-run mean number of free units: ``n * (1 - utilisation)``.

    Why: the square-root law needs how many units are free when a call comes
    in. With Poisson arrivals the state seen by a call is the time-average
    state (PASTA), so the mean number free at a call is the time-average
    ``n (1 - rho)``. This is a mean: using it in the square-root law ignores
    that the nearest distance is convex in the number free (Jensen), which
    makes the estimate slightly optimistic when few units are free.

    Parameters
    ----------
    n : float
        Number of units on duty (0 or more).
    utilisation : float
        Fraction of time a unit is busy, in [0, 1].

    Returns
    -------
    float
        Expected number of free units.
    """
    count = _finite(n, key="n")
    rho = _finite(utilisation, key="utilisation")
    if count < 0:
        raise InputError(f"n must be 0 or more, got {count:g}", key="n", fix="give the number of units on duty")
    if not 0 <= rho <= 1:
        raise InputError(f"utilisation must be in [0, 1], got {rho:g}", key="utilisation",
                         fix="give the fraction of time a unit is busy, e.g. 0.4")
    return count * (1.0 - rho)
