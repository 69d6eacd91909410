"""Larson's hypercube queueing model, exact and approximate.

Why: the hypercube model is the classical analytic model of a patrol force
with geography. Calls arrive as Poisson processes from atoms (small areas);
each atom ranks the units in a fixed preference order and a call goes to the
first *free* unit in its list. Service times are exponential with the same
mean for every unit. What the model gives, and a simple M/M/N queue cannot,
is how the load spreads over units (workloads), who serves whom (dispatch
fractions) and how often a unit leaves its own area (cross-area dispatches),
which is exactly what the simulator must reproduce when its own assumptions
are set to match.

Exact method (Larson 1974). The state is the set of busy units, a vertex of
the N-dimensional unit hypercube: ``2^N`` states, state ``s`` having bit ``n``
set when unit ``n`` is busy. A call from atom ``j`` in state ``s`` moves the
chain to ``s | 2^n`` where ``n`` is the first free unit of atom ``j``; a
service completion of unit ``n`` moves it to ``s ^ 2^n`` at rate ``mu``.

* Infinite queue: a call that finds all units busy waits; the first unit to
  free takes the oldest waiting call, so while calls wait the set of busy units
  does not change. The saturated states (all busy, ``k`` waiting) form an
  M/M/1-like tail with service rate ``N mu``; the flow into the tail equals the
  flow out of it, so they can be folded into the all-busy state analytically:
  the ``2^N`` chain is solved without arrivals out of the all-busy state and
  the all-busy state then receives the whole Erlang C mass (Larson 1974;
  Larson & Odoni 1981, section 5.4.3). In the loss model those calls are lost.
* Grouping states by the number of busy units gives the M/M/N (or M/M/N/N)
  birth-death chain, whatever the preferences, so each level's total
  probability is known in closed form (:func:`sim.analytic.erlang.busy_servers_distribution`).
  Transitions only join adjacent levels, so a Gauss-Seidel sweep by level
  updates a whole level at once (a level's states do not talk to each other);
  after each level update the level is rescaled to its known total. This
  converges in 30-50 sweeps; on our 2-core test machine N = 12 (4,096 states)
  takes under 0.2 s and N = 16 (65,536 states) about 2 s, most of it building
  the chain. A direct sparse LU (``solver="direct"``, scipy ``spsolve``) gives
  the same answer to 1e-13 but suffers heavy fill-in on the hypercube graph
  (we measured 7-19 s at N = 12 and 60 s at N = 13), so it is kept only for
  cross-checking.

Approximate method (Larson 1975). Units are treated as busy independently
with probabilities ``rho_n``, corrected by the factor ``Q(N, rho, j)`` that
makes the product exact for identical units: the probability that a call's
first ``j`` choices are busy and choice ``j + 1`` is free is approximated by
``Q(N, rho, j) rho_{a1} ... rho_{aj} (1 - rho_{a(j+1)})``. The workloads solve
``rho_n = (V_n + d) / (1 + V_n)`` with
``V_n = sum_j sum_k lambda_j / mu Q(N, rho, k-1) prod_{l<k} rho_{a_jl}`` over
the atoms ``j`` that rank ``n`` in position ``k`` and ``d = lambda P_Q / (N mu)``
the share of queued calls (0 for loss), followed by rescaling so that the
workloads add up to the exact total. Starting from equal workloads this is the
iteration of Larson & Odoni (1981), section 5.5.2; it reproduces their
published three-unit iterates (section 5.5.3).

Conventions (as Larson 1974 and Larson & Odoni 1981, section 5.4.4):

* ``dispatch_fractions[j, n]``: fraction of all dispatches that send unit ``n``
  to atom ``j``. With an infinite queue, a queued call is served by the first
  unit to free, which is each unit with probability ``1/N`` (equal service
  rates), so ``f[j, n] = (lambda_j / lambda) (P{n first free for j} + P_Q / N)``.
  In the loss model lost calls are not dispatches:
  ``f[j, n] = (lambda_j / lambda) P{n first free for j} / (1 - P_B)``.
* ``cross_area_fraction = 1 - sum_j f[j, first choice of j]``: a queued call
  that happens to be taken by its atom's first-choice unit counts as in-area,
  as in the book (which reports 0.43529 for its three-unit example).
* ``mean_travel_time = sum f[j, n] t[j, n]``: every dispatch, including one
  from the queue, is timed from the unit's post (the model has no notion of
  where a unit finishes its last call).

References
----------
Larson, R. C. (1974). "A hypercube queuing model for facility location and
redistricting in urban emergency services", *Computers & Operations Research*
1(1), 67-95.
Larson, R. C. (1975). "Approximating the performance of urban emergency
service systems", *Operations Research* 23(5), 845-868.
Larson, R. C. and Odoni, A. R. (1981). *Urban Operations Research*,
Prentice-Hall, chapter 5 (sections 5.4 exact hypercube, 5.5 approximation).
Jarvis, J. P. (1985). "Approximating the equilibrium behavior of multi-server
loss systems", *Management Science* 31(2), 235-239 (generalises the
approximation; not needed here because all units share one service rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import gammaln, logsumexp

from sim.analytic.erlang import busy_servers_distribution
from sim.analytic.problem import HypercubeProblem
from sim.errors import InputError

__all__ = [
    "MAX_EXACT_UNITS",
    "HypercubeResult",
    "correction_factors",
    "solve_hypercube",
    "solve_exact",
    "solve_approx",
    "approx_workload_iterates",
]

#: Largest number of units the exact method accepts (2^16 = 65,536 states).
MAX_EXACT_UNITS = 16
#: Largest number of units for the direct sparse LU cross-check solver.
MAX_DIRECT_UNITS = 12


@dataclass(frozen=True, kw_only=True)
class HypercubeResult:
    """What the hypercube model says about a problem.

    Attributes
    ----------
    method : {"exact", "approx"}
    queue : {"infinite", "loss"}
    units, atoms : tuple of str
        Names, in the order of the arrays below.
    workloads : numpy.ndarray, shape (N,)
        Fraction of time each unit is busy (``rho_n``), including time spent on
        calls taken from the queue.
    p_queue : float
        Probability that a call finds every unit busy (by PASTA, the fraction
        of time all are busy): it waits (infinite queue, Erlang C) or is lost
        (loss, Erlang B).
    dispatch_fractions : numpy.ndarray, shape (J, N)
        Fraction of all dispatches that send unit ``n`` to atom ``j``; sums to 1.
    dispatch_given_atom : numpy.ndarray, shape (J, N)
        Fraction of atom ``j``'s dispatches that go to unit ``n``; rows sum to 1.
    cross_area_fraction : float
        Fraction of dispatches that do not send the atom's first-choice unit.
    mean_travel_time : float or None
        Mean travel time over all dispatches (when travel times were given).
    mean_travel_time_by_atom : numpy.ndarray or None, shape (J,)
        Mean travel time of atom ``j``'s dispatches.
    iterations : int
        Gauss-Seidel sweeps (exact) or fixed-point iterations (approx).
    state_probabilities : numpy.ndarray or None, shape (2^N,)
        Exact method only: probability of each busy set, indexed by bitmask
        (bit ``n`` set = unit ``n`` busy); the all-busy entry includes the time
        with calls waiting.
    """

    method: str
    queue: str
    units: tuple[str, ...]
    atoms: tuple[str, ...]
    workloads: np.ndarray
    p_queue: float
    dispatch_fractions: np.ndarray
    dispatch_given_atom: np.ndarray
    cross_area_fraction: float
    mean_travel_time: float | None = None
    mean_travel_time_by_atom: np.ndarray | None = None
    iterations: int = 0
    state_probabilities: np.ndarray | None = None

    def to_dict(self) -> dict:
        """JSON-ready summary keyed by unit and atom names."""
        out = {
            "method": self.method,
            "queue": self.queue,
            "workloads": {u: float(w) for u, w in zip(self.units, self.workloads)},
            "p_queue": float(self.p_queue),
            "cross_area_fraction": float(self.cross_area_fraction),
            "dispatch_fractions": {
                a: {u: float(x) for u, x in zip(self.units, row)}
                for a, row in zip(self.atoms, self.dispatch_fractions)},
            "dispatch_given_atom": {
                a: {u: float(x) for u, x in zip(self.units, row)}
                for a, row in zip(self.atoms, self.dispatch_given_atom)},
        }
        if self.mean_travel_time is not None:
            out["mean_travel_time"] = float(self.mean_travel_time)
            out["mean_travel_time_by_atom"] = {
                a: float(t) for a, t in zip(self.atoms, self.mean_travel_time_by_atom)}
        return out


def solve_hypercube(problem: HypercubeProblem, *, method: str = "exact") -> HypercubeResult:
    """Solve a hypercube problem by the exact chain or Larson's approximation.

    Parameters
    ----------
    problem : HypercubeProblem
    method : {"exact", "approx"}
        ``"exact"`` for up to :data:`MAX_EXACT_UNITS` units; ``"approx"`` for
        any number (errors of about 1-2 % on workloads, Larson 1975).
    """
    if method == "exact":
        return solve_exact(problem)
    if method == "approx":
        return solve_approx(problem)
    raise InputError(f"unknown method {method!r}", key="method", fix="use method 'exact' or 'approx'")


# --- shared pieces ----------------------------------------------------------------------------

def _first_free(pref: np.ndarray, states: np.ndarray, free: np.ndarray | None = None) -> np.ndarray:
    """For each state, the first free unit of preference list ``pref`` (-1 when all are busy).

    ``free[u, i]`` (optional, precomputed) says whether unit ``u`` is free in ``states[i]``.
    """
    if free is None:
        free = ((states[None, :] >> np.arange(pref.size)[:, None]) & 1) == 0
    chosen = np.full(states.size, -1, dtype=np.int8)
    for u in pref[::-1]:  # last choice first, so earlier choices overwrite
        np.copyto(chosen, np.int8(u), where=free[u])
    return chosen


def _finish(problem: HypercubeProblem, *, method: str, workloads: np.ndarray, p_queue: float,
            served: np.ndarray, iterations: int, state_probabilities=None) -> HypercubeResult:
    """Turn per-atom 'unit n is the first free unit' probabilities into the reported measures.

    ``served[j, n]``: probability that a call from atom ``j`` finds unit ``n``
    to be its first free unit (rows sum to ``1 - p_queue``).
    """
    n = problem.n_units
    if problem.queue == "infinite":
        given = served + p_queue / n
    else:
        given = served / (1.0 - p_queue)
    share = problem.arrival_rates / problem.total_rate
    f = share[:, None] * given
    first = problem.preferences[:, 0]
    cross = 1.0 - float(f[np.arange(problem.n_atoms), first].sum())
    mtt = mtt_atom = None
    if problem.travel_times is not None:
        mtt_atom = (given * problem.travel_times).sum(axis=1)
        mtt = float((f * problem.travel_times).sum())
    for arr in (workloads, f, given, mtt_atom, state_probabilities):
        if arr is not None:
            arr.setflags(write=False)
    return HypercubeResult(
        method=method, queue=problem.queue, units=problem.units, atoms=problem.atoms,
        workloads=workloads, p_queue=float(p_queue), dispatch_fractions=f, dispatch_given_atom=given,
        cross_area_fraction=max(cross, 0.0), mean_travel_time=mtt, mean_travel_time_by_atom=mtt_atom,
        iterations=int(iterations), state_probabilities=state_probabilities)


# --- exact ------------------------------------------------------------------------------------

def solve_exact(problem: HypercubeProblem, *, solver: str = "levels", tol: float = 1e-13,
                max_sweeps: int = 20_000) -> HypercubeResult:
    """Solve the hypercube model exactly (Larson 1974).

    Parameters
    ----------
    problem : HypercubeProblem
        At most :data:`MAX_EXACT_UNITS` units.
    solver : {"levels", "direct"}
        ``"levels"`` (default): Gauss-Seidel by number of busy units with each
        level rescaled to its known M/M/N total (see the module docstring).
        ``"direct"``: sparse LU via ``scipy.sparse.linalg.spsolve``, for at
        most :data:`MAX_DIRECT_UNITS` units; slow because of fill-in, kept as
        an independent cross-check.
    tol : float
        Stop when no state probability changes by more than this in a sweep.
    max_sweeps : int
        Give up (RuntimeError) after this many sweeps.

    Returns
    -------
    HypercubeResult
        With ``state_probabilities`` over the ``2^N`` busy sets.

    Raises
    ------
    InputError
        More than :data:`MAX_EXACT_UNITS` units.
    """
    n = problem.n_units
    if n > MAX_EXACT_UNITS:
        raise InputError(
            f"{n} units give 2^{n} = {2 ** n:,} states: state space too large for the exact method; "
            f"use --method approx", file=problem.source, key="units",
            fix=f"use --method approx (Larson 1975 approximation), or at most {MAX_EXACT_UNITS} units")
    if solver not in ("levels", "direct"):
        raise InputError(f"unknown solver {solver!r}", key="solver", fix="use 'levels' or 'direct'")
    if solver == "direct" and n > MAX_DIRECT_UNITS:
        raise InputError(f"the direct solver is limited to {MAX_DIRECT_UNITS} units", key="solver",
                         fix="use solver='levels'")
    mu = problem.service_rate
    size = 1 << n
    states = np.arange(size, dtype=np.int64)
    full = size - 1

    # Aggregate the atoms that share a preference list: the chain only sees their total rate.
    groups, group_of_atom = np.unique(problem.preferences, axis=0, return_inverse=True)
    group_of_atom = group_of_atom.reshape(-1)
    group_rates = np.bincount(group_of_atom, weights=problem.arrival_rates, minlength=len(groups))

    free = ((states[None, :] >> np.arange(n)[:, None]) & 1) == 0  # free[u, s]
    up = np.zeros((size, n))  # up[s, u]: rate s -> s | 2^u
    keep_choices = len(groups) * size <= 2 ** 26  # cache the choices when they fit in 64 MB
    choices = []
    for pref, rate in zip(groups, group_rates):
        chosen = _first_free(pref, states, free)
        ok = chosen >= 0
        up[states[ok], chosen[ok]] += rate
        if keep_choices:
            choices.append(chosen)
    # (the all-busy state has no free unit, so no arrival transitions leave it in either model)

    rows, cols, vals = [], [], []  # transposed generator entries: into `rows` from `cols`
    for u in range(n):
        bit = 1 << u
        src = states[free[u]]
        r = up[src, u]
        keep = r > 0
        rows.append(src[keep] | bit)
        cols.append(src[keep])
        vals.append(r[keep])
        src = states[~free[u]]
        rows.append(src ^ bit)
        cols.append(src)
        vals.append(np.full(src.size, mu))
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    busy_count = n - free.sum(axis=0, dtype=np.int64)
    out_rate = up.sum(axis=1) + mu * busy_count
    inflow = sp.csr_matrix((vals, (rows, cols)), shape=(size, size))

    # Level totals of the 2^N chain are the M/M/N/N (truncated Poisson) probabilities, for
    # both queue models: the infinite queue only adds the folded tail to the all-busy state.
    level_totals = busy_servers_distribution(servers=n, offered_load=problem.offered_load, queue="loss")
    if solver == "direct":
        p, sweeps = _solve_direct(inflow, out_rate), 0
    else:
        p, sweeps = _solve_levels(inflow, out_rate, busy_count, level_totals, tol=tol, max_sweeps=max_sweeps)

    if problem.queue == "infinite":
        p_queue = float(busy_servers_distribution(servers=n, offered_load=problem.offered_load,
                                                  queue="infinite")[-1])
        p = p * ((1.0 - p_queue) / (1.0 - p[full]))
        p[full] = p_queue
    else:
        p_queue = float(p[full])

    workloads = np.array([p[~free[u]].sum() for u in range(n)])
    served_group = np.zeros((len(groups), n))
    not_full = states != full
    for g, pref in enumerate(groups):
        chosen = choices[g] if keep_choices else _first_free(pref, states, free)
        served_group[g] = np.bincount(chosen[not_full], weights=p[not_full], minlength=n)
    return _finish(problem, method="exact", workloads=workloads, p_queue=p_queue,
                   served=served_group[group_of_atom], iterations=sweeps, state_probabilities=p)


def _solve_direct(inflow: sp.csr_matrix, out_rate: np.ndarray) -> np.ndarray:
    """Balance equations ``inflow @ p = out_rate * p`` by sparse LU with ``p[0]`` fixed to 1."""
    a = (inflow - sp.diags(out_rate)).tocsc()
    x = spla.spsolve(a[1:, 1:], -a[1:, 0].toarray().ravel())
    p = np.concatenate([[1.0], np.atleast_1d(x)])
    return p / p.sum()


def _solve_levels(inflow: sp.csr_matrix, out_rate: np.ndarray, busy_count: np.ndarray,
                  level_totals: np.ndarray, *, tol: float, max_sweeps: int) -> tuple[np.ndarray, int]:
    """Symmetric Gauss-Seidel by level with each level rescaled to its known total."""
    n = len(level_totals) - 1
    levels = [np.flatnonzero(busy_count == k) for k in range(n + 1)]
    from_below = [None] + [inflow[levels[k]][:, levels[k - 1]].tocsr() for k in range(1, n + 1)]
    from_above = [inflow[levels[k]][:, levels[k + 1]].tocsr() for k in range(n)] + [None]
    out = [out_rate[lv] for lv in levels]
    prob = [np.full(lv.size, level_totals[k] / lv.size) for k, lv in enumerate(levels)]
    order = list(range(n + 1)) + list(range(n - 1, 0, -1))
    for sweep in range(1, max_sweeps + 1):
        change = 0.0
        for k in order:
            incoming = np.zeros(levels[k].size)
            if k > 0:
                incoming += from_below[k] @ prob[k - 1]
            if k < n:
                incoming += from_above[k] @ prob[k + 1]
            new = incoming / out[k]
            total = new.sum()
            new = new * (level_totals[k] / total) if total > 0 else prob[k]
            change = max(change, float(np.abs(new - prob[k]).max()))
            prob[k] = new
        if change < tol:
            break
    else:
        raise RuntimeError(f"hypercube level solver did not converge in {max_sweeps} sweeps "
                           f"(last change {change:.3g})")
    p = np.empty(busy_count.size)
    for k, lv in enumerate(levels):
        p[lv] = prob[k]
    return p, sweep


# --- approximation ----------------------------------------------------------------------------

def _log_correction_factors(n: int, offered_load: float, queue: str) -> tuple[np.ndarray, float, float]:
    """``log Q(N, rho, j)`` for j = 0..N-1, the mean workload ``rho`` and ``P_Q``."""
    dist = busy_servers_distribution(servers=n, offered_load=offered_load, queue=queue)
    rho = float(np.dot(np.arange(n + 1), dist)) / n  # mean workload (M/M/N: offered_load / N)
    with np.errstate(divide="ignore"):
        log_p = np.log(dist[:n])
    k = np.arange(n)
    log_q = np.full(n, -np.inf)
    for j in range(n):
        kk = k[j:]
        # log of C(N-j-1, k-j) / C(N, k): chance that j given units are among the k busy ones
        # and a given other unit is free, when the k busy units are a uniform random subset.
        log_ratio = (gammaln(n - j) - gammaln(kk - j + 1) - gammaln(n - kk)
                     - gammaln(n + 1) + gammaln(kk + 1) + gammaln(n - kk + 1))
        log_q[j] = logsumexp(log_p[j:] + log_ratio) - j * math.log(rho) - math.log1p(-rho)
    return log_q, rho, float(dist[-1])


def correction_factors(*, servers: int, offered_load: float, queue: str = "infinite") -> np.ndarray:
    """Larson's correction factors ``Q(N, rho, j)``, ``j = 0..N-1``.

    Why: for ``N`` identical units the probability that ``j`` named units are
    busy and another named unit is free is not ``rho^j (1 - rho)``: busy units
    are negatively correlated (one busy unit makes another less likely to be
    busy at a fixed total). ``Q`` is the exact ratio, computed from the M/M/N
    (infinite queue) or M/M/N/N (loss) state probabilities ``P_k``::

        Q(N, rho, j) = sum_{k=j}^{N-1} P_k C(N-j-1, k-j) / C(N, k) / (rho^j (1 - rho))

    with ``rho`` the mean workload (``offered_load / N`` for the infinite queue,
    ``offered_load (1 - B) / N`` for loss). For the infinite queue this is
    Larson & Odoni (1981) eq. (5.48); for loss it is the zero-capacity variant
    (their problem 5.10; Larson 1975).

    Parameters
    ----------
    servers : int
        ``N``.
    offered_load : float
        ``lambda / mu`` in Erlangs (below ``N`` for the infinite queue).
    queue : {"infinite", "loss"}

    Returns
    -------
    numpy.ndarray
        Shape ``(N,)``; ``Q(N, rho, 0) = 1``. E.g. ``Q(3, 1/2, .) = 1,
        0.73684, 0.63158`` (Larson & Odoni 1981, section 5.5.3).
    """
    log_q, _, _ = _log_correction_factors(int(servers), float(offered_load), queue)
    with np.errstate(over="ignore"):
        return np.exp(log_q)


class _Larson1975:
    """The pieces of Larson's (1975) iteration for one problem."""

    def __init__(self, problem: HypercubeProblem) -> None:
        n, mu = problem.n_units, problem.service_rate
        self.log_q, rho_mean, self.p_queue = _log_correction_factors(n, problem.offered_load, problem.queue)
        self.prefs = problem.preferences
        self.load = problem.arrival_rates / mu
        self.n = n
        self.d = problem.total_rate * self.p_queue / (n * mu) if problem.queue == "infinite" else 0.0
        self.rho_mean = rho_mean
        self.target = n * rho_mean

    def reach(self, rho: np.ndarray) -> np.ndarray:
        """Q(N, rho, k-1) times the product of the workloads of the first k-1 choices, shape (J, N)."""
        with np.errstate(divide="ignore"):
            log_rho = np.log(rho[self.prefs])
        before = np.cumsum(log_rho, axis=1) - log_rho
        return np.exp(self.log_q[None, :] + before)

    def step(self, rho: np.ndarray) -> np.ndarray:
        v = np.bincount(self.prefs.ravel(), weights=(self.load[:, None] * self.reach(rho)).ravel(),
                        minlength=self.n)
        new = (v + self.d) / (1.0 + v)
        new *= self.target / new.sum()
        return np.minimum(new, 1.0)


def approx_workload_iterates(problem: HypercubeProblem, *, iterations: int) -> np.ndarray:
    """The first ``iterations`` workload iterates of Larson's (1975) procedure.

    Why: Larson & Odoni (1981), section 5.5.3, print the iterates of their
    three-unit example; this lets a test (and a curious user) compare them
    step by step. Iteration 0 is the starting point, equal workloads.

    Returns
    -------
    numpy.ndarray
        Shape ``(iterations + 1, N)``.
    """
    it = _Larson1975(problem)
    rho = np.full(problem.n_units, it.rho_mean)
    out = [rho]
    for _ in range(int(iterations)):
        rho = it.step(rho)
        out.append(rho)
    return np.array(out)


def solve_approx(problem: HypercubeProblem, *, tol: float = 1e-10, max_iter: int = 10_000) -> HypercubeResult:
    """Larson's (1975) approximation of the hypercube model, for any number of units.

    Iterates ``rho_n <- (V_n + d) / (1 + V_n)`` followed by rescaling to the
    exact total workload, from equal workloads, until no workload changes by
    more than ``tol`` (see the module docstring). ``p_queue`` is exact (Erlang
    C or B). Dispatch probabilities use the same product form; each atom's
    probabilities are rescaled to add up to exactly ``1 - p_queue`` so that the
    dispatch fractions sum to 1. The raw product form is exact only when all
    workloads are equal; for single atoms it missed by up to 11 % at load 0.9
    in our tests; rescaling changed the dispatch fractions' largest error
    against the exact model by at most 0.0012, mostly for the better
    (docs/validation.md).

    Parameters
    ----------
    problem : HypercubeProblem
    tol : float
        Convergence threshold on workloads.
    max_iter : int
        Give up (RuntimeError) after this many iterations.

    Returns
    -------
    HypercubeResult
        ``state_probabilities`` is None.

    References
    ----------
    Larson (1975), Operations Research 23(5); Larson & Odoni (1981), 5.5.
    """
    larson = _Larson1975(problem)
    rho = np.full(problem.n_units, larson.rho_mean)
    for it in range(1, max_iter + 1):
        new = larson.step(rho)
        change = float(np.abs(new - rho).max())
        rho = new
        if change < tol:
            break
    else:
        raise RuntimeError(f"hypercube approximation did not converge in {max_iter} iterations "
                           f"(last change {change:.3g})")

    prefs = problem.preferences
    by_rank = larson.reach(rho) * (1.0 - rho[prefs])  # P(k-th choice is the first free one), approx.
    by_rank *= (1.0 - larson.p_queue) / by_rank.sum(axis=1, keepdims=True)
    served = np.zeros((problem.n_atoms, problem.n_units))
    np.put_along_axis(served, prefs, by_rank, axis=1)
    return _finish(problem, method="approx", workloads=rho, p_queue=larson.p_queue, served=served,
                   iterations=it)
