"""Shared statistics for the simulation-vs-analytic tests.

Each test compares means over independent replications with an analytic value.
A check passes when the analytic value lies within ``crit x SE`` of the mean,
where ``SE`` is the standard error across replications and ``crit`` is the
Student t quantile with a Bonferroni correction for the number of checks in
the test's family: if the engine is right, the chance that *any* check of a
family fails is at most ``FAMILY_ALPHA`` (1 %). Seeds are fixed, so a run is
reproducible; the tolerance argument says that these seeds were not picked.

Every family also has a power check (the tolerance is tight enough to catch an
error of a stated size) or a negative control (a plausible wrong answer is
rejected), so no test here passes whatever the engine does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

FAMILY_ALPHA = 0.01


@dataclass(frozen=True)
class Agreement:
    name: str
    mean: float
    se: float
    expected: float
    crit: float

    @property
    def z(self) -> float:
        return (self.mean - self.expected) / self.se if self.se > 0 else (0.0 if self.mean == self.expected else math.inf)

    @property
    def half_width(self) -> float:
        return self.crit * self.se

    @property
    def ok(self) -> bool:
        return abs(self.mean - self.expected) <= self.half_width

    def __str__(self) -> str:
        return (f"{self.name}: simulated {self.mean:.5f} +- {self.half_width:.5f} (SE {self.se:.5f}), "
                f"analytic {self.expected:.5f}, z = {self.z:+.2f}, allowed |z| <= {self.crit:.2f}")


def critical_t(*, replications: int, family_size: int, alpha: float = FAMILY_ALPHA) -> float:
    """Two-sided Bonferroni-corrected t quantile for ``family_size`` checks at family-wise ``alpha``."""
    return float(stats.t.ppf(1.0 - alpha / (2.0 * family_size), replications - 1))


def agreement(name: str, samples, expected: float, *, family_size: int, alpha: float = FAMILY_ALPHA) -> Agreement:
    x = np.asarray(samples, float)
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    return Agreement(name, float(x.mean()), se, float(expected),
                     critical_t(replications=x.size, family_size=family_size, alpha=alpha))


def assert_all_agree(checks: list[Agreement]) -> None:
    bad = [str(c) for c in checks if not c.ok]
    assert not bad, "simulation and analytic values disagree:\n  " + "\n  ".join(bad)
