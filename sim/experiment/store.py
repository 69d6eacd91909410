"""The results folder of a sweep: manifest, part files and the consolidated table.

Rows are stored in ``<out>/parts/`` as small parquet files, each written
atomically, and consolidated into ``<out>/results.parquet`` (atomically too) at
the end or on Ctrl-C. A crash therefore never leaves a corrupt table, and a
resumed sweep runs only the tasks with no row yet. Writes go through
``sim.outputs.atomic_write_*``, the package's one atomic file writer.

Each row's ``runtime_s`` (wall-clock time of the replication) is kept out of
``results.parquet``, in ``<out>/timings.parquet`` (point_id, replication,
runtime_s): timings differ from run to run, and the results of the same sweep
and seed must be byte-identical. ``read`` joins them back, so callers still see
``runtime_s`` and a resumed sweep keeps the timings of its earlier rows.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path

import pandas as pd

from sim.outputs import atomic_write_parquet, atomic_write_text

#: Columns every row has, in this order, before the parameters and the metrics.
ID_COLUMNS = ("sweep", "point_id", "replication")
TAIL_COLUMNS = ("lines_hold", "error", "runtime_s")
MANIFEST = "sweep.json"
RESULTS = "results.parquet"
#: Per-row timings: with run.log.json, the files of a sweep folder that differ between two runs.
TIMINGS = "timings.parquet"
TIMING_COLUMNS = ("point_id", "replication", "runtime_s")
PARTS = "parts"


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


def done_keys(df: pd.DataFrame, *, retry_errors: bool = False) -> set:
    """(point_id, replication) pairs that have a row (a successful one, with ``retry_errors``)."""
    if df.empty:
        return set()
    if retry_errors and "error" in df.columns:
        df = df[df["error"].isna()]
    return set(zip(df["point_id"].astype(int), df["replication"].astype(int)))


class ResultStore:
    """The results folder of one sweep: manifest, part files and the consolidated table."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / PARTS
        self.results = self.folder / RESULTS
        self.timings = self.folder / TIMINGS
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
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        """Another file of the folder (e.g. scenario.resolved.yaml), written atomically."""
        return atomic_write_text(self.folder / name, text)

    def clear(self) -> None:
        shutil.rmtree(self.parts, ignore_errors=True)
        for p in (self.results, self.timings, self.manifest_path):
            if p.exists():
                p.unlink()

    def write_part(self, rows: list[dict], param_names: list[str]) -> Path:
        name = f"part-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.parquet"
        return atomic_write_parquet(self.parts / name, rows_frame(rows, param_names))

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.exists() else []

    def read(self, param_names: list[str] | None = None) -> tuple[pd.DataFrame, list[Path]]:
        """All rows stored so far (consolidated table and parts), one per (point, replication)."""
        frames, used = [], []
        for path in ([self.results] if self.results.exists() else []) + self._part_files():
            try:
                frame = pd.read_parquet(path)
            except Exception:  # an unreadable file is ignored; its tasks run again
                continue
            if path == self.results:
                frame = self._with_timings(frame)
            frames.append(frame)
            used.append(path)
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

    def _with_timings(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (rows of results.parquet) with the ``runtime_s`` of timings.parquet joined back."""
        if frame.empty or "runtime_s" in frame.columns:   # a folder written before timings moved out
            return frame
        try:
            t = pd.read_parquet(self.timings, columns=list(TIMING_COLUMNS))
        except Exception:  # missing or unreadable: the rows stand, without their timings
            return frame.assign(runtime_s=float("nan"))
        t = t.drop_duplicates(["point_id", "replication"], keep="last")
        return frame.merge(t, on=["point_id", "replication"], how="left")

    def consolidate(self, param_names: list[str] | None = None) -> pd.DataFrame:
        """Merge parts into results.parquet and timings.parquet (atomically), then remove the merged parts.

        Returns the full table, ``runtime_s`` included."""
        df, used = self.read(param_names)
        if df.empty and not self.results.exists():
            return df
        atomic_write_parquet(self.results, df.drop(columns=["runtime_s"], errors="ignore"))
        if "runtime_s" in df.columns:
            atomic_write_parquet(self.timings, df[list(TIMING_COLUMNS)].reset_index(drop=True))
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
