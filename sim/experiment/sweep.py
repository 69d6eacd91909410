"""Parameter sweeps: many scenario variants x replications, one tidy row per task.

The unit of work is a *task*: one replication of one *point* (the base scenario
with some key paths changed, e.g. ``alert.level=red, force.total_officers=300``).
A task is a small picklable dict; :func:`run_task` turns it into a row::

    {sweep, point_id, replication, <param>..., <metric>..., lines_hold, error, runtime_s}

A row depends only on the point's scenario (which carries the seed) and the
replication index, never on which process ran it or in what order, so a sweep
gives the same numbers sequentially, on a local cluster or on a batch queue.
Every point uses the same seed: replication ``i`` of every point sees the same
incident stream whenever the points share their demand (common random numbers).

Rows are stored in ``<out>/parts/`` as small parquet files, each written
atomically (temporary file + ``os.replace``), and consolidated into
``<out>/results.parquet`` (atomically too) at the end or on Ctrl-C. A crash
therefore never leaves a corrupt table, and ``resume`` runs only the tasks with
no row yet.

Executors run tasks: :class:`SequentialExecutor` in this process, or a Dask
cluster (``sim.experiment.dask_cluster``, the only module that imports dask).
Workers keep prepared scenarios in a small per-process cache, so each worker
loads a network once and prepares each point once, not once per task.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from sim import __version__, metrics
from sim.errors import InputError
from sim.keypath import get_key, parse_key, set_key
from sim.scenario_file import deep_copy

#: Columns every row has, in this order, before the parameters and the metrics.
ID_COLUMNS = ("sweep", "point_id", "replication")
TAIL_COLUMNS = ("lines_hold", "error", "runtime_s")
MANIFEST = "sweep.json"
RESULTS = "results.parquet"
PARTS = "parts"


# --------------------------------------------------------------------------- key paths
def get_path(data: dict, path: str):
    """The value at a key path (``force.total_officers``, ``demand.types[2].share``) of a nested
    dict: KeyError when a key is absent, InputError naming the index when a list is too short."""
    return get_key(data, parse_key(path))


def set_path(data: dict, path: str, value) -> dict:
    """A copy of ``data`` with ``value`` at the key path (sections are created; list items must exist)."""
    out = deep_copy(data)
    set_key(out, parse_key(path), deep_copy(value))
    return out


def scenario_key(data: dict, source_file: str | None) -> str:
    blob = json.dumps({"scenario": data, "source": source_file}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Point:
    """One variant of the base scenario: the key paths changed and the full scenario data."""

    point_id: int
    params: dict            # key path -> value used (as validated), e.g. {"alert.level": "red"}
    scenario_data: dict     # the complete scenario (Scenario.to_dict()) of this point
    key: str                # hash of the scenario data and its source file
    source_file: str | None = None  # when the point has its own scenario file (compare)


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
        cache = network_cache_dir()
        out = []
        for p in self.points:
            reps = [r for r in range(self.replications) if only is None or (p.point_id, r) in only]
            for block in blocks(reps, chunk):
                out.append(make_task(p, block, sweep=self.name, source_file=p.source_file or self.source_file,
                                     cache_dir=cache))
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


def build_points(base: dict, overrides: list[dict], *, source_file: str | None,
                 where: Callable[[int, str], str] | None = None, file: str | None = None) -> list[Point]:
    """Validate the scenario of every point up front; parameters are recorded as validated.

    ``overrides[i]`` maps key paths to values for point ``i``. A bad key path or value raises one
    ``InputError`` naming ``file`` and the key (``where(i, path)`` spells it, e.g. ``grid.force.x``).
    """
    from sim.scenario import scenario_from_dict

    where = where or (lambda i, path: path)
    names: list[str] = []
    for ov in overrides:
        names += [k for k in ov if k not in names]
    validated = []
    for i, ov in enumerate(overrides):
        data = deep_copy(base)
        for path, value in ov.items():
            try:
                data = set_path(data, path, value)
            except InputError as exc:
                raise InputError(exc.detail, file=file, key=where(i, path), fix=exc.fix) from None
        try:
            validated.append(scenario_from_dict(data, source_file=source_file).to_dict())
        except InputError as exc:
            # blame the varied key the error is about (the base scenario was valid already)
            k = exc.key or ""
            bad = next((p for p in ov if k == p or k.startswith(p + ".") or p.startswith(k + ".")),
                       None) or next((p for p in ov if p.split(".")[0] == k.split(".")[0]), None) \
                or next(iter(ov), k)
            detail = exc.detail if k in ("", bad) else f"{k}: {exc.detail}"
            if "(got " not in detail:
                detail += f" (value {ov.get(bad)!r})"
            raise InputError(detail, file=file, key=where(i, bad), fix=exc.fix) from None
    points = []
    for i, full in enumerate(validated):
        params = {}
        for path in names:
            try:
                params[path] = get_path(full, path)
            except KeyError:
                raise InputError("no such scenario key", file=file, key=where(i, path),
                                 fix="check the key path in docs/scenarios.md") from None
        points.append(Point(point_id=i, params=params, scenario_data=full,
                            key=scenario_key(full, source_file)))
    return points


# --------------------------------------------------------------------------- tasks (run on workers)
def network_cache_dir() -> str:
    """The network cache folder of this process, as an absolute path workers can share."""
    from sim.network.cache import cache_dir

    return str(Path(cache_dir()).resolve())


def make_task(point: Point, replications: list[int], *, sweep: str, source_file: str | None,
              cache_dir: str | None = None) -> dict:
    return {"sweep": sweep, "point_id": point.point_id, "replications": [int(r) for r in replications],
            "params": dict(point.params), "scenario": point.scenario_data, "key": point.key,
            "source_file": source_file, "cache_dir": cache_dir}


_CONTEXTS: OrderedDict = OrderedDict()
_CITIES: OrderedDict = OrderedDict()
_MAX_CONTEXTS = 4
_MAX_CITIES = 2
_LOCK = threading.Lock()
#: Per-process counters (networks loaded, points prepared, tasks run), for tests and diagnostics.
STATS: Counter = Counter()


def worker_stats() -> dict:
    """This process's cache counters; ``client.run(worker_stats)`` asks every Dask worker."""
    return {**STATS, "pid": os.getpid()}


def clear_worker_cache() -> None:
    with _LOCK:
        _CONTEXTS.clear()
        _CITIES.clear()
        STATS.clear()


def _context(task: dict):
    """The prepared context of the task's point, from this process's cache when possible."""
    from sim.experiment.replicate import prepare
    from sim.network import load_city
    from sim.scenario import scenario_from_dict

    key = task["key"]
    ctx = _CONTEXTS.get(key)
    if ctx is not None:
        _CONTEXTS.move_to_end(key)
        return ctx
    if task.get("cache_dir") and not os.environ.get("PATROLSIM_CACHE_DIR"):
        os.environ["PATROLSIM_CACHE_DIR"] = task["cache_dir"]
    scenario = scenario_from_dict(task["scenario"], source_file=task["source_file"])
    data = task["scenario"]
    net_key = scenario_key({"network": data.get("network"), "name": data.get("name")}, task["source_file"])
    city = _CITIES.get(net_key)
    if city is None:
        city = load_city(scenario, quiet=True)
        STATS["networks_loaded"] += 1
        _CITIES[net_key] = city
        while len(_CITIES) > _MAX_CITIES:
            _CITIES.popitem(last=False)
    else:
        _CITIES.move_to_end(net_key)
    ctx = prepare(scenario, quiet=True, city=city)
    STATS["points_prepared"] += 1
    _CONTEXTS[key] = ctx
    while len(_CONTEXTS) > _MAX_CONTEXTS:
        _CONTEXTS.popitem(last=False)
    return ctx


def _error_text(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    text = f"{type(exc).__name__}: {exc}{where}"
    return " ".join(text.split())[:1000]


def error_row(task: dict, replication: int, error: str, runtime_s: float = 0.0) -> dict:
    return {"sweep": task["sweep"], "point_id": task["point_id"], "replication": int(replication),
            **task["params"], "lines_hold": None, "error": error, "runtime_s": runtime_s}


def error_rows(task: dict, error: str) -> list[dict]:
    return [error_row(task, r, error) for r in task["replications"]]


def run_task(task: dict) -> list[dict]:
    """The task's replications of one point, as tidy rows (one per replication).

    A replication that raises gives a row with its error (the others still run); a point that
    cannot be prepared gives an error row for each replication. ``runtime_s`` is the time of the
    replication itself (preparing the point is not counted). Safe with several worker threads:
    a process runs one replication at a time.
    """
    from sim.experiment.replicate import run_replication

    rows = []
    with _LOCK:
        try:
            ctx = _context(task)
        except Exception as exc:  # the point itself is broken: every replication fails the same way
            STATS["errors"] += len(task["replications"])
            return error_rows(task, _error_text(exc))
        target = float(task["scenario"].get("lines", {}).get("target_compliance", 0.9))
        for rep in task["replications"]:
            t0 = time.perf_counter()
            try:
                out = run_replication(ctx, rep)
            except Exception as exc:  # recorded; the sweep goes on
                STATS["errors"] += 1
                rows.append(error_row(task, rep, _error_text(exc), time.perf_counter() - t0))
                continue
            STATS["replications"] += 1
            m = {k: float(v) for k, v in out.metrics.items()}
            r, b = m.get("response_within_line", math.nan), m.get("backup_within_line", math.nan)
            holds = None if math.isnan(r) else bool(r >= target and (math.isnan(b) or b >= target))
            rows.append({"sweep": task["sweep"], "point_id": task["point_id"], "replication": int(rep),
                         **task["params"], **m, "lines_hold": holds, "error": None,
                         "runtime_s": time.perf_counter() - t0})
    return rows


def blocks(reps: list[int], chunk: int) -> list[list[int]]:
    """``reps`` cut into as few blocks of at most ``chunk`` as possible, of (nearly) equal size."""
    if not reps:
        return []
    n = math.ceil(len(reps) / max(1, chunk))
    size, extra = divmod(len(reps), n)
    out, i = [], 0
    for k in range(n):
        j = i + size + (1 if k < extra else 0)
        out.append(reps[i:j])
        i = j
    return out


def chunk_size(n_tasks: int, replications: int, workers: int) -> int:
    """Replications per task: 1 for one worker; otherwise about 4 tasks per worker, so that
    work stays balanced while each worker prepares a point as rarely as possible."""
    if workers <= 1:
        return 1
    return max(1, min(replications, math.ceil(n_tasks / (4 * workers))))


# --------------------------------------------------------------------------- executors
class OrderedMap:
    """``map`` on top of an executor's ``imap``: results in task order; the first exception is raised."""

    def map(self, fn: Callable, tasks: list) -> list:
        out = [None] * len(tasks)
        for i, res, exc in self.imap(fn, tasks):
            if exc is not None:
                raise exc
            out[i] = res
        return out


class SequentialExecutor(OrderedMap):
    """Runs tasks one after the other in this process (no Dask, no start-up cost)."""

    n_workers = 1
    description = "this process (sequential)"

    def imap(self, fn: Callable, tasks: list) -> Iterator[tuple[int, object, BaseException | None]]:
        for i, t in enumerate(tasks):
            yield i, fn(t), None


@contextmanager
def open_executor(*, scheduler: str | None = None, cluster: str | None = None,
                  workers: int | None = None, quiet: bool = False):
    """The executor the options ask for: a running Dask scheduler, a batch-queue cluster,
    a local Dask cluster with ``workers`` processes (default: one per core), or this
    process alone when ``workers`` is 1."""
    if scheduler is None and cluster is None:
        n = workers if workers is not None else (os.cpu_count() or 1)
        if n <= 1:
            yield SequentialExecutor()
            return
        workers = n
    from sim.experiment.dask_cluster import dask_executor

    with dask_executor(scheduler=scheduler, cluster=cluster, workers=workers, quiet=quiet) as ex:
        yield ex


# --------------------------------------------------------------------------- storage
def _file_mode() -> int:
    """rw for everyone the umask allows (mkstemp alone would make result files private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic_parquet(df: pd.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _atomic_text(text: str, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def rows_frame(rows: list[dict], param_names: list[str] | None = None) -> pd.DataFrame:
    """Rows as a table with a stable column order: ids, parameters, metrics, tail."""
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    params = [c for c in (param_names or []) if c in df.columns]
    tail = [c for c in TAIL_COLUMNS if c in df.columns]
    fixed = set(ID_COLUMNS) | set(params) | set(tail)
    metric_cols = sorted(c for c in df.columns if c not in fixed)
    df = df[[*ID_COLUMNS, *params, *metric_cols, *tail]]
    if "error" in df.columns:
        df["error"] = df["error"].astype(object).where(df["error"].notna(), None)
    if "lines_hold" in df.columns:
        df["lines_hold"] = df["lines_hold"].astype("boolean")
    return df


class ResultStore:
    """The results folder of one sweep: manifest, part files and the consolidated table."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / PARTS
        self.results = self.folder / RESULTS
        self.manifest_path = self.folder / MANIFEST

    def has_results(self) -> bool:
        return self.results.exists() or any(self.parts.glob("part-*.parquet"))

    def read_manifest(self) -> dict | None:
        if not self.manifest_path.exists():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_manifest(self, manifest: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_text(json.dumps(manifest, indent=2, default=str) + "\n", self.manifest_path)

    def clear(self) -> None:
        shutil.rmtree(self.parts, ignore_errors=True)
        for p in (self.results, self.manifest_path):
            if p.exists():
                p.unlink()

    def write_part(self, rows: list[dict], param_names: list[str]) -> Path:
        name = f"part-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.parquet"
        target = self.parts / name
        _atomic_parquet(rows_frame(rows, param_names), target)
        return target

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.exists() else []

    def read(self, param_names: list[str] | None = None) -> tuple[pd.DataFrame, list[Path]]:
        """All rows stored so far (consolidated table and parts), one per (point, replication)."""
        frames, used = [], []
        for path in ([self.results] if self.results.exists() else []) + self._part_files():
            try:
                frames.append(pd.read_parquet(path))
                used.append(path)
            except Exception:  # an unreadable file is ignored; its tasks run again
                continue
        frames = [f for f in frames if not f.empty]
        if not frames:
            return pd.DataFrame(), used
        df = pd.concat(frames, ignore_index=True)
        # one row per task: a successful row wins over an error row; otherwise the first one
        ok = df["error"].isna() if "error" in df.columns else pd.Series(True, index=df.index)
        df = df.assign(_bad=(~ok).astype(int), _order=range(len(df)))
        df = df.sort_values(["point_id", "replication", "_bad", "_order"], kind="stable")
        df = df.drop_duplicates(["point_id", "replication"], keep="first").drop(columns=["_bad", "_order"])
        df = rows_frame(df.to_dict("records"), param_names)
        return df.reset_index(drop=True), used

    def consolidate(self, param_names: list[str] | None = None) -> pd.DataFrame:
        """Merge parts into results.parquet (atomically), then remove the merged parts."""
        df, used = self.read(param_names)
        if df.empty and not self.results.exists():
            return df
        _atomic_parquet(df, self.results)
        for p in used:
            if p != self.results:
                p.unlink(missing_ok=True)
        if self.parts.exists():
            for tmp in self.parts.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
            try:
                self.parts.rmdir()
            except OSError:
                pass
        return df


# --------------------------------------------------------------------------- running
@dataclass
class SweepOutcome:
    results: pd.DataFrame
    ran: int
    skipped: int
    errors: int
    folder: Path
    runtime_s: float


def done_keys(df: pd.DataFrame, *, retry_errors: bool = False) -> set:
    if df.empty:
        return set()
    if retry_errors and "error" in df.columns:
        df = df[df["error"].isna()]
    return set(zip(df["point_id"].astype(int), df["replication"].astype(int)))


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
    executor = executor or SequentialExecutor()
    chunk = chunk_size(total, plan.replications, getattr(executor, "n_workers", 1))
    tasks = plan.tasks(only=todo, chunk=chunk)
    if not flush_rows:
        flush_rows = max(1, min(200, math.ceil(total / 20)))
    buffer: list[dict] = []
    ran = errors = 0
    last_flush = time.perf_counter()
    if progress and total:
        progress(0, total)
    it = executor.imap(run_task, tasks)
    try:
        for i, rows, exc in it:
            if exc is not None:
                rows = error_rows(tasks[i], _error_text(exc))
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
        close = getattr(it, "close", None)
        if close:
            close()
        if buffer:
            store.write_part(buffer, plan.param_names)
        results = store.consolidate(plan.param_names)
    return SweepOutcome(results=results, ran=ran, skipped=len(wanted) - total, errors=errors,
                        folder=Path(out), runtime_s=time.perf_counter() - t0)


# --------------------------------------------------------------------------- summaries
SUMMARY_METRICS = ("response_within_line", "backup_within_line", "response_time_p90_s", "utilisation")


def point_summary(results: pd.DataFrame, plan: SweepPlan) -> list[dict]:
    """Per point: parameters, replications (ok / failed), mean and 95% CI of the headline metrics."""
    out = []
    by_point = {pid: g for pid, g in results.groupby("point_id")} if not results.empty else {}
    for p in plan.points:
        g = by_point.get(p.point_id)
        if g is None:
            g = results.iloc[0:0]
        ok = g[g["error"].isna()] if "error" in g.columns else g
        per_rep = [{k: r[k] for k in SUMMARY_METRICS if k in r} for r in ok.to_dict("records")]
        m = metrics.summarise(per_rep) if per_rep else {}
        target = float(p.scenario_data.get("lines", {}).get("target_compliance", 0.9))
        out.append({"point_id": p.point_id, "params": p.params, "ok": len(ok),
                    "failed": len(g) - len(ok), "metrics": m,
                    "lines_hold": metrics.lines_hold(m, target=target) if m else None,
                    "first_error": None if len(g) == len(ok) else str(g[g["error"].notna()]["error"].iloc[0])})
    return out
