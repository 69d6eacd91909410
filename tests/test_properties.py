"""Hypothesis properties of whole replications on small synthetic towns.

Each example builds a town of 1-3 km², a force of 4-60 officers at some alert level and a
few hours of demand, runs one replication through the engine and checks what must hold
for any input: times in causal order, no unit in two places, every request either served
or still waiting, and each unit's time adding up to the window.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim import metrics
from sim.demand import sample_incidents
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.errors import ScenarioError
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

EPS = 1e-6

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def towns(draw, *, max_horizon_days: float):
    return {
        "name": "prop",
        "seed": draw(st.integers(0, 10_000)),
        "horizon_days": draw(st.floats(0.05, max_horizon_days)),
        "warmup_days": draw(st.sampled_from([0.0, 0.01, 0.03])),
        "network": {"synthetic": {"seed": draw(st.integers(0, 50)), "area_km2": draw(st.floats(1.0, 3.0)),
                                  "stations": draw(st.integers(1, 3)), "exits": 2}},
        "demand": {"incidents_per_day": draw(st.floats(10.0, 400.0)),
                   "call_handling_mean_s": draw(st.sampled_from([0.0, 60.0]))},
        "force": {"total_officers": draw(st.integers(4, 60)), "teams": draw(st.integers(1, 4)),
                  "turnout_s": draw(st.sampled_from([0.0, 120.0])),
                  "mix": draw(st.sampled_from([{"car": 1.0}, {"car": 0.6, "bicycle": 0.2, "foot": 0.2}]))},
        "alert": {"level": draw(st.sampled_from(["green", "yellow", "orange", "red"]))},
        "dispatch": {"policy": draw(st.sampled_from(["nearest", "own_beat_first"]))},
    }


def simulate(data: dict):
    sc = scenario_from_dict(data)
    try:
        ctx = prepare(sc, quiet=True)
    except ScenarioError as exc:   # too few officers to form one unit: a user error, tested elsewhere
        assume("form no unit" not in str(exc))
        raise
    rep = replication_seed(sc.seed, 0)
    inc = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
    engine = make_engine(ctx, inc, rep)
    log = engine.run()
    return ctx, engine, log


def unit_time_columns(units) -> list[str]:
    cols = ["patrol_s", "travel_s", "on_scene_s", "station_s"]
    return cols + [c for c in ("off_duty_s", "checkpoint_s") if c in units]


@SETTINGS
@given(data=towns(max_horizon_days=0.5))
def test_times_are_in_causal_order(data):
    _, _, log = simulate(data)
    inc = log.incidents
    assert np.all(inc.handling_s >= 0)
    for i in range(len(inc)):
        arr = log.arrivals_s[i]
        sent = log.units_sent[i]
        assert len(arr) <= len(sent) <= inc.units_needed[i]
        if sent:
            # dispatch no earlier than the end of call handling
            assert log.dispatch_s[i] >= inc.call_s[i] + inc.handling_s[i] - EPS
        else:
            assert np.isnan(log.dispatch_s[i])
        if arr:
            assert arr == sorted(arr)
            assert arr[0] >= log.dispatch_s[i] - EPS
            response = arr[0] - inc.call_s[i]
            assert response >= inc.handling_s[i] - EPS >= -EPS
            # each unit leaves after the on-scene time; the drain after the horizon is bounded,
            # so under overload the last units may still be on scene when the run ends
            scene = inc.on_scene_s[i]
            if np.isnan(log.clear_s[i]):
                assert arr[0] + scene >= log.end_s - EPS
            else:
                assert arr[0] + scene - EPS <= log.clear_s[i] <= arr[-1] + scene + EPS


@SETTINGS
@given(data=towns(max_horizon_days=0.5))
def test_no_unit_is_in_two_places(data):
    _, _, log = simulate(data)
    for st_ in log.units:
        trips = sorted(st_.trips, key=lambda t: (t[1], t[2]))
        for i, t0, t1, t2 in trips:
            assert t0 <= t1 + EPS and t1 <= t2 + EPS
            assert st_.uid in log.units_sent[i]
        for a, b in zip(trips, trips[1:]):
            assert b[1] >= a[3] - EPS, f"unit {st_.uid}: trip {b} starts before {a} cleared"


@SETTINGS
@given(data=towns(max_horizon_days=0.5))
def test_every_request_is_served_or_still_waiting(data):
    ctx, engine, log = simulate(data)
    inc = log.incidents
    still_waiting = len(engine.queue)
    assert sum(len(s) for s in log.units_sent) + still_waiting == int(inc.units_needed.sum())
    df = metrics.incident_records(log, city=ctx.city, deployment=ctx.deployment, demand=ctx.demand,
                                  replication=0, lines=ctx.scenario.lines)
    m = metrics.replication_metrics(df)
    window = df[df["in_window"]]
    assert m["incidents"] == len(window) == int((inc.call_s >= log.warmup_s).sum())
    assert int(window["served"].sum()) + m["unserved"] == m["incidents"]
    assert 0.0 <= (m["response_within_line"] if len(window) else 0.0) <= 1.0


@SETTINGS
@given(data=towns(max_horizon_days=0.3))
def test_unit_time_adds_up_to_the_window_within_a_shift(data):
    """Horizons under 8 hours: no shift change (the next test crosses shift changes)."""
    ctx, _, log = simulate(data)
    # a force too small to form one unit is a separate, known bug (test_bad_input)
    assume(len(ctx.deployment.units) > 0)
    units = metrics.unit_records(log, deployment=ctx.deployment, replication=0)
    window = log.horizon_s - log.warmup_s
    total = units[unit_time_columns(units)].sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, window, rtol=1e-6)
    assert (units[unit_time_columns(units)] >= -EPS).all().all()
    assert (units["distance_km"] >= 0).all()


def test_unit_time_adds_up_to_the_window_across_shift_changes(small_town_dict):
    for seed in range(3):
        _, _, log = simulate(small_town_dict(seed=seed, horizon_days=1.0, demand={"incidents_per_day": 120}))
        window = log.horizon_s - log.warmup_s
        for st_ in log.units:
            total = st_.patrol_s + st_.travel_s + st_.scene_s + st_.station_s + st_.off_s + st_.post_s
            assert total == pytest.approx(window, rel=1e-6), (seed, st_.uid, st_.role)
