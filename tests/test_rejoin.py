"""The shift change's batched rejoin and the compiled search's ended drives change nothing.

- ``sim.engine.rejoin``: a patrol unit that stays on patrol (on its circuit, or its drive
  to it ended) switches circuits in a batch (``sim.engine.shift_kernels.switch_circuits``,
  one compiled call per shift change; on graphs without a full time matrix one by one)
  and the index is told of all drives at once; with ``Duty.batch`` off every unit goes
  through ``Duty.apply``. Both runs must give the same log (every account bit for bit,
  patrol intervals in the same order) and the same index after every shift change: for a
  calendar of levels, for a mixed force of four travel modes with a reserve, checkpoints
  and a level per area, and for the same town without full time matrices.
- ``sim.engine.kernels.nearest_unit`` locates a unit whose drive to its circuit has ended
  (before the engine books that end) on the circuit: at every search, each such unit's
  node, wait and arrival must be those of ``Movement.sync`` then ``Circuit.where``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import sample_incidents
from sim.engine import kernels as K
from sim.engine import shift_kernels as SK
from sim.engine.join_tables import JoinTables
from sim.engine.rejoin import BY_LABELS, CIRCUIT_, JOIN
from sim.engine.units import LEG, PATROL
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.kinds import Role
from sim.network import travel
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

# the level changes every day, so shift changes also send units off duty, to the station and back
FORCE = {"force": {"total_officers": 200, "teams": 4},
         "alert": {"level": "green", "mode": "calendar",
                   "calendar": [{"day": d, "level": lvl} for d, lvl in enumerate(("green", "red", "yellow",
                                                                                     "orange", "green"))]},
         "demand": {"incidents_per_day": 150}, "horizon_days": 5}
# a larger force of every kind (four travel modes: four time matrices in the compiled switch), a
# reserve, checkpoints at orange and red, and each station's area deciding its own level
MIXED = {"network": {"synthetic": {"seed": 3, "area_km2": 6.0, "population": 60000, "stations": 3, "exits": 3}},
         "force": {"total_officers": 320, "teams": 4, "mix": {"car": 0.45, "motorbike": 0.15, "bicycle": 0.2,
                                                               "foot": 0.2},
                   "checkpoints": {"at": ["exits"], "officers_each": 2, "levels": ["orange", "red"]},
                   "reserve": {"units": 3, "kind": "car", "crew": 2}},
         "alert": {"level": "green", "mode": "adaptive", "scope": "area", "lookback_days": 1,
                   "thresholds": {"yellow": 1.02, "orange": 1.05, "red": 1.08}},
         "beats": {"areas": "stations"},
         "demand": {"incidents_per_day": 500}, "horizon_days": 6}
# one level all along: after the first day the shift change's common units are found in the index's arrays
STEADY = {"force": {"total_officers": 200, "teams": 4}, "demand": {"incidents_per_day": 150}, "horizon_days": 4}
ACCOUNTS = ("status", "patrol_s", "travel_s", "scene_s", "station_s", "off_s", "post_s", "overtime_s",
            "distance_m", "calls", "cross_area_calls", "trips")


@pytest.fixture(scope="module")
def ctx(small_town_dict):
    return prepare(scenario_from_dict(small_town_dict(**FORCE)), quiet=True)


@pytest.fixture(scope="module")
def steady_ctx(small_town_dict):
    return prepare(scenario_from_dict(small_town_dict(**STEADY)), quiet=True)


@pytest.fixture(scope="module")
def mixed_ctx(small_town_dict):
    return prepare(scenario_from_dict(small_town_dict(**MIXED)), quiet=True)


@pytest.fixture(scope="module")
def mixed_orange_ctx(small_town_dict):
    """The mixed force at orange everywhere all along (checkpoints staffed): one level, so the arrays find the batch."""
    return prepare(scenario_from_dict(small_town_dict(**{**MIXED, "alert": {"level": "orange"}})), quiet=True)


@pytest.fixture(scope="module")
def no_matrix_ctx(small_town_dict):
    """The calendar town with travel times searched as on a large graph (no full matrices)."""
    mp = pytest.MonkeyPatch()
    mp.setattr(travel, "FULL_MATRIX_MAX_NODES", 0)
    try:
        ctx = prepare(scenario_from_dict(small_town_dict(**FORCE, seed=12)), quiet=True)
    finally:
        mp.undo()
    assert all(mt.oracle.time_matrix is None for mt in ctx.travel.values())
    return ctx


def _engine(ctx):
    rep = replication_seed(ctx.scenario.seed, 0)
    return make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)


def _index_state(index) -> tuple:
    """What the searches read: availability, circuit units' segment and anchor, drives' rows."""
    on = np.flatnonzero(index.code == 1)
    off = np.array(sorted(index.off_circuit), np.int64)
    return (index.code.copy(), index.bias.copy(), on, index.ui[on, K.SEG].copy(), index.uf[on, 1:3].copy(),
            off, index.ui[off][:, [K.FIXED_NODE, K.LEG_SEG]].copy(), index.uf[off, K.LEG_SRC:].copy())


def _run(ctx, batch: bool, seen: dict | None = None):
    """One run; its log, the index after every shift change and the Rejoin.

    ``seen`` counts the units of the compiled switch (on their circuit; their drive ended)
    and the patrol units whose drive had not ended at a shift change (through ``Duty.apply``).
    """
    engine = _engine(ctx)
    engine.duty.batch = batch
    states = []
    shift_change, apply = engine.duty.shift_change, engine.duty.apply

    def recorded(t):
        shift_change(t)
        states.append(_index_state(engine.index))

    def applied(st, t):
        if st.status is PATROL and st.moving is LEG and st.leg.t_end > t and seen is not None:
            seen["driving"] += 1
        apply(st, t)
    engine.duty.shift_change, engine.duty.apply = recorded, applied
    return engine.run(), states, engine.duty.rejoin


def _same_runs(ctx, monkeypatch) -> tuple:
    seen = {"circuit": 0, "ended": 0, "driving": 0}
    switch = SK.switch_circuits

    def counted(t, lo, hi, units, *args):
        seen["ended"] += int((units[:, SK.U_LEG] == 1.0).sum())
        seen["circuit"] += int((units[:, SK.U_LEG] == 0.0).sum())
        switch(t, lo, hi, units, *args)
    monkeypatch.setattr(SK, "switch_circuits", counted)
    log_b, states_b, rejoin_b = _run(ctx, batch=True, seen=seen)
    log_p, states_p, rejoin_p = _run(ctx, batch=False)
    assert rejoin_p.batched == rejoin_p.one_by_one == 0                # the plain run: all through apply
    assert len(states_b) == len(states_p) > 10
    for k, (a, b) in enumerate(zip(states_b, states_p)):
        for x, y in zip(a, b):
            assert np.array_equal(x, y), f"index differs after shift change {k}"
    for sa, sb in zip(log_b.units, log_p.units):
        assert [repr(getattr(sa, f)) for f in ACCOUNTS] == [repr(getattr(sb, f)) for f in ACCOUNTS]
    assert repr(log_b.patrol_intervals) == repr(log_p.patrol_intervals)
    assert log_b.units_sent == log_p.units_sent and log_b.arrivals_s == log_p.arrivals_s
    assert log_b.staffing == log_p.staffing and repr(log_b.alert_log) == repr(log_p.alert_log)   # nan: by repr
    return rejoin_b, seen


def test_the_batched_shift_change_gives_the_plain_run(ctx, monkeypatch):
    rejoin, seen = _same_runs(ctx, monkeypatch)
    assert rejoin.batched > 100 and rejoin.one_by_one == 0             # the batch did the work
    assert seen["circuit"] > 20 and seen["ended"] > 20 and seen["driving"] > 0
    assert rejoin.batched == seen["circuit"] + seen["ended"]
    assert rejoin.tables.all_metres                                    # the drives' metres read by the switch


def test_an_ended_drive_s_leg_is_reused_only_where_the_unit_alone_holds_it(ctx, monkeypatch):
    """The write-back gives a unit whose drive ended that same ``Leg`` for its new drive (``Rejoin._switch``).

    Safe only while nothing but the unit holds it: counted here by references, at every
    batched switch (the unit's slot and the count's own argument; the shift change's loop
    variable holds one of them). A trace keeps every ``Leg`` it sees, and turns the batch off.
    """
    import sys

    from sim.engine.rejoin import Rejoin

    seen = {"switches": 0, "legs": 0, "held_elsewhere": 0, "loop_variable": 0}
    switch = Rejoin._switch

    def checked(self, t):
        seen["switches"] += 1
        for st in self._sts:
            if st.leg is not None:
                seen["legs"] += 1
                refs = sys.getrefcount(st.leg)
                seen["loop_variable"] += refs == 3
                seen["held_elsewhere"] += refs > 3
        return switch(self, t)
    monkeypatch.setattr(Rejoin, "_switch", checked)
    engine = make_engine(ctx, sample_incidents(ctx.demand, replication_seed(ctx.scenario.seed, 0),
                                               horizon_s=ctx.horizon_s), replication_seed(ctx.scenario.seed, 0))
    engine.run()
    assert seen["legs"] > 20 and seen["held_elsewhere"] == 0
    assert seen["loop_variable"] <= seen["switches"]                   # at most one a shift change
    traced = make_engine(ctx, sample_incidents(ctx.demand, replication_seed(ctx.scenario.seed, 0),
                                               horizon_s=ctx.horizon_s), replication_seed(ctx.scenario.seed, 0))
    traced.enable_trace()
    assert traced.duty.batch is False


@pytest.mark.parametrize("which", ["ctx", "steady_ctx"])
def test_the_units_the_index_shows_common_are_the_loops_with_the_loops_rows(which, request, monkeypatch):
    """``Rejoin._common_by_arrays`` finds, in the dispatch index's arrays, the units the loop would batch, with the
    rows the loop reads off the units (at every shift change it answers; the runs are the plain path's:
    ``test_the_batched_shift_change_gives_the_plain_run``). With a level a day, the loop makes each
    new level's plans first; with one level all along the arrays answer from the second day."""
    from sim.engine.rejoin import ROW, Rejoin
    from sim.engine.units import CIRCUIT

    seen = {"answered": 0, "fell_back": 0, "found": 0}
    find = Rejoin._common_by_arrays

    def checked(self, t, level, period):
        got = find(self, t, level, period)
        if got is None:
            seen["fell_back"] += 1
            return got
        seen["answered"] += 1
        want, rows = [], []
        plan_of, want_of = self._plan_list(level, period), self.duty.wants_table(level)
        for st in self.duty.units:           # the loop's test of a common unit, and the row it builds
            if st.status is not PATROL or st.role is Role.RESERVE or want_of[st.uid] is not PATROL:
                continue
            ended = st.moving is LEG and not st.leg.to_station and st.leg.t_end <= t
            if not (ended or st.moving is CIRCUIT):
                continue
            plan = plan_of[st.uid]
            assert plan is not None            # a plan not made yet: the arrays give no answer
            if plan is False or plan[ROW] < 0:
                continue
            seg = self.index.flat.seg_of[st.circuit_key]
            want.append(st.uid)
            leg = st.leg
            rows.append((1.0, seg, leg.t_end, 0.0, leg.t_start, leg.metres, leg.dst, plan[ROW], st.uid) if ended else
                        (0.0, seg, st.anchor_t, st.anchor_tau, 0.0, 0.0, -1.0, plan[ROW], st.uid))
        uids, found_rows, _ = self._arrays
        assert uids.tolist() == want
        assert np.array_equal(found_rows, np.array(rows, np.float64).reshape(-1, SK.U_COLUMNS))
        others, gaps, trailing = got
        assert sorted(others + want) == list(range(len(self.duty.units)))
        closing = [u for u, r in zip(want, rows) if t > r[SK.U_T1]]
        assert sum(gaps) + trailing == len(closing)
        seen["found"] += len(want)
        return got
    monkeypatch.setattr(Rejoin, "_common_by_arrays", checked)
    ctx = request.getfixturevalue(which)
    rep = replication_seed(ctx.scenario.seed, 0)
    engine = make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep)
    engine.run()
    if which == "steady_ctx":
        assert seen["answered"] >= 8 and seen["fell_back"] <= 4
        assert seen["found"] > engine.duty.rejoin.batched * 0.6
    else:                             # a new level each day: its plans are made in the loop first
        assert seen["answered"] >= 2 and seen["fell_back"] >= 10


def test_with_one_level_the_batch_found_in_the_arrays_gives_the_plain_run(steady_ctx, monkeypatch):
    rejoin, seen = _same_runs(steady_ctx, monkeypatch)
    assert rejoin.batched > 100 and seen["ended"] > 20


def test_metres_row_by_row_when_the_oracle_has_no_table(ctx, monkeypatch):
    """Without one metres table per mode (``join_tables.metres_table`` None) the write-back reads rows: the same run."""
    from sim.engine import join_tables

    monkeypatch.setattr(join_tables, "metres_table", lambda oracle: None)
    rejoin, seen = _same_runs(ctx, monkeypatch)
    assert not rejoin.tables.all_metres and rejoin.batched > 100 and seen["ended"] > 20


def test_metres_table_is_the_oracles_rows(ctx):
    """The table the switch reads gives, at every pair asked, what ``TravelOracle.metres`` gives."""
    from sim.engine.join_tables import metres_table

    rng = np.random.default_rng(5)
    for mt in ctx.travel.values():
        o = mt.oracle
        table = metres_table(o)
        assert table is not None and table.shape == (o.n_nodes, o.n_nodes)
        for a, b in rng.integers(0, o.n_nodes, (200, 2)).tolist():
            assert repr(float(table[a, b])) == repr(o.metres(a, b))


@pytest.fixture
def one_mode_without_matrix():
    """A function that makes the batch take the plans of ``mode`` one by one (as a mode without a full matrix)."""
    def apply(monkeypatch, mode):
        add_plan = JoinTables.add_plan

        def add(self, table, seg, plan_mode, time_m, scale, oracle=None):
            return -1 if plan_mode == mode else add_plan(self, table, seg, plan_mode, time_m, scale, oracle)
        monkeypatch.setattr(JoinTables, "add_plan", add)
    return apply


@pytest.mark.parametrize("one_by_one", [None, "walk"])
def test_a_mixed_force_with_levels_per_area_gives_the_plain_run(mixed_ctx, monkeypatch, one_mode_without_matrix,
                                                                one_by_one):
    """Four modes (four matrices in the compiled switch); with ``one_by_one`` the foot units switch one by
    one within the same loop as the batch (a graph too large for a full matrix beside smaller ones)."""
    if one_by_one:
        one_mode_without_matrix(monkeypatch, one_by_one)
    rejoin, seen = _same_runs(mixed_ctx, monkeypatch)
    assert rejoin.batched > 300 and seen["circuit"] > 300 and seen["ended"] > 5
    assert len(rejoin.tables._slot_of) == (3 if one_by_one else 4)
    assert (rejoin.one_by_one > 50) if one_by_one else rejoin.one_by_one == 0


@pytest.mark.parametrize("one_by_one", [None, "walk"])
def test_a_mixed_force_at_one_level_found_in_the_arrays_gives_the_plain_run(mixed_orange_ctx, monkeypatch,
                                                                            one_mode_without_matrix, one_by_one):
    """Four modes, a reserve and staffed checkpoints at one level: the batch found in the index's arrays
    (``Rejoin._common_by_arrays``) from the second day; with ``one_by_one`` the foot units switch one by one
    in the loop beside it."""
    from sim.engine.rejoin import Rejoin

    if one_by_one:
        one_mode_without_matrix(monkeypatch, one_by_one)
    answered = []
    find = Rejoin._common_by_arrays
    monkeypatch.setattr(Rejoin, "_common_by_arrays",
                        lambda self, *a: answered.append(find(self, *a)) or answered[-1])
    rejoin, seen = _same_runs(mixed_orange_ctx, monkeypatch)
    assert rejoin.batched > 300 and seen["ended"] > 0
    assert sum(a is not None for a in answered) >= 8
    assert (rejoin.one_by_one > 50) if one_by_one else rejoin.one_by_one == 0


def test_join_tables_grow_and_keep_their_rows():
    """Plans of graphs of different sizes (a wider table widens every row) and more plans than rows."""
    from sim.engine.positions import FlatCircuits

    tables = JoinTables(FlatCircuits())
    rng = np.random.default_rng(3)
    rows, modes, T = [], ("drive", "bike", "walk", "motorbike", "boat"), np.zeros((2, 2))
    for p in range(70):
        width = int(rng.integers(3, 60))
        table = rng.integers(0, width, width).tolist()
        mode = modes[p % 5]
        r = tables.add_plan(table, p, mode, T, 1.0 + p)
        if mode == "boat":                  # a fifth mode: no slot for its matrix, one by one
            assert r == -1
            continue
        rows.append((r, table, p, mode))
    for r, table, p, mode in rows:
        assert tables.join[r, :len(table)].tolist() == table
        assert tables.plan_i[r].tolist() == [p, modes.index(mode), 0] and tables.plan_f[r, SK.P_SCALE] == 1.0 + p
    assert tables.add_plan(None, 0, "drive", T, 1.0) == -1 and tables.add_plan([0], 0, "drive", None, 1.0) == -1


@pytest.mark.parametrize("label_batch", [True, False], ids=["labels-in-the-batch", "one-by-one"])
def test_without_full_matrices_units_switch_as_the_plain_run(no_matrix_ctx, monkeypatch, label_batch):
    """Hub labels, no full matrix: the plans switch in the compiled batch, joined by the labels
    (``shift_kernels._join_by_labels``), or with ``Rejoin.LABEL_BATCH`` off one by one (``_take_one``):
    every account, interval and index row as the plain run's."""
    from sim.engine.rejoin import Rejoin

    monkeypatch.setattr(Rejoin, "LABEL_BATCH", label_batch)
    rejoin, seen = _same_runs(no_matrix_ctx, monkeypatch)
    if label_batch:
        assert rejoin.batched > 100 and rejoin.one_by_one == 0 and rejoin.tables.label_counters
    else:
        assert rejoin.batched == 0 and rejoin.one_by_one > 100              # the oracle's calls, per unit
    # every plan drives by the labels' compiled look-ups (sim.engine.join_drive), the plain run by the oracle's
    assert rejoin._plans and all(plan[BY_LABELS] is not None for plan in rejoin._plans.values())


def test_a_drive_by_the_labels_is_the_oracles_drive(no_matrix_ctx):
    """``LabelJoin(node)``: the node ``NearestOnCircuit`` gives, ``Circuit.tau_at`` there and
    ``TravelOracle.time_and_metres`` to it, bit for bit, from every node of the graph (the circuit's
    own nodes among them: a drive of no length) to circuits of every mode."""
    engine = _engine(no_matrix_ctx)
    rejoin, move = engine.duty.rejoin, engine.duty.move
    checked = 0
    for st in engine.duty.units:
        if st.role is Role.RESERVE or st.unit.assignment("green") is None:     # no circuit at green
            continue
        plan = rejoin._plan(st, "green", 0)
        circuit, join_at, by_labels = plan[CIRCUIT_], plan[JOIN], plan[BY_LABELS]
        oracle = no_matrix_ctx.travel[st.mode].oracle
        asked = oracle._kernel.pair_asked
        same_node = 0
        for node in range(move.graphs[st.mode].n_nodes):
            dst = join_at[node]
            want = (dst, circuit.tau_at(dst), *oracle.time_and_metres(node, dst))
            got = by_labels(node)
            assert [type(v) for v in got[:1]] == [int]
            assert np.array(got[1:]).view(np.int64).tolist() == np.array(want[1:]).view(np.int64).tolist()
            assert got[0] == want[0]
            same_node += dst == node
            checked += 1
        assert same_node > 0                      # the circuit's own nodes: no drive
        # as the oracle counts: every pair of two nodes once (the oracle's question above, and the join's)
        assert oracle._kernel.pair_asked - asked == 2 * (move.graphs[st.mode].n_nodes - same_node)
    assert checked > 2000


def test_ended_drives_are_located_on_their_circuit_as_sync_would(ctx):
    engine = _engine(ctx)
    search, index, units = engine.search, engine.index, engine.units
    assert search.compiled
    kernel = search._search_compiled
    seen = {"ended": 0}

    def checked(place, t, *, is_backup):
        found = kernel(place, t, is_backup=is_backup)
        out = search._out
        for u in sorted(index.off_circuit):
            st = units[u]
            leg = st.leg
            if leg is None or leg.to_station or leg.t_end > t or out[1, u] < 0:
                continue
            seen["ended"] += 1
            tau = st.circuit.tau_at(leg.dst)
            node, wait, _ = st.circuit.where(tau + (t - leg.t_end))
            mode = st.mode
            eta = wait + float(search._T[mode][node, search._target_of[mode][place]]) \
                + search._extra_of[mode][place]
            assert (int(out[1, u]), repr(float(out[2, u])), repr(float(out[0, u]))) == (node, repr(wait), repr(eta))
        return found
    search._search_compiled = checked
    engine.run()
    assert seen["ended"] > 50


def test_units_the_search_leaves_out_could_not_win_and_are_located_when_asked(ctx):
    """``nearest_unit`` skips a unit on its circuit (or whose drive to it has ended) whose circuit's
    bound is above the best so far; the units the search leaves out are located when asked."""
    engine = _engine(ctx)
    search, index, units = engine.search, engine.index, engine.units
    kernel = search._search_compiled
    seen = {"skipped": 0, "searches": 0, "ended": 0}

    def checked(place, t, *, is_backup):
        choice, found = kernel(place, t, is_backup=is_backup)
        out = search._out
        skipped = np.flatnonzero(out[1] == K.SKIPPED)
        seen["searches"] += 1
        seen["skipped"] += skipped.size
        if skipped.size:
            assert choice is not None
            best = float(out[0, choice])
            exact = {}
            for u in skipped.tolist():
                st = units[u]
                if st.leg is not None:               # a drive to its circuit that has ended
                    assert not st.leg.to_station and st.leg.t_end <= t
                    seen["ended"] += 1
                    node, wait, _ = st.circuit.where(st.circuit.tau_at(st.leg.dst) + (t - st.leg.t_end))
                else:
                    assert index.code[u] == 1
                    node, wait, _ = st.circuit.where(st.anchor_tau + (t - st.anchor_t))
                mode = st.mode
                eta = wait + float(search._T[mode][node, search._target_of[mode][place]]) \
                    + search._extra_of[mode][place]
                assert eta > best and out[0, u] <= eta          # could not win; its bound is a bound
                exact[u] = (node, wait)
            # asked later (the encirclement measure, sending): located as the search would have
            located = search.located
            got = [located.get(u) for u in skipped.tolist()]
            assert [(int(n), repr(float(w))) for n, w in got] == \
                [(exact[u][0], repr(exact[u][1])) for u in skipped.tolist()]
        return choice, found
    search._search_compiled = checked
    engine.run()
    assert seen["skipped"] > seen["searches"]          # more than one unit left out per search
    assert seen["ended"] > 100                          # among them units whose drive had ended


@pytest.mark.parametrize("which", ["ctx", "no_matrix_ctx"])
def test_a_drive_s_lap_time_is_that_of_its_end_on_the_circuit(which, request):
    """``Leg.tau``, where a drive's maker set it, is ``Circuit.tau_at`` of its end on the unit's circuit:
    ``Movement.sync`` reads it instead of looking the node up. Checked for every unit on a drive to its
    circuit at every dispatch, with full matrices and with the hub labels' drives (``join_drive``)."""
    from sim.engine.trips import Trips

    engine = _engine(request.getfixturevalue(which))
    checked = {"set": 0}
    send = Trips._send

    def checking(self, st, *args, **kw):
        for u in engine.units:
            leg = u.leg
            if u.moving is LEG and leg is not None and not leg.to_station and leg.tau is not None:
                assert leg.tau == u.circuit.tau_at(leg.dst), (u.uid, leg)
                checked["set"] += 1
        return send(self, st, *args, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(Trips, "_send", checking)
    try:
        engine.run()
    finally:
        mp.undo()
    assert checked["set"] > 1000
