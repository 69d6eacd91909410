"""The landmarks' (ALT) pair bounds as compiled loops: a look-up that numpy made cost 45-70 µs a call.

``SearchColumns.lower_bounds`` (one source, many targets) and ``lower_bounds_to`` (many
sources, one target) are asked at every dispatch and at every unit the cordon measure
locates on a large graph, each time for a handful of nodes. In numpy each was about ten
small-array operations on the (landmark, node) tables, which cost more than the
searches they saved (cProfile of a 13,002-node run: 0.15 s of a 0.75 s replication).
Here one loop reads the node-per-row tables (``lm_from_t[x, k]``, the layout of the A*
loop) and does the same arithmetic: for every landmark ``k`` the differences
``lm_from_t[t, k] - lm_from_t[s, k]`` and ``lm_to_t[s, k] - lm_to_t[t, k]``, their
maximum, less the margin, at least 0. Differences and maxima are exact operations, so
the bounds are the numpy version's bit for bit (tested against it).

``raise_fixed_bounds`` is the dispatch search's step on large graphs (units waiting at a
node get ``wait + bound + walk - margin`` instead of -inf) in one pass over the units.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _pair_bound(lm_from_t, lm_to_t, s, t, margin_s):
    """max over landmarks of the two triangle bounds from ``s`` to ``t``, less the margin, at least 0."""
    n_lm = lm_from_t.shape[1]
    a = -np.inf
    b = -np.inf
    for k in range(n_lm):
        x = lm_from_t[t, k] - lm_from_t[s, k]
        if x > a:
            a = x
        y = lm_to_t[s, k] - lm_to_t[t, k]
        if y > b:
            b = y
    h = a if a >= b else b
    v = h - margin_s
    return v if v > 0.0 else 0.0


@njit(cache=True, nogil=True)
def pair_bound(lm_from_t, lm_to_t, source, target, margin_s):
    """The lower bound on the seconds from ``source`` to ``target`` (one pair: no arrays in or out)."""
    return _pair_bound(lm_from_t, lm_to_t, source, target, margin_s)


@njit(cache=True, nogil=True)
def bounds_from(lm_from_t, lm_to_t, source, targets, margin_s):
    """Lower bounds on the seconds from ``source`` to each of ``targets`` (int64)."""
    out = np.empty(targets.size)
    for i in range(targets.size):
        out[i] = _pair_bound(lm_from_t, lm_to_t, source, targets[i], margin_s)
    return out


@njit(cache=True, nogil=True)
def bounds_to(lm_from_t, lm_to_t, sources, target, margin_s):
    """Lower bounds on the seconds from each of ``sources`` (int64) to ``target``."""
    out = np.empty(sources.size)
    for i in range(sources.size):
        out[i] = _pair_bound(lm_from_t, lm_to_t, sources[i], target, margin_s)
    return out


@njit(cache=True, nogil=True)
def raise_fixed_bounds(bound, fixed_node, fixed_wait, of_mode, target, extra_s, margin_s,
                       lm_from_t, lm_to_t, alt_margin_s, exact):
    """Units of one mode at a fixed node whose bound is -inf: ``(wait + pair bound + extra_s) - margin_s``.

    ``fixed_node[u]`` (-1 if none) and ``fixed_wait[u]`` per unit (columns of the dispatch
    index's arrays); ``of_mode[u]``: the unit travels on this oracle's graph. ``exact``
    False (landmarks that do not bound): the pair bound is 0, as ``lower_bounds_to``.
    """
    for u in range(bound.size):
        if bound[u] == -np.inf and of_mode[u]:
            node = fixed_node[u]
            if node >= 0:
                b = _pair_bound(lm_from_t, lm_to_t, node, target, alt_margin_s) if exact else 0.0
                bound[u] = (fixed_wait[u] + b + extra_s) - margin_s


def warm() -> None:
    """Load (or compile) the loops now, so that the first question does not pay it."""
    lm = np.zeros((2, 1))
    nodes = np.array([0, 1], np.int64)
    bounds_from(lm, lm, 0, nodes, 0.0)
    pair_bound(lm, lm, 0, 1, 0.0)
    bounds_to(lm, lm, nodes, 0, 0.0)
    ui = np.zeros((2, 5), np.int64)
    uf = np.zeros((2, 7))
    raise_fixed_bounds(np.full(2, -np.inf), ui[:, 0], uf[:, 0], np.ones(2, np.bool_), 0, 0.0, 0.0, lm, lm, 0.0,
                       True)
