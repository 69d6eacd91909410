"""Four-colour alert levels (四色警情): which level holds on which day, and the daily decision.

Modes:
- ``fixed``: one level throughout;
- ``calendar``: levels from given days on (a festival, a known risk);
- ``adaptive``: each day (per patrol area, or for the whole city) the level is decided from the
  previous ``lookback_days`` days' incidents against thresholds expressed as ratios to the expected
  daily count (警情研判): e.g. 1.5 x the usual count -> orange. The decision is logged.
A new level takes effect at the first shift that starts at or after the decision time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kinds import LEVELS, RANK  # noqa: F401  (the one definition; re-exported)


def decide_level(observed_per_day: float, expected_per_day: float, thresholds: dict[str, float]) -> str:
    """The highest level whose threshold ratio the observed/expected ratio reaches (green otherwise)."""
    if expected_per_day <= 0:
        return LEVELS[0]
    ratio = observed_per_day / expected_per_day
    level = LEVELS[0]
    for lvl in LEVELS[1:]:
        t = thresholds.get(lvl)
        if t is not None and ratio >= t:
            level = lvl
    return level


def calendar_level(day: int, *, base: str, calendar: list[tuple[int, str]]) -> str:
    """Level on ``day``: the last calendar entry starting on or before it, else ``base``."""
    level = base
    for start, lvl in sorted(calendar):
        if start <= day:
            level = lvl
    return level


@dataclass(frozen=True)
class AlertPlan:
    """How the engine gets each day's level for each area."""

    mode: str                           # fixed | calendar | adaptive
    base_level: str
    scope: str = "city"                 # city | area
    calendar: tuple = ()                # ((day, level), ...)
    thresholds: tuple = ()              # ((level, ratio), ...)
    lookback_days: int = 3
    decision_hour: float = 0.0
    expected_per_day: tuple = ()        # per area (or one value for the city)

    def levels_used(self) -> tuple[str, ...]:
        if self.mode == "fixed":
            return (self.base_level,)
        if self.mode == "calendar":
            return tuple(sorted({self.base_level, *(lvl for _, lvl in self.calendar)}, key=RANK.get))
        return LEVELS

    def known_level(self, day: int) -> str:
        """Level of a day for fixed and calendar plans (adaptive plans decide in the engine)."""
        if self.mode == "calendar":
            return calendar_level(day, base=self.base_level, calendar=list(self.calendar))
        return self.base_level

    def decide(self, day: int, counts_by_day: np.ndarray) -> list[tuple[str, float, float]]:
        """(level, observed per day, expected per day) for each scope unit on ``day``.

        ``counts_by_day`` is (scope units x days) of calls received so far.
        """
        out = []
        for a in range(counts_by_day.shape[0]):
            expected = float(self.expected_per_day[a]) if self.expected_per_day else 0.0
            if self.mode != "adaptive":
                out.append((self.known_level(day), float("nan"), expected))
                continue
            lo = max(0, day - self.lookback_days)
            if day == 0:
                out.append((self.base_level, float("nan"), expected))
                continue
            observed = float(counts_by_day[a, lo:day].mean())
            out.append((decide_level(observed, expected, dict(self.thresholds)), observed, expected))
        return out
