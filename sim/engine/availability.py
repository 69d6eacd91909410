"""Time a unit on duty is not free for dispatch: out-of-service episodes and officer-initiated work.

Each unit draws its episodes in advance from its own named random stream
(``availability/<kind of work>/unit<uid>``, ``sim.streams``), so a change of one unit's
or one kind's rate never shifts another's draws, and replications stay paired. Starts
are a Poisson process over the clock; durations are exponential. Start gaps and
durations are drawn as unit exponentials scaled by the scenario's rate and mean, so a
longer mean gives the same starts with longer episodes (common random numbers).

A kind of work may follow the hour of day (``availability.<work>_by_hour``: 24 multipliers,
scaled to mean 1 so the rate key stays the daily average). Its starts are the same unit-rate
draws mapped through the inverse of the cumulative rate (``HourProfile.clock_s``): the k-th
start keeps its draw and its duration, only its clock time moves, so a change of the profile
shifts no other stream and no other draw of this one. Without a profile the starts are the
flat process exactly (no mapping at all).

An episode that starts while the unit is free on duty makes it unavailable until the
episode ends; one that starts while it is busy, off duty or at a checkpoint is dropped.
With every rate zero nothing is drawn and no event is made: results are as without it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from sim.streams import stream

OUT_OF_SERVICE = "out_of_service"
OFFICER_INITIATED = "officer_initiated"
WORK_KINDS = (OUT_OF_SERVICE, OFFICER_INITIATED)
HOUR_S = 3600.0
DAY_S = 86_400.0


class HourProfile:
    """A rate by hour of day (simulated time 0 is Monday 00:00) as a map from flat time to clock time.

    ``multipliers`` are 24 non-negative values (hour 00 first) with a positive sum, scaled here to
    mean 1. Flat time ``u`` counts seconds of the process at its daily-average rate; the clock time
    is the inverse of the cumulative rate, Lambda(t) = integral of m(hour(s)) ds, so a unit-rate
    Poisson process in flat time becomes one whose rate in hour h is m_h times the average. An hour
    with multiplier 0 gets no starts.
    """

    def __init__(self, multipliers) -> None:
        m = [float(x) for x in multipliers]
        if len(m) != 24 or not all(x >= 0 and x < float("inf") for x in m) or sum(m) <= 0:
            raise ValueError("an hour profile needs 24 finite non-negative values with a positive sum")
        mean = sum(m) / 24.0
        self.multipliers = tuple(x / mean for x in m)
        cum = [0.0]
        for x in self.multipliers:
            cum.append(cum[-1] + x * HOUR_S)
        self._cum = cum                  # flat seconds at the start of each hour of the day
        self._day_flat_s = cum[-1]       # = DAY_S up to rounding
        self._last = max(h for h, x in enumerate(self.multipliers) if x > 0)

    def clock_s(self, flat_s: float) -> float:
        """The clock time at which the cumulative rate reaches ``flat_s`` (piecewise linear, increasing)."""
        days = flat_s // self._day_flat_s
        r = max(flat_s - days * self._day_flat_s, 0.0)
        h = bisect_right(self._cum, r) - 1            # cum[h] <= r < cum[h + 1]: skips hours at 0
        if h > self._last:
            h = self._last                            # rounding at the end of the day
        return days * DAY_S + h * HOUR_S + (r - self._cum[h]) / self.multipliers[h]


@dataclass(frozen=True)
class AvailabilitySettings:
    """Rates (episodes per unit-hour), mean durations and which priorities may interrupt which work."""

    out_of_service_per_h: float = 0.0
    out_of_service_mean_s: float = 1800.0
    officer_initiated_per_h: float = 0.0
    officer_initiated_mean_s: float = 900.0
    interrupt: dict = field(default_factory=dict)     # work kind -> frozenset of priorities
    by_hour: dict = field(default_factory=dict)       # work kind -> 24 multipliers; absent: flat

    @classmethod
    def from_spec(cls, spec) -> "AvailabilitySettings":
        return cls(out_of_service_per_h=spec.out_of_service_per_h, out_of_service_mean_s=spec.out_of_service_mean_s,
                   officer_initiated_per_h=spec.officer_initiated_per_h,
                   officer_initiated_mean_s=spec.officer_initiated_mean_s,
                   interrupt={OFFICER_INITIATED: frozenset(spec.interrupt_officer_initiated),
                              OUT_OF_SERVICE: frozenset(spec.interrupt_out_of_service)},
                   by_hour={w: tuple(p) for w, p in ((OUT_OF_SERVICE, spec.out_of_service_by_hour),
                                                     (OFFICER_INITIATED, spec.officer_initiated_by_hour))
                            if p is not None})

    def rate_mean(self, work: str) -> tuple[float, float]:
        return getattr(self, f"{work}_per_h"), getattr(self, f"{work}_mean_s")

    @property
    def active(self) -> bool:
        return any(self.rate_mean(w)[0] > 0 for w in WORK_KINDS)


def draw_episodes(settings: AvailabilitySettings, rep: np.random.SeedSequence, uid: int,
                  until_s: float) -> list[tuple[float, float, str]]:
    """(start_s, duration_s, work kind) of unit ``uid``'s episodes before ``until_s``, in start order."""
    out = []
    for work in WORK_KINDS:
        rate_h, mean_s = settings.rate_mean(work)
        if rate_h <= 0:
            continue
        rng = stream(rep, f"availability/{work}/unit{uid}")
        profile = settings.by_hour.get(work)
        clock = HourProfile(profile).clock_s if profile is not None else None
        gap_s = 3600.0 / rate_h
        u = 0.0                          # flat time: the clock itself when the rate is flat
        while True:
            u += float(rng.exponential()) * gap_s
            dur = float(rng.exponential()) * mean_s
            t = u if clock is None else clock(u)
            if t >= until_s:
                break
            out.append((t, dur, work))
    out.sort(key=lambda e: (e[0], e[2]))
    return out
