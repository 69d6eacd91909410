"""``patrolsim fit`` end to end: the real Seattle fit's outputs, and bad input (exit 2, one line,
no output left behind)."""

from __future__ import annotations

import pytest

from sim.cli import main
from tests.calls.conftest import write_csv


# --------------------------------------------------------------------------- the real fit
def test_real_fit_writes_the_model_the_page_and_the_holdout(real_fit):
    f = real_fit["fitted"]
    assert len(f["hour_of_week_profile"]) == 168
    assert 11 < f["incidents_per_day"] < 14                  # 2,227 calls over 181 days
    assert abs(sum(t["share"] for t in f["types"]) - 1) < 1e-4
    assert {t["name"].split("-")[0] for t in f["types"]} == {"violent", "disturbance", "traffic", "theft",
                                                            "assistance"}
    # violent incidents are the major ones (encirclement), as in the default scenario
    assert all(t["major"] == t["name"].startswith("violent") for t in f["types"])
    # arrival-only data: the shift is said, in the file and its notes
    assert f["source"]["call_time"]["estimated"] is True
    assert any("response delay" in n for n in f["source"]["notes"])
    # nothing dropped silently: every row is used or counted
    src = f["source"]
    assert src["rows_used"] + sum(src["dropped_by_reason"].values()) == src["rows_read"] == 3701
    off = next(k for k in src["dropped_by_reason"] if "off the road network" in k)
    assert src["examples"][off][0].startswith("line ")
    page = real_fit["diagnostics"]
    for name in ("index.html", "diagnostics.json", "hour_of_week.png", "intensity_map.png", "dispersion.png",
                 "qq_rescaled.png", "sim_vs_observed.png"):
        assert (page / name).stat().st_size > 0, name
    assert "OpenStreetMap contributors" in (page / "index.html").read_text()


def test_simulated_counts_match_the_data(real_fit):
    """Counts sampled by the simulator from the fitted file against the data's (January-June 2015).

    Tolerances: 20 replications of 182 days give 3,640 simulated days, so the
    simulated mean is within about 1% of the model's; the observed mean of 181
    over-dispersed days has a standard error of about 0.45 calls (4%). The KS
    distance between the daily-count distributions for 181 days has a 5%
    critical value of about 0.10.
    """
    s = real_fit["fitted"]["simulated_vs_observed"]
    d = s["daily_counts"]
    assert d["simulated"]["mean"] == pytest.approx(d["observed"]["mean"], rel=0.08)
    assert d["simulated"]["variance"] == pytest.approx(d["observed"]["variance"], rel=0.35)
    assert d["ks_statistic"] < 0.10
    assert s["hourly_counts"]["ks_statistic"] < 0.05
    assert s["hour_of_day_mean"]["correlation"] > 0.85
    ks = real_fit["fitted"]["time_rescaling_ks"]
    assert ks["daily_level"] < ks["constant_level"] < 0.1


# --------------------------------------------------------------------------- bad input
def _fit(tmp_path, csv, osm, *extra):
    out = tmp_path / "out" / "demand.yaml"
    rc = main(["fit", str(csv), "--network", str(osm), "--out", str(out), "--quiet", *extra])
    return rc, out


def _assert_failed(rc, out, capsys, text):
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("patrolsim: error:"), err
    assert text in err, err
    assert not out.exists() and not (out.parent / "demand.diagnostics").exists()
    if out.parent.exists():
        assert list(out.parent.iterdir()) == []               # no temporary file left either
    return err


def test_missing_column(tmp_path, seattle_2015_rows, seattle_osm, capsys):
    header, rows = seattle_2015_rows
    drop = header.index("initial_type_group")
    csv = write_csv(tmp_path / "c.csv", [h for i, h in enumerate(header) if i != drop],
                    [[v for i, v in enumerate(r) if i != drop] for r in rows[:50]])
    rc, out = _fit(tmp_path, csv, seattle_osm, "--col", "arrived=at_scene_time", "--col", "latitude=latitude",
                   "--col", "longitude=longitude", "--col", "type=initial_type_group")
    _assert_failed(rc, out, capsys, "column 'initial_type_group' not found")


def test_all_times_unparseable(tmp_path, seattle_2015_rows, seattle_osm, capsys):
    header, rows = seattle_2015_rows
    t = header.index("at_scene_time")
    bad = [r[:t] + ["1/2/2015 7pm"] + r[t + 1:] for r in rows[:50]]
    rc, out = _fit(tmp_path, write_csv(tmp_path / "c.csv", header, bad), seattle_osm)
    err = _assert_failed(rc, out, capsys, "none usable")
    assert "50 without a readable arrival time" in err and "line 2" in err


def test_coordinates_far_from_the_network(tmp_path, seattle_2018, seattle_osm, capsys):
    rc, out = _fit(tmp_path, seattle_2018, seattle_osm)
    err = _assert_failed(rc, out, capsys, "no call lies on the road network")
    assert "222 of 222 calls in the time window lie outside the network" in err and "nearest 2," in err


def test_empty_file(tmp_path, seattle_osm, capsys):
    (tmp_path / "e.csv").write_text("")
    rc, out = _fit(tmp_path, tmp_path / "e.csv", seattle_osm)
    _assert_failed(rc, out, capsys, "empty")


def test_header_only(tmp_path, seattle_2015_rows, seattle_osm, capsys):
    rc, out = _fit(tmp_path, write_csv(tmp_path / "h.csv", seattle_2015_rows[0], []), seattle_osm)
    _assert_failed(rc, out, capsys, "no rows")


def test_one_row(tmp_path, seattle_2015_rows, seattle_osm, capsys):
    header, rows = seattle_2015_rows
    rc, out = _fit(tmp_path, write_csv(tmp_path / "one.csv", header, rows[:1]), seattle_osm)
    _assert_failed(rc, out, capsys, "only 1 usable call")


def test_missing_file_and_bad_options(tmp_path, seattle_2015, seattle_osm, capsys):
    rc, out = _fit(tmp_path, tmp_path / "nope.csv", seattle_osm)
    _assert_failed(rc, out, capsys, "call file not found")
    rc, out = _fit(tmp_path, seattle_2015, seattle_osm, "--from", "last tuesday")
    _assert_failed(rc, out, capsys, "--from")
    rc, out = _fit(tmp_path, seattle_2015, tmp_path / "net.txt")
    _assert_failed(rc, out, capsys, "not a scenario or OpenStreetMap file")
    rc, out = _fit(tmp_path, seattle_2015, seattle_osm, "--holdout-from", "2015-07-01")
    _assert_failed(rc, out, capsys, "--holdout")


def test_some_bad_rows_are_counted_and_the_fit_goes_on(tmp_path, seattle_2015_rows, seattle_osm, capsys):
    header, rows = seattle_2015_rows
    t, lat = header.index("at_scene_time"), header.index("latitude")
    rows = [list(r) for r in rows[:600]]
    rows[10][t] = "yesterday"                 # line 12
    rows[20][lat] = "47.0"                    # line 22: about 70 km south
    rows[30][lat] = ""                        # line 32
    rc, out = _fit(tmp_path, write_csv(tmp_path / "c.csv", header, rows), seattle_osm, "--no-figures")
    assert rc == 0
    from sim.fitted_file import read_fitted

    src = read_fitted(out)["source"]
    by = src["dropped_by_reason"]
    reason = {k.split(" (")[0]: k for k in by}
    assert by[reason["without a readable arrival time"]] == 1
    assert src["examples"][reason["without a readable arrival time"]] == ["line 12: yesterday"]
    assert by[reason["without readable coordinates"]] == 1
    assert src["examples"][reason["off the road network"]][0].startswith("line 22:")
    assert src["rows_used"] == 600 - sum(by.values())


def test_a_failed_fit_leaves_an_earlier_output_untouched(tmp_path, seattle_2015_rows, seattle_osm, capsys):
    header, rows = seattle_2015_rows
    good = write_csv(tmp_path / "good.csv", header, rows[:400])
    rc, out = _fit(tmp_path, good, seattle_osm, "--no-figures")
    assert rc == 0
    before = out.read_bytes()
    rc, _ = _fit(tmp_path, write_csv(tmp_path / "one.csv", header, rows[:1]), seattle_osm)
    assert rc == 2 and out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["demand.diagnostics", "demand.yaml"]


def test_custom_mapping_file_with_call_times_needs_no_shift(tmp_path, seattle_2015_rows, seattle_osm):
    header, rows = seattle_2015_rows
    pick = [header.index(c) for c in ("at_scene_time", "latitude", "longitude", "event_clearance_group")]
    csv = write_csv(tmp_path / "c.csv", ["Call Time", "Lat", "Lon", "Group"], [[r[i] for i in pick] for r in rows[:500]])
    mapping = tmp_path / "c.columns.yaml"
    mapping.write_text("time_zone: America/Los_Angeles\n"
                       "columns: {time: Call Time, latitude: Lat, longitude: Lon, type: Group}\n")
    rc, out = _fit(tmp_path, csv, seattle_osm, "--columns", str(mapping), "--no-figures")
    assert rc == 0
    from sim.fitted_file import read_fitted

    src = read_fitted(out)["source"]
    assert src["call_time"] == {"estimated": False, "column": "Call Time"} and src["format"] == "custom"


def test_delay_from_a_file_with_both_times(tmp_path, seattle_2015_rows, seattle_2018, seattle_osm):
    header, rows = seattle_2015_rows
    csv = write_csv(tmp_path / "c.csv", header, rows[:400])
    rc, out = _fit(tmp_path, csv, seattle_osm, "--delay-from", str(seattle_2018), "--no-figures")
    assert rc == 0
    from sim.fitted_file import read_fitted

    ct = read_fitted(out)["source"]["call_time"]
    assert ct["estimated"] and ct["source"].startswith("estimated from spd_call_data_sample_2018_2023.csv")
    assert ct["response_delay_s"]["by_priority"][1] == 498.0
