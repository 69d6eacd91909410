"""sim.world.prepare: the one preparation, used by runs (old names kept) and by the analytic estimate."""

from __future__ import annotations

import numpy as np
import pytest

from sim import world
from sim.demand import expected_per_place
from sim.scenario import scenario_from_dict


def test_old_names_are_the_world_s():
    import sim.experiment as ex
    from sim.experiment import replicate, run

    assert ex.prepare is replicate.prepare is run.prepare is world.prepare
    assert ex.Context is replicate.Context is world.World


def test_world_holds_what_a_run_needs(small_ctx):
    w = small_ctx
    assert isinstance(w, world.World)
    assert set(w.travel) == {u.mode for u in w.deployment.units}
    sp = w.scenario.network.speeds
    drive = w.travel["drive"]
    assert drive.patrol_scale == sp.emergency_speed_factor / sp.car_patrol_factor
    assert drive.offset_speed_mps == sp.foot_kph / 3.6          # cars park; the last metres on foot
    g = w.city.graphs["drive"]
    np.testing.assert_allclose(drive.oracle.edge_time_s, g.edge_length_m / (g.edge_speed_kph * 1.25 / 3.6))


@pytest.mark.parametrize("mode", ["fixed", "calendar"])
def test_level_multipliers(small_town_dict, mode):
    alert = {"level": "yellow", "mode": mode, "demand_multiplier": {"green": 1, "yellow": 2, "orange": 3, "red": 4}}
    if mode == "calendar":
        alert["calendar"] = [{"day": 1, "level": "red"}]
    sc = scenario_from_dict(small_town_dict(alert=alert, horizon_days=2))
    w = world.prepare(sc, quiet=True, with_travel=False)
    base = world.base_demand(sc, w.city)
    if mode == "fixed":
        assert w.demand.multiplier == 2 * base.multiplier
        assert w.travel == {}
    else:
        assert list(w.demand.day_multiplier) == [2, 4, 4]


def test_the_analytic_estimate_uses_the_world_s_force_and_demand(small_town_dict):
    from sim.analytic.scenario_estimate import estimate

    sc = scenario_from_dict(small_town_dict(alert={"demand_multiplier": {"green": 1, "yellow": 1.5,
                                                                         "orange": 2, "red": 3}}))
    est = estimate(sc, levels=("yellow", "red"))
    for level in ("yellow", "red"):
        w = world.prepare(sc.at_level(level), quiet=True)
        dep = w.deployment
        e = est.levels[level]
        answering = [u for u in dep.units if u.role != "checkpoint" and u.on_duty(level)
                     and (u.role != "patrol" or u.assignment(level) is not None)]
        assert e.responders == len(answering)
        assert e.patrol_officers == dep.staffing[level].patrol_officers
        assert e.calls_per_hour * 24 == pytest.approx(expected_per_place(w.demand).sum())
    assert est.levels["red"].calls_per_hour == pytest.approx(2 * est.levels["yellow"].calls_per_hour)


def test_the_estimate_prepares_each_level_through_the_world(small_scenario, monkeypatch):
    from sim.analytic.scenario_estimate import estimate

    seen = []
    real = world.prepare

    def spy(scenario, **kw):
        seen.append(scenario.alert.level)
        return real(scenario, **kw)

    monkeypatch.setattr(world, "prepare", spy)
    estimate(small_scenario, levels=("green", "orange"))
    assert seen == ["green", "orange"]


@pytest.mark.parametrize("policy, made", [("nearest", True), ("own_beat_first", False)])
def test_transposed_time_matrix_made_only_for_the_compiled_search(small_town_dict, policy, made):
    """prepare makes the transposed matrix (as much memory as the matrix) only when the search reads it.

    Nearest-unit dispatch without a reserve is the compiled search, which reads it (then it is
    made with the tables, not at the first dispatch); a policy that reads every candidate does not.
    """
    sc = scenario_from_dict(small_town_dict(dispatch={"policy": policy}))
    w = world.prepare(sc, quiet=True)
    assert world.compiled_search_reads(sc, w.deployment) is made
    for mt in w.travel.values():
        assert (mt.oracle._by_target is not None) is made
    if not made:     # an engine that does search compiled still gets it, at its first search
        mt = next(iter(w.travel.values()))
        assert mt.times_by_target() is not None and mt.oracle._by_target is not None


def test_prepare_makes_the_metres_table_a_first_trip_would_make(small_ctx):
    """The metres rows of a small graph come with the world (every row, the bits ``metres_from`` gives)."""
    from sim.network.metres_jit import metres_row_in_edges

    for mt in small_ctx.travel.values():
        o = mt.oracle
        assert len(o._m_rows) == o.n_nodes
        for s in (0, o.n_nodes // 2, o.n_nodes - 1):
            want = metres_row_in_edges(o._pred_row(s), s, o._in_ptr, o._in_from, o._in_m)
            assert np.array_equal(o.metres_from(s).view(np.int64), want.view(np.int64))
