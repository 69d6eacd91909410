"""The force on duty: which units exist, of what kind, where they are based and which beat each owns.

The alert level's patrol share of the total force is on patrol, in units of
each kind by ``force.mix`` and ``force.crew``. Officers of the team on duty who
are not on patrol wait at the stations as standby units that respond after a
turnout delay (docs/model.md states the assumption: on duty = max(one team,
the patrol share)). Beats split the places by weighted k-means per unit kind,
so each kind covers the whole town and busy areas get smaller beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.network.graph import MODE_OF_KIND, City

KINDS = ("car", "bicycle", "foot")


@dataclass(frozen=True)
class Unit:
    """One unit as deployed at the start of a run."""

    uid: int
    name: str
    kind: str                 # car | bicycle | foot
    role: str                 # patrol | standby
    crew: int
    station: int              # index into city.station_place
    beat: int                 # beat id (-1 for standby units)
    beat_places: np.ndarray   # place indices of the beat (empty for standby)

    @property
    def mode(self) -> str:
        return MODE_OF_KIND[self.kind]


@dataclass(frozen=True)
class Deployment:
    units: tuple[Unit, ...]
    alert_level: str
    patrol_officers: int
    standby_officers: int
    on_duty_officers: int
    beat_of_place: dict[str, np.ndarray]   # per kind: beat id of each place (-1 where no beat)

    def count(self, *, kind: str | None = None, role: str | None = None) -> int:
        return sum(1 for u in self.units if (kind is None or u.kind == kind)
                   and (role is None or u.role == role))


def officers_on_patrol(total_officers: int, share: float) -> int:
    return int(round(total_officers * share))


def units_per_kind(patrol_officers: int, *, mix: dict, crew: dict) -> dict[str, int]:
    """How many units of each kind the patrol officers form (whole crews only).

    Officers are split by ``mix`` with largest-remainder rounding, then grouped into
    crews; officers left over from an incomplete crew are not deployed.
    """
    kinds = [k for k in KINDS if mix.get(k, 0) > 0]
    w = np.array([mix[k] for k in kinds], float)
    raw = patrol_officers * w / w.sum()
    base = np.floor(raw).astype(int)
    rest = patrol_officers - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return {k: int(base[i] // crew[k]) for i, k in enumerate(kinds)}


def weighted_kmeans(x: np.ndarray, y: np.ndarray, w: np.ndarray, k: int, *, iters: int = 25) -> np.ndarray:
    """Label of each point after weighted k-means with a deterministic farthest-point start."""
    pts = np.column_stack([x, y])
    n = len(pts)
    k = max(1, min(k, n))
    w = np.where(w > 0, w, w[w > 0].min() * 1e-3 if (w > 0).any() else 1.0)
    first = int(np.argmax(w))
    centres = [pts[first]]
    d2 = ((pts - pts[first]) ** 2).sum(1)
    for _ in range(1, k):
        nxt = int(np.argmax(d2 * w))
        centres.append(pts[nxt])
        d2 = np.minimum(d2, ((pts - pts[nxt]) ** 2).sum(1))
    cent = np.array(centres, float)
    for _ in range(iters):
        d = ((pts[:, None, :] - cent[None]) ** 2).sum(-1)
        lab = np.argmin(d, axis=1)
        new = cent.copy()
        for j in range(k):
            m = lab == j
            if m.any():
                new[j] = np.average(pts[m], axis=0, weights=w[m])
        if np.allclose(new, cent):
            break
        cent = new
    lab = np.argmin(((pts[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
    # make sure no beat is empty: give an empty one the place nearest its centre
    for j in range(k):
        if not (lab == j).any():
            lab[int(np.argmin(((pts - cent[j]) ** 2).sum(1)))] = j
    return lab


def deploy(scenario, city: City, *, level: str | None = None) -> Deployment:
    """Units and beats for the scenario's force at ``level`` (default: the scenario's alert level)."""
    force = scenario.force
    level = level or scenario.alert.level
    share = scenario.alert.patrol_share[level]
    total = force.total_officers
    patrol = officers_on_patrol(total, share)
    on_duty = max(int(round(total / force.teams)), patrol)
    standby_officers = on_duty - patrol
    counts = units_per_kind(patrol, mix=force.mix, crew=force.crew)

    g = city.places
    stations_xy = np.column_stack([g.x_m[city.station_place], g.y_m[city.station_place]])
    units: list[Unit] = []
    beat_of_place: dict[str, np.ndarray] = {}
    beat_id = 0
    for kind in KINDS:
        n = counts.get(kind, 0)
        if n <= 0:
            continue
        lab = weighted_kmeans(g.x_m, g.y_m, city.place_weight, n)
        beat_of_place[kind] = lab + beat_id
        for j in range(n):
            places = np.flatnonzero(lab == j)
            cx, cy = g.x_m[places].mean(), g.y_m[places].mean()
            station = int(np.argmin(((stations_xy - [cx, cy]) ** 2).sum(1)))
            uid = len(units)
            units.append(Unit(uid=uid, name=f"{kind}-{j + 1:02d}", kind=kind, role="patrol",
                              crew=force.crew[kind], station=station, beat=beat_id + j,
                              beat_places=places))
        beat_id += n
    n_standby = standby_officers // force.crew[force.standby_kind]
    for j in range(n_standby):
        uid = len(units)
        units.append(Unit(uid=uid, name=f"standby-{j + 1:02d}", kind=force.standby_kind, role="standby",
                          crew=force.crew[force.standby_kind], station=j % len(city.station_place),
                          beat=-1, beat_places=np.empty(0, np.int64)))
    return Deployment(units=tuple(units), alert_level=level, patrol_officers=patrol,
                      standby_officers=standby_officers, on_duty_officers=on_duty,
                      beat_of_place=beat_of_place)
