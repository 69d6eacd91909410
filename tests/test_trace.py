"""The trace (``sim.trace``) shows what the engine did: units at incidents exactly when they arrived.

One replication of the default town with the engine's trace on; the trace table of the
first 8-hour day shift after warm-up is checked against the run's own incident table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiment.replicate import make_engine, run_replication
from sim.scenario_file import load_scenario
from sim.trace import STATES, run_traced, shift_window, trace_table
from sim.world import prepare

METRES_PER_DEG_LAT = 110_574.0


@pytest.fixture(scope="module")
def world():
    return prepare(load_scenario(None, overrides=["horizon_days=2", "warmup_days=1"]), quiet=True)


@pytest.fixture(scope="module")
def traced(world):
    return run_traced(world, 0)


@pytest.fixture(scope="module")
def window(world):
    return shift_window(world, start_hour=8.0, hours=8.0)


@pytest.fixture(scope="module")
def table(world, traced, window):
    return trace_table(world, traced, start_s=window[0], end_s=window[1], step_s=10.0)


def _metres(lon1, lat1, lon2, lat2):
    kx = np.cos(np.radians(lat1)) * 111_320.0
    return np.hypot((np.asarray(lon1) - lon2) * kx, (np.asarray(lat1) - lat2) * METRES_PER_DEG_LAT)


def test_trace_is_off_by_default_and_changes_nothing(world, traced):
    """A plain engine keeps no trace; the traced run's incidents equal the untraced run's."""
    from sim.demand import sample_incidents
    from sim.streams import replication_seed

    rep = replication_seed(world.scenario.seed, 0)
    engine = make_engine(world, sample_incidents(world.demand, rep, horizon_s=world.horizon_s), rep)
    assert engine.trace is None
    plain = run_replication(world, 0).incidents
    cols = ["call_s", "dispatch_s", "first_arrival_s", "second_arrival_s", "clear_s", "place"]
    pd.testing.assert_frame_equal(plain[cols], traced.incidents[cols])
    assert len(traced.trace) > 100


def test_first_unit_is_on_scene_at_the_incident_when_it_arrived(world, traced, table, window):
    start, end = window
    inc = traced.incidents
    inc = inc[(inc["first_arrival_s"] >= start) & (inc["first_arrival_s"] <= end)]
    assert len(inc) > 20, "the shift should hold many arrivals"
    names = {u.uid: u.name for u in world.deployment.units}
    keyed = table.set_index(["unit", "time_s"])
    for r in inc.itertuples():
        unit = names[int(traced.log.first_unit[r.incident])]
        row = keyed.loc[(unit, r.first_arrival_s)]
        assert row["state"] == "on scene", (r.incident, unit, row["state"])
        d = float(_metres(row["lon"], row["lat"], r.lon, r.lat))
        assert d < 5.0, (r.incident, unit, d)
        # and a moment before it arrived it was still on its way
        before = table[(table["unit"] == unit) & (table["time_s"] < r.first_arrival_s)].iloc[-1]
        if r.first_arrival_s - before["time_s"] < 30 and r.first_arrival_s > r.dispatch_s:
            assert before["state"] == "to incident", (r.incident, before["state"])


def test_no_unit_in_two_places_at_once(table):
    """One row per unit and time, and no jump faster than any car drives between rows."""
    assert not table.duplicated(["unit", "time_s"]).any()
    t = table[table["state"] != "off duty"].sort_values(["unit", "time_s"])
    same = t["unit"].to_numpy()[1:] == t["unit"].to_numpy()[:-1]
    dt = np.diff(t["time_s"].to_numpy())[same]
    d = _metres(t["lon"].to_numpy()[:-1], t["lat"].to_numpy()[:-1], t["lon"].to_numpy()[1:],
                t["lat"].to_numpy()[1:])[same]
    moving = dt > 0
    speed_kph = d[moving] / dt[moving] * 3.6
    assert speed_kph.max() < 150.0, speed_kph.max()


def test_every_unit_sampled_every_step_with_known_states(world, table, window):
    start, end = window
    grid = np.arange(start, end + 1e-9, 10.0)
    assert table["unit"].nunique() == len(world.deployment.units)
    for _, g in table.groupby("unit", observed=True):
        assert np.isin(grid, g["time_s"].to_numpy()).all()
    assert set(table["state"].astype(str)) <= set(STATES)
    shown = table[table["state"] != "off duty"]
    assert shown[["lon", "lat"]].notna().all().all()
    for state in ("patrolling", "to incident", "on scene", "standby"):
        assert (table["state"] == state).any(), state


def test_window_after_the_horizon_is_a_clear_error(world):
    from sim.errors import InputError

    with pytest.raises(InputError, match="horizon"):
        shift_window(world, start_hour=20.0, hours=8.0)
