"""Whose beat a place is in, as arrays: the rules' check of a unit, for the compiled dispatch walk.

On large graphs the dispatch walk (``sim.engine.best_first_jit.walk``) reaches units whose
eligibility the rules decide (a kind with a travel limit or kept to its beat; a kind that may
not back up). It handed each one to Python (``UnitSearch.owns``, ``sim.dispatch.eligible``)
and was called again: on the 13,002-node town's all-foot force, where every unit is such a
unit, 1.4 such round trips a dispatch (the walk was called back 8,410 times in a 14-day
replication, 2,733 times once the rules were decided in it). The rules read only what the unit is (kind and role,
fixed for a run: ``verdicts``) and whether the place is in its beat. The beat is kept here,
per unit, as two columns of the dispatch index (``kernels.OWN_ROW``, ``OWN_BEAT``), written
wherever a unit's level and beat are (``DispatchIndex.beat_changed``), and the beat of each place
per (level, kind) as a table's row (``Deployment.beat_index``, the table ``owns`` reads).

A unit whose beat is not in a table (not a patrol unit: ``owns`` reads its beat's places)
keeps ``NOT_TABLED``, and the walk still asks Python.
"""

from __future__ import annotations

import numpy as np

from sim.dispatch import Candidate, DispatchRules, eligible
from sim.kinds import Role

#: ``OWN_ROW`` of a unit whose beat only ``UnitSearch.owns`` answers (the walk asks Python)
NOT_TABLED = -1
#: ``OWN_ROW`` of a unit without a beat: it owns no place (``owns``: ``st.beat < 0``)
NO_BEAT = -2


class BeatOwners:
    """The beat of every place per (level, kind) as one table (a row each), and a unit's columns."""

    def __init__(self, deployment, n_places: int) -> None:
        keys = sorted(deployment.beat_index)
        self.row_of = {k: r for r, k in enumerate(keys)}
        self.table = (np.stack([np.asarray(deployment.beat_index[k], np.int64) for k in keys]) if keys
                      else np.full((1, max(n_places, 1)), -1, np.int64))

    def columns(self, st) -> tuple[int, int]:
        """``(OWN_ROW, OWN_BEAT)`` of ``st`` now: its (level, kind)'s row and its beat, as ``owns`` reads them."""
        if st.beat < 0:
            return NO_BEAT, -1
        if st.role is Role.PATROL:
            r = self.row_of.get((st.level, st.unit.kind))
            if r is not None:
                return r, st.beat
        return NOT_TABLED, st.beat


def verdicts(units: list, rules: DispatchRules, *, is_backup: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per unit ``ok[u, own]`` (``sim.dispatch.eligible`` at arrival 0, the place in its beat or not:
    1 or 0) and its travel limit when the place is not in its beat (inf: none), for a first unit
    or a backup: what the walk's Python check (``search_large._best_first``) reads of the rules."""
    ok = np.zeros((len(units), 2), np.int8)
    cap = np.full(len(units), np.inf)
    for u, st in enumerate(units):
        for own in (0, 1):
            ok[u, own] = eligible(Candidate(u, st.kind, st.role, 0.0, bool(own), False), rules=rules,
                                  is_backup=is_backup)
        cap[u] = rules.max_travel_s.get(st.kind, np.inf)
    return ok, cap
