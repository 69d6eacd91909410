"""The engine's SimPy events: a scheduled call without a closure (``Call``).

Every incident makes up to two events (its dispatch request, unless it runs straight after
the request before it, ``Engine._next_request``; each unit's clearance). SimPy's
``env.timeout(delay)`` with a closure appended to its callbacks cost about a fifth of
the Python work of such an event; ``Call`` is the same event without either, scheduled
the way a ``Timeout`` is, so SimPy still orders the events.
"""

from __future__ import annotations

from simpy.events import Event


class Call(Event):
    """A SimPy event that calls ``callbacks[0](event)`` when it is processed; ``args`` are its arguments.

    What ``env.timeout(delay)`` with a closure appended to its callbacks does, without the
    closure and without ``Timeout.__init__`` (about a fifth of the Python work of an event):
    made with ``Engine._at``, scheduled by ``Environment.schedule`` with the priority and
    delay a ``Timeout`` uses, so events at equal times run in the same order (first
    scheduled, first run). Class attributes stand in for what ``Event.__init__`` would set:
    a scheduled event has succeeded (``_ok``) with no value.
    """

    __init__ = object.__init__        # the engine sets ``callbacks`` and ``args``
    _ok = True
    _value = None


def call_with_args(ev: Call) -> None:
    """The callback of ``Engine._after``'s events, whose ``args`` are ``(fn, args)``: ``fn(*args)``."""
    fn, args = ev.args
    fn(*args)
