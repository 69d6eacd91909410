"""Sweep files: which scenario, which parameters, which values (YAML, validated with pydantic).

::

    name: staffing-by-level
    scenario: scenarios/default.yaml      # relative to this file's folder, else to the current folder
    replications: 4                       # default: the scenario's
    set:                                  # fixed overrides for every point (optional)
      horizon_days: 7
    grid:                                 # full factorial ...
      alert.level: [green, yellow, orange, red]
      force.total_officers: [200, 300]
    # ... or an explicit list of points:
    # points:
    #   - {alert.level: red, force.total_officers: 150}
    # ... or a Latin hypercube sample:
    # sample:
    #   n: 20
    #   seed: 1
    #   ranges: {force.total_officers: [120, 360], alert.patrol_share.red: [0.5, 0.9]}
    #   choices: {alert.level: [orange, red]}

Keys are scenario key paths, list items included (``demand.types[2].share``,
``network.osm.stations[0].lat``), parsed by ``sim.keypath`` as for ``--set``; ``scenario:`` may be
a variant (``base: ...``). Every point's scenario is validated before any work starts, so a misspelt key path or a
bad value is one ``InputError`` naming the sweep file and the key (``grid.force.total_oficers``).
This module reads YAML and so stays out of the core modules.
"""

from __future__ import annotations

import difflib
import itertools
import re
from pathlib import Path
from typing import Annotated, Union

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError
from sim.experiment.points import build_points, set_path
from sim.experiment.sweep import SweepPlan
from sim.keypath import parse_key

Scalar = Union[bool, int, float, str]


def _key_path(text: str) -> str:
    """A scenario key path, checked by the one parser of --set, sweeps and hold (sim.keypath)."""
    parse_key(text)  # its InputError (a ValueError) reaches _error through pydantic's ctx
    return text


KeyPath = Annotated[str, AfterValidator(_key_path)]
# pydantic's own location tags (e.g. 'function-after[...]', 'list[...]', '[key]'), not key paths
_TAG = re.compile(r"^(?:[a-z_\-]+\[.*\]|\[key\])$")


class _Model(BaseModel):
    # .inf/.nan in a range or seed is an error here, before any point is built
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class SampleSpec(_Model):
    """A Latin hypercube sample of ``n`` points over numeric ranges and categorical choices."""

    n: Annotated[int, Field(ge=1, le=1_000_000)]
    seed: Annotated[int, Field(ge=0)] = 0
    ranges: dict[KeyPath, tuple[float, float]] = Field(default_factory=dict)
    choices: dict[KeyPath, Annotated[list[Scalar], Field(min_length=1)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> "SampleSpec":
        if not self.ranges and not self.choices:
            raise ValueError("give at least one parameter under ranges or choices")
        for k, (lo, hi) in self.ranges.items():
            if not lo < hi:
                raise ValueError(f"range of {k} must be [low, high] with low < high (got [{lo}, {hi}])")
        both = set(self.ranges) & set(self.choices)
        if both:
            raise ValueError(f"{', '.join(sorted(both))} is under both ranges and choices")
        return self


class SweepSpec(_Model):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")]
    description: str = ""
    scenario: str | None = None
    replications: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    seed: Annotated[int, Field(ge=0)] | None = None
    fixed: dict[KeyPath, Scalar | list | dict] = Field(default_factory=dict, alias="set")
    grid: dict[KeyPath, Annotated[list[Scalar], Field(min_length=1)]] | None = None
    points: Annotated[list[dict[KeyPath, Scalar]], Field(min_length=1)] | None = None
    sample: SampleSpec | None = None

    @model_validator(mode="after")
    def _one_design(self) -> "SweepSpec":
        given = [k for k in ("grid", "points", "sample") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of grid, points or sample"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.grid is not None and not self.grid:
            raise ValueError("grid needs at least one parameter")
        return self


_FIELDS = {(): ["name", "description", "scenario", "replications", "seed", "set", "grid", "points", "sample"],
           ("sample",): ["n", "seed", "ranges", "choices"]}


def _error(exc: ValidationError, file: str) -> InputError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    # drop pydantic's union/type tags (e.g. 'function-after[...]', 'int', 'list[...]')
    clean = tuple(p for p in loc if isinstance(p, int) or not (
        _TAG.match(p) or p in ("bool", "int", "float", "str", "list", "dict", "tuple")))
    key = ""
    for p in clean:
        key += f"[{p}]" if isinstance(p, int) else ("." if key else "") + str(p)
    more = len(exc.errors()) - 1
    more_text = f" ({more} more problem(s) after this one)" if more else ""
    if err["type"] == "extra_forbidden":
        valid = _FIELDS.get(tuple(p for p in clean[:-1] if not isinstance(p, int)), [])
        close = difflib.get_close_matches(str(clean[-1]), valid, n=1)
        fix = f"did you mean '{close[0]}'?" if close else (
            f"valid keys here: {', '.join(valid)}" if valid else "remove it")
        return InputError(f"unknown key{more_text}", file=file, key=key or None, fix=fix)
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    got_text = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
    fix = "add this key" if err["type"] == "missing" else "see docs/experiments.md (sweep files)"
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, InputError):  # a malformed key path (sim.keypath)
        msg, fix, got_text = cause.detail, cause.fix, ""
    return InputError(f"{msg}{got_text}{more_text}", file=file, key=key or None, fix=fix)


def read_sweep_spec(path: Path) -> SweepSpec:
    from sim.scenario_file import read_yaml

    data = read_yaml(Path(path), what="sweep")
    if not isinstance(data, dict):
        raise InputError("a sweep file must be a mapping of keys to values", file=str(path),
                         fix="start the file with 'name: my-sweep'")
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise _error(exc, str(path)) from None


def latin_hypercube(sample: SampleSpec) -> list[dict]:
    """``n`` points; integer ranges (both ends whole numbers) give whole numbers."""
    from scipy.stats import qmc

    names = list(sample.ranges) + list(sample.choices)
    gen = np.random.default_rng(sample.seed)
    try:
        lhs = qmc.LatinHypercube(d=len(names), rng=gen)
    except TypeError:  # scipy < 1.15
        lhs = qmc.LatinHypercube(d=len(names), seed=gen)
    u = lhs.random(sample.n)
    points = []
    for row in u:
        p = {}
        for j, k in enumerate(names):
            if k in sample.ranges:
                lo, hi = sample.ranges[k]
                if float(lo).is_integer() and float(hi).is_integer():
                    p[k] = int(min(hi, lo + np.floor(row[j] * (hi - lo + 1))))
                else:
                    p[k] = float(lo + row[j] * (hi - lo))
            else:
                opts = sample.choices[k]
                p[k] = opts[min(len(opts) - 1, int(row[j] * len(opts)))]
        points.append(p)
    return points


def design_points(spec: SweepSpec) -> tuple[list[dict], str]:
    """The overrides of every point and the sweep-file section they come from."""
    if spec.grid is not None:
        names = list(spec.grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*spec.grid.values())], "grid"
    if spec.points is not None:
        return [dict(p) for p in spec.points], "points"
    return latin_hypercube(spec.sample), "sample"


def resolve_scenario_path(spec: SweepSpec, sweep_path: Path) -> Path | None:
    if spec.scenario is None:
        return None
    p = Path(spec.scenario).expanduser()
    if p.is_absolute():
        return p
    beside = sweep_path.parent / p
    return beside if beside.exists() or not p.exists() else p


def load_sweep(path: str | Path, *, overrides: list[str] | None = None, replications: int | None = None,
               seed: int | None = None) -> SweepPlan:
    """Read and validate a sweep file and the scenario of every point (no work is done)."""
    from sim.scenario import scenario_from_dict
    from sim.scenario_file import apply_overrides, default_scenario_path, read_scenario_data

    path = Path(path)
    spec = read_sweep_spec(path)
    file = str(path)
    sc_path = resolve_scenario_path(spec, path) or default_scenario_path()
    if not sc_path.exists():
        raise InputError(f"scenario file '{spec.scenario}' not found (looked beside the sweep file and in "
                         "the current folder)", file=file, key="scenario", fix="check the path")
    data, _ = read_scenario_data(sc_path)  # a variant's chain of bases, merged
    source_file = str(sc_path.resolve())
    base_sc = scenario_from_dict(data, source_file=source_file)  # the file itself is valid
    base = base_sc.to_dict()
    for k, v in spec.fixed.items():
        try:
            base = set_path(base, k, v)
        except InputError as exc:
            raise InputError(exc.detail, file=file, key=f"set.{k}", fix=exc.fix) from None
    try:
        base = scenario_from_dict(base, source_file=source_file).to_dict()
    except InputError as exc:
        raise InputError(exc.detail, file=file, key=f"set.{exc.key}", fix=exc.fix) from None
    if overrides:
        base = scenario_from_dict(apply_overrides(base, overrides, file=str(sc_path)),
                                  source_file=source_file).to_dict()
    if seed is not None or spec.seed is not None:
        base["seed"] = int(seed if seed is not None else spec.seed)
    design, section = design_points(spec)

    def where(i: int, key: str) -> str:
        if section == "grid":
            return f"grid.{key}"
        if section == "points":
            return f"points[{i}].{key}"
        return f"sample.{'ranges' if key in spec.sample.ranges else 'choices'}.{key}"

    points = build_points(base, design, source_file=source_file, where=where, file=file)
    names: list[str] = []
    for o in design:
        names += [k for k in o if k not in names]
    reps = replications or spec.replications or int(base.get("replications", 1))
    return SweepPlan(name=spec.name, source_file=source_file, base=base, points=points, replications=reps,
                     description=spec.description, sweep_file=str(path.resolve()), param_names=names)
