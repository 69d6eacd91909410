"""四色警情: levels by calendar and by daily analysis; a change takes effect at the next shift change."""

import numpy as np

from sim.alert import AlertPlan, calendar_level, decide_level
from sim.demand import IncidentTable
from sim.experiment import prepare, run_replication
from sim.experiment.replicate import make_engine
from sim.streams import replication_seed


def test_decide_level_against_ratio_thresholds():
    th = {"yellow": 1.25, "orange": 1.5, "red": 2.0}
    assert decide_level(10, 10, th) == "green"
    assert decide_level(12.5, 10, th) == "yellow"
    assert decide_level(19.9, 10, th) == "orange"
    assert decide_level(20, 10, th) == "red"
    assert decide_level(5, 0, th) == "green"


def test_calendar_level_holds_from_its_day_on():
    cal = [(2, "red"), (4, "yellow")]
    assert [calendar_level(d, base="green", calendar=cal) for d in range(6)] == \
        ["green", "green", "red", "red", "yellow", "yellow"]


def _patrol_counts(out):
    st = out.tables["staffing"]
    return dict(zip(st["start_s"], st["patrol_car"]))


def test_level_change_takes_effect_at_the_shift_change(make_small):
    cal = [{"day": 0, "level": "green"}, {"day": 1, "level": "red"}]
    sc = make_small(**{"alert.mode": "calendar", "alert.calendar": cal})
    ctx = prepare(sc)
    out = run_replication(ctx, 0)
    cars = _patrol_counts(out)
    green = ctx.deployment.count(kind="car", role="patrol", level="green")
    red = ctx.deployment.count(kind="car", role="patrol", level="red")
    assert red > green
    assert [cars[t] for t in (0.0, 28800.0, 57600.0)] == [green] * 3
    assert [cars[t] for t in (86400.0, 115200.0, 144000.0)] == [red] * 3
    # decided at 07:00: the red level starts with the 08:00 shift of day 1
    sc = make_small(**{"alert.mode": "calendar", "alert.calendar": cal, "alert.decision_hour": 7})
    cars = _patrol_counts(run_replication(prepare(sc), 0))
    assert cars[86400.0] == green and cars[115200.0] == red
    # incidents carry the level in force when they were called
    inc = out.incidents
    assert set(inc.loc[inc.call_s < 86400, "alert_level"]) == {"green"}
    assert set(inc.loc[inc.call_s >= 86400, "alert_level"]) == {"red"}


def test_adaptive_level_rises_after_busy_days(make_small):
    sc = make_small(**{"alert.mode": "adaptive", "horizon_days": 3, "alert.lookback_days": 1})
    ctx = prepare(sc)
    rep = replication_seed(sc.seed, 0)
    # three times the expected calls each day, spread evenly
    expected = ctx.deployment.alert_plan.expected_per_day[0]
    n = int(expected * 3 * 3)
    t = np.linspace(0, 3 * 86400 - 1, n)
    inc = IncidentTable(call_s=t, place=np.arange(n) % ctx.city.n_places, type_idx=np.zeros(n, int),
                        priority=np.full(n, 2), units_needed=np.ones(n, int), handling_s=np.full(n, 30.0),
                        on_scene_s=np.full(n, 600.0))
    log = make_engine(ctx, inc, rep).run()
    levels = [(row["day"], row["level"]) for row in log.alert_log]
    assert levels[0] == (0, "green")          # nothing observed yet: the starting level
    assert dict(levels)[1] == "red" and dict(levels)[2] == "red"
    observed = [row["observed_per_day"] for row in log.alert_log if row["day"] >= 1]
    assert all(abs(o - 3 * expected) / (3 * expected) < 0.05 for o in observed)


def test_area_scope_decides_per_area(make_small):
    sc = make_small(**{"alert.mode": "adaptive", "alert.scope": "area", "beats.areas": "stations"})
    ctx = prepare(sc)
    out = run_replication(ctx, 0)
    al = out.tables["alert_levels"]
    assert set(al["area"]) == set(ctx.deployment.areas.names)
    assert len(al) == len(ctx.deployment.areas.names) * 2   # two days, one decision per area per day
    plan = AlertPlan(mode="adaptive", base_level="green", scope="area", thresholds=(("red", 2.0),),
                     lookback_days=1, expected_per_day=(10.0, 10.0))
    counts = np.array([[25, 0], [5, 0]])
    assert [lvl for lvl, _, _ in plan.decide(1, counts)] == ["red", "green"]
