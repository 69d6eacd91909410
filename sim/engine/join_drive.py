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

A call from Python unboxes each array it is given (about 30 ns each): the eleven arguments of
``join_by_labels`` cost 0.54 µs a call, as much as the join itself (the 5,700 drives of 14 days
of the 13,002-node town's motorbikes, replayed warm: 1.08 µs a call). Each ``LabelJoin`` holds its
arrays in one numba structure (``JoinHandle``, as ``sim.engine.walk_handle`` holds the dispatch
walk's), made once per plan, and a drive is one call of the handle and the node (``join``): 0.89 µs
a call replayed so, and ``Rejoin._drive`` 19.8 -> 17.8-17.9 ms in such a replication (with the
Python that built the eleven arguments' tuple at every call).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.experimental import structref
from numba.extending import overload

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


@structref.register
class JoinHandleType(types.StructRef):
    """The numba type of a :class:`JoinHandle`: its fields' types."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class JoinHandle(structref.StructRefProxy):
    """One circuit's and its graph's arrays for ``join`` (fields read only in compiled code; made by ``_make``)."""


structref.define_boxing(JoinHandleType, JoinHandle)

#: the handle's fields: ``join_by_labels``' arguments but the node, in its order
FIELDS = ("cx", "cy", "cn", "tau", "x", "y", "ptr", "hub", "sec", "met")


def _new(*args):          # pragma: no cover - replaced in compiled code by the overload below
    raise NotImplementedError


@overload(_new)
def _new_overload(*args):
    handle_type = JoinHandleType(list(zip(FIELDS, args)))

    def impl(*args):
        h = structref.new(handle_type)
        h.cx, h.cy, h.cn, h.tau, h.x = args[0], args[1], args[2], args[3], args[4]
        h.y, h.ptr, h.hub, h.sec, h.met = args[5], args[6], args[7], args[8], args[9]
        return h
    return impl


@njit(cache=True)
def _make(cx, cy, cn, tau, x, y, ptr, hub, sec, met):
    return _new(cx, cy, cn, tau, x, y, ptr, hub, sec, met)


@njit(cache=True, nogil=True)
def join(h, node):
    """``join_by_labels`` of the handle's arrays from ``node``."""
    return join_by_labels(h.cx, h.cy, h.cn, h.tau, h.x, h.y, node, h.ptr, h.hub, h.sec, h.met)


class LabelJoin:
    """``(join node, lap time there, seconds, metres)`` of a drive to one circuit, from any node: ``self(node)``.

    Made once per (unit, level, period) plan of a graph with hub labels and no full matrix
    (``sim.engine.rejoin``); ``counter``: the oracle's search store, whose ``pair_asked`` counts
    the pairs asked (as ``TravelOracle.time_and_metres`` counts them: not a node to itself).
    """

    __slots__ = ("_handle", "_call", "_counter")

    def __init__(self, circuit, graph, labels, counter, call=None) -> None:
        """``call``: the compiled code another ``LabelJoin`` of the same graph and labels found (``call``):
        the handle's type is the same (finding it again cost 9 µs a plan, 1% of a replication)."""
        cn = np.asarray(circuit.nodes[:-1], np.int64)
        tau = np.asarray(circuit.t_s[:-1], np.float64)
        x, y = graph.x_m, graph.y_m
        self._handle = _make(x[cn], y[cn], cn, tau, x, y, *labels.arrays)
        self._call = call
        self._counter = counter

    @property
    def call(self):
        """The compiled code this join calls (None before its first drive)."""
        return self._call

    def __call__(self, node: int) -> tuple[int, float, float, float]:
        call = self._call
        if call is None:          # the dispatcher once (it loads the code), then its code directly
            out = join(self._handle, node)
            self._call = direct(join, (self._handle, node))
        else:
            out = call(self._handle, node)
        if out[0] != node:        # (a Python int: numba boxes the node so)
            self._counter.pair_asked += 1
        return out


def warm() -> None:
    """Load the compiled calls for the engine's argument types (not at a first drive, inside a replication)."""
    z, zi = np.zeros(1), np.zeros(1, np.int64)
    labels = (np.zeros(4, np.int64), np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
    join(_make(z, z, zi, z, z, z, *labels), 0)
