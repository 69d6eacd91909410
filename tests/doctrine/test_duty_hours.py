"""Duty hours: the higher levels call in teams only as far as ``force.max_duty_hours_per_day`` allows."""

import warnings

import pytest

from sim.experiment import prepare
from sim.experiment.run import staffing_table
from sim.roster import DutyLimitWarning, max_duty_h_in_a_day, max_teams_within, staffing
from sim.scenario import scenario_from_dict


def test_duty_hours_follow_the_rotation():
    # four teams, three 8-hour shifts: n teams per shift keep each officer on for n shifts in a row
    assert [max_duty_h_in_a_day(n, teams=4) for n in (1, 2, 3, 4)] == [8.0, 16.0, 24.0, 24.0]
    assert max_teams_within(16.0, teams=4) == 2
    assert max_teams_within(12.0, teams=4) == 1          # a second shift in a row is already 16 h
    assert max_teams_within(24.0, teams=4) == 4


def test_red_no_longer_keeps_every_officer_on_duty_around_the_clock():
    red = staffing(level="red", patrol_share=0.75, total_officers=240, teams=4, checkpoint_officers=0,
                   max_duty_hours_per_day=16.0)
    assert red.teams_wanted == 3 and red.teams_on_duty == 2
    assert red.on_duty_officers == 120 and red.patrol_officers == 120 and red.patrol_officers_wanted == 180
    assert not red.share_met and red.max_duty_h_per_day == 16.0
    assert red.officer_h_per_day == 120 * 24.0 and red.overtime_officer_h_per_day == 60 * 24.0


def test_the_default_limit_binds_at_red_with_a_warning_and_is_reported(small_town_dict):
    d = small_town_dict(force={"total_officers": 40, "teams": 4}, alert={"level": "red"})
    with pytest.warns(DutyLimitWarning, match="red"):
        ctx = prepare(scenario_from_dict(d), quiet=True)
    rows = {r["level"]: r for r in staffing_table(ctx.deployment)}
    assert all(r["max_duty_h_per_day"] <= 16.0 for r in rows.values())
    assert rows["red"]["teams_on_duty"] < rows["red"]["teams_wanted"]
    assert rows["red"]["patrol_share_met"] is False
    assert rows["red"]["overtime_officer_h_per_day"] == (rows["red"]["on_duty_officers"] - 10) * 24.0
    # no limit: every team on at red, as before
    d["force"]["max_duty_hours_per_day"] = 24
    with warnings.catch_warnings():
        warnings.simplefilter("error", DutyLimitWarning)
        ctx24 = prepare(scenario_from_dict(d), quiet=True)
    assert ctx24.deployment.staffing["red"].teams_on_duty == ctx24.deployment.staffing["red"].teams_wanted


def test_staffing_log_reports_officer_hours_and_overtime(small_town_dict):
    from sim.experiment import run_replication
    d = small_town_dict(force={"total_officers": 40, "teams": 4}, alert={"level": "yellow"})
    ctx = prepare(scenario_from_dict(d), quiet=True)
    out = run_replication(ctx, 0)
    log = out.tables["staffing"]
    s = ctx.deployment.staffing["yellow"]
    assert (log["officer_h"] == log["officers_on_duty"] * 8.0).all()
    assert s.teams_on_duty == 2
    # officers on duty beyond the normal rota (one team of 10) are overtime
    assert log["overtime_officer_h"].max() == pytest.approx((log["officers_on_duty"].max() - 10) * 8.0)
    assert log["overtime_officer_h"].max() > 0
