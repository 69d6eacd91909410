"""Call files and date options outside the dates patrolsim accepts (1900 to a year from today).

Before: year-2999 times overflowed pandas' nanosecond clock (a traceback), 1850s
times stretched the fit over 165 years without a word, and ``--from 0001-01-01``
was a traceback. Now: a few such rows are left out and counted, a majority is a
one-line error naming the file, the column, the count and the fix.
"""

from __future__ import annotations

import pytest

from sim.cli import main
from tests.calls.conftest import write_csv


def _with_years(rows, t, year, n):
    out = [list(r) for r in rows]
    for r in out[:n]:
        r[t] = year + r[t][4:]
    return out


def _fit(tmp_path, csv, osm, *extra):
    out = tmp_path / "out" / "demand.yaml"
    return main(["fit", str(csv), "--network", str(osm), "--out", str(out), "--quiet", "--no-figures", *extra]), out


def _one_line_error(rc, out, capsys):
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("patrolsim: error:"), err
    assert "Traceback" not in err and not out.exists()
    return err


@pytest.mark.parametrize("year,n", [("2999", 400), ("2999", 300), ("1850", 300)])
def test_mostly_out_of_range_times_are_one_line(tmp_path, seattle_2015_rows, seattle_osm, capsys, year, n):
    header, rows = seattle_2015_rows
    t = header.index("at_scene_time")
    csv = write_csv(tmp_path / "c.csv", header, _with_years(rows[:400], t, year, n))
    rc, out = _fit(tmp_path, csv, seattle_osm)
    err = _one_line_error(rc, out, capsys)
    assert str(csv) in err and "column 'at_scene_time'" in err
    assert f"{n} of 400 times are not usable dates ({n} outside 1900-01-01 to " in err
    assert f"line 2: '{year}-" in err and "fix: check the time column and its format" in err


def test_a_few_out_of_range_times_are_left_out_and_counted(tmp_path, seattle_2015_rows, seattle_osm):
    header, rows = seattle_2015_rows
    t = header.index("at_scene_time")
    csv = write_csv(tmp_path / "c.csv", header, _with_years(rows[:400], t, "2999", 3))
    rc, out = _fit(tmp_path, csv, seattle_osm)
    assert rc == 0
    from sim.fitted_file import read_fitted

    src = read_fitted(out)["source"]
    reason = "with an arrival time before 1900 or over a year from today ('at_scene_time')"
    assert src["dropped_by_reason"][reason] == 3
    assert src["examples"][reason][0].startswith("line 2: 2999-")
    assert src["window"]["end"] < "2016"                      # the window is the real calls'


@pytest.mark.parametrize("option,value", [("--from", "0001-01-01"), ("--to", "9999-12-31"),
                                          ("--from", "2999-01-01"), ("--to", "NaT")])
def test_absurd_window_options_are_one_line(tmp_path, seattle_2015_rows, seattle_osm, capsys, option, value):
    header, rows = seattle_2015_rows
    csv = write_csv(tmp_path / "c.csv", header, rows[:100])
    rc, out = _fit(tmp_path, csv, seattle_osm, option, value)
    err = _one_line_error(rc, out, capsys)
    assert option in err and ("outside the dates patrolsim accepts" in err or "cannot read" in err)
