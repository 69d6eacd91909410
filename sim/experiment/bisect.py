"""The search of ``patrolsim hold`` as pure code: the stopping rule and the bisection of one level.

``bisect_level`` is a generator: it yields ``(value, replications)`` requests and receives
their rows, so the search is tested without running the simulator and
``sim.experiment.hold.run_hold`` can gather the requests of every level into one batch of
tasks. See ``sim.experiment.hold`` for the method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Generator

from sim import metrics
from sim.alert import LEVELS
from sim.experiment.points import get_path


@dataclass
class HoldConfig:
    vary: str                       # key path as given (e.g. force.total_officers or alert.patrol_share)
    vmin: float
    vmax: float
    step: float                     # resolution: 1 officer, 0.01 of a share ...
    integer: bool
    target: float
    min_replications: int = 3
    max_replications: int = 20
    batch: int = 2
    levels: tuple[str, ...] = LEVELS
    per_level: bool = False         # vary.<level> (a per-level mapping such as alert.patrol_share)

    monotone: bool = False          # per-level values must not fall as the level rises

    def path(self, level: str) -> str:
        return f"{self.vary}.{level}" if self.per_level else self.vary

    def overrides(self, base: dict, level: str, value) -> dict:
        """Key paths to set for a probe at ``level``. Varying one level's share of a mapping that must
        not fall as the level rises moves the other levels just enough to stay valid (they do not
        matter at a fixed level)."""
        out = {"alert.level": level, self.path(level): value}
        if self.per_level and self.monotone:
            current = get_path(base, self.vary)
            i = LEVELS.index(level)
            for j, other in enumerate(LEVELS):
                if j < i and current[other] > value:
                    out[self.path(other)] = value
                elif j > i and current[other] < value:
                    out[self.path(other)] = value
        return out

    def fmt(self, v) -> str:
        if v is None:
            return "n/a"
        if self.integer:
            return str(int(v))
        nd = max(0, -int(math.floor(math.log10(self.step)))) if self.step > 0 else 3
        return f"{v:.{nd}f}"


@dataclass
class Probe:
    value: float
    replications: int
    response: dict                  # {"mean", "ci95"} of response_within_line
    backup: dict                    # same for backup_within_line (mean None: no backup incidents)
    holds: bool
    clear: bool                     # decided by the CIs (False: decided on the means at max replications)


@dataclass
class LevelResult:
    level: str
    status: str                     # found | at-min | above-max | error
    answer: float | None = None
    low: float | None = None        # interval of the answer (see module docstring)
    high: float | None = None
    probes: list[Probe] = field(default_factory=list)
    note: str = ""

    @property
    def replications(self) -> int:
        return sum(p.replications for p in self.probes)

    @property
    def at_answer(self) -> Probe | None:
        return next((p for p in self.probes if p.value == self.answer), None)

    @property
    def largest_failing(self) -> float | None:
        """The largest value probed at which the lines failed (None: none did); with the answer
        (the smallest value that held) it brackets the threshold to the search's resolution."""
        fails = [p.value for p in self.probes if not p.holds]
        return max(fails) if fails else None

    @property
    def smallest_holding(self) -> float | None:
        """The smallest value probed at which the lines held (None: none did)."""
        holds = [p.value for p in self.probes if p.holds]
        return min(holds) if holds else None


def decide(response: list[float], backup: list[float], *, target: float, min_replications: int,
           max_replications: int) -> tuple[bool, bool] | None:
    """(holds, clear) once the evidence is enough, else None (run more replications)."""
    n = len(response)
    r = metrics.mean_ci95(response)
    b = metrics.mean_ci95(backup)
    if n >= min_replications and r["ci95"][0] is not None:
        b_lo, b_hi = b["ci95"]
        backup_holds = b["mean"] is None or (b_lo is not None and b_lo >= target)
        backup_fails = b["mean"] is not None and b_hi is not None and b_hi < target
        if r["ci95"][0] >= target and backup_holds:
            return True, True
        if r["ci95"][1] < target or backup_fails:
            return False, True
    if n >= max_replications:
        return metrics.lines_hold({metrics.RESPONSE_LINE: r, metrics.BACKUP_LINE: b}, target=target), False
    return None


def _share_ci(values: list[float]) -> dict:
    """Mean and 95% CI of a compliance share, the interval clipped to [0, 1]."""
    m = metrics.mean_ci95(values)
    lo, hi = m["ci95"]
    if lo is not None:
        m["ci95"] = [max(0.0, lo), min(1.0, hi)]
    return m


class ProbeFailed(Exception):
    pass


Request = tuple[float, list[int]]


def _probe(value: float, cfg: HoldConfig) -> Generator[Request, list[dict], Probe]:
    resp: list[float] = []
    back: list[float] = []
    while True:
        n = len(resp)
        size = cfg.min_replications if n == 0 else cfg.batch
        size = max(1, min(size, cfg.max_replications - n))
        rows = yield value, list(range(n, n + size))
        bad = [r for r in rows if r.get("error")]
        if bad and all("form no unit" in str(r["error"]) for r in bad):
            # too few officers to form a single responding unit: the lines certainly fail here
            zeros = [0.0] * max(1, len(rows))
            return Probe(value=value, replications=len(rows), response=_share_ci(zeros),
                         backup=_share_ci(zeros), holds=False, clear=True)
        if bad:
            raise ProbeFailed(f"replication {bad[0]['replication']} failed at {cfg.fmt(value)}: {bad[0]['error']}")
        for r in sorted(rows, key=lambda r: r["replication"]):
            resp.append(r.get(metrics.RESPONSE_LINE, math.nan))
            back.append(r.get(metrics.BACKUP_LINE, math.nan))
        d = decide(resp, back, target=cfg.target, min_replications=cfg.min_replications,
                   max_replications=cfg.max_replications)
        if d is not None:
            return Probe(value=value, replications=len(resp), response=_share_ci(resp),
                         backup=_share_ci(back), holds=d[0], clear=d[1])


def _midpoint(lo: float, hi: float, cfg: HoldConfig) -> float:
    if cfg.integer:
        k = max(1, int((hi - lo) // (2 * cfg.step)))
        return min(hi - 1, lo + k * cfg.step)
    return (lo + hi) / 2


def max_probes(cfg: HoldConfig) -> int:
    """The most probes ``bisect_level`` can make at one level: the two ends, then the longest chain
    of midpoints the bisection can take before the bracket is within ``cfg.step`` (worst case over
    both answers at every probe). ``hold`` shows progress against this bound times
    ``max_replications`` per level: the search usually stops sooner."""
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def steps(width: float) -> int:
        if width <= cfg.step + 1e-12:
            return 0
        mid = _midpoint(0.0, width, cfg)
        return 1 + max(steps(mid), steps(width - mid))

    return 2 + steps(float(cfg.vmax - cfg.vmin))


def max_replications_total(cfg: HoldConfig) -> int:
    """The most replications a hold search can run: levels x most probes x most replications each."""
    return len(cfg.levels) * max_probes(cfg) * cfg.max_replications


def bisect_level(level: str, cfg: HoldConfig) -> Generator[Request, list[dict], LevelResult]:
    """A generator: yields (value, replications) requests, receives their rows, returns the result."""
    res = LevelResult(level=level, status="found")
    try:
        top = yield from _probe(cfg.vmax, cfg)
        res.probes.append(top)
        if not top.holds:
            res.status, res.note = "above-max", f"lines fail even at {cfg.fmt(cfg.vmax)} (raise --max)"
            return res
        bottom = yield from _probe(cfg.vmin, cfg)
        res.probes.append(bottom)
        if bottom.holds:
            res.status, res.answer = "at-min", cfg.vmin
            res.note = f"lines hold already at {cfg.fmt(cfg.vmin)} (lower --min to look further)"
        else:
            lo, hi = cfg.vmin, cfg.vmax
            while hi - lo > cfg.step + 1e-12:
                mid = _midpoint(lo, hi, cfg)
                p = yield from _probe(mid, cfg)
                res.probes.append(p)
                if p.holds:
                    hi = mid
                else:
                    lo = mid
            res.answer = hi
    except ProbeFailed as exc:
        res.status, res.note = "error", str(exc)
        return res
    fails = [p.value for p in res.probes if not p.holds and p.clear]
    holds = [p.value for p in res.probes if p.holds and p.clear]
    tiny = 1 if cfg.integer else 0
    res.low = (max(fails) + tiny) if fails else (None if res.status == "at-min" else cfg.vmin)
    res.high = min(holds) if holds else cfg.vmax
    if res.low is not None and res.high is not None and res.low > res.high:
        res.note = (res.note + "; " if res.note else "") + "results not monotone in the varied value"
    undecided = [p for p in res.probes if not p.clear]
    if undecided:
        res.note = (res.note + "; " if res.note else "") + (
            f"{len(undecided)} probe(s) decided on the mean at {cfg.max_replications} replications")
    return res
