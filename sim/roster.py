"""Four teams, three 8-hour shifts (四班三运转): who is on duty, and how many.

The total force is split into ``teams`` equal teams. Shifts follow each other
around the clock; shift ``k`` (counted from time 0) is led by team ``k mod teams``,
so with four teams and three shifts a day each team works one shift in four
(8 hours on, 24 hours off). An alert level that needs more officers on patrol
than one team holds calls in the next teams in the rotation (rest cancelled):
the teams on duty are ``ceil(patrol_share x teams)``, at least one, and no more than
the duty-hour limit allows (``max_teams_within``): with teams called in for consecutive
shifts, n teams on duty keep each officer on for n shifts in a row, so at red with four
teams every officer would be on duty around the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SHIFT_S = 8 * 3600.0


class DutyLimitWarning(UserWarning):
    """An alert level's patrol share cannot be met within ``force.max_duty_hours_per_day``."""


def teams_on_duty(patrol_share: float, teams: int) -> int:
    """Teams needed so that ``patrol_share`` of the whole force can be on patrol."""
    return max(1, min(teams, math.ceil(patrol_share * teams - 1e-9)))


def shift_index(t_s: float, *, shift_s: float = SHIFT_S) -> int:
    return int(t_s // shift_s)


def teams_for_shift(shift: int, *, teams: int, n_teams_on_duty: int) -> tuple[int, ...]:
    """The team leading this shift, then the teams called in after it in rotation order."""
    lead = shift % teams
    return tuple((lead + i) % teams for i in range(n_teams_on_duty))


DAY_S = 86_400.0


def max_duty_h_in_a_day(n_teams_on_duty: int, *, teams: int, shift_s: float = SHIFT_S) -> float:
    """Most hours one officer is on duty in any 24 hours, with ``n_teams_on_duty`` of ``teams`` per shift.

    Shift ``k`` has teams ``k mod teams`` .. ``k + n - 1 mod teams`` on duty (``teams_for_shift``),
    so each team works ``n`` consecutive shifts out of every ``teams``; the hours are the most
    on-duty shifts in any window of ``24 h / shift`` consecutive shifts.
    """
    n = max(1, min(teams, n_teams_on_duty))
    per_day = max(1, int(round(DAY_S / shift_s)))
    pattern = ([1] * n + [0] * (teams - n)) * (per_day // teams + 2)
    best = max(sum(pattern[i:i + per_day]) for i in range(teams))
    return best * shift_s / 3600.0


def max_teams_within(max_duty_h: float, *, teams: int, shift_s: float = SHIFT_S) -> int:
    """The most teams that may be on duty per shift without any officer passing ``max_duty_h`` a day.

    At least one: the normal rota (one team per shift) is always allowed.
    """
    allowed = 1
    for n in range(1, teams + 1):
        if max_duty_h_in_a_day(n, teams=teams, shift_s=shift_s) <= max_duty_h + 1e-9:
            allowed = n
    return allowed


@dataclass(frozen=True)
class Staffing:
    """Officers at one alert level: on duty, on patrol, at checkpoints, on standby at stations."""

    level: str
    teams_on_duty: int
    on_duty_officers: int
    patrol_officers: int
    checkpoint_officers: int
    standby_officers: int
    teams_wanted: int = 0                 # teams the level's patrol share calls for, before the limit
    patrol_officers_wanted: int = 0       # officers the share puts on patrol, before the limit
    max_duty_h_per_day: float = 0.0       # most hours an officer is on duty in any 24 h at this level
    officer_h_per_day: float = 0.0        # officers on duty x 24 h
    overtime_officer_h_per_day: float = 0.0   # officer-hours a day beyond the normal rota (one team a shift)

    @property
    def share_met(self) -> bool:
        return self.patrol_officers >= self.patrol_officers_wanted


def staffing(*, level: str, patrol_share: float, total_officers: int, teams: int,
             checkpoint_officers: int, max_duty_hours_per_day: float = 24.0,
             shift_s: float = SHIFT_S) -> Staffing:
    wanted = teams_on_duty(patrol_share, teams)
    n_teams = min(wanted, max_teams_within(max_duty_hours_per_day, teams=teams, shift_s=shift_s))
    # rounded up, so that the doctrine's share is a floor ("at least 1/5 of the force on patrol"):
    # with 30 officers and a 0.25 share, 8 on patrol, not 7 (and never fewer on duty than that)
    on_duty = math.ceil(total_officers * n_teams / teams - 1e-9)
    patrol_wanted = math.ceil(total_officers * patrol_share - 1e-9)
    patrol = min(on_duty, patrol_wanted)
    checkpoint = min(checkpoint_officers, on_duty - patrol)
    normal = math.ceil(total_officers / max(1, teams) - 1e-9)
    return Staffing(level=level, teams_on_duty=n_teams, on_duty_officers=on_duty, patrol_officers=patrol,
                    checkpoint_officers=checkpoint, standby_officers=on_duty - patrol - checkpoint,
                    teams_wanted=wanted, patrol_officers_wanted=patrol_wanted,
                    max_duty_h_per_day=max_duty_h_in_a_day(n_teams, teams=max(1, teams), shift_s=shift_s),
                    officer_h_per_day=on_duty * 24.0,
                    overtime_officer_h_per_day=max(0, on_duty - normal) * 24.0)
