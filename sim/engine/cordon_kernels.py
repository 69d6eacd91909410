"""Compiled loops (numba) of the cordon measure on full time matrices (``sim.engine.encircle``).

At a major incident every free unit's arrival at every open exit of the circle around it
is read from the mode's time matrix, where the dispatch search left the unit, and the
greedy walk (shortest pair first) gives the seconds until every exit is held. The exits of
a circle are found here too (``exits_in_cells``). The search's loops and the unit arrays'
columns are ``sim.engine.kernels``'; a unit the search skipped is located here with its
operations (``kernels._locate_skipped``), so the arrivals are the same to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.kernels import SKIPPED, UF_COLUMNS, UI_COLUMNS, _held, _locate_skipped


@njit(cache=True, nogil=True)
def greedy_cordon(eta):
    """``sim.engine.encircle.greedy_cordon_s`` compiled: seconds until every exit (column) is held.

    The same walk: all (unit, exit) pairs once in order of time, ties in row-major order
    (a stable sort of the flattened matrix), each pair kept when its unit and its exit
    are both still free; the answer is the last pair kept (inf with fewer units than exits).
    Kept pairs are found one at a time from each free unit's least pair
    (``_greedy_by_row_minima``), which needs no sort of the pairs. A matrix with a nan
    takes the sorted walk over every pair (nan has no order).
    """
    n_units, n_exits = eta.shape
    if n_exits == 0:
        return 0.0
    if n_units < n_exits:
        return np.inf
    if not _has_nan(eta):
        return _greedy_by_row_minima(eta)
    flat = eta.ravel()
    return _greedy_walk(flat, np.arange(flat.size), n_units, n_exits)


@njit(cache=True, nogil=True)
def _has_nan(eta):
    """Whether a time of ``eta`` is nan (a loop: no array of flags made)."""
    for a in range(eta.shape[0]):
        for j in range(eta.shape[1]):
            if eta[a, j] != eta[a, j]:
                return True
    return False


@njit(cache=True, nogil=True)
def _row_minimum(eta, a, exit_used):
    """The first free exit of row ``a`` by (time, column), and its time (-1 when no exit is free)."""
    best_j = -1
    best_v = 0.0
    for j in range(eta.shape[1]):
        if exit_used[j]:
            continue
        v = eta[a, j]
        if best_j < 0 or v < best_v:
            best_j = j
            best_v = v
    return best_j, best_v


@njit(cache=True, nogil=True)
def _greedy_by_row_minima(eta):
    """The greedy walk, one pair per step: the least (time, row-major index) pair of a free unit and exit.

    Each free row keeps its least free pair (``_row_minimum``: time, then column); a step
    takes the least of those (time, then row), so the pair taken is the least by (time,
    row-major index) among all free pairs: the pair the sorted walk keeps next. Only the
    rows whose least pair was at the exit just held look again. About ``k x n`` reads
    for ``k`` exits and ``n`` units, and no sort. Times must have an order (no nan).
    """
    n_units, n_exits = eta.shape
    exit_used = np.zeros(n_exits, np.bool_)
    unit_used = np.zeros(n_units, np.bool_)
    row_j = np.empty(n_units, np.int64)
    row_v = np.empty(n_units)
    for a in range(n_units):
        row_j[a], row_v[a] = _row_minimum(eta, a, exit_used)
    worst = 0.0
    for _ in range(n_exits):
        best_a = -1
        best_v = 0.0
        for a in range(n_units):
            if unit_used[a]:
                continue
            v = row_v[a]
            if best_a < 0 or v < best_v:
                best_a = a
                best_v = v
        j = row_j[best_a]
        unit_used[best_a] = True
        exit_used[j] = True
        if best_v > worst:
            worst = best_v
        for a in range(n_units):
            if not unit_used[a] and row_j[a] == j:
                row_j[a], row_v[a] = _row_minimum(eta, a, exit_used)
    return worst


@njit(cache=True, nogil=True)
def _greedy_walk(flat, idx, n_units, n_exits):
    """The greedy walk over the pairs ``idx`` (row-major indices, ascending) of ``flat``."""
    order = idx[np.argsort(flat[idx], kind="mergesort")]
    unit_used = np.zeros(n_units, np.bool_)
    exit_used = np.zeros(n_exits, np.bool_)
    held = 0
    worst = 0.0
    for k in order:
        a = k // n_exits
        b = k - a * n_exits
        if unit_used[a] or exit_used[b]:
            continue
        unit_used[a] = True
        exit_used[b] = True
        if flat[k] > worst:
            worst = flat[k]
        held += 1
        if held == n_exits:
            break
    return worst


@njit(cache=True, nogil=True)
def cordon_from_matrix(nodes, waits, modes, targets, extras, times0, times1, times2, times3):
    """The greedy cordon over units at ``nodes`` (after ``waits``) and exits, from full time matrices.

    ``modes[a]`` is the slot of unit a's time matrix; ``targets[m, j]`` the node a unit of
    slot m drives to for exit j and ``extras[m, j]`` the seconds from there on foot. Each
    arrival is ``(times[node, target] + wait) + extra``: the additions of
    ``Encirclement._eta`` in its order, so the same bits. Returns the cordon seconds.
    """
    n_units = nodes.shape[0]
    n_exits = targets.shape[1]
    eta = np.empty((n_units, n_exits))
    for a in range(n_units):
        m = modes[a]
        times = times0 if m == 0 else (times1 if m == 1 else (times2 if m == 2 else times3))
        node = nodes[a]
        for j in range(n_exits):
            eta[a, j] = (times[node, targets[m, j]] + waits[a]) + extras[m, j]
    return greedy_cordon(eta)


@njit(cache=True, nogil=True)
def cordon_of_free_units(t, code, ui, uf, flat, seg, out, slot, targets, extras, times0, times1, times2, times3):
    """``cordon_from_matrix`` over every free unit (``code > 0``), in unit order, where the search left it.

    ``out`` rows 1 and 2 are the dispatch search's (``nearest_unit``): the node each unit heads
    to and the wait before it is there. A unit it skipped (``SKIPPED``) is located here on its
    circuit (``locate_on_circuit``'s operations); every other free unit must be located
    already (the caller writes the units it located in Python, on a drive, into the rows).
    ``slot[u]`` is unit u's travel-mode slot. With fewer free units than exits, inf.
    """
    n_units = 0
    for u in range(code.shape[0]):
        if code[u] > 0:
            n_units += 1
    if n_units < targets.shape[1]:
        return np.inf
    nodes = np.empty(n_units, np.int64)
    waits = np.empty(n_units)
    modes = np.empty(n_units, np.int64)
    a = 0
    for u in range(code.shape[0]):
        if code[u] <= 0:
            continue
        if out[1, u] == SKIPPED:
            _locate_skipped(u, t, code, ui, uf, flat, seg, out)
        nodes[a] = np.int64(out[1, u])
        waits[a] = out[2, u]
        modes[a] = slot[u]
        a += 1
    return cordon_from_matrix(nodes, waits, modes, targets, extras, times0, times1, times2, times3)


def compile_cordon_once() -> None:
    """Compile (or load from the cache) the cordon kernels now, with Ctrl-C held back (as ``compile_once``)."""
    if cordon_from_matrix.signatures and exits_in_cells.signatures and cordon_of_free_units.signatures:
        return
    t = np.zeros((1, 1))
    args = (np.zeros(1, np.int64), np.zeros(1), np.zeros(1, np.int64), np.zeros((1, 1), np.int64),
            np.zeros((1, 1)), t, t, t, t)
    z = np.zeros(1)
    state = (0.0, np.zeros(1, np.int8), np.zeros((1, UI_COLUMNS), np.int64), np.zeros((1, UF_COLUMNS)),
             np.zeros((3, 2)), np.zeros((1, 3)), np.zeros((3, 1)), np.zeros(1, np.int64))
    _held(lambda: (cordon_from_matrix(*args), cordon_of_free_units(*state, *args[3:]),
                   greedy_cordon(np.zeros((1, 1))),
                   exits_in_cells(np.zeros(2, np.int64), z, z, z, z, np.zeros(1, np.int64),
                                  np.array([0.0, 0.0, 1.0, 1.0, 1.0, 0.0]), 0.0, 0.0, 1.0)))


@njit(cache=True, nogil=True)
def exits_in_cells(cell_ptr, xu, yu, xv, yv, v, grid, x0, y0, radius_m):
    """Ends ``v`` (sorted, unique) of the roads leaving the circle: inner end within ``radius_m``, outer end past it.

    The roads come sorted by the grid cell of their inner end (``cell_ptr``: each cell's roads,
    row by row; ``grid``: x and y of the first cell's corner, the cell's side, columns, rows, and
    the longest road in a straight line, ``reach``). A road can cross the circle only if its inner
    end lies in the ring from ``radius - reach`` to ``radius`` (its outer end is at most ``reach``
    farther out), so per row of cells only the cells that reach into that ring (a metre wider on
    both sides, against rounding) are looked at; every road in them is tested with ``np.hypot``
    of the same differences as ``sim.engine.encircle.exit_places`` (numba calls the C library's
    ``hypot``, as numpy does), so the same exits. On the 13,002-node town's major roads a circle of
    1 km looked at the 1,700 roads of a strip of its width; the ring's cells hold about 300.
    """
    gx0, gy0, cell_m = grid[0], grid[1], grid[2]
    nx, ny, reach = np.int64(grid[3]), np.int64(grid[4]), grid[5]
    r_out = radius_m + 1.0
    r_in = radius_m - reach - 1.0          # an inner end within this has its outer end within the radius
    out = np.empty(16, np.int64)
    k = 0
    cy_lo = max(np.int64(0), np.int64(np.floor((y0 - r_out - gy0) / cell_m)))
    cy_hi = min(ny - 1, np.int64(np.floor((y0 + r_out - gy0) / cell_m)))
    for cy in range(cy_lo, cy_hi + 1):
        ya = gy0 + cy * cell_m
        yb = ya + cell_m
        dy_near = ya - y0 if ya > y0 else (y0 - yb if yb < y0 else 0.0)
        dy_far = max(abs(ya - y0), abs(yb - y0))
        if dy_near > r_out:
            continue
        w_out = np.sqrt(r_out * r_out - dy_near * dy_near)
        cx_lo = max(np.int64(0), np.int64(np.floor((x0 - w_out - gx0) / cell_m)))
        cx_hi = min(nx - 1, np.int64(np.floor((x0 + w_out - gx0) / cell_m)))
        # the cells wholly within r_in (every corner): none of their roads leaves the circle
        in_lo, in_hi = np.int64(1), np.int64(0)
        if r_in > 0.0 and dy_far < r_in:
            w_in = np.sqrt(r_in * r_in - dy_far * dy_far)
            in_lo = np.int64(np.ceil((x0 - w_in - gx0) / cell_m))
            in_hi = np.int64(np.floor((x0 + w_in - gx0) / cell_m)) - 1
        for cx in range(cx_lo, cx_hi + 1):
            if in_lo <= cx <= in_hi:
                continue
            c = cy * nx + cx
            for e in range(cell_ptr[c], cell_ptr[c + 1]):
                if np.hypot(xu[e] - x0, yu[e] - y0) <= radius_m and np.hypot(xv[e] - x0, yv[e] - y0) > radius_m:
                    if k == out.size:
                        grown = np.empty(2 * out.size, np.int64)
                        grown[:k] = out
                        out = grown
                    out[k] = v[e]
                    k += 1
    return np.unique(out[:k])
