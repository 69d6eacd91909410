"""四班三运转: four teams, three shifts; the right number of units on duty in every shift."""

import numpy as np
import pytest

from sim.experiment import prepare, run_replication
from sim.force import units_per_kind
from sim.roster import shift_index, staffing, teams_for_shift, teams_on_duty


@pytest.mark.parametrize("share,teams", [(0.2, 1), (0.4, 2), (0.6, 3), (0.8, 4), (1.0, 4), (0.25, 1), (0.26, 2)])
def test_teams_on_duty_cover_the_patrol_share(share, teams):
    assert teams_on_duty(share, 4) == teams


def test_rotation_gives_each_team_one_shift_in_four():
    leads = [teams_for_shift(k, teams=4, n_teams_on_duty=1)[0] for k in range(12)]
    assert leads == [0, 1, 2, 3] * 3
    # called-in teams follow the lead in rotation order
    assert teams_for_shift(5, teams=4, n_teams_on_duty=3) == (1, 2, 3)
    assert shift_index(8 * 3600 - 1) == 0 and shift_index(8 * 3600) == 1


def test_staffing_splits_the_team_on_duty():
    s = staffing(level="green", patrol_share=0.2, total_officers=240, teams=4, checkpoint_officers=0)
    assert (s.on_duty_officers, s.patrol_officers, s.standby_officers) == (60, 48, 12)
    s = staffing(level="orange", patrol_share=0.6, total_officers=240, teams=4, checkpoint_officers=12)
    assert (s.teams_on_duty, s.on_duty_officers, s.patrol_officers, s.checkpoint_officers, s.standby_officers) \
        == (3, 180, 144, 12, 24)


@pytest.mark.parametrize("level", ["green", "red"])
def test_every_shift_has_the_level_s_units_on_patrol(make_small, level):
    sc = make_small(**{"alert.level": level})
    ctx = prepare(sc)
    out = run_replication(ctx, 0)
    st = out.tables["staffing"]
    # one row per 8-hour shift over the horizon, starting at time 0
    assert list(st["start_s"]) == [k * 8 * 3600.0 for k in range(6)]
    # the engine's log follows the rotation (shift_index, teams_for_shift): team k mod teams leads shift k
    assert list(st["shift"]) == list(range(6))
    assert list(st["lead_team"]) == [k % ctx.deployment.teams + 1 for k in range(6)]
    assert ctx.deployment.teams > 1
    expected = units_per_kind(ctx.deployment.staffing[level].patrol_officers, mix=sc.force.mix, crew=sc.force.crew)
    for kind, n in expected.items():
        assert (st[f"patrol_{kind}"] == n).all(), kind
    # a unit busy at the change is counted busy, every other on-duty patrol unit is on patrol
    on_duty = ctx.deployment.count(role="patrol", level=level)
    assert ((st["units_patrol"] + st["units_busy"]) >= on_duty).all()


def test_busy_units_at_a_shift_change_work_overtime(make_small):
    sc = make_small(**{"demand.incidents_per_day": 200})
    out = run_replication(prepare(sc), 0)
    assert out.units["overtime_officer_h"].sum() > 0
    assert out.metrics["overtime_officer_h_per_day"] > 0


def test_unit_time_adds_up_to_the_window(make_small):
    sc = make_small(**{"alert.mode": "calendar", "alert.calendar": [{"day": 0, "level": "green"},
                                                                    {"day": 1, "level": "red"}]})
    ctx = prepare(sc)
    out = run_replication(ctx, 0)
    u = out.units
    total = u[["patrol_s", "travel_s", "on_scene_s", "station_s", "off_duty_s", "checkpoint_s"]].sum(axis=1)
    window = ctx.horizon_s - ctx.warmup_s
    np.testing.assert_allclose(total, window, rtol=1e-6)
