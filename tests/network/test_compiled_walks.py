"""The compiled walks of large graphs give the Python walks' answers, every one, in real runs.

- ``UnitSearch._best_first_compiled`` (``sim.engine.best_first_jit``) against
  ``UnitSearch._best_first``: at every dispatch both are asked (the Python walk right after
  the compiled one, from the same bounds, at the same moment) and must choose the same unit;
  whole runs with the compiled walk on and off must give the same dispatches, arrivals and
  cordon times;
- ``CompiledCordon`` (``sim.engine.cordon_jit``) against ``best_first_cordon_s``: at every
  cordon both are computed from the same units and must be equal;
- a bound raised by 90 s in the compiled walk changes the dispatches (the check can fail).

Runs of the small town on the kernel backend (the all-pairs limit set to 0), all cars (no
unit whose eligibility the rules decide), the default mix (bicycles and foot officers with
travel limits: the compiled walk decides each from the beats the index keeps, checked against
``UnitSearch.owns`` before every dispatch) and strict rules (short limits, foot officers kept to their
beat, backups by cars only: many units turned away).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.demand import sample_incidents
from sim.engine import best_first_jit
from sim.engine import search as search_mod
from sim.engine import search_large
from sim.engine.cordon import CompiledCordon, PairCounter, best_first_cordon_s
from sim.engine import kernels as K
from sim.engine.encircle import Encirclement
from sim.engine.owners import NOT_TABLED
from sim.engine.search import UnitSearch
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.network import travel as travel_mod
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

MAJOR_SOME = [{"name": "theft", "share": 0.6, "priority": 2, "units_needed": 1, "on_scene_mean_s": 1200},
              {"name": "robbery", "share": 0.2, "priority": 1, "units_needed": 1, "on_scene_mean_s": 900,
               "major": True},
              {"name": "violent", "share": 0.2, "priority": 1, "units_needed": 2, "on_scene_mean_s": 1200,
               "major": True}]
MIXES = {"car": {"car": 1.0}, "mixed": {"car": 0.5, "bicycle": 0.25, "foot": 0.25}}
#: rules that make many units ineligible (as tests/network/test_best_first_dispatch.py)
STRICT = {"foot_max_travel_s": 60.0, "bicycle_max_travel_s": 90.0, "foot_own_beat_only": True,
          "backup_kinds": ["car"]}


def _kernel_ctx(small_town_dict, monkeypatch, mix: str, level: str = "green", dispatch: dict | None = None,
                alert: dict | None = None, days: float = 1.0, per_day: int = 300, all_kernel: bool = True):
    extra = {"dispatch": dispatch} if dispatch else {}
    sc = scenario_from_dict(small_town_dict(**extra,
        horizon_days=days, force={"total_officers": 48, "teams": 2, "mix": MIXES[mix]},
        alert=alert or {"level": level}, demand={"incidents_per_day": per_day, "types": MAJOR_SOME},
        encirclement={"radius_m": 200.0, "roads": "all"}))
    monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 0)
    monkeypatch.delenv(travel_mod.BACKEND_ENV, raising=False)
    ctx = prepare(sc, quiet=True)
    assert not all_kernel or all(mt.oracle._kernel is not None for mt in ctx.travel.values())
    return sc, ctx


def _fresh_caches(ctx) -> None:
    """No pair answered from an earlier engine's searches (each run's work is its own)."""
    for mt in ctx.travel.values():
        if mt.oracle._kernel is None:         # a full time matrix: nothing cached
            continue
        mt.oracle._kernel._pairs.clear()
        mt.oracle._routes.clear()


def _same(a, b) -> None:
    assert a.units_sent == b.units_sent
    np.testing.assert_array_equal(a.dispatch_s, b.dispatch_s)
    assert a.arrivals_s == b.arrivals_s
    np.testing.assert_array_equal(a.encircle_s, b.encircle_s)
    # the metres driven (a sent unit's drive: the compiled walk's chosen_metres, or TravelOracle.metres)
    assert [u.distance_m for u in a.units] == [u.distance_m for u in b.units]


@pytest.mark.parametrize("mix,level,rules", [("car", "green", None), ("car", "red", None), ("mixed", "green", None),
                                             ("mixed", "red", "strict")])
def test_compiled_walks_give_the_python_walks_answers(small_town_dict, monkeypatch, mix, level, rules):
    sc, ctx = _kernel_ctx(small_town_dict, monkeypatch, mix, level, STRICT if rules else None)
    _compare_walks(sc, ctx, monkeypatch, ruled=mix != "car", turned_away=bool(rules))


def test_compiled_walks_follow_the_beats_as_the_level_changes(small_town_dict, monkeypatch):
    """Levels that change by the day move units to other beats (at shift changes and clearances): the
    beats the walk's rules read (``sim.engine.owners``) follow, and the choices stay the Python walk's."""
    calendar = [{"day": 0, "level": "green"}, {"day": 1, "level": "red"}, {"day": 2, "level": "yellow"}]
    # cars on a full time matrix (their shift changes switched as a batch: Rejoin._switch), the others on
    # the kernel backend, as on a real network whose drive graph is the smallest
    real_init = travel_mod.TravelOracle.__init__

    def init(self, graph, *a, **k):
        monkeypatch.setattr(travel_mod, "FULL_MATRIX_MAX_NODES", 10 ** 6 if graph.mode == "drive" else 0)
        real_init(self, graph, *a, **k)

    monkeypatch.setattr(travel_mod.TravelOracle, "__init__", init)
    sc, ctx = _kernel_ctx(small_town_dict, monkeypatch, "mixed", dispatch=STRICT, days=3.0, per_day=150,
                          alert={"mode": "calendar", "calendar": calendar}, all_kernel=False)
    assert ctx.travel["drive"].oracle.time_matrix is not None and ctx.travel["walk"].oracle._kernel is not None
    _compare_walks(sc, ctx, monkeypatch, ruled=True, turned_away=True, min_metres=30, min_searches=30)


@pytest.mark.slow
def test_compiled_walks_on_liechtenstein(shared_data, monkeypatch):
    """A real network whose drive graph has the full matrix beside larger bike and walk graphs (kernel)."""
    from sim.scenario_file import load_scenario
    from tests.conftest import REPO_ROOT, SHARED_DATA, require_shared

    if not (SHARED_DATA / "osm_fixtures" / "liechtenstein_2015_roads.osm.bz2").is_file():
        require_shared("the Liechtenstein extract")
    sc = load_scenario(REPO_ROOT / "scenarios" / "liechtenstein.yaml",
                       overrides=["horizon_days=2", "warmup_days=0", "demand.incidents_per_day=300"])
    ctx = prepare(sc, quiet=True)
    kinds = {m: (mt.oracle._kernel is not None, mt.oracle.time_matrix is not None) for m, mt in ctx.travel.items()}
    assert (True, False) in kinds.values() and (False, True) in kinds.values(), kinds
    # most units are cars, whose times come from the drive matrix: few A* searches
    _compare_walks(sc, ctx, monkeypatch, ruled=True, turned_away=False, min_cordons=1, min_searches=20,
                   min_asked=20, min_metres=10)


def _compare_walks(sc, ctx, monkeypatch, *, ruled: bool, turned_away: bool, min_cordons: int = 20,
                   min_searches: int = 100, min_asked: int = 50, min_metres: int = 100) -> None:
    """Both walks at every dispatch and cordon of one run, then the run with the compiled walks off."""
    want_turned_away = turned_away
    real_eligible = search_mod.eligible
    verdicts: list = []

    def eligible(*a, **k):
        ok = real_eligible(*a, **k)
        verdicts.append(ok)
        return ok

    monkeypatch.setattr(search_mod, "eligible", eligible)      # the walk of small graphs
    monkeypatch.setattr(search_large, "eligible", eligible)    # the best-first walks of large graphs
    compiled_dispatch = UnitSearch._best_first_compiled
    python_dispatch = UnitSearch._best_first
    dispatches: list = []           # (compiled choice, Python choice) when the compiled walk chose

    def both_dispatch(self, place, t, *, is_backup):
        n0 = self.searches
        python_calls.clear()
        # the beats the index keeps for the walk's rules (sim.engine.owners) are the units' beats now
        ui, table = self.index.ui, self.index.owners.table
        for u in np.flatnonzero(self.index.code > 0).tolist():
            r, b = int(ui[u, K.OWN_ROW]), int(ui[u, K.OWN_BEAT])
            if r != NOT_TABLED:
                owners_checked.append((r >= 0 and table[r, place] == b) == self.owns(self.units[u], place)[0])
        v0 = len(verdicts)
        uid = compiled_dispatch(self, place, t, is_backup=is_backup)
        decided = int(self._walk_istate[best_first_jit.I_DECIDED])     # verdicts made in the walk
        if self.chosen_metres is not None:   # the metres of its drive, as the oracle gives them, to the bit
            st = self.units[uid]
            oracle = self._time[st.mode].__self__        # the mode's TravelOracle
            want = oracle.metres(self.chosen_at[0], self._target_of[st.mode][place])
            metres_checked.append(repr(self.chosen_metres) == repr(want))
        if python_calls:            # the compiled walk handed over (a NaN bound)
            handed_over.append(1)
            return uid
        asked_rules.append(len(verdicts) - v0 + decided)
        saved = (self._located, self.located_t, self.chosen_at, self.chosen_eta_s)
        v1 = len(verdicts)
        again = python_dispatch(self, place, t, self._walk_bound.copy(), is_backup=is_backup)
        turned_away.extend(ok for ok in verdicts[v1:] if not ok)      # the same units' checks, in Python
        self._located, self.located_t, self.chosen_at, self.chosen_eta_s = saved
        dispatches.append((uid, again, self.searches - n0))
        return uid

    python_calls: list = []
    owners_checked: list = []
    metres_checked: list = []
    handed_over: list = []
    turned_away: list = []
    asked_rules: list = []

    def counted_python(self, *a, **k):
        python_calls.append(1)
        return python_dispatch(self, *a, **k)

    compiled_cordon = CompiledCordon.seconds_s
    cordons: list = []
    cordon_pairs: list = []

    def both_cordon(self, avail, todo, t, *, slot, code, locate, circuits, count=None):
        asked, asked_py = PairCounter(), PairCounter()
        got = compiled_cordon(self, avail, todo, t, slot=slot, code=code, locate=locate, circuits=circuits,
                              count=asked)
        enc = encircles[-1]
        want = best_first_cordon_s(avail, todo, t, units=enc.units, code=code, lb_rows=enc.index.lb_rows,
                                   locate=locate, travel=enc.travel, target=enc.target, extra_s=enc.extra_s,
                                   count=asked_py)
        cordons.append((got, want))
        cordon_pairs.append((asked.exact, asked_py.exact))
        if count is not None:
            count.searched += asked.searched
            count.exact += asked.exact
        return got

    encircles: list = []
    real_init = Encirclement.__init__

    def init(self, *a, **k):
        real_init(self, *a, **k)
        encircles.append(self)

    monkeypatch.setattr(UnitSearch, "_best_first_compiled", both_dispatch)
    monkeypatch.setattr(UnitSearch, "_best_first", counted_python)
    monkeypatch.setattr(CompiledCordon, "seconds_s", both_cordon)
    monkeypatch.setattr(Encirclement, "__init__", init)
    seq = replication_seed(sc.seed, 0)
    inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
    _fresh_caches(ctx)
    fast = make_engine(ctx, inc, seq).run()
    assert encircles[-1].walk is not None
    # every answer equal
    assert [a for a, _, _ in dispatches] == [b for _, b, _ in dispatches]
    assert [a for a, _ in cordons] == [b for _, b in cordons]
    # the compiled walk bounds by landmarks alone (no circuit's bound): it asks a few more pairs at most
    asked, asked_py = (sum(c[i] for c in cordon_pairs) for i in (0, 1))
    assert asked <= 1.1 * asked_py + 10, (asked, asked_py)
    assert len(cordons) >= min_cordons and sum(np.isfinite(a) for a, _ in cordons) >= min_cordons // 2
    # the compiled walk made every choice, with searches
    assert not handed_over
    assert len(metres_checked) >= min_metres and all(metres_checked)
    assert len(owners_checked) >= 100 and all(owners_checked)
    assert len(dispatches) >= 100 and sum(n for _, _, n in dispatches) >= min_searches
    if not ruled:           # no unit the rules decide
        assert sum(asked_rules) == 0
    else:                   # bicycles and foot officers have travel limits: the rules were asked in the walk
        assert sum(asked_rules) >= min_asked
    if want_turned_away:    # ... and turned units away
        assert len(turned_away) >= 3
    # whole runs: the compiled walks off give the same numbers
    monkeypatch.setattr(UnitSearch, "COMPILED_WALK", False)
    monkeypatch.setattr(Encirclement, "COMPILED_WALK", False)
    _fresh_caches(ctx)
    slow = make_engine(ctx, inc, seq).run()
    assert encircles[-1].walk is None
    _same(fast, slow)


def test_a_bound_above_the_arrival_changes_the_compiled_dispatches(small_town_dict, monkeypatch):
    """The check above can fail: the compiled walk's bounds raised by 90 s skip units that would have won."""
    sc, ctx = _kernel_ctx(small_town_dict, monkeypatch, "car")
    seq = replication_seed(sc.seed, 0)
    inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
    _fresh_caches(ctx)
    right = make_engine(ctx, inc, seq).run()
    monkeypatch.setattr(search_large, "BOUND_MARGIN_S", -90.0)
    _fresh_caches(ctx)
    wrong = make_engine(ctx, inc, seq).run()
    assert wrong.units_sent != right.units_sent


def test_compiled_cordon_equals_the_python_walk(small_town_dict, monkeypatch):
    """The compiled cordon walk gives the Python walk's cordon times; every pair it asks is exact at once (the labels)."""
    sc, ctx = _kernel_ctx(small_town_dict, monkeypatch, "mixed", "red")
    seq = replication_seed(sc.seed, 1)
    inc = sample_incidents(ctx.demand, seq, horizon_s=ctx.horizon_s)
    _fresh_caches(ctx)
    eng = make_engine(ctx, inc, seq)
    fast = eng.run()
    assert eng.encircle.walk is not None
    searched, exact = eng.encircle.pairs.searched, eng.encircle.pairs.exact
    assert exact > 0 and searched == exact     # every pair asked is exact at once, whatever its limit
    monkeypatch.setattr(Encirclement, "COMPILED_WALK", False)
    _fresh_caches(ctx)
    slow = make_engine(ctx, inc, seq).run()
    assert np.isfinite(fast.encircle_s).sum() >= 10
    np.testing.assert_array_equal(fast.encircle_s, slow.encircle_s)
    _same(fast, slow)


def test_the_compiled_order_is_numpys_stable_argsort():
    """The walk's order of units: ties (many units share a bound: 0, -inf, inf) in unit order, as numpy's."""
    rng = np.random.default_rng(4)
    for _ in range(500):
        n = int(rng.integers(0, 300))
        bound = rng.choice([-np.inf, 0.0, 12.5, 60.0, np.inf], n) + rng.integers(0, 3, n) * (rng.random() < 0.5)
        np.testing.assert_array_equal(best_first_jit.stable_order(bound), bound.argsort(kind="stable"))
