"""The dispatch search on large graphs (no time matrix): units taken best first by their bounds.

Part of ``UnitSearch`` (``sim.engine.search``, a mixin: it reads the search's state), kept apart
because it is the one job of graphs too large for an all-pairs matrix: each unit located costs an
A* search there, so the walk takes units in order of lower bounds (their circuit's, the
landmarks' for units at a fixed node) and searches exactly only the units that could still win.
``_best_first`` is the walk in Python; ``_best_first_compiled`` the same walk in compiled code
(``sim.engine.best_first_jit``) when every mode is on the kernel backend or has a full matrix.
"""

from __future__ import annotations

import heapq

import numpy as np

from sim.dispatch import Candidate, eligible
from sim.engine import best_first_jit as BFJ
from sim.engine import walk_handle as WH
from sim.engine import kernels as K
from sim.engine.kernels import BOUND_MARGIN_S
from sim.engine.memo import made_once
from sim.engine.owners import BeatOwners, verdicts
from sim.engine.units import CIRCUIT, PATROL
from sim.engine.walk_arrays import on_demand_arrays, slot_arrays

INF = float("inf")
BFJ_SLOTS = 4                # mode slots of the compiled best-first walk (unused slots repeat the first)


def by_slot(*columns) -> tuple[np.ndarray, np.ndarray]:
    """Per place, per mode slot, the node driven to and the seconds walked from it (a row per place: the
    walk's one contiguous argument each), from the slots' per-place lists (targets, then seconds)."""
    k = len(columns) // 2
    return np.array(columns[:k], np.int64).T.copy(), np.array(columns[k:], np.float64).T.copy()


class LargeGraphSearch:
    """The best-first walks of ``UnitSearch`` on large graphs (mixed into it)."""

    BEST_FIRST = True       # large graphs: searches in order of the located units' bounds (_best_first)
    COMPILED_WALK = True    # ... in compiled code, every mode on the kernel backend or a matrix (_best_first_compiled)
    #: ... and, every mode on the kernel backend, each circuit's bound worked out where it is read (no row of
    #: every place per circuit: DispatchIndex.bounds_on_demand); False: rows (tests compare)
    BOUNDS_ON_DEMAND = True

    def _bound_fixed(self, bound: np.ndarray, place: int) -> None:
        """Units at a fixed node (the station, a scene just cleared) on a large graph: a bound, not -inf.

        Without a time matrix each unit located costs a search, and the units waiting at
        the stations were located at every dispatch (about 6 of 8.5 searches per incident
        on the 13,000-node town). Their arrival is ``wait + time(node, target) + walk``;
        the landmarks bound the time without a search (``TravelOracle.raise_fixed_bounds_s``:
        the bounds of ``lower_bounds_to_s``, already lowered for rounding, summed in one
        compiled pass per mode), so the walk locates them only when they could win. Units
        on a drive stay at -inf (always located).
        """
        index = self.index
        fixed_node, fixed_wait = index.ui[:, K.FIXED_NODE], index.uf[:, K.FIXED_WAIT]
        for mode, oracle, of_mode in self._fixed_lb:
            oracle.raise_fixed_bounds_s(bound, fixed_node, fixed_wait, of_mode, self._target_of[mode][place],
                                        self._extra_of[mode][place], BOUND_MARGIN_S)

    def _best_first(self, place: int, t: float, bound: np.ndarray, *, is_backup: bool) -> int | None:
        """``search``'s choice on a large graph, with each unit's bound tightened once it is located.

        The walk of ``search`` takes units in order of their circuit's bound (the least over
        the whole circuit) and runs an A* search for each one it reaches, the first without
        a limit: a unit whose circuit passes near the place but who is at its far end cost a
        long search before a near unit set the best. Here a unit reached in that order is
        located (the same units in the same order as the walk would, so drives end in the
        same order) and goes on a small heap keyed by the larger of its circuit bound and
        ``wait + landmark bound(node, target) + walk`` (less a margin for rounding): the A*
        search runs for the unit whose key comes first, limited to the best so far, and the
        walk stops when the next key of either kind passes the best. Every unit that could
        beat the best is searched exactly, so the choice (the eligible unit with the
        smallest (arrival, unit id)) is the walk's; only the order of the searches, and so
        their limits and the units located, change. A unit of a kind with a travel limit
        (``DispatchRules.max_travel_s``) outside its beat is searched only up to that limit
        (above it, it may not answer): on an all-foot force most units are too far, and the
        walk searched each of them to the end until one was near enough.
        """
        self.located, self.located_t = {}, t
        located = self.located
        values = bound.tolist()
        order = bound.argsort(kind="stable").tolist()
        units, rules, ruled, backup_kinds = self.units, self.rules, self._ruled, self._backup_kinds
        target_of, extra_of, T, time = self._target_of, self._extra_of, self._T, self._time
        lower_bound, max_travel = self._lower_bound, rules.max_travel_s
        pop, push = heapq.heappop, heapq.heappush
        heap: list = []                  # located units: (bound, uid, node, wait)
        best, best_uid = INF, None
        i, n = 0, len(order)
        while True:
            b0 = values[order[i]] if i < n else INF
            if heap and heap[0][0] < b0:          # a located unit comes first: its exact arrival
                key, u, node, wait = heap[0]
                if key > best or key == INF:
                    break
                pop(heap)
                st = units[u]
                kind = st.kind
                limit_s = best if best_uid is not None else INF
                checked = kind in ruled or (is_backup and kind not in backup_kinds)
                if checked:
                    # eligibility reads the arrival only as "at most the kind's travel limit" (and not
                    # for the beat's owner): a unit that fails with arrival 0 fails with any, and one
                    # with a limit needs its exact arrival only up to it
                    own, nb = self.owns(st, place)
                    if not eligible(Candidate(u, kind, st.role, 0.0, own, nb), rules=rules, is_backup=is_backup):
                        continue
                    if not own:
                        cap_s = max_travel.get(kind, INF)
                        if key > cap_s:
                            continue
                        if cap_s < limit_s:
                            limit_s = cap_s
                mode = st.mode
                target, extra = target_of[mode][place], extra_of[mode][place]
                Tm = T[mode]
                # the sum of eta_s: (wait + travel) + walk
                eta = wait + (float(Tm[node, target]) if Tm is not None else time[mode](
                    node, target, limit_s=limit_s - wait - extra + 1e-3)) + extra
                if checked and not eligible(Candidate(u, kind, st.role, eta, own, nb), rules=rules,
                                            is_backup=is_backup):
                    continue
                if best_uid is None or eta < best or (eta == best and u < best_uid):
                    best, best_uid = eta, u
                continue
            if b0 > best or b0 == INF:
                break
            u = order[i]
            i += 1
            st = units[u]
            if st.moving is CIRCUIT and st.status is PATROL:     # as eta_s
                node, wait, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
            else:
                node, wait = self.where(st, t)
            located[u] = (node, wait)
            mode = st.mode
            lb = ((lower_bound[mode](node, target_of[mode][place]) + wait) + extra_of[mode][place]) - BOUND_MARGIN_S
            push(heap, (lb if lb > b0 else b0, u, node, wait))
        return best_uid

    def _setup_walk(self, modes: list, travel: dict) -> None:
        """The arrays of ``_best_first_compiled``: per unit its mode slot and rule flags, per slot the graph."""
        from sim.network.searches import ALT_MARGIN_S
        pad = list(range(len(modes))) + [0] * (BFJ_SLOTS - len(modes))
        ks = [travel[modes[i]].oracle._kernel for i in pad]       # None: a mode with a full time matrix
        self._walk_kernels = ks
        self._count_kernel = next(k for k in ks if k is not None)
        arrays = slot_arrays([travel[m].oracle for m in modes], BFJ_SLOTS)
        self._walk_slot = np.array([modes.index(st.mode) for st in self.units], np.int64)
        ruled = np.array([st.kind in self._ruled for st in self.units], bool)
        no_backup = np.array([st.kind not in self._backup_kinds for st in self.units], bool)
        self._walk_checked = (ruled, ruled | no_backup)          # by is_backup: units the rules decide
        # ... decided in the walk where the unit's beat is in a table (sim.engine.owners): the index keeps the beats
        owners = BeatOwners(self.dep, self.index.n_places)
        ok_first, cap = verdicts(self.units, self.rules, is_backup=False)
        ok_backup, _ = verdicts(self.units, self.rules, is_backup=True)
        self._walk_rules = (ok_first, ok_backup, owners.table, cap)
        self.index.keep_owners(owners, self.units)
        n = len(self.units)
        self._walk_bound = np.empty(n)
        self._walk_node, self._walk_wait = np.full(n, -1, np.int64), np.zeros(n)
        self._walk_version = -1
        self._walk_handle = None
        self._walk_search = self._walk_resume = None     # the handle's compiled calls (jit_entry.direct)
        # the walk's order, heap and state between its calls (a unit the rules decide is decided here)
        self._walk_istate = np.zeros(BFJ.I_SIZE_ALL, np.int64)
        self._walk_fstate = np.zeros(BFJ.F_SIZE_ALL)
        self._walk_state = (np.empty(n, np.int64), np.empty(n + 1), np.empty(n + 1, np.int64), np.empty(n, np.int64),
                            np.empty(n), self._walk_istate, self._walk_fstate)
        # per place, per slot (a row per place: the walk's one contiguous argument)
        # (made once per process for the engine's per-place lists, which are: sim.engine.memo)
        self._walk_target, self._walk_extra = made_once(
            by_slot, *(self._target_of[modes[i]] for i in pad), *(self._extra_of[modes[i]] for i in pad))
        self._walk_lm = (arrays["lm_from"], arrays["lm_to"], arrays["lm_exact"])
        self._walk_tm_sym = (arrays["has_tm"], arrays["sym"])
        self._walk_pairs = (arrays["lab_ptr"], arrays["lab_sec"], arrays["lab_hub"], arrays["tm"], arrays["has_tm"],
                            arrays["sym"])
        self._walk_lab_met = arrays["lab_met"]
        self._walk_margins = (ALT_MARGIN_S, BOUND_MARGIN_S)
        self._walk_on = True
        if self.BOUNDS_ON_DEMAND and all(travel[m].oracle.bounds_on_demand for m in modes):
            # every mode on the kernel backend: a circuit keeps its bound as its search found it, and the
            # walk and ``lb_rows`` work it out at the place asked (DispatchIndex.bounds_on_demand)
            n_lm = np.array([k.bound_landmarks[0].shape[1] for k in ks], np.int64)
            self.index.bounds_on_demand(self._walk_slot, n_lm, arrays["lm_from"], arrays["lm_to"],
                                        self._walk_target, self._walk_extra, ALT_MARGIN_S)

    def _best_first_compiled(self, place: int, t: float, *, is_backup: bool) -> int | None:
        """``_best_first``'s choice in compiled calls (``sim.engine.best_first_jit``): the same unit.

        The bounds (``bounds``: ``lb_rows[:, place] + bias`` raised as ``_bound_fixed`` does, and a
        bound for the units on a drive), then the units still at -inf (of a mode with a full time
        matrix) located here in unit order (locating one may end its drive), then the walk
        (``walk``) over the rest. A unit whose eligibility the rules decide is decided when the walk
        reaches it (``owns``, ``eligible`` at arrival 0 and its travel limit, as ``_best_first``): in
        the walk from the beats the index keeps (``sim.engine.owners``), or here for a unit whose
        beat no table holds; and a unit on a drive under way is located here when the walk reaches
        it (``Movement.where``; a drive that has ended is located on its circuit by the walk, and
        booked by the engine when it next touches the unit, as on small graphs), and the walk goes on.
        When a bound is NaN (no order to copy) ``_best_first`` runs instead, from the same bounds.
        The chosen unit's place and arrival go into ``chosen_at``/``chosen_eta_s``, and for a unit of a mode
        with hub labels the metres of its drive into ``chosen_metres`` (sending it reads them). The compiled code is
        called through its entry point (``kernels.direct``: the argument types never change; the
        index's circuit arrays are fetched again when they grow).
        """
        index = self.index
        flat = index.flat
        if self._walk_version != flat.version:
            # the handle of both calls' arrays, made again only when the index's arrays are replaced
            # (when they grow: a new version); place, time, target, extra and checked are per call
            self._walk_version = flat.version
            on_demand = (True, *flat.bounds.arrays, index.on_demand[1]) if index.on_demand is not None \
                else (False, *on_demand_arrays(BFJ_SLOTS))
            bounds_args = [0, 0.0, index.code, index.bias, index.ui, index.uf, flat.bound, self._walk_slot,
                           None, None, *self._walk_lm, *self._walk_tm_sym, *self._walk_margins, self._walk_bound,
                           *on_demand]
            walk_args = [self._walk_bound, self._walk_node, self._walk_wait, None, index.code, 0.0, index.ui,
                         index.uf, flat.flat, flat.seg, self._walk_slot, None, None, *self._walk_lm,
                         *self._walk_margins, *self._walk_pairs, *self._walk_state]
            self._walk_handle = WH.make(bounds_args, walk_args, self._walk_checked, self._walk_target,
                                        self._walk_extra, self._walk_istate, self._walk_lab_met, self._walk_rules)
            self._walk_search = self._walk_resume = None
        h = self._walk_handle
        t = float(t)
        fn = self._walk_search
        if fn is None:
            fn = self._walk_search = K.direct(WH.search, (h, place, t, is_backup))
        status, uid, eta, at, w, travel_s, metres, runs = fn(h, place, t, is_backup)
        if status == BFJ.FOUND:          # the walk answered at once (no unit located or decided here)
            self.searches += runs
            self._count_kernel.pair_asked += runs     # the oracles' counts include the walk's (count_walk)
            if uid < 0:
                self.located, self.located_t = {}, t
                return None
            self.located, self.located_t = {uid: (at, w)}, t
            self.chosen_at = (at, w)
            self.chosen_eta_s = eta
            self.chosen_metres = None if metres != metres else metres    # nan: a slot with a matrix
            return uid
        bound = self._walk_bound
        self.located, self.located_t = {}, t
        located = self.located
        node, wait = self._walk_node, self._walk_wait
        units = self.units
        ahead = []
        if status == BFJ.NO_WALK:
            if at:                               # a NaN bound: no order to copy
                return self._best_first(place, t, bound.copy(), is_backup=is_backup)
            ahead = np.flatnonzero(bound == -INF).tolist()
            for u in ahead:
                node[u], wait[u] = located[u] = self.where(units[u], t)
        istate, fstate = self._walk_istate, self._walk_fstate
        resume = self._walk_resume
        while True:
            if status == BFJ.NEEDS_LOCATE:       # a drive under way came first: where it is now
                u = int(istate[BFJ.I_LOCATE])
                node[u], wait[u] = located[u] = self.where(units[u], t)
                ahead.append(u)
            elif status == BFJ.NEEDS_RULES:      # the rules decide this unit, as in _best_first
                u = int(istate[BFJ.I_PENDING])
                st = units[u]
                own, nb = self.owns(st, place)
                fstate[BFJ.F_OK] = eligible(Candidate(u, st.kind, st.role, 0.0, own, nb), rules=self.rules,
                                            is_backup=is_backup)
                fstate[BFJ.F_OWN] = own
                fstate[BFJ.F_CAP] = INF if own else self.rules.max_travel_s.get(st.kind, INF)
            elif status != BFJ.NO_WALK:
                break
            if resume is None:
                resume = self._walk_resume = K.direct(WH.resume, (h, place, t, is_backup))
            status, uid, eta, at, w, travel_s, metres, runs = resume(h, place, t, is_backup)
        for u in ahead:
            node[u] = -1
        self.searches += runs
        self._count_kernel.count_walk(runs)     # the oracles' counts include the walk's
        if status != BFJ.FOUND:
            self.located = {}
            return self._best_first(place, t, bound.copy(), is_backup=is_backup)
        if uid < 0:
            return None
        located[uid] = self.chosen_at = (at, w)
        self.chosen_eta_s = eta
        self.chosen_metres = None if metres != metres else metres    # nan: a slot with a matrix
        return uid
