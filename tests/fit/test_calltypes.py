"""The fitted incident types (one per type, priority and units seen; on-scene times from the data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calls.calltypes import assign_types, read_type_table
from sim.calls.rows import RowReport
from sim.fit import calltypes


@pytest.fixture(scope="module")
def table():
    return read_type_table()


def _calls(types, priority_data=None):
    n = len(types)
    return pd.DataFrame({"call_type": types, "priority_data": priority_data if priority_data is not None
                         else np.full(n, np.nan),
                         "arrived": pd.NaT, "cleared": pd.NaT})


def test_fitted_types_keep_the_workload_of_the_table_defaults(table):
    calls = assign_types(_calls(["THEFT"] * 30 + ["SHOPLIFTING"] * 10), table, RowReport("x"))
    types = calltypes.fitted_types(calls)
    assert len(types) == 1 and types[0]["name"] == "theft" and types[0]["share"] == 1.0
    # mixture mean of 2100 s (x30) and 2700 s (x10)
    assert types[0]["on_scene_mean_s"] == pytest.approx((30 * 2100 + 10 * 2700) / 40)
    assert "table default" in types[0]["on_scene_source"]


def test_fitted_types_use_on_scene_times_from_the_data_when_there_are_enough(table):
    rng = np.random.default_rng(1)
    n = 400
    arrived = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(n) * 3600, unit="s")
    on_scene = rng.lognormal(np.log(1000), 0.5, n)
    calls = _calls(["THEFT"] * n).assign(arrived=arrived, cleared=arrived + pd.to_timedelta(on_scene, unit="s"))
    types = calltypes.fitted_types(assign_types(calls, table, RowReport("x")))
    t = types[0]
    assert t["on_scene_source"].startswith("data")
    # lognormal(mu=log 1000, sigma=0.5): mean 1000 e^0.125 = 1133, cv sqrt(e^0.25 - 1) = 0.533;
    # with 400 draws the estimates are within a few percent (sd of the log-mean is 0.025)
    assert t["on_scene_mean_s"] == pytest.approx(1133, rel=0.08)
    assert t["on_scene_cv"] == pytest.approx(0.533, rel=0.15)


def test_types_split_by_priority_get_distinct_names(table):
    calls = assign_types(_calls(["DISTURBANCES", "NOISE DISTURBANCE", "DISTURBANCES"]), table, RowReport("x"))
    names = [t["name"] for t in calltypes.fitted_types(calls)]
    assert sorted(names) == ["disturbance-p2", "disturbance-p3"]
