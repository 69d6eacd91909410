"""Column mapping and parsing: known formats, custom maps, time zones, bad rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calls import columns
from sim.calls.rows import RowReport
from sim.errors import DemandError
from tests.calls.conftest import write_csv


def _parse(path, fmt=None):
    df = columns.read_table(path)
    fmt = columns.resolve_format(df, file=str(path), fmt=fmt)
    rep = RowReport(str(path))
    return columns.parse_calls(df, fmt, rep), rep, fmt


def test_seattle_2015_format_is_detected_and_every_row_parses(seattle_2015):
    calls, rep, fmt = _parse(seattle_2015)
    assert fmt.format == "seattle-incident-response" and fmt.arrival_only
    assert rep.rows_read == 3701 and rep.rows_dropped == 0
    assert calls["arrived"].min() == pd.Timestamp("2015-01-01 07:15")
    assert calls["time"].isna().all()            # no call time in this file: estimated later
    assert calls["address"].str.len().gt(0).all()


def test_seattle_call_data_format_reads_am_pm_times_and_keeps_rows_without_arrival(seattle_2018):
    calls, rep, fmt = _parse(seattle_2018)
    assert fmt.format == "seattle-call-data" and not fmt.arrival_only
    assert rep.rows_read == 222 and rep.rows_dropped == 0
    first = calls.iloc[0]
    assert first["time"] == pd.Timestamp("2023-11-04 18:08:26")
    assert first["arrived"] == pd.Timestamp("2023-11-04 18:51:06")
    assert calls["arrived"].isna().sum() == 36    # blank "Arrived Time": optional, kept
    assert set(calls["priority_data"].dropna().astype(int)) <= set(range(1, 8))


def test_custom_mapping_from_options(tmp_path):
    p = write_csv(tmp_path / "c.csv", ["When", "Y", "X", "Kind", "Done"],
                  [["2021-03-01 10:00", "47.66", "-122.31", "THEFT", "2021-03-01 10:30"]])
    fmt = columns.apply_column_options(None, ["time=When", "latitude=Y", "longitude=X", "type=Kind",
                                              "cleared=Done"])
    calls, rep, _ = _parse(p, fmt)
    assert rep.rows_dropped == 0 and calls["cleared"].iloc[0] == pd.Timestamp("2021-03-01 10:30")


def test_custom_mapping_file_and_its_errors(tmp_path):
    good = tmp_path / "m.yaml"
    good.write_text("time_zone: Europe/Paris\ncolumns: {time: t, latitude: y, longitude: x, type: k}\n")
    fmt = columns.read_format_file(good)
    assert fmt.time_zone == "Europe/Paris" and fmt.columns.call_time == "t"
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {time: t, latitude: y, longitude: x, type: k, lattitude: z}\n")
    with pytest.raises(DemandError, match="unknown key") as e:
        columns.read_format_file(bad)
    assert e.value.key == "columns.lattitude" and "latitude" in e.value.fix
    tz = tmp_path / "tz.yaml"
    tz.write_text("time_zone: Mars/Olympus\ncolumns: {time: t, latitude: y, longitude: x, type: k}\n")
    with pytest.raises(DemandError, match="unknown time zone"):
        columns.read_format_file(tz)
    notime = tmp_path / "nt.yaml"
    notime.write_text("columns: {latitude: y, longitude: x, type: k}\n")
    with pytest.raises(DemandError, match="call time"):
        columns.read_format_file(notime)


def test_unknown_option_key_suggests_the_right_one():
    with pytest.raises(DemandError, match="unknown key 'lat'"):
        columns.apply_column_options(None, ["lat=Y"])


def test_missing_column_names_the_key_and_a_close_match(tmp_path):
    p = write_csv(tmp_path / "c.csv", ["When", "Latitude", "X", "Kind"], [["2021-03-01 10:00", "1", "2", "a"]])
    fmt = columns.apply_column_options(None, ["time=When", "latitude=Lattitude", "longitude=X", "type=Kind"])
    with pytest.raises(DemandError, match="column 'Lattitude' not found") as e:
        _parse(p, fmt)
    assert e.value.key == "columns.latitude" and "Latitude" in e.value.fix


def test_unknown_format_without_mapping_is_an_error(tmp_path):
    p = write_csv(tmp_path / "c.csv", ["a", "b"], [["1", "2"]])
    with pytest.raises(DemandError, match="unknown call-data format"):
        _parse(p)


def test_utc_offsets_are_converted_to_local_time_across_dst(tmp_path):
    p = write_csv(tmp_path / "c.csv", ["t", "y", "x", "k"],
                  [["2015-03-08T09:30:00Z", "47.66", "-122.31", "THEFT"],    # 01:30 PST (before the change)
                   ["2015-03-08T10:30:00Z", "47.66", "-122.31", "THEFT"]])   # 03:30 PDT (after it)
    fmt = columns.apply_column_options(None, ["time=t", "latitude=y", "longitude=x", "type=k"],
                                       time_zone="America/Los_Angeles")
    calls, _, _ = _parse(p, fmt)
    assert list(calls["time"]) == [pd.Timestamp("2015-03-08 01:30"), pd.Timestamp("2015-03-08 03:30")]
    no_tz = columns.apply_column_options(None, ["time=t", "latitude=y", "longitude=x", "type=k"])
    with pytest.raises(DemandError, match="UTC offsets"):
        _parse(p, no_tz)


def test_bad_rows_are_counted_with_line_numbers_and_values(tmp_path):
    rows = [["2021-03-01 10:00", "47.66", "-122.31", "THEFT"],
            ["not a time", "47.66", "-122.31", "THEFT"],          # line 3
            ["", "47.66", "-122.31", "THEFT"],                    # line 4
            ["2021-03-01 11:00", "", "-122.31", "THEFT"],         # line 5
            ["2021-03-01 12:00", "147.0", "-122.31", "THEFT"]]    # line 6: latitude out of range
    p = write_csv(tmp_path / "c.csv", ["t", "y", "x", "k"], rows)
    fmt = columns.apply_column_options(None, ["time=t", "latitude=y", "longitude=x", "type=k"])
    calls, rep, _ = _parse(p, fmt)
    assert len(calls) == 1 and rep.rows_read == 5 and rep.rows_dropped == 4
    time_reason = next(r for r in rep.dropped if "time" in r)
    assert rep.dropped[time_reason] == 2
    assert rep.examples[time_reason][0] == "line 3: not a time"
    xy_reason = next(r for r in rep.dropped if "coordinates" in r)
    assert rep.dropped[xy_reason] == 2 and rep.examples[xy_reason][0].startswith("line 5")


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DemandError, match="empty"):
        columns.read_table(empty)
    with pytest.raises(DemandError, match="not found"):
        columns.read_table(tmp_path / "nope.csv")
    head = write_csv(tmp_path / "h.csv", ["a"], [])
    assert len(columns.read_table(head)) == 0


def test_parse_times_blank_and_garbage_are_nat():
    s = pd.Series(["2020-01-02 03:04", "", "garbage"])
    out = columns.parse_times(s, time_format=None, time_zone=None)
    assert out.iloc[0] == pd.Timestamp("2020-01-02 03:04") and out.iloc[1:].isna().all()
    assert np.issubdtype(out.dtype, np.datetime64)
