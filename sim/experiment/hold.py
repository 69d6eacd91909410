"""The smallest force that holds the lines: bisection with CI-aware stopping, per alert level.

For each alert level, the varied parameter (``force.total_officers``, or the level's
patrol share ``alert.patrol_share.<level>``, or any numeric key) is bisected between
``min`` and ``max``. At each probed value replications run in batches until the
decision is clear:

- *holds clearly*: the lower end of the 95% CI of both line compliances is at or
  above the target (a missing backup line, with no incident needing backup, counts
  as held);
- *fails clearly*: the upper end of either interval is below the target;
- otherwise more replications, up to ``max_replications``; then the decision is
  taken on the means and the probe is marked *undecided*.

Every probe uses replications ``0, 1, 2, ...`` of the same seed (common random
numbers), so neighbouring values see the same incidents and the comparison between
them is sharp. Bisection assumes the lines hold more easily with a larger value.

The answer's interval runs from just above the largest value that clearly fails to
the smallest value that clearly holds: the threshold lies in it with at least 95%
confidence at each end when every probe was clear, and it widens where probes were
undecided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Generator

from sim import metrics
from sim.errors import InputError
from sim.alert import LEVELS
from sim.experiment.points import build_points, get_path, set_path
from sim.experiment.tasks import chunk_size, n_workers, point_tasks, run_tasks


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


def hold_config(base: dict, vary: str, *, vmin=None, vmax=None, step=None, target=None,
                levels=None, min_replications: int = 3, max_replications: int = 20,
                batch: int = 2) -> HoldConfig:
    """Check the varied key and fill in defaults from the base scenario."""
    try:
        current = get_path(base, vary)
    except KeyError:
        raise InputError("no such scenario key", key=f"--vary {vary}",
                         fix="vary force.total_officers, alert.patrol_share or another numeric key") from None
    per_level = isinstance(current, dict)
    if per_level:
        if not set(LEVELS) <= set(current):
            raise InputError("is a section, not a number", key=f"--vary {vary}",
                             fix="name a numeric key such as force.total_officers")
        sample = current[LEVELS[0]]
    else:
        sample = current
    if isinstance(sample, bool) or not isinstance(sample, (int, float)):
        raise InputError(f"is not a number (value {sample!r})", key=f"--vary {vary}",
                         fix="vary force.total_officers, alert.patrol_share or another numeric key")
    integer = isinstance(sample, int)
    if integer:
        vmin = int(vmin) if vmin is not None else max(1, int(sample) // 8)
        vmax = int(vmax) if vmax is not None else max(vmin + 1, int(sample) * 4)
        step = int(step) if step is not None else 1
        if step < 1:
            raise InputError("must be 1 or more for a whole-number key", key="--step", fix="use e.g. --step 5")
    else:
        share = per_level or "share" in vary.rsplit(".", 1)[-1]
        # shares: the doctrine never puts less than 1/5 of the force on patrol
        vmin = float(vmin) if vmin is not None else (0.2 if share else float(sample) / 8)
        vmax = float(vmax) if vmax is not None else (1.0 if share else float(sample) * 4)
        step = float(step) if step is not None else (0.01 if share else (vmax - vmin) / 100)
        if step <= 0:
            raise InputError("must be positive", key="--step", fix="use e.g. --step 0.01")
    if not vmin < vmax:
        raise InputError(f"--min ({vmin}) must be below --max ({vmax})", key="--min", fix="swap or widen them")
    target = float(target) if target is not None else float(base.get("lines", {}).get("target_compliance", 0.9))
    if min_replications < 2:
        raise InputError("needs at least 2 replications for a confidence interval", key="--min-replications",
                         fix="use 2 or more")
    if max_replications < min_replications:
        raise InputError("must be at least --min-replications", key="--max-replications", fix="raise it")
    monotone = per_level and all(current[a] <= current[b] for a, b in zip(LEVELS, LEVELS[1:]))
    return HoldConfig(vary=vary, vmin=vmin, vmax=vmax, step=step, integer=integer, target=target,
                      min_replications=min_replications, max_replications=max_replications, batch=max(1, batch),
                      levels=tuple(levels or LEVELS), per_level=per_level, monotone=monotone)


def run_hold(base: dict, cfg: HoldConfig, *, source_file: str | None, executor=None,
             progress: Callable[[int], None] | None = None) -> list[LevelResult]:
    """Bisect every level at once: each round gathers the pending probes of all levels and runs
    their replications together, so every worker stays busy."""
    base = set_path(base, "lines.target_compliance", cfg.target)
    for lvl in cfg.levels:  # catch bad keys and values before any work
        try:
            build_points(base, [cfg.overrides(base, lvl, cfg.vmin), cfg.overrides(base, lvl, cfg.vmax)],
                         source_file=source_file, where=lambda i, k: f"--vary {k}={(cfg.vmin, cfg.vmax)[i]}")
        except InputError as exc:
            raise InputError(exc.detail, key=exc.key, fix="change --min/--max or --vary") from None
    points: dict = {}

    def point(level, value):
        key = (level, value)
        if key not in points:
            v = int(value) if cfg.integer else float(value)
            p = build_points(base, [cfg.overrides(base, level, v)], source_file=source_file)[0]
            points[key] = p
        return points[key]

    gens = {lvl: bisect_level(lvl, cfg) for lvl in cfg.levels}
    pending = {lvl: next(g) for lvl, g in gens.items()}
    results: dict[str, LevelResult] = {}
    done = 0
    while pending:
        tasks, owner = [], []
        n_reps = sum(len(r) for _, r in pending.values())
        for lvl, (value, reps) in pending.items():
            p = point(lvl, value)
            chunk = chunk_size(n_reps, len(reps), n_workers(executor))
            mine = point_tasks(p, reps, sweep=f"hold-{lvl}", chunk=chunk, source_file=source_file)
            tasks += mine
            owner += [lvl] * len(mine)
        rows: dict[str, list] = {lvl: [] for lvl in pending}
        for i, res in run_tasks(executor, tasks):
            rows[owner[i]].extend(res)
            done += len(tasks[i]["replications"])
            if progress:
                progress(done)
        for lvl in list(pending):
            try:
                pending[lvl] = gens[lvl].send(rows[lvl])
            except StopIteration as stop:
                results[lvl] = stop.value
                del pending[lvl]
    return [results[lvl] for lvl in cfg.levels]
