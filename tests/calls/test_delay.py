"""The response-delay shift for files that carry only arrival times."""

from __future__ import annotations

import pandas as pd

from sim.calls import columns, delay
from sim.calls.calltypes import assign_types, read_type_table
from sim.calls.rows import RowReport


def test_default_delays_are_the_medians_of_the_seattle_call_data_sample(seattle_2018):
    df = columns.read_table(seattle_2018)
    fmt = columns.resolve_format(df, file=str(seattle_2018))
    rep = RowReport("x")
    calls = assign_types(columns.parse_calls(df, fmt, rep), read_type_table(), rep)
    est = delay.estimate_delays(calls)
    assert est["by_priority_s"] == delay.DEFAULT_DELAY_BY_PRIORITY_S
    assert est["pooled_s"] == delay.DEFAULT_DELAY_POOLED_S
    # urgent calls are answered faster than routine ones
    by = est["by_priority_s"]
    assert by[1] < by[2] < by[3]


def test_shift_subtracts_the_delay_of_the_calls_priority():
    calls = pd.DataFrame({"time": pd.to_datetime([pd.NaT, pd.NaT, "2015-01-01 12:00"]),
                          "arrived": pd.to_datetime(["2015-01-01 12:00", "2015-01-01 12:00", "2015-01-01 12:30"]),
                          "priority": [1, 6, 3]})
    out = delay.shift_arrivals(calls, {"by_priority_s": {1: 600.0}, "pooled_s": 1800.0})
    assert list(out["time"]) == [pd.Timestamp("2015-01-01 11:50"), pd.Timestamp("2015-01-01 11:30"),
                                 pd.Timestamp("2015-01-01 12:00")]     # the last had a call time already
    assert list(out["delay_shift_s"]) == [600.0, 1800.0, 0.0]
