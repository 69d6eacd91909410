"""Points of an experiment: the base scenario with some key paths changed, validated up front.

A point is what sweep, hold and compare vary: ``alert.level=red,
force.total_officers=300`` applied to a base scenario. Its scenario data is
validated before any work starts, and its ``key`` (a hash of the data and the file
it came from) names it in the worker cache, so a worker prepares each point once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable

from sim.errors import InputError
from sim.keypath import get_key, parse_key, set_key
from sim.scenario_file import deep_copy


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
    """A short hash of scenario data and the file it came from (relative paths hang on the file)."""
    blob = json.dumps({"scenario": data, "source": source_file}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Point:
    """One variant of the base scenario: the key paths changed and the full scenario data."""

    point_id: int
    params: dict            # key path -> value used (as validated), e.g. {"alert.level": "red"}
    scenario_data: dict     # the complete scenario (Scenario.to_dict()) of this point
    key: str                # hash of the scenario data and its source file
    source_file: str | None = None  # when the point has its own scenario file (compare)


def point_of_scenario(point_id: int, scenario, params: dict) -> Point:
    """A point made of a whole validated scenario (compare's arms), with its own source file."""
    data = scenario.to_dict()
    return Point(point_id=point_id, params=dict(params), scenario_data=data,
                 key=scenario_key(data, scenario.source_file), source_file=scenario.source_file)


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
            raise _blame_varied_key(exc, ov, where(i, _varied_key(exc.key or "", ov)), file) from None
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


def _varied_key(k: str, ov: dict) -> str:
    """The varied key an error is about (the base scenario was valid already)."""
    return (next((p for p in ov if k == p or k.startswith(p + ".") or p.startswith(k + ".")), None)
            or next((p for p in ov if p.split(".")[0] == k.split(".")[0]), None)
            or next(iter(ov), k))


def _blame_varied_key(exc: InputError, ov: dict, key: str, file: str | None) -> InputError:
    k = exc.key or ""
    bad = _varied_key(k, ov)
    detail = exc.detail if k in ("", bad) else f"{k}: {exc.detail}"
    if "(got " not in detail:
        detail += f" (value {ov.get(bad)!r})"
    return InputError(detail, file=file, key=key, fix=exc.fix)
