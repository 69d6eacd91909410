"""A hypercube problem: what it is in memory and how it is read from a YAML file.

Why a separate module: the solvers in :mod:`sim.analytic.hypercube` take a
validated :class:`HypercubeProblem` and never see a file, so every mistake in a
file is caught here, once, and reported as a one-line
:class:`~sim.errors.InputError` naming the file, the key path (for example
``atoms[2].preference``) and the fix.

File format (extra keys are errors)::

    service_rate: 1.0          # calls one unit completes per unit of time
    queue: infinite            # or: loss
    units: [u1, u2, u3]
    atoms:
      - {id: a1, rate: 0.25, preference: [u1, u2, u3]}
    travel_times: {a1: {u1: 1.0, u2: 2.0, u3: 3.0}}   # optional

Decisions (documented in docs/analytic.md):

* Every rate and ``service_rate`` must be greater than 0.
* Both methods need every unit ranked for every atom (the hypercube dispatches
  the first *free* unit in the list, so a short list would leave calls with
  free units unserved). A preference list may name only its first few units
  when ``travel_times`` are given: the rest are appended in increasing travel
  time from that atom (ties in the order of ``units``), which is what a
  closest-available dispatcher does. Without travel times a short list is an
  error.
* With ``queue: infinite`` the total call rate must be below
  ``len(units) * service_rate``; otherwise the queue grows without bound.
* ``travel_times``, when given, must have every atom and every unit.

References
----------
Larson, R. C. (1974). "A hypercube queuing model for facility location and
redistricting in urban emergency services", *Computers & Operations Research*
1(1), 67-95 (the model's inputs: atoms, rates, fixed preference lists).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import InputError
from sim.scenario_errors import key_path
from sim.scenario_file import read_yaml

__all__ = ["HypercubeProblem", "load_problem", "problem_from_dict"]

QUEUES = ("infinite", "loss")
#: With ``queue: infinite`` the total rate must be below ``(1 - STABILITY_MARGIN) x capacity``.
STABILITY_MARGIN = 1e-9


@dataclass(frozen=True, kw_only=True)
class HypercubeProblem:
    """A validated hypercube problem, ready for the solvers.

    Parameters
    ----------
    arrival_rates : array_like, shape (J,)
        Poisson call rate of each atom, per unit of time (same time unit as
        ``service_rate``). All greater than 0.
    preferences : array_like of int, shape (J, N)
        Row ``j`` ranks all ``N`` units (by index) for atom ``j``: the call goes
        to the first free unit in the row. Each row is a permutation of
        ``0..N-1``.
    service_rate : float
        ``mu``: 1 / mean service time of a call, the same for all units
        (Larson 1974's assumption), per unit of time.
    queue : {"infinite", "loss"}
        What happens to a call that finds every unit busy: it waits (first come
        first served, taken by the first unit to free) or is lost.
    travel_times : array_like, shape (J, N), optional
        Travel time from unit ``n``'s post to atom ``j``, any time unit;
        enables the mean travel time outputs.
    units, atoms : sequence of str, optional
        Names (default ``u1..uN`` and ``a1..aJ``).
    source : str, optional
        File the problem came from, for error messages.
    """

    arrival_rates: np.ndarray
    preferences: np.ndarray
    service_rate: float
    queue: str = "infinite"
    travel_times: np.ndarray | None = None
    units: tuple[str, ...] | None = None
    atoms: tuple[str, ...] | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        src = self.source
        rates = np.array(self.arrival_rates, dtype=float).reshape(-1)
        if rates.size == 0:
            raise InputError("no atoms", file=src, key="atoms", fix="give at least one atom with a rate")
        for j, r in enumerate(rates):
            if not math.isfinite(r) or r <= 0:
                raise InputError(f"rate must be a finite number greater than 0, got {r:g}", file=src,
                                 key=f"atoms[{j}].rate", fix="give the atom's call rate per unit of time (> 0)")
        prefs = np.array(self.preferences)
        if prefs.ndim != 2 or prefs.shape[0] != rates.size or prefs.shape[1] == 0:
            raise InputError(f"preferences must be a {rates.size} x N table of unit indices, got shape "
                             f"{prefs.shape}", file=src, key="atoms", fix="rank every unit for every atom")
        if not np.issubdtype(prefs.dtype, np.integer):
            raise InputError("preferences must hold unit indices (integers)", file=src, key="atoms",
                             fix="rank units by their index 0..N-1")
        n = prefs.shape[1]
        full = np.arange(n)
        for j, row in enumerate(prefs):
            if not np.array_equal(np.sort(row), full):
                raise InputError(f"preference must rank each of the {n} units exactly once, got {row.tolist()}",
                                 file=src, key=f"atoms[{j}].preference", fix="list every unit once")
        mu = self.service_rate
        if isinstance(mu, bool) or not isinstance(mu, (int, float, np.integer, np.floating)) \
                or not math.isfinite(mu) or mu <= 0:
            raise InputError(f"service_rate must be a finite number greater than 0, got {mu!r}", file=src,
                             key="service_rate", fix="give 1 / (mean service time), e.g. 1.0")
        if self.queue not in QUEUES:
            raise InputError(f"queue must be 'infinite' or 'loss', got {self.queue!r}", file=src, key="queue",
                             fix="write queue: infinite or queue: loss")
        # a relative margin: rates that sum to the capacity up to float rounding (0.7 + 0.2 + 0.1 is
        # 0.9999999999999999) are a utilisation of 1, unstable, not "just below"
        if self.queue == "infinite" and math.fsum(rates) >= n * float(mu) * (1.0 - STABILITY_MARGIN):
            raise InputError(
                f"total call rate {rates.sum():g} is not below {n} units x service_rate {float(mu):g} = "
                f"{n * float(mu):g}: with queue: infinite the queue grows without bound (unstable)",
                file=src, key="queue", fix="add units, raise service_rate, lower the rates or use queue: loss")
        tt = None
        if self.travel_times is not None:
            tt = np.array(self.travel_times, dtype=float)
            if tt.shape != prefs.shape:
                raise InputError(f"travel_times must be {prefs.shape[0]} atoms x {n} units, got {tt.shape}",
                                 file=src, key="travel_times", fix="give a time for every atom and unit")
            if not np.all(np.isfinite(tt)) or np.any(tt < 0):
                raise InputError("travel times must be finite and 0 or more", file=src, key="travel_times",
                                 fix="check the travel_times table")
            tt.setflags(write=False)
        units = tuple(self.units) if self.units is not None else tuple(f"u{i + 1}" for i in range(n))
        atoms = tuple(self.atoms) if self.atoms is not None else tuple(f"a{j + 1}" for j in range(rates.size))
        if len(units) != n or len(set(units)) != n:
            raise InputError(f"need {n} distinct unit names, got {list(units)}", file=src, key="units",
                             fix="give each unit a different name")
        if len(atoms) != rates.size or len(set(atoms)) != rates.size:
            raise InputError(f"need {rates.size} distinct atom ids", file=src, key="atoms",
                             fix="give each atom a different id")
        prefs = prefs.astype(np.intp)
        rates.setflags(write=False)
        prefs.setflags(write=False)
        object.__setattr__(self, "arrival_rates", rates)
        object.__setattr__(self, "preferences", prefs)
        object.__setattr__(self, "service_rate", float(mu))
        object.__setattr__(self, "travel_times", tt)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "atoms", atoms)

    @property
    def n_units(self) -> int:
        return int(self.preferences.shape[1])

    @property
    def n_atoms(self) -> int:
        return int(self.arrival_rates.size)

    @property
    def total_rate(self) -> float:
        """Total call rate ``lambda`` (sum over atoms), per unit of time."""
        return float(self.arrival_rates.sum())

    @property
    def offered_load(self) -> float:
        """``lambda / mu`` in Erlangs."""
        return self.total_rate / self.service_rate


# --- the file format --------------------------------------------------------------------------

class _Atom(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    id: str = Field(min_length=1)
    rate: float
    preference: list[str] = Field(min_length=1)


class _ProblemFile(BaseModel):
    # finite numbers only, and no true/false read as 1/0 (strict: YAML gives ints and floats as such)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
    service_rate: float
    queue: Literal["infinite", "loss"] = "infinite"
    units: list[str] = Field(min_length=1)
    atoms: list[_Atom] = Field(min_length=1)
    travel_times: dict[str, dict[str, float]] | None = None


_FIXES = {
    "extra_forbidden": "remove it; allowed keys are service_rate, queue, units, atoms, travel_times "
                       "(and id, rate, preference inside an atom)",
    "missing": "add it (see docs/analytic.md for the file format)",
    "literal_error": "write queue: infinite or queue: loss",
}


def _validation_error(exc: ValidationError, *, file: str | None) -> InputError:
    err = exc.errors()[0]
    key = key_path(tuple(err["loc"])) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        msg = f"unknown key '{err['loc'][-1]}'"
    elif kind == "missing":
        msg = "required key is missing"
    else:
        msg = err["msg"]
    return InputError(msg, file=file, key=key, fix=_FIXES.get(kind, "check the value's type and range"))


def load_problem(path: str | Path) -> HypercubeProblem:
    """Read and validate a hypercube problem YAML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The file.

    Returns
    -------
    HypercubeProblem

    Raises
    ------
    InputError
        Missing file, YAML syntax error, unknown or missing key, bad value;
        the message names the file, the key path and the fix.
    """
    p = Path(path)
    return problem_from_dict(read_yaml(p, what="hypercube problem"), source=str(p))


def _dupes(names: list[str]) -> list[str]:
    seen, out = set(), []
    for x in names:
        if x in seen and x not in out:
            out.append(x)
        seen.add(x)
    return out


def problem_from_dict(data: object, *, source: str | None = None) -> HypercubeProblem:
    """Validate a parsed problem (a dict as read from YAML) into a :class:`HypercubeProblem`.

    See the module docstring for the format and the validation rules.
    """
    if not isinstance(data, dict):
        raise InputError("a hypercube problem must be a mapping of keys to values", file=source,
                         key="(top level)", fix="start the file with 'service_rate: 1.0' (see docs/analytic.md)")
    try:
        spec = _ProblemFile.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, file=source) from None

    if not math.isfinite(spec.service_rate) or spec.service_rate <= 0:
        raise InputError(f"service_rate must be greater than 0, got {spec.service_rate:g}", file=source,
                         key="service_rate", fix="give 1 / (mean service time), e.g. 1.0")
    dup = _dupes(spec.units)
    if dup:
        raise InputError(f"duplicate unit name(s) {dup}", file=source, key="units",
                         fix="give each unit a different name")
    dup = _dupes([a.id for a in spec.atoms])
    if dup:
        raise InputError(f"duplicate atom id(s) {dup}", file=source, key="atoms",
                         fix="give each atom a different id")
    index = {u: i for i, u in enumerate(spec.units)}
    n = len(spec.units)

    travel = None
    if spec.travel_times is not None:
        travel = np.empty((len(spec.atoms), n))
        atom_ids = {a.id for a in spec.atoms}
        for aid in spec.travel_times:
            if aid not in atom_ids:
                raise InputError(f"travel_times names unknown atom '{aid}'", file=source,
                                 key=f"travel_times.{aid}", fix="use the ids listed under atoms")
        for j, atom in enumerate(spec.atoms):
            row = spec.travel_times.get(atom.id)
            if row is None:
                raise InputError(f"travel_times has no row for atom '{atom.id}'", file=source,
                                 key="travel_times", fix="give a travel time from every unit to every atom")
            for u in row:
                if u not in index:
                    raise InputError(f"unknown unit '{u}'", file=source, key=f"travel_times.{atom.id}.{u}",
                                     fix=f"use one of the units: {', '.join(spec.units)}")
            for u, i in index.items():
                if u not in row:
                    raise InputError(f"no travel time for unit '{u}'", file=source,
                                     key=f"travel_times.{atom.id}", fix="give a time for every unit")
                t = row[u]
                if not math.isfinite(t) or t < 0:
                    raise InputError(f"travel time must be finite and 0 or more, got {t:g}", file=source,
                                     key=f"travel_times.{atom.id}.{u}", fix="check the value")
                travel[j, i] = t

    rates, prefs = [], []
    for j, atom in enumerate(spec.atoms):
        key = f"atoms[{j}]"
        if not math.isfinite(atom.rate) or atom.rate <= 0:
            raise InputError(f"rate must be greater than 0, got {atom.rate:g}", file=source, key=f"{key}.rate",
                             fix="give the atom's call rate per unit of time (> 0), or drop the atom")
        row = []
        for u in atom.preference:
            if u not in index:
                raise InputError(f"unknown unit '{u}'", file=source, key=f"{key}.preference",
                                 fix=f"use one of the units: {', '.join(spec.units)}")
            if index[u] in row:
                raise InputError(f"unit '{u}' appears twice", file=source, key=f"{key}.preference",
                                 fix="list each unit once")
            row.append(index[u])
        if len(row) < n:
            if travel is None:
                missing = [u for u in spec.units if index[u] not in row]
                raise InputError(
                    f"preference ranks {len(row)} of {n} units (missing {', '.join(missing)}); the hypercube "
                    f"model needs every unit ranked", file=source, key=f"{key}.preference",
                    fix="list every unit, or give travel_times so the rest are ranked by travel time")
            rest = [i for i in np.argsort(travel[j], kind="stable") if i not in row]
            row.extend(int(i) for i in rest)
        rates.append(atom.rate)
        prefs.append(row)

    return HypercubeProblem(arrival_rates=np.array(rates), preferences=np.array(prefs, dtype=np.intp),
                            service_rate=spec.service_rate, queue=spec.queue, travel_times=travel,
                            units=tuple(spec.units), atoms=tuple(a.id for a in spec.atoms), source=source)
