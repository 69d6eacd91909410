"""Erlang B, Erlang C and the M/M/c waiting-time formulas.

These are the closed forms the simulator is checked against when space does not
matter: if every unit could reach every call equally fast, the police force
would be an M/M/c queue (Poisson calls, exponential service times, ``c``
identical units, first come first served). The hypercube model
(:mod:`sim.analytic.hypercube`) adds geography, but its probability that all
units are busy is exactly the Erlang value computed here, whatever the dispatch
preferences are; that identity is one of its tests.

All functions are unit-agnostic: give rates per second and the times come back
in seconds, give rates per hour and they come back in hours. Offered load is
``arrival_rate / service_rate`` (in Erlangs, the mean number of busy units if
no call were ever lost or queued).

References
----------
Larson, R. C. and Odoni, A. R. (1981). *Urban Operations Research*,
Prentice-Hall, chapter 4 (queueing theory): M/M/m with
infinite queue (Erlang C) and the zero-capacity M/M/m/m system (Erlang B).
Jagerman, D. L. (1974). "Some properties of the Erlang loss function",
*Bell System Technical Journal* 53(3): the recursion used below.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy.special import gammaln, logsumexp

from sim.errors import InputError

__all__ = [
    "erlang_b",
    "erlang_c",
    "mmc_mean_wait",
    "mmc_p_wait_exceeds",
    "mmc_wait_quantile",
    "busy_servers_distribution",
]


def _check_servers(servers) -> int:
    if isinstance(servers, bool) or not isinstance(servers, Integral) or servers < 1:
        raise InputError(f"servers must be a whole number of 1 or more, got {servers!r}", key="servers",
                         fix="give the number of units as an integer such as 5")
    return int(servers)


def _check_non_negative(value, *, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value < 0:
        raise InputError(f"{key} must be a finite number of 0 or more, got {value!r}", key=key,
                         fix=f"give {key} as a non-negative number")
    return float(value)


def _check_positive(value, *, key: str) -> float:
    v = _check_non_negative(value, key=key)
    if v == 0:
        raise InputError(f"{key} must be greater than 0", key=key, fix=f"give {key} as a positive number")
    return v


def erlang_b(*, servers: int, offered_load: float) -> float:
    """Probability that a call is lost in an M/M/c/c (loss) system: Erlang B.

    Why: with no queue, a call that finds every unit busy is lost (in policing,
    handed to a backup service). Erlang B is that probability, and it is also
    exactly the hypercube model's ``p_queue`` in its loss variant.

    The textbook formula ``(a^c / c!) / sum_k a^k / k!`` overflows for a few
    hundred servers. The recursion ``B(0) = 1``,
    ``B(k) = a B(k-1) / (k + a B(k-1))`` only ever handles numbers in [0, 1]
    and is exact in exact arithmetic (Jagerman 1974).

    Parameters
    ----------
    servers : int
        Number of identical units ``c`` (1 or more).
    offered_load : float
        ``arrival_rate / service_rate`` in Erlangs (0 or more). Any value is
        stable: a loss system never grows without bound.

    Returns
    -------
    float
        Blocking probability in [0, 1).

    References
    ----------
    Larson & Odoni (1981), *Urban Operations Research*, chapter 4
    (the M/M/m system with zero queue capacity, "Erlang's loss formula").
    """
    c = _check_servers(servers)
    a = _check_non_negative(offered_load, key="offered_load")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(*, servers: int, offered_load: float) -> float:
    """Probability that a call has to wait in an M/M/c queue: Erlang C.

    Why: with an unlimited queue, a call that finds every unit busy waits.
    Erlang C is the probability of that (by PASTA, the fraction of time all
    units are busy) and is exactly the hypercube model's ``p_queue`` in its
    infinite-queue variant.

    Computed from Erlang B as ``C = B / (1 - rho (1 - B))`` with
    ``rho = offered_load / servers``, which inherits the recursion's stability.

    Parameters
    ----------
    servers : int
        Number of identical units ``c`` (1 or more).
    offered_load : float
        ``arrival_rate / service_rate`` in Erlangs; must be below ``servers``.

    Returns
    -------
    float
        Probability of waiting in [0, 1).

    Raises
    ------
    InputError
        If ``offered_load >= servers``: the queue then grows without bound and
        no steady state exists.

    References
    ----------
    Larson & Odoni (1981), *Urban Operations Research*, chapter 4 (M/M/m
    with infinite queue capacity).
    """
    c = _check_servers(servers)
    a = _check_non_negative(offered_load, key="offered_load")
    if a >= c:
        raise InputError(
            f"offered load {a:g} Erlangs is not below {c} servers: the queue is unstable and grows "
            f"without bound, so there is no steady-state probability of waiting", key="offered_load",
            fix="add units, lower the call rate or shorten the service time so that load < servers")
    b = erlang_b(servers=c, offered_load=a)
    return b / (1.0 - (a / c) * (1.0 - b))


def _mmc(servers, arrival_rate, service_rate) -> tuple[int, float, float, float]:
    c = _check_servers(servers)
    lam = _check_non_negative(arrival_rate, key="arrival_rate")
    mu = _check_positive(service_rate, key="service_rate")
    p_wait = erlang_c(servers=c, offered_load=lam / mu)
    return c, lam, mu, p_wait


def mmc_mean_wait(*, servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time a call waits in queue before a unit is assigned, M/M/c FCFS.

    Why: the waiting time adds directly to the response time, and its mean is
    the first number to compare a simulated force against.
    ``W_q = C / (c mu - lambda)`` (Larson & Odoni 1981, chapter 4).

    Parameters
    ----------
    servers : int
        Number of units ``c``.
    arrival_rate : float
        Calls per unit of time (``lambda``).
    service_rate : float
        Calls one unit completes per unit of time when busy (``mu``, the
        reciprocal of the mean service time).

    Returns
    -------
    float
        Mean wait in the time unit of the rates (includes the calls that do not
        wait, with wait 0).
    """
    c, lam, mu, p_wait = _mmc(servers, arrival_rate, service_rate)
    return p_wait / (c * mu - lam)


def mmc_p_wait_exceeds(*, servers: int, arrival_rate: float, service_rate: float, t: float) -> float:
    """Probability that a call waits longer than ``t`` in an M/M/c FCFS queue.

    Why: service standards are stated as "answered within t" rather than as a
    mean. Given that it waits, a call's wait is exponential with rate
    ``c mu - lambda``, so ``P(W > t) = C exp(-(c mu - lambda) t)``
    (Larson & Odoni 1981, chapter 4).

    Parameters
    ----------
    servers, arrival_rate, service_rate
        As in :func:`mmc_mean_wait`.
    t : float
        Waiting time threshold (0 or more), in the time unit of the rates.

    Returns
    -------
    float
        ``P(W > t)``; at ``t = 0`` this is the Erlang C probability.
    """
    c, lam, mu, p_wait = _mmc(servers, arrival_rate, service_rate)
    t = _check_non_negative(t, key="t")
    return p_wait * math.exp(-(c * mu - lam) * t)


def mmc_wait_quantile(*, servers: int, arrival_rate: float, service_rate: float, probability: float) -> float:
    """Smallest wait ``t`` such that ``P(W <= t) >= probability``, M/M/c FCFS.

    Why: "90 % of calls wait less than t" is how a dispatch standard reads.
    The waiting-time distribution has an atom ``1 - C`` at zero, so every
    quantile below ``1 - C`` is 0; above it
    ``t = ln(C / (1 - probability)) / (c mu - lambda)``.

    Parameters
    ----------
    servers, arrival_rate, service_rate
        As in :func:`mmc_mean_wait`.
    probability : float
        Quantile level in [0, 1).

    Returns
    -------
    float
        The quantile, in the time unit of the rates.
    """
    if isinstance(probability, bool) or not isinstance(probability, Real) or not 0 <= probability < 1:
        raise InputError(f"probability must be in [0, 1), got {probability!r}", key="probability",
                         fix="give a quantile level such as 0.9")
    c, lam, mu, p_wait = _mmc(servers, arrival_rate, service_rate)
    tail = 1.0 - float(probability)
    if tail >= p_wait:
        return 0.0
    return math.log(p_wait / tail) / (c * mu - lam)


def busy_servers_distribution(*, servers: int, offered_load: float, queue: str = "infinite") -> np.ndarray:
    """Steady-state probabilities of ``k`` busy units, ``k = 0..servers``.

    Why: the hypercube model's states, grouped by how many units are busy, form
    exactly this birth-death chain (every call is served by some free unit,
    whichever it is), so these totals are known in advance. The exact solver
    uses them to normalise each level of the hypercube, and the Larson (1975)
    approximation builds its correction factors from them.

    Parameters
    ----------
    servers : int
        Number of units ``N``.
    offered_load : float
        ``arrival_rate / service_rate`` in Erlangs.
    queue : {"infinite", "loss"}
        ``"infinite"``: M/M/N, the last entry is the probability that all units
        are busy (with any number waiting), i.e. Erlang C; needs
        ``offered_load < servers``. ``"loss"``: M/M/N/N (truncated Poisson),
        the last entry is Erlang B.

    Returns
    -------
    numpy.ndarray
        Shape ``(servers + 1,)``, sums to 1. Computed in log space so that
        hundreds of units do not overflow.
    """
    n = _check_servers(servers)
    a = _check_non_negative(offered_load, key="offered_load")
    if queue not in ("infinite", "loss"):
        raise InputError(f"queue must be 'infinite' or 'loss', got {queue!r}", key="queue",
                         fix="write queue: infinite or queue: loss")
    k = np.arange(n + 1)
    if a == 0:
        out = np.zeros(n + 1)
        out[0] = 1.0
        return out
    logw = k * math.log(a) - gammaln(k + 1)
    if queue == "infinite":
        if a >= n:
            erlang_c(servers=n, offered_load=a)  # raises the "unstable" InputError
        logw[-1] -= math.log1p(-a / n)
    return np.exp(logw - logsumexp(logw))
