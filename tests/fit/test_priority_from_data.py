"""The fit takes each call's priority from the file's own column where the file has one (SPD Call
Data's ``Priority``), and from the type table where it has none (the 2015 U District file).

Real data, read in place (fails under CI, skips elsewhere when ../shared/data is missing). The SPD
Call Data sample lies in the East precinct, outside the U District extract the repository tests
with, so its calls are placed at the coordinates of the 2015 file's first 222 calls: call types,
priorities and times are the sample's own, only the places are moved onto the network.
"""

from __future__ import annotations

import csv
from collections import Counter

from sim.calls.calltypes import read_type_table
from sim.cli import main
from sim.fitted_file import read_fitted
from tests.calls.conftest import write_csv

TYPE_TABLE = "sim/data/seattle_call_types.csv"


def _read(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _types_by_priority(fitted: dict) -> dict[int, int]:
    out = Counter()
    for t in fitted["types"]:
        out[t["priority"]] += t["calls"]
    return dict(out)


def test_call_data_priorities_come_from_its_priority_column(tmp_path, seattle_2018, seattle_2015_rows,
                                                             seattle_osm, capsys, repo_root):
    header, rows = _read(seattle_2018)
    h15, rows15 = seattle_2015_rows
    lon, lat = header.index("Blurred_Longitude"), header.index("Blurred_Latitude")
    for r, r15 in zip(rows, rows15):
        r[lon], r[lat] = r15[h15.index("longitude")], r15[h15.index("latitude")]
    calls = write_csv(tmp_path / "call_data_on_udistrict.csv", header, rows)
    out = tmp_path / "fit" / "demand.yaml"
    assert main(["fit", str(calls), "--network", str(seattle_osm), "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    f = read_fitted(out)
    pr, src = f["source"]["priority"], f["source"]
    assert pr["column"] == "Priority" and pr["from_table"] == 0 and pr["from_data"] == src["rows_used"]
    assert "priorities            from the file's 'Priority' column: P1 " in printed

    # the fitted types carry the file's priorities: per priority, the calls the file gives it, less
    # the rows the fit left out (off the network)
    in_file = Counter(int(r[header.index("Priority")]) for r in rows)
    fitted = _types_by_priority(f)
    assert fitted == {int(p): n for p, n in pr["calls_by_priority"].items()}
    assert all(0 <= in_file[p] - fitted.get(p, 0) for p in in_file)
    assert sum(in_file.values()) - sum(fitted.values()) == src["rows_dropped"] <= 5
    # which the type table could not have given: it never assigns priority 5 (16 calls in the file)
    table = read_type_table(repo_root / TYPE_TABLE)
    assert 5 not in set(table.rules["priority"]) and fitted[5] >= 10
    # a call type with several priorities in the data becomes one fitted type per priority
    theft = sorted(t["name"] for t in f["types"] if t["name"].startswith("theft-"))
    assert {"theft-p1-2u", "theft-p2-1u", "theft-p3-1u"} <= set(theft), theft


def test_a_file_without_priorities_takes_the_type_tables(real_fit, repo_root):
    """The 2015 file has no priority column: every fitted priority is the table's."""
    f = real_fit["fitted"]
    pr = f["source"]["priority"]
    assert pr["column"] is None and pr["from_data"] == 0 and pr["from_table"] == f["source"]["rows_used"]
    table = read_type_table(repo_root / TYPE_TABLE)
    assert set(_types_by_priority(f)) <= set(table.rules["priority"])
    assert _types_by_priority(f) == {int(p): n for p, n in pr["calls_by_priority"].items()}
