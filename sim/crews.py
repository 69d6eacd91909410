"""Crews: how officers form units, so that every officer on duty is in one (``sim.force`` uses it).

Officers of a role (patrol by kind, standby, checkpoint posts) are grouped into full crews, and the
officers left over form one short crew of the same kind rather than vanishing: the doctrine's patrol
share counts officers (docs/model.md, "Patrol units and crews"). Pure functions, no simpy.
"""

from __future__ import annotations

import numpy as np

from sim.kinds import KIND_NAMES as KINDS


def crews_per_kind(patrol_officers: int, *, mix: dict, crew: dict) -> dict[str, tuple[int, ...]]:
    """The crew of every unit the patrol officers form, by kind: every officer is in a unit.

    Officers are split by ``mix`` with largest-remainder rounding, then grouped into full
    crews of ``crew[kind]``; the officers left over (fewer than a crew) form one short crew
    of the same kind, last in the tuple (a one-officer car when cars ride two). Why not leave
    them out: the doctrine's patrol share counts officers, so dropping them put the force below
    it (green gave 19.2% instead of 20% on the default town). Why the same kind: the mix is the
    planner's choice of how officers patrol; a short crew keeps them on the streets the mix
    planned and adds one unit to dispatch (docs/model.md, "Patrol units and crews").
    """
    kinds = [k for k in KINDS if mix.get(k, 0) > 0]
    w = np.array([mix[k] for k in kinds], float)
    raw = patrol_officers * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = patrol_officers - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    out = {}
    for i, k in enumerate(kinds):
        full, left = divmod(int(base[i]), int(crew[k]))
        out[k] = (int(crew[k]),) * full + ((left,) if left else ())
    return out


def units_per_kind(patrol_officers: int, *, mix: dict, crew: dict) -> dict[str, int]:
    """How many units of each kind the patrol officers form (full crews and one short crew per kind)."""
    return {k: len(c) for k, c in crews_per_kind(patrol_officers, mix=mix, crew=crew).items()}


def split_crews(officers: int, crew: int) -> tuple[int, ...]:
    """Officers as full crews and one short crew of the rest (standby units, checkpoint posts)."""
    if crew <= 0 or officers <= 0:
        return ()
    full, left = divmod(int(officers), int(crew))
    return (int(crew),) * full + ((left,) if left else ())


def slot_levels(crews_by_level: dict[str, tuple[int, ...]]) -> dict[tuple[int, int], frozenset]:
    """(slot, crew) -> the levels at which slot ``j`` is staffed with that crew (a pool of units:
    a slot whose crew differs between levels is a different unit at each crew)."""
    out: dict[tuple[int, int], set] = {}
    for lvl, crews in crews_by_level.items():
        for j, c in enumerate(crews):
            out.setdefault((j, c), set()).add(lvl)
    return {key: frozenset(v) for key, v in sorted(out.items(), key=lambda kv: (kv[0][0], -kv[0][1]))}
