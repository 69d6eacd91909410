"""The dispatch index: per unit, kept in arrays as units change, whether it can be sent and where it is.

Why a module of its own: the engine's other parts (duty, trips, rejoin, the cordon)
keep the index up to date as units change state; the search (``sim.engine.search``)
and the compiled loops (``sim.engine.kernels``) only read it.
"""

from __future__ import annotations

import numpy as np

from sim.engine import kernels as K
from sim.engine import shift_kernels as SK
from sim.engine.owners import NO_BEAT, BeatOwners
from sim.engine.positions import FlatCircuits
from sim.engine.units import CIRCUIT, LEG, PATROL, STATION, UnitState
from sim.jit_entry import direct
from sim.kinds import Role

INF = float("inf")
RESERVE = Role.RESERVE
# circuits a run is expected to build per unit (one per shift of the day at one level): the room the
# circuit arrays start with (``FlatCircuits``, ``bounds_by_place``), so that the common run never grows them
CIRCUITS_PER_UNIT_HINT = 3


class DispatchIndex:
    """Per unit, kept in arrays as units change: can it be sent, and a lower bound per place.

    ``code``: 0 unavailable, 1 on a circuit (its lower-bound row is valid), 2 free elsewhere.
    A unit's lower-bound row is that of the circuit it is on or drives to: row ``ui[u, SEG] + 1``
    of ``flat.bound`` (``SEG`` is -1 for a unit never on a circuit: row 0, zeros; ``lb_rows``
    reads them as one array would). ``bias`` is added to the
    bound row (``lb_rows[:, place] + bias`` bounds every unit's arrival at a place): 0 on a
    circuit, -inf free elsewhere (always located), +inf unavailable or the reserve (located
    separately).

    For the compiled search (``sim.engine.kernels``) it also keeps, per unit, in ``ui`` and
    ``uf``: on a circuit, the circuit's segment in ``flat`` and the unit's anchor (at
    ``anchor_t`` it was at lap time ``anchor_tau``; ``reanchor`` must follow any change of
    it); at the station or a cleared scene, that node and the wait there; on a drive, its
    start (``off_circuit`` lists these units, located in Python when they could win).
    """

    def __init__(self, units: list[UnitState], n_places: int, *, turnout_s: float = 0.0) -> None:
        n = len(units)
        self.turnout_s = turnout_s
        # per unit, for the compiled search (columns in sim.engine.kernels): fixed node (station,
        # scene just cleared; -1 if none), circuit segment, mode, rule flags; wait at the fixed
        # node, anchor on the circuit, the drive (source node, start, wait_s, patrol scale)
        self.ui = np.zeros((n, K.UI_COLUMNS), np.int64)
        self.ui[:, K.FIXED_NODE] = -1
        self.ui[:, K.SEG] = -1                     # no circuit yet: bound row 0, zeros
        self.uf = np.zeros((n, K.UF_COLUMNS))
        self.uf[:, K.LEG_SCALE] = 1.0
        self.uf[:, K.LEG_TEND] = np.inf
        # per unit: a memoryview of its row (a write through one costs half a numpy item write)
        self._ui_row, self._uf_row = [memoryview(r) for r in self.ui], [memoryview(r) for r in self.uf]
        self.off_circuit: set = set()                # free units on a drive (to a circuit or the station)
        self.flat = FlatCircuits(circuits_hint=CIRCUITS_PER_UNIT_HINT * n)
        self.code = np.zeros(n, np.int8)
        self.n_places = n_places
        self.is_reserve = np.array([st.role is RESERVE for st in units], bool)
        self.any_reserve = bool(self.is_reserve.any())
        self.bias = np.full(n, np.inf)
        # memoryviews of code and bias for refresh and unavailable (the same memory: the compiled
        # search reads the arrays)
        self._code_w, self._bias_w = memoryview(self.code), memoryview(self.bias)
        self.lb_rows = BoundRows(self)
        self.on_demand: tuple | None = None        # bounds worked out where read (bounds_on_demand)
        self._bounds_of_units = None               # its compiled code for lb_rows (BoundRows._on_demand)
        # the same bounds place-major (``keep_bounds_by_place``), for the compiled search
        self.bounds_by_place: np.ndarray | None = None
        # each unit's beat in ``ui``'s OWN_ROW and OWN_BEAT columns, for the large graphs' compiled walk
        # (``keep_owners``; None: not kept)
        self.owners: BeatOwners | None = None
        self.ui[:, K.OWN_ROW] = NO_BEAT
        self.ui[:, K.OWN_BEAT] = -1

    def keep_bounds_by_place(self) -> None:
        """Keep the bounds place by place, ``bounds_by_place[place, s + 1]``, instead of ``flat.bound``.

        The compiled search reads the bound of every free unit's circuit at one place per call.
        Read from ``flat.bound`` (a row of every place per circuit) that is one cache line per
        unit, fetched from memory after the Python work between two dispatches; here the
        circuits' bounds at a place are side by side. ``flat.bound`` is then not written: its
        rows were a second copy, written into fresh memory at every circuit built (at 1,920
        officers in the default town, 693 rows of 847 places a replication), and ``lb_rows``
        reads this array. Column 0 is zeros (segment -1: no circuit); columns past the last
        circuit's are not read. Called before the first circuit is added.
        """
        self.bounds_by_place = np.zeros((self.n_places, self.flat.seg.shape[0] + 1))

    def keep_owners(self, owners: BeatOwners, units: list[UnitState]) -> None:
        """Keep each unit's beat in ``ui`` (``sim.engine.owners``): from now on ``beat_changed`` writes it."""
        self.owners = owners
        for st in units:
            self.beat_changed(st)

    def beat_changed(self, st: UnitState) -> None:
        """``st``'s level or beat was set: its ``OWN_ROW`` and ``OWN_BEAT`` columns (when ``owners`` are
        kept). Called wherever the engine sets a unit's ``level`` and ``beat`` (``Duty.apply``, ``Rejoin``)."""
        owners = self.owners
        if owners is not None:
            row = self._ui_row[st.uid]
            row[6], row[7] = owners.columns(st)                          # OWN_ROW, OWN_BEAT

    def refresh(self, st: UnitState) -> None:
        """Update the arrays after ``st`` changed status or movement (runs about three times per call).

        Writes go through memoryviews (per-unit rows ``_ui_row``, ``_uf_row``; ``_code_w``,
        ``_bias_w``): one index, not two, per item written, and no numpy scalar conversion.
        """
        u = st.uid
        code, bias = self._code_w, self._bias_w
        status = st.status
        if status is PATROL:
            moving = st.moving
            if moving is CIRCUIT and st.role is not RESERVE:
                # the row stays while the unit is away from its circuit (its bias masks it then)
                self.on_circuit(u, self.flat.seg_of[st.circuit_key], st.anchor_t, st.anchor_tau)
                return
            if moving is LEG:
                leg = st.leg
                if not (leg.to_station or st.role is RESERVE):
                    self.drive_started(u, leg.src, leg.t_start, leg.wait_s, leg.t_end, leg.scale,
                                       st.circuit.tau_at(leg.dst), self.flat.seg_of[st.circuit_key], leg.dst,
                                       leg.metres)
                    return
                code[u] = 2
                bias[u] = INF if st.role is RESERVE else -INF
                uf = self._uf_row[u]
                self._ui_row[u][0] = -1                                   # FIXED_NODE
                uf[3] = leg.src                                           # LEG_SRC
                uf[4] = leg.t_start                                       # LEG_T0
                uf[5] = leg.wait_s                                        # LEG_WAIT
                uf[6] = leg.scale                                         # LEG_SCALE
                uf[7] = INF                                               # LEG_TEND: never "ended" here
                uf[9] = leg.t_end                                         # LEG_ARRIVE
                uf[10] = leg.metres                                       # LEG_METRES
                self._ui_row[u][8] = leg.dst                              # LEG_DST
                self.off_circuit.add(u)
                return
            # just cleared a scene: where it stands (or the reserve)
            code[u] = 2
            bias[u] = INF if st.role is RESERVE else -INF
            self._ui_row[u][0] = st.at_node
            self._uf_row[u][0] = 0.0                                      # FIXED_WAIT
            self.off_circuit.discard(u)
        elif status is STATION:
            code[u] = 2
            bias[u] = INF if st.role is RESERVE else -INF
            self._ui_row[u][0] = st.home_node
            self._uf_row[u][0] = self.turnout_s
            self.off_circuit.discard(u)
        else:
            self.unavailable(u)

    def legs_started(self, rows: np.ndarray) -> None:
        """``refresh`` of many units that each started a drive to a circuit (not the reserve), at once.

        ``rows``: per unit (uid, source node, start, wait_s, patrol scale, end, lap time at
        the circuit node driven to, the circuit's segment, that node, the drive's metres), as ``refresh`` would read them
        from the unit's ``Leg`` (``sim.engine.rejoin`` builds them at a shift change). The
        segment is also the unit's bound row: one integer per unit, no row copied.
        """
        SK.legs_started(rows, self.code, self.bias, self.ui, self.uf)     # compiled: the columns unit by unit
        self.off_circuit.update(rows[:, 0].astype(np.int64).tolist())

    def drive_started(self, u: int, src: int, t0: float, wait_s: float, t_end: float, scale: float, tau: float,
                      seg: int, dst: int, metres: float) -> None:
        """The index of a patrol unit (not the reserve) that starts at ``t0`` a drive from ``src``
        (reached after ``wait_s``) to a circuit (segment ``seg``, reached at ``t_end`` at node ``dst``, at lap
        time ``tau``): ``refresh`` of such a unit, and called with the values at hand where a unit rejoins
        its circuit after a clearance. Where the drive ends on its circuit is kept: the compiled search
        locates the unit there once it has ended, before the engine books its end (``Movement.sync``)."""
        self._code_w[u] = 2
        self._bias_w[u] = -INF
        ui, uf = self._ui_row[u], self._uf_row[u]
        ui[0] = -1                                                        # FIXED_NODE
        uf[3] = src                                                       # LEG_SRC
        uf[4] = t0                                                        # LEG_T0
        uf[5] = wait_s                                                    # LEG_WAIT
        uf[6] = scale                                                     # LEG_SCALE
        uf[7] = t_end                                                     # LEG_TEND
        uf[8] = tau                                                       # LEG_TAU
        uf[9] = t_end                                                     # LEG_ARRIVE
        uf[10] = metres                                                   # LEG_METRES
        ui[5] = seg                                                       # LEG_SEG
        ui[8] = dst                                                       # LEG_DST
        ui[1] = seg                                                       # SEG: its bound row
        self.off_circuit.add(u)

    def on_circuit(self, u: int, seg: int, anchor_t: float, anchor_tau: float) -> None:
        """The index of a unit (not the reserve) on the circuit of segment ``seg``, at lap time
        ``anchor_tau`` at ``anchor_t``: ``refresh`` of such a unit, also called with the values at hand."""
        self._ui_row[u][1] = seg                                          # SEG (and its bound row)
        uf = self._uf_row[u]
        uf[1] = anchor_t                                                  # ANCHOR_T
        uf[2] = anchor_tau                                                # ANCHOR_TAU
        self._code_w[u] = 1
        self._bias_w[u] = 0.0
        self.off_circuit.discard(u)

    def unavailable(self, u: int) -> None:
        self._code_w[u] = 0
        self._bias_w[u] = INF
        self.off_circuit.discard(u)

    def bounds_on_demand(self, slot_of_unit: np.ndarray, n_lm: np.ndarray, lm_from: tuple, lm_to: tuple,
                         target: np.ndarray, extra: np.ndarray, margin_s: float) -> None:
        """Keep each circuit's bound on demand (``FlatCircuits.bounds``; graphs on the kernel backend):
        ``add_circuit_bound`` then takes what the bound search found, and ``lb_rows`` works a bound out
        where it is read. Per unit its mode slot; per slot the landmarks the bound uses (``n_lm`` of
        ``lm_from``/``lm_to``) and, per place, the node driven to and the walk from it (``target``,
        ``extra``: (places, slots)); ``margin_s`` as the oracle's bound takes it."""
        self.flat.bounds_on_demand(max(1, int(np.max(n_lm))))
        self.on_demand = (np.ascontiguousarray(slot_of_unit, np.int64), np.ascontiguousarray(n_lm, np.int64),
                          tuple(lm_from), tuple(lm_to), target, extra, float(margin_s))

    def add_circuit_bound(self, key, circuit, params: tuple) -> None:
        """A new circuit and its bound as the oracle's bound search found it (``bounds_on_demand``)."""
        self.flat.add_bound(key, circuit, params)

    def add_circuit(self, key, circuit, bound: np.ndarray) -> None:
        """A new circuit (``key`` = (uid, level, period)) and its lower bound per place."""
        flat = self.flat
        by_place = self.bounds_by_place
        # kept place by place only (``keep_bounds_by_place``), or as a row of every place per circuit
        s = flat.add(key, circuit, None if by_place is not None else bound)
        if by_place is not None:
            if by_place.shape[1] <= s + 1:         # twice the columns (a new array: its version)
                grown = np.empty((self.n_places, 2 * by_place.shape[1]))
                grown[:, :s + 1] = by_place[:, :s + 1]
                self.bounds_by_place = by_place = grown
                flat.version += 1
            by_place[:, s + 1] = bound

    def reanchor(self, st: UnitState) -> None:
        """The unit's anchor moved without a change of state (the accounts closed at the horizon)."""
        self.uf[st.uid, K.ANCHOR_T] = st.anchor_t
        self.uf[st.uid, K.ANCHOR_TAU] = st.anchor_tau


class BoundRows:
    """``[u, place]``: the lower bound of unit ``u``'s circuit at ``place``, as one (units, places) array.

    The rows are not kept per unit: a unit's row is ``flat.bound[ui[u, SEG] + 1]`` (the circuit it
    is on or drives to last; row 0, zeros, for a unit never on a circuit), or the column ``SEG + 1`` of
    ``bounds_by_place`` when the index keeps that instead. Indexing reads them: ``[u]`` a row,
    ``[:, place]`` a column, ``[np.ix_(us, places)]`` a block.
    """

    __slots__ = ("_index",)

    def __init__(self, index: DispatchIndex) -> None:
        self._index = index

    def __getitem__(self, key):
        ix = self._index
        rows, cols = key if isinstance(key, tuple) else (key, slice(None))
        if ix.on_demand is not None:
            return self._on_demand(ix, rows, cols)
        if ix.bounds_by_place is not None:
            return self._by_place(ix, rows, cols)
        if ix.flat.bound.shape[0] == 0:              # no circuit yet
            return np.zeros((len(ix.code), ix.n_places))[rows, cols]
        return ix.flat.bound[ix.ui[rows, K.SEG] + 1, cols]

    @staticmethod
    def _pairs(ix, rows, cols) -> tuple[np.ndarray, np.ndarray]:
        """Unit and place indices of every value asked, broadcast to the shape numpy's indexing of a
        (units, places) array gives."""
        r = np.arange(len(ix.code))[rows]
        c = np.arange(ix.n_places)[cols]
        if (isinstance(rows, slice) and c.ndim == 1) or (isinstance(cols, slice) and r.ndim == 1):
            r, c = r[:, None], c[None, :]            # a slice beside a list of indices: every pair
        return np.broadcast_arrays(r, c)

    @staticmethod
    def _by_place(ix, rows, cols) -> np.ndarray:
        """The same values read from ``bounds_by_place`` (the same floats, place-major)."""
        r, c = BoundRows._pairs(ix, rows, cols)
        return ix.bounds_by_place[c, ix.ui[r, K.SEG] + 1]

    @staticmethod
    def _on_demand(ix, rows, cols) -> np.ndarray:
        """The same values, worked out for the (unit, place) pairs asked (``DispatchIndex.bounds_on_demand``),
        in the shape numpy's indexing of a (units, places) array gives."""
        r, c = BoundRows._pairs(ix, rows, cols)
        slot, n_lm, lm_from, lm_to, target, extra, margin_s = ix.on_demand
        args = (np.ascontiguousarray(r.ravel(), np.int64), np.ascontiguousarray(c.ravel(), np.int64),
                np.ascontiguousarray(ix.ui[:, K.SEG]), slot, *ix.flat.bounds.arrays, n_lm, lm_from, lm_to,
                target, extra, margin_s)
        fn = ix._bounds_of_units
        if fn is None:     # the dispatcher once, then its compiled code (two tuples of arrays: ~10 µs of type look-up)
            from sim.network.dijkstra_jit import bounds_of_units
            out = bounds_of_units(*args)
            ix._bounds_of_units = direct(bounds_of_units, args)
        else:
            out = fn(*args)
        return out.reshape(r.shape)

    def copy(self) -> np.ndarray:
        return self[:]
