"""Reading a run's results folder back, for reports drawn after the run.

A report is built only from what ``patrolsim run`` wrote (summary.json, the Parquet
tables, scenario.resolved.yaml), so it can be redrawn any time later and always shows
what was run. The streets, stations and beats are rebuilt from the resolved scenario
with the project's own loaders (the same ``prepare`` a run uses), since a results
folder does not store the road graph.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import InputError

TABLES = ("incidents", "units", "beats", "staffing", "visibility", "alert_levels")
REQUIRED = ("summary.json", "incidents.parquet", "units.parquet")


@dataclass
class RunResults:
    folder: Path
    summary: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    scenario: object = None
    city: object = None
    deployment: object = None
    notes: list[str] = field(default_factory=list)   # what could not be drawn, and why

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


def read_results(folder: Path, *, with_network: bool = True) -> RunResults:
    """The folder's summary and tables; with ``with_network``, also the rebuilt city and deployment."""
    folder = Path(folder)
    fix = f"run `patrolsim run --out {folder}` first, or name the folder a run wrote"
    if not folder.exists():
        raise InputError("results folder not found", file=str(folder), fix=fix)
    if not folder.is_dir():
        raise InputError("is a file, not a results folder", file=str(folder), fix=fix)
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise InputError(f"{name} is missing: not a complete patrolsim results folder", file=str(folder),
                             fix=fix)
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc.__class__.__name__})", file=str(folder / "summary.json"),
                         fix="re-run the scenario to write it again") from None
    for key in ("metrics", "lines", "replications"):
        if key not in summary:
            raise InputError(f"key '{key}' is missing", file=str(folder / "summary.json"),
                             fix="re-run the scenario with this version of patrolsim")
    tables = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if path.is_file():
            try:
                tables[name] = pd.read_parquet(path)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise InputError(f"cannot be read as Parquet ({exc.__class__.__name__})", file=str(path),
                                 fix="re-run the scenario to write it again") from None
    res = RunResults(folder=folder, summary=summary, tables=tables)
    if with_network:
        _rebuild_network(res)
    return res


def _rebuild_network(res: RunResults) -> None:
    """City and deployment from scenario.resolved.yaml; on failure the report says what is missing."""
    path = res.folder / "scenario.resolved.yaml"
    if not path.is_file():
        res.notes.append("scenario.resolved.yaml is missing, so the maps are not drawn")
        return
    from sim.scenario_file import load_scenario

    try:
        res.scenario = load_scenario(str(path))
    except InputError as exc:
        res.notes.append(f"the maps are not drawn: {exc.one_line()}")
        return
    try:
        from sim.experiment.replicate import prepare

        ctx = prepare(res.scenario, quiet=True)
        res.city, res.deployment = ctx.city, ctx.deployment
    except InputError as exc:
        # demand files may have moved since the run; the streets and stations still draw
        res.notes.append(f"beats are not drawn: {exc.one_line()}")
        try:
            from sim.network import load_city

            res.city = load_city(res.scenario, quiet=True)
        except InputError as exc2:
            res.notes.append(f"the maps are not drawn: {exc2.one_line()}")
