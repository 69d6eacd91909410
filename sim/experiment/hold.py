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

from typing import Callable

from sim.alert import LEVELS
from sim.errors import InputError
from sim.experiment.bisect import HoldConfig, LevelResult, bisect_level, max_replications_total
from sim.experiment.points import build_points, get_path, set_path
from sim.experiment.tasks import point_tasks, run_tasks
from sim.experiment.work_split import chunk_size, n_workers

__all__ = ["HoldConfig", "LevelResult", "hold_config", "run_hold"]


def hold_config(base: dict, vary: str, *, vmin=None, vmax=None, step=None, target=None,
                levels=None, min_replications: int = 3, max_replications: int = 20,
                batch: int = 2) -> HoldConfig:
    """Check the varied key and fill in defaults from the base scenario."""
    try:
        current = get_path(base, vary)
    except KeyError:
        raise InputError("no such scenario key", key=f"--vary {vary}",
                         fix="vary force.total_officers, alert.patrol_share or another numeric key") from None
    except InputError as exc:  # a malformed path, or a list index out of range
        raise InputError(f"{exc.key}: {exc.detail}" if exc.key and exc.key != vary else exc.detail,
                         key=f"--vary {vary}", fix=exc.fix) from None
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
             progress: Callable[[int, int], None] | None = None) -> list[LevelResult]:
    """Bisect every level at once: each round gathers the pending probes of all levels and runs
    their replications together, so every worker stays busy.

    ``progress(done, total)`` is called as replications finish; ``total`` is the most the search
    can run (``max_replications_total``): an upper bound, the search usually stops sooner."""
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
    done, bound = 0, max_replications_total(cfg)
    if progress:
        progress(0, bound)
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
                progress(done, bound)
        for lvl in list(pending):
            try:
                pending[lvl] = gens[lvl].send(rows[lvl])
            except StopIteration as stop:
                results[lvl] = stop.value
                del pending[lvl]
    return [results[lvl] for lvl in cfg.levels]
