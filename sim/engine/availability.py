"""Time a unit on duty is not free for dispatch: out-of-service episodes and officer-initiated work.

Each unit draws its episodes in advance from its own named random stream
(``availability/<kind of work>/unit<uid>``, ``sim.streams``), so a change of one unit's
or one kind's rate never shifts another's draws, and replications stay paired. Starts
are a Poisson process over the clock; durations are exponential. Start gaps and
durations are drawn as unit exponentials scaled by the scenario's rate and mean, so a
longer mean gives the same starts with longer episodes (common random numbers).

An episode that starts while the unit is free on duty makes it unavailable until the
episode ends; one that starts while it is busy, off duty or at a checkpoint is dropped.
With every rate zero nothing is drawn and no event is made: results are as without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.streams import stream

OUT_OF_SERVICE = "out_of_service"
OFFICER_INITIATED = "officer_initiated"
WORK_KINDS = (OUT_OF_SERVICE, OFFICER_INITIATED)


@dataclass(frozen=True)
class AvailabilitySettings:
    """Rates (episodes per unit-hour), mean durations and which priorities may interrupt which work."""

    out_of_service_per_h: float = 0.0
    out_of_service_mean_s: float = 1800.0
    officer_initiated_per_h: float = 0.0
    officer_initiated_mean_s: float = 900.0
    interrupt: dict = field(default_factory=dict)     # work kind -> frozenset of priorities

    @classmethod
    def from_spec(cls, spec) -> "AvailabilitySettings":
        return cls(out_of_service_per_h=spec.out_of_service_per_h, out_of_service_mean_s=spec.out_of_service_mean_s,
                   officer_initiated_per_h=spec.officer_initiated_per_h,
                   officer_initiated_mean_s=spec.officer_initiated_mean_s,
                   interrupt={OFFICER_INITIATED: frozenset(spec.interrupt_officer_initiated),
                              OUT_OF_SERVICE: frozenset(spec.interrupt_out_of_service)})

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
        gap_s = 3600.0 / rate_h
        t = 0.0
        while True:
            t += float(rng.exponential()) * gap_s
            dur = float(rng.exponential()) * mean_s
            if t >= until_s:
                break
            out.append((t, dur, work))
    out.sort(key=lambda e: (e[0], e[2]))
    return out
