"""A unit's drive back to its circuit on a graph without a full time matrix, worked out in one compiled call.

Why: a patrol unit drives back to its circuit after every clearance and at every shift
change (5,700 times in 14 days of the 13,002-node scale town's motorbikes). On a graph with
a full matrix the rejoin reads tables (``sim.engine.join_tables``); without one it asked, in
Python, the circuit node nearest to the unit (``NearestOnCircuit``: 0.85 µs a new node), the
drive's seconds and metres (``TravelOracle.time_and_metres``, the hub labels: 1.4 µs) and the
lap time at the join node (``Circuit.tau_at``). Here the three are one compiled call with the
same arithmetic: ``nearest_jit.nearest_index`` (the same loop as ``nearest_one``, whose first
of equal distances is the join node's first visit, so its lap time is ``tau_at``'s) and
``hub_labels.seconds_metres`` (``HubLabels.time_and_metres``' merge; 0 seconds from a node to
itself, as ``TravelOracle.time`` gives it).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.jit_entry import direct
from sim.network.hub_labels import seconds_metres
from sim.network.nearest_jit import nearest_index


@njit(cache=True, nogil=True)
def join_by_labels(cx, cy, cn, tau, x, y, node, ptr, hub, sec, met):
    """(join node, its lap time, seconds, metres) of a drive from ``node`` to the nearest of the circuit's
    nodes ``cn`` (coordinates ``cx``, ``cy``; ``tau``: the lap time at each; ``x``, ``y``: every node's)."""
    j = nearest_index(cx, cy, x[node], y[node])
    dst = cn[j]
    seconds, metres = seconds_metres(ptr, hub, sec, met, node, dst)
    if dst == node:
        seconds = 0.0
    return dst, tau[j], seconds, metres


class LabelJoin:
    """``(join node, lap time there, seconds, metres)`` of a drive to one circuit, from any node: ``self(node)``.

    Made once per (unit, level, period) plan of a graph with hub labels and no full matrix
    (``sim.engine.rejoin``); ``counter``: the oracle's search store, whose ``pair_asked`` counts
    the pairs asked (as ``TravelOracle.time_and_metres`` counts them: not a node to itself).
    """

    __slots__ = ("_args", "_call", "_counter", "_labels")

    def __init__(self, circuit, graph, labels, counter, call=None) -> None:
        """``call``: the compiled code another ``LabelJoin`` of the same graph and labels found (``call``):
        the arguments' types are the same (finding it again cost 9 µs a plan, 1% of a replication)."""
        cn = np.asarray(circuit.nodes[:-1], np.int64)
        tau = np.asarray(circuit.t_s[:-1], np.float64)
        x, y = graph.x_m, graph.y_m
        self._args = (x[cn], y[cn], cn, tau, x, y)
        self._call = call
        self._counter = counter
        self._labels = labels.arrays

    @property
    def call(self):
        """The compiled code this join calls (None before its first drive)."""
        return self._call

    def __call__(self, node: int) -> tuple[int, float, float, float]:
        args = (*self._args, node, *self._labels)
        call = self._call
        if call is None:          # the dispatcher once (it loads the code), then its code directly
            out = join_by_labels(*args)
            self._call = direct(join_by_labels, args)
        else:
            out = call(*args)
        if out[0] != node:        # (a Python int: numba boxes the node so)
            self._counter.pair_asked += 1
        return out


def warm() -> None:
    """Load the compiled call for the engine's argument types (not at a first drive, inside a replication)."""
    z, zi = np.zeros(1), np.zeros(1, np.int64)
    join_by_labels(z, z, zi, z, z, z, 0, np.zeros(4, np.int64), np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
