"""The discrete-event engine (SimPy): one replication of shifts, calls, dispatch, travel and service.

The package, one job per module, wired together by ``core.Engine``:

- ``core``: the event core: clock, the chain of dispatch requests, the call queue, the run loop
- ``trips``: sending a unit, its arrival and clearance, and what it does when free again
- ``work``: other work of units on duty (episodes, interrupting them)
- ``units``: unit state, drives (legs), where a unit is at time t, time accounting (``Movement``)
- ``duty``: shifts, alert levels, patrol circuits with their named random streams
- ``search``: the one dispatch search (lower-bound pruning; what it locates comes from the rules)
- ``kernels``, ``positions``: the compiled search (numba) over flat circuit arrays
- ``encircle``: the encirclement (合围) measure at dispatch time
- ``log``: ``EngineLog``, the flat records of a replication

Decisions stay pure functions outside the package (``sim.dispatch``, ``sim.patrol``,
``sim.alert``); only this package imports simpy.
"""

from sim.engine.core import Engine
from sim.engine.duty import PatrolSettings
from sim.engine.encircle import EncircleSettings
from sim.engine.log import EngineLog
from sim.engine.units import ModeTravel, UnitState

__all__ = ["Engine", "EngineLog", "EncircleSettings", "ModeTravel", "PatrolSettings", "UnitState"]
