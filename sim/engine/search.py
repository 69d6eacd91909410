"""The dispatch search: which free units could answer a call at a place, with their exact arrival times.

There is one search. Units on their patrol circuit have a lower bound on their arrival
at every place (``sim.patrol.circuit_lower_bound_s``); the search visits units in
order of that bound and stops once no further unit can beat the best eligible arrival
found, so most units are never located. What else it must locate comes from the
rules (``sim.dispatch.search_needs``): the reserve and beat owners are located
whatever their bound; and when the policy reads only the best (arrival, unit id),
the search keeps just that instead of a list of candidates. ``exhaustive`` locates
every free unit (tests compare it with the pruned search).
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from sim.dispatch import Candidate, DispatchRules, SearchNeeds, eligible
from sim.engine import kernels as K
from sim.engine.kernels import BOUND_MARGIN_S, nearest_unit
from sim.engine.dispatch_index import DispatchIndex
from sim.engine.positions import Located
from sim.engine.search_large import BFJ_SLOTS, LargeGraphSearch
from sim.engine.units import CIRCUIT, PATROL, Movement, UnitState
from sim.force import Deployment
from sim.kinds import Role

INF = float("inf")
# what a compiled search returns and leaves when it located no unit itself (read-only: shared by every search)
NONE_OFF = MappingProxyType({})
NONE_FOUND = ()
ROLE_PATROL, RESERVE = Role.PATROL, Role.RESERVE


class UnitSearch(LargeGraphSearch):
    """Locates units for dispatch (``search``) and answers whose beat a place is in (``owns``).

    The walks of large graphs (no time matrix) are its mixin ``sim.engine.search_large.LargeGraphSearch``.
    """

    VECTOR_FROM = 32        # units on a drive from which _could_win compares arrays (about the break-even)

    def __init__(self, *, units: list[UnitState], index: DispatchIndex, movement: Movement,
                 deployment: Deployment, rules: DispatchRules, needs: SearchNeeds, target_of: dict,
                 extra_of: dict, exhaustive: bool) -> None:
        self.units = units
        self.index = index
        self.where = movement.where
        self.dep = deployment
        self.rules = rules
        self.needs = needs
        # the search keeps only the best (arrival, uid): nothing to compare it with when exhaustive
        self.best_only = needs.best_only and not exhaustive
        self.exhaustive = exhaustive
        self._target_of = target_of        # per mode, per place: the node a unit drives to
        self._extra_of = extra_of          # per mode, per place: seconds from that node on foot
        travel = movement.travel
        self._time = {m: travel[m].oracle.time for m in travel}
        self._lower_bound = {m: travel[m].oracle.lower_bound_s for m in travel}
        self._T = {m: travel[m].oracle.time_matrix for m in travel}
        # large graphs (no time matrix): units at a fixed node get the landmarks' bound, not -inf
        # (modes no unit travels on are left out: a foot force has the drive graph too)
        self._fixed_lb = [(m, travel[m].oracle, of_mode) for m in travel if self._T[m] is None
                          for of_mode in [np.array([st.mode == m for st in units], bool)] if of_mode.any()]
        self._beat_sets: dict = {}
        self._beat_lists: dict = {}        # (level, kind) -> beat per place, as a list (in_beat)
        self._located_first = needs.reserve or needs.owners
        self._ruled, self._backup_kinds = needs.ruled_kinds, needs.backup_kinds
        self._located: dict | Located = {}     # uid -> (node, wait_s) for the last search (``located``)
        self._pending: tuple | None = None     # the compiled search's (off, t) until ``located`` is asked
        self.located_t = -1.0                               # the time of the last search
        # the compiled search: where the unit it chose is, (node it heads to, wait_s), or None
        # (then ``located.get(uid)`` says), and its arrival; the other searches leave it None
        self.chosen_at: tuple[int, float] | None = None
        self.chosen_eta_s = INF
        # the large graphs' compiled walk: the metres of its choice's drive, when a mode's hub labels gave them
        self.chosen_metres: float | None = None
        # the compiled search: nearest-unit choice and a full time matrix for every mode
        self.compiled = (self.best_only and all(self._T[m] is not None for m in travel)
                         and len(travel) <= K.MODE_SLOTS)
        if self.compiled:
            modes = list(travel)
            ui = index.ui
            self._ruled_u = [st.kind in self._ruled for st in units]
            self._no_backup_u = [st.kind not in self._backup_kinds for st in units]
            ui[:, K.MODE] = [modes.index(st.mode) for st in units]
            ui[:, K.RULED] = self._ruled_u
            ui[:, K.NO_BACKUP] = self._no_backup_u
            times = [travel[m].times_by_target() for m in modes]     # [target, source]: see ModeTravel
            self._times = tuple(times + [times[0]] * (K.MODE_SLOTS - len(times)))
            self._te = np.array([[target_of[m] for m in modes], [extra_of[m] for m in modes]], float)
            self._out = np.empty((3, len(units)))      # per unit: arrival, node it heads to, wait
            self._eta_row, self._flat = self._out[0], index.flat
            # what each search leaves behind: one object, reset by every search (not one per search)
            self._where_now = Located(self._out[1], self._out[2], K.locate_on_circuit)
            self._kernel_version, self._kernel_args = -1, ()
            self._kernel = None        # nearest_unit's compiled code for the current arguments (K.direct)
            # units on a drive the last compiled call left unlocated (node -1 in ``where_rows``, or
            # located here in Python): when none, the cordon finds nothing to locate (``Encirclement``)
            self.drives_unlocated = 0
            index.keep_bounds_by_place()
            K.compile_once()
        # large graphs, every mode on the kernel backend: the best-first walk compiled (``_best_first_compiled``)
        self._walk_on = False
        self.searches = 0     # the compiled walk's pair questions, answered by the hub labels (benchmarks)
        if (not self.compiled and self.best_only and self.COMPILED_WALK and self._fixed_lb and len(travel) <= BFJ_SLOTS
                and all(travel[m].oracle._kernel is not None or self._T[m] is not None for m in travel)):
            self._setup_walk(list(travel), travel)

    def owns(self, st: UnitState, place: int) -> tuple[bool, bool]:
        """(the place is in the unit's beat, the place is in a beat next to it)."""
        if st.beat < 0:
            return False, False
        index = self.dep.beat_index.get((st.level, st.unit.kind)) if st.role is ROLE_PATROL else None
        if index is None:
            members = self._beat_sets.get(st.beat)
            if members is None:
                places = self.dep.beat_places.get(st.beat)
                if places is None:
                    places = st.unit.beat_places
                members = self._beat_sets[st.beat] = frozenset(int(p) for p in places)
            return place in members, False
        b = int(index[place])
        return b == st.beat, b in self.dep.beat_neighbours.get(st.beat, ())

    @property
    def located(self) -> dict | Located:
        """Where the last search found the units: ``get(uid)`` -> (node it heads to, wait_s) or None.

        After a compiled search, the one ``Located`` of the run is reset for it when first
        asked (sending the unit it chose needs nothing from it: ``chosen_at``).
        """
        if self._pending is not None:
            off, tf = self._pending
            self._pending = None
            self._where_now.reset(off, tf, self._locate_args)
            self._located = self._where_now
        return self._located

    @located.setter
    def located(self, value: dict) -> None:
        self._pending = None
        self._located = value

    @property
    def where_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The compiled search's rows of where each unit is: node it heads to (as a float), wait.

        Node -1: not located by the compiled call (on a drive, or busy); ``SKIPPED``: on its
        circuit, not located because it could not win. Valid for the last search's time
        (``located_t``) until the next search; the cordon fills them in (``Encirclement``).
        """
        return self._out[1], self._out[2]

    @property
    def circuit_arrays(self) -> tuple:
        """(ui, uf, flat, seg, out): what locating a unit on its circuit reads (``kernels.locate_on_circuit``)."""
        index, flat = self.index, self._flat
        return index.ui, index.uf, flat.flat, flat.seg, self._out

    def in_beat(self, st: UnitState, place: int) -> bool:
        """``owns(st, place)[0]``: whether the place is in the unit's beat (asked at every dispatch).

        For a patrol unit the beat of every place at its level and kind is read from a list
        (made once per (level, kind) from ``Deployment.beat_index``), without the neighbours'
        look-up ``owns`` also makes.
        """
        if st.beat < 0:
            return False
        if st.role is ROLE_PATROL:
            key = (st.level, st.unit.kind)
            table = self._beat_lists.get(key)
            if table is None:
                index = self.dep.beat_index.get(key)
                if index is not None:
                    table = self._beat_lists[key] = np.asarray(index).tolist()
            if table is not None:
                return table[place] == st.beat
        return self.owns(st, place)[0]

    def eta_s(self, st: UnitState, place: int, t: float, limit_s: float = INF) -> float:
        """Estimated seconds for ``st`` to reach ``place`` if sent at ``t``.

        Where the unit is, is kept in ``located`` for this search, so that sending the
        chosen unit (or the encirclement measure at the same moment) does not locate it again.
        ``limit_s``: an arrival above it is of no use to the caller and may come back as inf
        (large graphs then stop their search there); one at most it is exact.
        """
        if st.moving is CIRCUIT and st.status is PATROL:     # the common case, without where()
            node, wait, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
        else:
            node, wait = self.where(st, t)
        self.located[st.uid] = (node, wait)
        mode = st.mode
        target = self._target_of[mode][place]
        T = self._T[mode]
        # .item(): a Python float (the sums and comparisons that follow are several times faster on
        # them), without the numpy scalar that float(T[node, target]) makes first
        return wait + (T.item(node, target) if T is not None else self._time[mode](
            node, target, limit_s=limit_s - wait - self._extra_of[mode][place] + 1e-3)) \
            + self._extra_of[mode][place]

    def _candidate(self, st: UnitState, place: int, t: float) -> Candidate:
        # beat ownership matters only to rules that read it; skip the look-up for the rest
        if self.needs.owners or st.kind in self.needs.ruled_kinds:
            own, nb = self.owns(st, place)
        else:
            own = nb = False
        return Candidate(st.uid, st.kind, st.role, self.eta_s(st, place, t), own, nb)

    def _always_located(self, place: int, t: float, bound: np.ndarray, *, is_backup: bool
                        ) -> tuple[list[Candidate], float]:
        """The units located whatever their bound (the reserve; beat owners under ``own_beat_first``).

        Returns them with the best eligible non-reserve arrival among them; owners' bounds
        are set to inf so that the walk does not locate them twice.
        """
        units, index, found = self.units, self.index, []
        if self.needs.reserve:
            for u in np.flatnonzero(index.is_reserve & (index.code > 0)).tolist():
                found.append(self._candidate(units[u], place, t))
        if self.needs.owners:
            for u in np.flatnonzero((index.code > 0) & ~index.is_reserve).tolist():
                st = units[u]
                if any(self.owns(st, place)):
                    found.append(self._candidate(st, place, t))
                    bound[u] = INF
        best = min((c.eta_s for c in found
                    if c.role is not RESERVE and eligible(c, rules=self.rules, is_backup=is_backup)), default=INF)
        return found, best

    def search(self, place: int, t: float, *, is_backup: bool) -> tuple[int | None, list[Candidate]]:
        """Locate the units a request at ``place`` at ``t`` needs: ``(choice, candidates)``.

        Two modes, one walk. With ``best_only`` the choice is made here: the uid of the
        eligible unit with the smallest (arrival, unit id), None when no unit is free, and
        no candidates. Otherwise the choice is None and the candidates (exact arrivals)
        include every unit that could win, plus the reserve and, under ``own_beat_first``,
        the beat owners and neighbours, for ``select_unit`` to choose from.
        """
        self.chosen_metres = None
        if self.compiled:
            return self._search_compiled(place, t, is_backup=is_backup)
        self.chosen_at = None
        if self._walk_on and self.BEST_FIRST:
            return self._best_first_compiled(place, t, is_backup=is_backup), []
        self.located, self.located_t = {}, t
        index = self.index
        if self.exhaustive:
            found, best = [], INF
            order = np.flatnonzero(index.code > 0).tolist()
            values = [-INF] * len(self.units)
        else:
            bound = index.lb_rows[:, place] + index.bias
            if self._fixed_lb:
                self._bound_fixed(bound, place)
            if self.best_only and self._fixed_lb and self.BEST_FIRST:
                return self._best_first(place, t, bound, is_backup=is_backup), []
            found, best = self._always_located(place, t, bound, is_backup=is_backup) \
                if self._located_first else ([], INF)
            values = bound.tolist()
            order = bound.argsort(kind="stable").tolist()
        units, rules, best_only, ruled = self.units, self.rules, self.best_only, self._ruled
        best_uid = None
        for u in order:
            b = values[u]
            if b > best or b == INF:
                break
            st = units[u]
            if best_only:
                # only an arrival that can beat the best so far matters: the search stops there
                eta = self.eta_s(st, place, t, best if best_uid is not None else INF)
                # only units of a kind some rule applies to need the eligibility check
                if (st.kind in ruled or (is_backup and st.kind not in self._backup_kinds)) \
                        and not eligible(Candidate(u, st.kind, st.role, eta, *self.owns(st, place)), rules=rules,
                                         is_backup=is_backup):
                    continue
                if best_uid is None or eta < best or (eta == best and u < best_uid):
                    best, best_uid = eta, u
            else:
                c = self._candidate(st, place, t)
                found.append(c)
                if c.eta_s < best and eligible(c, rules=rules, is_backup=is_backup):
                    best = c.eta_s
        return best_uid, found

    def _search_compiled(self, place: int, t: float, *, is_backup: bool) -> tuple[int | None, list]:
        """``search`` with nearest-unit choice, compiled: the same choice as the pruned walk.

        One compiled call (``sim.engine.kernels.nearest_unit``) locates every unit on a circuit
        or at a fixed node (station, a scene just cleared) exactly and gives each unit on a
        drive a lower bound; the units on a drive whose bound could beat the best are then
        located here (this may finish a drive and put a unit back on its circuit). When a unit
        whose eligibility depends on the rules comes first, every free unit is located and
        they are walked in order of (arrival, unit id): the choice is the first eligible one.
        """
        flat = self._flat
        if self._kernel_version != flat.version:      # the flat arrays (or bound rows) grew: new arguments
            index, out = self.index, self._out
            self._kernel_args = (index.code, index.ui, index.uf, flat.flat, flat.seg, self._te, out,
                                 index.bounds_by_place) + self._times
            self._kernel_version = flat.version
            self._kernel = None
            self._locate_args = (index.code, index.ui, index.uf, flat.flat, flat.seg, out)
        tf = float(t)
        kernel = self._kernel
        if kernel is None:         # new arguments: the dispatcher once, then its compiled code (K.direct)
            kernel = nearest_unit
        best, best_eta, checked_first, drive_lb, drives, best_node, best_wait, first_checked = kernel(
            place, tf, is_backup, *self._kernel_args)
        self.drives_unlocated = drives
        if self._kernel is None and type(place) is int:
            self._kernel = K.direct(nearest_unit, (place, tf, is_backup) + self._kernel_args)
        # units on a drive the call did not locate, if one could win (else _could_win finds none)
        if drives and (checked_first or best < 0 or drive_lb - BOUND_MARGIN_S <= best_eta):
            off: dict = {}
            ahead = []             # units on a drive that come before the best: (arrival, uid)
            self._pending, self.located_t = (off, tf), t   # ``located`` resets the Located when asked
            units, eta = self.units, self._eta_row
            T, target_of, extra_of = self._T, self._target_of, self._extra_of
            for u in self._could_win(best, best_eta, checked_first):
                st = units[u]
                node, wait = off[u] = self.where(st, t)
                mode = st.mode
                e = eta[u] = wait + T[mode].item(node, target_of[mode][place]) + extra_of[mode][place]
                if best < 0 or e < best_eta or (e == best_eta and u < best):
                    ahead.append((e, u))
        else:                      # no unit located here: the Located reads the kernel's arrays alone
            self._pending, self.located_t = (NONE_OFF, tf), t
            ahead = None
        if checked_first:
            self.chosen_at = None
            return self._first_eligible(place, first_checked, ahead, is_backup), NONE_FOUND
        if ahead:
            ahead.sort()
            units = self.units
            for e, u in ahead:
                st = units[u]
                if (self._ruled_u[u] or (is_backup and self._no_backup_u[u])) \
                        and not eligible(Candidate(u, st.kind, st.role, e, *self.owns(st, place)), rules=self.rules,
                                         is_backup=is_backup):
                    continue
                self.chosen_at, self.chosen_eta_s = off[u], e
                return u, NONE_FOUND
        if best >= 0:
            self.chosen_at, self.chosen_eta_s = (best_node, best_wait), best_eta
            return best, NONE_FOUND
        self.chosen_at = None
        return None, NONE_FOUND

    def _could_win(self, best: int, best_eta: float, checked_first: bool) -> list:
        """The units on a drive to locate after the compiled call, in order of unit id.

        Every one the compiled call did not locate when all are to be walked or nothing was found; else those whose lower
        bound (with a margin for rounding) could beat the best. After a shift change most of
        a large force is driving to its new circuit: then one array comparison replaces a
        Python test per unit (the kernel marks a unit on a drive with node -1, code 2).
        """
        off = self.index.off_circuit
        node = self._out[1]           # -1: a drive the compiled call did not locate
        if checked_first or best < 0:
            return [u for u in sorted(off) if node[u] == -1]
        eta = self._out[0]
        if len(off) < self.VECTOR_FROM:
            return [u for u in sorted(off) if eta[u] - BOUND_MARGIN_S <= best_eta and node[u] == -1]
        return np.flatnonzero((eta - BOUND_MARGIN_S <= best_eta) & (self._out[1] == -1)
                              & (self.index.code == 2)).tolist()

    def _first_eligible(self, place: int, first: int, ahead: list | None, is_backup: bool) -> int | None:
        """The walk's answer when a unit that needs a check comes before the best (``_walk``).

        ``first`` (the compiled call's first such unit) is the walk's first unit unless a unit on
        a drive located after the call (``ahead``) comes before it or it cannot arrive: then the
        walk. Else, when it is eligible it is the answer (in 30 days of the default town every
        such walk ended at its first unit), and the walk runs only when it is not.
        """
        e = float(self._eta_row[first])
        if e < INF and not (ahead and min(ahead) < (e, first)):
            st = self.units[first]
            if eligible(Candidate(first, st.kind, st.role, e, *self.owns(st, place)), rules=self.rules,
                        is_backup=is_backup):
                return first
        return self._walk(place, self._eta_row, is_backup=is_backup)

    def _walk(self, place: int, eta: np.ndarray, *, is_backup: bool) -> int | None:
        """The first eligible free unit in order of (arrival, unit id); every free unit located."""
        code, units = self.index.code, self.units
        rules = self.rules
        node, fixed = self._out[1], self.index.ui[:, K.FIXED_NODE]
        for u in eta.argsort(kind="stable").tolist():
            c = code[u]
            if c == 0:                                       # busy
                continue
            # no road from its circuit: a unit on it, or whose drive to it the compiled call found ended
            if eta[u] == INF and (c == 1 or (fixed[u] < 0 and node[u] >= 0)):
                continue
            st = units[u]
            if (self._ruled_u[u] or (is_backup and self._no_backup_u[u])) \
                    and not eligible(Candidate(u, st.kind, st.role, float(eta[u]), *self.owns(st, place)),
                                     rules=rules, is_backup=is_backup):
                continue
            return u
        return None
