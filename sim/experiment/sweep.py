"""Parameter sweeps: many scenario variants x replications, one tidy row per replication.

A sweep is a :class:`SweepPlan` (the base scenario and its validated points, see
``sim.experiment.points``); :func:`run_sweep` turns the replications that have no
row yet into tasks, runs them with ``sim.experiment.tasks.run_tasks`` (this process
or Dask) and stores the rows in a :class:`~sim.experiment.store.ResultStore`.
Every point uses the same seed: replication ``i`` of every point sees the same
incident stream whenever the points share their demand (common random numbers).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from sim import __version__, metrics
from sim.errors import InputError
from sim.experiment.points import Point
from sim.experiment.store import MANIFEST, ResultStore, done_keys
from sim.experiment.tasks import point_tasks, run_tasks
from sim.experiment.work_split import chunk_size, n_workers


@dataclass
class SweepPlan:
    """Everything a sweep will run, validated before any work starts."""

    name: str
    source_file: str | None       # absolute path of the base scenario file (anchors relative paths)
    base: dict                    # base scenario data after fixed overrides
    points: list[Point]
    replications: int
    description: str = ""
    sweep_file: str | None = None
    param_names: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return int(self.base.get("seed", 0))

    def fingerprint(self) -> str:
        """Identifies the points (and so the meaning of every row); replications may grow."""
        blob = json.dumps({"name": self.name, "points": [(p.point_id, p.key) for p in self.points]},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def tasks(self, *, only: set | None = None, chunk: int = 1) -> list[dict]:
        """Tasks in point-major order; each runs up to ``chunk`` replications of one point.

        ``only`` keeps the (point_id, replication) pairs given. Chunks let a worker prepare a
        point once for several replications; a lost worker loses (and Dask re-runs) one chunk.
        """
        out = []
        for p in self.points:
            reps = [r for r in range(self.replications) if only is None or (p.point_id, r) in only]
            out += point_tasks(p, reps, sweep=self.name, chunk=chunk, source_file=p.source_file or self.source_file)
        return out

    def manifest(self) -> dict:
        return {
            "sweep": self.name,
            "description": self.description,
            "sweep_file": self.sweep_file,
            "scenario_file": self.source_file,
            "seed": self.seed,
            "replications": self.replications,
            "parameters": self.param_names,
            "points": [{"point_id": p.point_id, **p.params} for p in self.points],
            "fingerprint": self.fingerprint(),
            "patrolsim": __version__,
        }


@dataclass
class SweepOutcome:
    results: pd.DataFrame
    ran: int
    skipped: int
    errors: int
    folder: Path
    runtime_s: float
    #: one log per task run now (``sim.experiment.tasks.run_task_logged``: worker, start/end, preparation,
    #: CPU, what it built), and when the tasks were submitted (epoch seconds): for the scaling benchmark
    task_log: list[dict] = field(default_factory=list)
    submitted: float = 0.0


def run_sweep(plan: SweepPlan, out: Path, *, executor=None, resume: bool = False, overwrite: bool = False,
              retry_errors: bool = False, progress: Callable[[int, int], None] | None = None,
              flush_rows: int | None = None, flush_s: float = 10.0) -> SweepOutcome:
    """Run the tasks of ``plan`` that have no row in ``out`` yet and return the full table.

    Rows are flushed to a part file every ``flush_rows`` rows or ``flush_s`` seconds; on any
    exit (including Ctrl-C) what has finished is saved and consolidated, so ``resume`` picks up
    where the sweep stopped.
    """
    t0 = time.perf_counter()
    store = ResultStore(out)
    manifest = plan.manifest()
    old = store.read_manifest()
    if store.has_results():
        if overwrite:
            store.clear()
        elif not resume:
            raise InputError("holds the results of an earlier sweep", file=str(out),
                             fix="add --resume to finish it, or --overwrite to start again")
        elif old is None or old.get("fingerprint") != manifest["fingerprint"]:
            raise InputError("holds a sweep with different points or base scenario, so it cannot be resumed",
                             file=str(out / MANIFEST),
                             fix="use another --out folder, or --overwrite to start again")
    store.write_manifest(manifest)
    existing, _ = store.read(plan.param_names)
    have = done_keys(existing, retry_errors=retry_errors)
    wanted = {(p.point_id, r) for p in plan.points for r in range(plan.replications)}
    todo = wanted - have
    total = len(todo)
    chunk = chunk_size(total, plan.replications, n_workers(executor))
    tasks = plan.tasks(only=todo, chunk=chunk)
    if not flush_rows:
        flush_rows = max(1, min(200, math.ceil(total / 20)))
    buffer: list[dict] = []
    ran = errors = 0
    last_flush = time.perf_counter()
    if progress and total:
        progress(0, total)
    task_log: list[dict] = []
    submitted = time.time()
    it = run_tasks(executor, tasks, log=task_log)
    try:
        for _, rows in it:
            buffer.extend(rows)
            ran += len(rows)
            errors += sum(r.get("error") is not None for r in rows)
            if progress:
                progress(ran, total)
            if len(buffer) >= flush_rows or time.perf_counter() - last_flush >= flush_s:
                store.write_part(buffer, plan.param_names)
                buffer = []
                last_flush = time.perf_counter()
    finally:
        it.close()
        if buffer:
            store.write_part(buffer, plan.param_names)
        results = store.consolidate(plan.param_names)
    return SweepOutcome(results=results, ran=ran, skipped=len(wanted) - total, errors=errors,
                        folder=Path(out), runtime_s=time.perf_counter() - t0, task_log=task_log,
                        submitted=submitted)


def point_summary(results: pd.DataFrame, plan: SweepPlan) -> list[dict]:
    """Per point: parameters, replications (ok / failed), mean and 95% CI of the sweep's metrics
    (those with a sweep column in ``sim.metrics.METRICS``)."""
    names = metrics.names(view="sweep")
    out = []
    by_point = {pid: g for pid, g in results.groupby("point_id")} if not results.empty else {}
    for p in plan.points:
        g = by_point.get(p.point_id)
        if g is None:
            g = results.iloc[0:0]
        ok = g[g["error"].isna()] if "error" in g.columns else g
        per_rep = [{k: r[k] for k in names if k in r} for r in ok.to_dict("records")]
        m = metrics.summarise(per_rep) if per_rep else {}
        target = float(p.scenario_data.get("lines", {}).get("target_compliance", 0.9))
        out.append({"point_id": p.point_id, "params": p.params, "ok": len(ok),
                    "failed": len(g) - len(ok), "metrics": m,
                    "lines_hold": metrics.lines_hold(m, target=target) if m else None,
                    "first_error": None if len(g) == len(ok) else str(g[g["error"].notna()]["error"].iloc[0])})
    return out
