"""Fuzz the observed-calls reader: any file gives observed times or one InputError line, never a crash."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.calibrate.observed import read_observed
from sim.errors import InputError

HEADERS = [["call_time", "arrival_time", "priority"], ["call_time", "arrival_time", "priority", "lon", "lat"],
           ["Original Time Queued", "Arrived Time", "Priority", "Blurred_Longitude", "Blurred_Latitude"],
           ["call_time", "priority"], ["a", "b", "c"]]
CELLS = st.one_of(st.sampled_from(["", "1", "2", "3", "2.5", "-1", "x", "NaN", "1e309",
                                   "2026-01-05 08:00:00", "2026-01-05T08:09:00+01:00", "1850-01-01 00:00:00",
                                   "11/04/2023 6:08:26 PM", "11/04/2023 7:08:26 PM", "13/40/2023 6:08:26 PM",
                                   "-122.3", "47.6", '"a,b"']),
                  st.text(max_size=12))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(HEADERS), rows=st.lists(st.lists(CELLS, min_size=1, max_size=6), max_size=8))
def test_any_file_is_read_or_refused_in_one_line(tmp_path, header, rows):
    import csv

    path = tmp_path / "calls.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    try:
        obs = read_observed(path)
    except InputError as exc:
        line = exc.one_line()
        assert "\n" not in line and str(path) in line
        return
    assert obs.calls >= 1
    for p, v in obs.times_s.items():
        assert isinstance(p, int) and v.size and np.all(v > 0) and np.all(v <= 86_400)
