"""Four teams, three 8-hour shifts (四班三运转): who is on duty, and how many.

The total force is split into ``teams`` equal teams. Shifts follow each other
around the clock; shift ``k`` (counted from time 0) is led by team ``k mod teams``,
so with four teams and three shifts a day each team works one shift in four
(8 hours on, 24 hours off). An alert level that needs more officers on patrol
than one team holds calls in the next teams in the rotation (rest cancelled):
the teams on duty are ``ceil(patrol_share x teams)``, at least one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SHIFT_S = 8 * 3600.0


def teams_on_duty(patrol_share: float, teams: int) -> int:
    """Teams needed so that ``patrol_share`` of the whole force can be on patrol."""
    return max(1, min(teams, math.ceil(patrol_share * teams - 1e-9)))


def shift_index(t_s: float, *, shift_s: float = SHIFT_S) -> int:
    return int(t_s // shift_s)


def teams_for_shift(shift: int, *, teams: int, n_teams_on_duty: int) -> tuple[int, ...]:
    """The team leading this shift, then the teams called in after it in rotation order."""
    lead = shift % teams
    return tuple((lead + i) % teams for i in range(n_teams_on_duty))


@dataclass(frozen=True)
class Staffing:
    """Officers at one alert level: on duty, on patrol, at checkpoints, on standby at stations."""

    level: str
    teams_on_duty: int
    on_duty_officers: int
    patrol_officers: int
    checkpoint_officers: int
    standby_officers: int


def staffing(*, level: str, patrol_share: float, total_officers: int, teams: int,
             checkpoint_officers: int) -> Staffing:
    n_teams = teams_on_duty(patrol_share, teams)
    # rounded up, so that the doctrine's share is a floor ("at least 1/5 of the force on patrol"):
    # with 30 officers and a 0.25 share, 8 on patrol, not 7 (and never fewer on duty than that)
    on_duty = math.ceil(total_officers * n_teams / teams - 1e-9)
    patrol = min(on_duty, math.ceil(total_officers * patrol_share - 1e-9))
    checkpoint = min(checkpoint_officers, on_duty - patrol)
    return Staffing(level=level, teams_on_duty=n_teams, on_duty_officers=on_duty, patrol_officers=patrol,
                    checkpoint_officers=checkpoint, standby_officers=on_duty - patrol - checkpoint)
