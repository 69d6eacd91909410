"""The engine's shortcuts on the dispatch path change nothing: each is checked against the plain way.

- The dispatch index is told once per change of a unit (shift changes skip units that
  stay off duty, at the station or at a post; no second refresh after a drive starts):
  at every shift change and clearance, refreshing every unit again must leave the
  index's arrays exactly as they are.
- After the compiled search, the units on a drive that could win are picked either by
  one array comparison (many such units) or by a test per unit (few): both give the
  same run.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import sample_incidents
from sim.engine.search import UnitSearch
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.patrol import circuit_lower_bound_s
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

# the level changes every day, so that shift changes send units off duty, to the station and back
BIG_FORCE = {"force": {"total_officers": 200, "teams": 4},
             "alert": {"level": "green", "mode": "calendar",
                       "calendar": [{"day": d, "level": lvl} for d, lvl in enumerate(("green", "red", "yellow",
                                                                                         "orange", "green"))]},
             "demand": {"incidents_per_day": 150}, "horizon_days": 5}


@pytest.fixture(scope="module")
def big_ctx(small_town_dict):
    return prepare(scenario_from_dict(small_town_dict(**BIG_FORCE)), quiet=True)


def _index_arrays(index) -> list:
    return [a.copy() for a in (index.code, index.bias, index.ui, index.uf, index.lb_rows)] + [set(index.off_circuit)]


def _same(a: list, b: list) -> bool:
    return all((x == y) if isinstance(x, set) else np.array_equal(x, y) for x, y in zip(a, b))


def test_the_index_is_up_to_date_after_every_shift_change_and_clearance(big_ctx):
    rep = replication_seed(big_ctx.scenario.seed, 0)
    inc = sample_incidents(big_ctx.demand, rep, horizon_s=big_ctx.horizon_s)
    engine = make_engine(big_ctx, inc, rep)
    checked = {"shift": 0, "clear": 0}
    stale = []

    def check(what):
        before = _index_arrays(engine.index)
        for st in engine.units:
            engine.index.refresh(st)
        if not _same(before, _index_arrays(engine.index)):
            stale.append((what, engine.env.now))
        checked[what] += 1

    shift_change, clear = engine.duty.shift_change, engine._clear

    def shift_then_check(t):
        shift_change(t)
        check("shift")

    def clear_then_check(*args):
        clear(*args)
        check("clear")

    engine.duty.shift_change = shift_then_check
    engine._clear = clear_then_check
    engine.run()
    assert checked["shift"] > 5 and checked["clear"] > 100
    assert not stale, f"index out of date after {stale[:3]}"


def test_drives_picked_by_arrays_or_per_unit_give_the_same_run(big_ctx, monkeypatch):
    logs, drives_seen = [], []
    for vector_from in (0, 10**9):
        monkeypatch.setattr(UnitSearch, "VECTOR_FROM", vector_from)
        rep = replication_seed(big_ctx.scenario.seed, 0)
        inc = sample_incidents(big_ctx.demand, rep, horizon_s=big_ctx.horizon_s)
        engine = make_engine(big_ctx, inc, rep)
        assert engine.search.compiled
        could_win = engine.search._could_win
        seen = []

        def counted(*args):
            out = could_win(*args)
            seen.append(len(out))
            return out
        engine.search._could_win = counted
        logs.append(engine.run())
        drives_seen.append(sum(seen))
    a, b = logs
    assert drives_seen[0] > 0 and drives_seen[0] == drives_seen[1]
    assert a.units_sent == b.units_sent and a.arrivals_s == b.arrivals_s
    np.testing.assert_array_equal(a.dispatch_s, b.dispatch_s)
    np.testing.assert_array_equal(a.clear_s, b.clear_s)


def test_every_units_bound_row_is_its_circuits_after_every_shift_change_and_clearance(big_ctx):
    """The bound rows are kept once per circuit and a unit's row is its circuit's segment: after
    every shift change and clearance, every unit on its circuit or driving to one must read the
    lower bound of exactly that circuit (``Circuits`` made it), and a unit never on a circuit zeros."""
    from sim.engine.units import CIRCUIT, LEG, PATROL

    rep = replication_seed(big_ctx.scenario.seed, 0)
    inc = sample_incidents(big_ctx.demand, rep, horizon_s=big_ctx.horizon_s)
    engine = make_engine(big_ctx, inc, rep)
    index, circuits = engine.index, engine.circuits
    checked, wrong = [0], []
    truth: dict = {}       # circuit key -> its bound, worked out here from the circuit (as Circuits does)

    def circuit_bound(st):
        want = truth.get(st.circuit_key)
        if want is None:
            oracle = engine.travel[st.mode].oracle
            want = truth[st.circuit_key] = circuit_lower_bound_s(
                oracle, [circuits.by_key[st.circuit_key]], circuits.target[st.mode], circuits.extra_s[st.mode],
                time_m=oracle.time_matrix)
        return want

    def check():
        rows = index.lb_rows[:]
        for st in engine.units:
            on = st.status is PATROL and (st.moving is CIRCUIT or (st.moving is LEG and not st.leg.to_station))
            if on and st.circuit_key is not None:
                row = index.flat.seg_of[st.circuit_key] + 1
                want = circuit_bound(st)
                if not np.array_equal(rows[st.uid], want):
                    wrong.append((engine.env.now, st.uid))
                # what the compiled search reads: the same bounds, place-major
                if not np.array_equal(index.bounds_by_place[:, row], want):
                    wrong.append((engine.env.now, st.uid, "place-major copy"))
                checked[0] += 1
            elif index.ui[st.uid, 1] < 0 and rows[st.uid].any():      # SEG -1: never on a circuit
                wrong.append((engine.env.now, st.uid, "never on a circuit"))

    shift_change, clear = engine.duty.shift_change, engine._clear

    def shift_then_check(t):
        shift_change(t)
        check()

    def clear_then_check(*args):
        clear(*args)
        check()

    engine.duty.shift_change = shift_then_check
    engine._clear = clear_then_check
    engine.run()
    assert checked[0] > 1000 and len(circuits.by_key) > 10
    assert not wrong, f"bound rows not the circuit's: {wrong[:3]}"


@pytest.mark.parametrize("overrides", [
    # foot units answer only in their own beat: the first unit needing a check is often not eligible
    {"dispatch": {"foot_own_beat_only": True, "foot_max_travel_s": None},
     "force": {"total_officers": 200, "teams": 4, "mix": {"car": 0.2, "foot": 0.8}}},
    # only cars back up: bicycles need the check on every backup
    {"dispatch": {"backup_kinds": ["car"], "bicycle_max_travel_s": 60},
     "force": {"total_officers": 200, "teams": 4, "mix": {"car": 0.4, "bicycle": 0.6}}},
])
def test_the_first_unit_needing_a_check_is_the_walks_answer(small_town_dict, overrides):
    """When a unit that needs an eligibility check comes before the compiled call's best, the search
    checks that unit alone (``UnitSearch._first_eligible``) and walks only when it is not eligible:
    every answer must be the full walk's, on forces where both outcomes happen often."""
    ctx = prepare(scenario_from_dict(small_town_dict(**overrides, demand={"incidents_per_day": 300},
                                                     horizon_days=3)), quiet=True)
    rep = replication_seed(ctx.scenario.seed, 0)
    inc = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    engine = make_engine(ctx, inc, rep)
    assert engine.search.compiled
    search = engine.search
    fast, seen = search._first_eligible, {"first": 0, "walked": 0}
    walk = search._walk

    def both(place, first, ahead, is_backup):
        got = fast(place, first, ahead, is_backup)
        want = walk(place, search._eta_row, is_backup=is_backup)
        assert got == want
        seen["first" if got == first else "walked"] += 1
        return got

    search._first_eligible = both
    engine.run()
    assert seen["first"] > 100 and seen["walked"] > 10, seen      # both outcomes were exercised


def _one_event_per_request(self, ev):
    """``Engine._next_request`` as it was: the next request's event scheduled, then this request."""
    from simpy.events import NORMAL

    from sim.engine.event import Call

    k = ev.args
    order = self._request_order
    if k + 1 < len(order):
        nxt = Call()
        nxt.callbacks = self._request_callbacks
        nxt.args = k + 1
        self._schedule(nxt, NORMAL, self._request_s[order[k + 1]] - self.env.now)
    i = order[k]
    self._request(i, self._needed[i])


def test_requests_run_without_their_own_event_as_they_would_with_it(big_ctx, monkeypatch):
    """A request that comes before every queued event runs at once, without an event of its own
    (``Engine._next_request``): the run must be the one with an event per request, also when
    requests fall at the same second as each other, as shift changes and as the drain's end.
    Call times are rounded to 10 minutes and handling is zero, so requests tie in groups and
    with the 8-hour shift changes."""
    from dataclasses import replace

    from sim.engine.core import Engine

    rep = replication_seed(big_ctx.scenario.seed, 0)
    inc = sample_incidents(big_ctx.demand, rep, horizon_s=big_ctx.horizon_s)
    tied = replace(inc, call_s=np.floor(inc.call_s / 600.0) * 600.0, handling_s=np.zeros(len(inc)))
    assert len(np.unique(tied.call_s)) < len(tied) and np.isin(tied.call_s, np.arange(0, 6 * 86400, 28800)).any()
    logs, events = [], []
    for plain in (False, True):
        run_request = _one_event_per_request if plain else Engine._next_request
        processed = [0]

        def counted(self, ev, _run=run_request, _processed=processed):
            _processed[0] += 1            # a request's event that SimPy processed
            return _run(self, ev)
        monkeypatch.setattr(Engine, "_next_request", counted)
        logs.append(make_engine(big_ctx, tied, rep).run())
        events.append(processed[0])
    a, b = logs
    assert events[1] == len(tied)                  # the plain way: an event per request
    assert 1 < events[0] < len(tied) * 0.9         # else: many requests ran at once, and some from the queue
    assert a.units_sent == b.units_sent and a.arrivals_s == b.arrivals_s
    np.testing.assert_array_equal(a.dispatch_s, b.dispatch_s)
    np.testing.assert_array_equal(a.clear_s, b.clear_s)
    assert [u.trips for u in a.units] == [u.trips for u in b.units]
    assert a.patrol_intervals == b.patrol_intervals and a.end_s == b.end_s


@pytest.mark.parametrize("in_order", [True, False])
def test_calls_counted_by_day_are_the_calls_made_before_each_decision(in_order):
    """``Duty._count_calls`` finds the calls made before ``t`` by binary search when call times are in
    order (as ``sample_incidents`` makes them) and by a pass otherwise: either way, after each
    decision time the counts per (area, day) are those of every call made before it."""
    from types import SimpleNamespace

    from sim.engine.duty import DAY_S, Duty

    rng = np.random.default_rng(4)
    call_s = rng.uniform(0, 6 * DAY_S, 2000)
    call_s[100:110] = call_s[100]                    # equal call times, and two at a decision time below
    call_s[500] = call_s[501] = 2 * DAY_S
    call_s = np.sort(call_s)
    if not in_order:
        call_s[[10, 900]] = call_s[[900, 10]]
    place = rng.integers(0, 5, call_s.size).tolist()
    area_of_place = np.array([0, 1, 1, 0, 1])
    duty = SimpleNamespace(_counted=0, _call_arr=None, _call_s=call_s.tolist(), _place=place, n_scope=2,
                           area_of_place=area_of_place, calls_by_day=np.zeros((2, 6)), _calls_in_order=True)
    for t in (0.0, 0.5 * DAY_S, 2 * DAY_S, 2 * DAY_S, 3.25 * DAY_S, 7 * DAY_S):
        Duty._count_calls(duty, t)
        made = np.flatnonzero(np.cumprod(call_s < t))     # the calls before the first one at t or later
        want = np.zeros((2, 6))
        np.add.at(want, (area_of_place[np.asarray(place)[made]], (call_s[made] // DAY_S).astype(int)), 1)
        np.testing.assert_array_equal(duty.calls_by_day, want)
    assert duty._calls_in_order is in_order


def test_the_cordon_skips_its_scan_for_unlocated_drives_only_when_there_are_none(small_town_dict):
    """The cordon locates the units on a drive that the dispatch search left unlocated; when the
    search's compiled call reports none (``UnitSearch.drives_unlocated``) it skips the scan for them.
    Forcing the scan after every search must give the same run, on a force where both happen."""
    ctx = prepare(scenario_from_dict(small_town_dict(
        force={"total_officers": 200, "teams": 4}, demand={"incidents_per_day": 300}, horizon_days=2,
        encirclement={"radius_m": 400.0, "roads": "all"})), quiet=True)
    rep = replication_seed(ctx.scenario.seed, 0)
    inc = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    logs, seen = [], []
    for force_scan in (False, True):
        engine = make_engine(ctx, inc, rep)
        search = engine.search
        assert search.compiled and engine.encircle is not None
        compiled, counts = search._search_compiled, []

        def wrapped(*args, _compiled=compiled, _search=search, _force=force_scan, _counts=counts, **kw):
            got = _compiled(*args, **kw)
            _counts.append(_search.drives_unlocated)
            if _force:
                _search.drives_unlocated = 10**6
            return got
        search._search_compiled = wrapped
        logs.append(engine.run())
        seen.append(counts)
    assert sum(c == 0 for c in seen[0]) > 100 and sum(c > 0 for c in seen[0]) > 5     # both cases happened
    a, b = logs
    assert np.isfinite(a.encircle_s).sum() > 20
    np.testing.assert_array_equal(a.encircle_s, b.encircle_s)
    assert a.units_sent == b.units_sent and a.arrivals_s == b.arrivals_s
