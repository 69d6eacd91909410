"""The one registry of names the simulator uses: unit states and roles (more sections to come).

Each set of names is an enum whose members are also the plain strings written to
outputs (``str`` subclasses whose ``str()`` and ``format()`` give the value), so a
table or JSON file written from them is byte-identical to one written from strings.
"""

from __future__ import annotations

from enum import Enum


class PlainEnum(str, Enum):
    """A string enum that prints, formats and compares as its plain value."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


# --- unit states and roles
class Role(PlainEnum):
    """What a unit is for (fixed for the run; ``sim.force`` assigns it)."""

    PATROL = "patrol"          # drives a circuit through its beat
    STANDBY = "standby"        # waits at its station
    CHECKPOINT = "checkpoint"  # holds a fixed post; never dispatched
    RESERVE = "reserve"        # mobile reserve: patrols, answers by the reserve rules


class Status(PlainEnum):
    """What a unit is doing now (changes at shifts, dispatches and clearances)."""

    PATROL = "patrol"          # free and moving (on its circuit, or driving to it or home)
    STATION = "station"        # free at its station
    BUSY = "busy"              # sent to an incident, until it clears the scene
    OFF = "off"                # off duty
    POST = "post"              # at its checkpoint


class Motion(PlainEnum):
    """How a unit with status ``patrol`` moves."""

    CIRCUIT = "circuit"        # on its patrol circuit
    LEG = "leg"                # a one-off drive to the circuit or to the station
    STILL = "still"            # standing where it just cleared a scene (or not moving at all)
