"""The greedy order of a patrol circuit's stops on a graph without a time matrix, in one compiled call.

Every circuit orders its stops (ten by default) greedily: from the first, the nearest stop
left, ties to the lower node (``sim.patrol.order_stops``). On the kernel backend the Python
loop asked the landmarks' lower bound of every stop left, then the hub labels' exact seconds
of the stops in order of that bound until a bound passed the nearest so far
(``sim.patrol._nearest``): about 0.1 ms a circuit on the 13,002-node town, mostly Python
around the questions. ``nearest_neighbour_order`` is that loop compiled. Its answer does not
depend on the bounds (any lower bounds give the order of timing every pair: a stop skipped
has a time above the nearest), only the number of pairs asked does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.network.alt_jit import _pair_bound
from sim.network.hub_labels import seconds_only


@njit(cache=True, nogil=True)
def nearest_neighbour_order(stops, lm_from_t, lm_to_t, lm_exact, margin_s, lab_ptr, lab_sec, lab_hub):
    """``stops`` (int64, distinct) in greedy nearest-neighbour order from ``stops[0]``; and the pairs asked.

    Seconds from the hub labels (``hub_labels.seconds_only``, what ``SearchColumns.time`` reads),
    bounds from the landmarks (``alt_jit._pair_bound``; 0 when ``lm_exact`` is False). Per step
    the stops left are asked in order of (bound, node) until a bound passes the nearest so far;
    the nearest is the least (seconds, node), as ``min`` over those keys gives it.
    """
    n = stops.shape[0]
    left = stops[1:].copy()
    m = n - 1
    order = np.empty(n, np.int64)
    order[0] = stops[0]
    lb = np.empty(max(m, 1))
    asked_at = np.zeros(max(m, 1), np.bool_)
    asked = 0
    for k in range(1, n):
        here = order[k - 1]
        for i in range(m):
            lb[i] = _pair_bound(lm_from_t, lm_to_t, here, left[i], margin_s) if lm_exact else 0.0
            asked_at[i] = False
        best_s = np.inf
        best_node = -1
        best_j = 0
        while True:
            c = -1                                   # the next stop by (bound, node) not asked yet
            for i in range(m):
                if not asked_at[i] and (c < 0 or lb[i] < lb[c] or (lb[i] == lb[c] and left[i] < left[c])):
                    c = i
            if c < 0 or lb[c] > best_s:
                break
            asked_at[c] = True
            s = seconds_only(lab_ptr, lab_sec, lab_hub, here, left[c])
            asked += 1
            if best_node < 0 or s < best_s or (s == best_s and left[c] < best_node):
                best_s, best_node, best_j = s, left[c], c
        order[k] = left[best_j]
        for i in range(best_j, m - 1):               # list.pop(best_j)
            left[i] = left[i + 1]
        m -= 1
    return order, asked
