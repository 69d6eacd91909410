"""scenarios/liechtenstein.yaml: a real county-scale network (OpenStreetMap 2015, ../shared/data).

Its bike and walk graphs (about 4,600 and 5,100 nodes) are above the full-matrix
size, so bicycle (and foot) units travel on a large-graph backend: a day run with the
kernel (the default) or the bounded backend must dispatch exactly as with the
per-target backend (all exact; on real street lengths fastest paths have no ties).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, SHARED_DATA, require_shared

LIECHTENSTEIN_OSM = SHARED_DATA / "osm_fixtures" / "liechtenstein_2015_roads.osm.bz2"


@pytest.fixture(scope="module")
def li_scenario(shared_data):
    if not LIECHTENSTEIN_OSM.is_file():
        require_shared(f"the Liechtenstein extract {LIECHTENSTEIN_OSM.resolve()}")
    from sim.scenario_file import load_scenario

    return load_scenario(REPO_ROOT / "scenarios" / "liechtenstein.yaml")


@pytest.fixture(scope="module")
def li_city(li_scenario):
    """Loaded once (about 90 s through osmnx the first time, then from the cache)."""
    from sim.network import load_city

    return load_city(li_scenario, quiet=True)


@pytest.mark.slow
def test_liechtenstein_graphs(li_city):
    """About 1,500 drive and 4,600 to 5,100 bike and walk nodes (shared/data README), one strong part each."""
    from tests.network.test_osm import _n_strong

    drive, bike, walk = (li_city.graphs[m] for m in ("drive", "bike", "walk"))
    assert 1300 <= drive.n_nodes <= 1700
    assert 4000 < bike.n_nodes <= 5500 and 4000 < walk.n_nodes <= 5500
    for g in (drive, bike, walk):
        assert _n_strong(g) == 1
    # the Rhine valley between Balzers and Ruggell, the hills to the Austrian border
    assert drive.lat.min() > 47.04 and drive.lat.max() < 47.28
    assert drive.lon.min() > 9.45 and drive.lon.max() < 9.65
    assert 80 < drive.area_km2() < 170 and 250 < drive.street_km() < 400
    assert drive.edge_speed_kph.min() > 0 and drive.edge_speed_kph.max() <= 130


@pytest.mark.slow
def test_liechtenstein_stations_are_the_named_towns(li_city, li_scenario):
    spec = li_scenario.network.osm
    assert [s.name for s in spec.stations] == ["Vaduz", "Schaan", "Triesen", "Eschen"]
    drive = li_city.graphs["drive"]
    places = li_city.station_place
    assert len(set(places.tolist())) == len(places) == 4
    for s, p in zip(spec.stations, places.tolist()):   # each station within 300 m of its town centre
        dy = (drive.lat[p] - s.lat) * 111_000
        dx = (drive.lon[p] - s.lon) * 111_000 * np.cos(np.radians(s.lat))
        assert np.hypot(dx, dy) < 300
    assert li_city.place_weight.sum() == pytest.approx(38_000)


def _day(li_scenario, li_city, backend: str, monkeypatch):
    from sim.experiment import prepare, run_replication
    from sim.scenario import scenario_from_dict

    monkeypatch.setenv("PATROLSIM_TRAVEL_BACKEND", backend)
    data = li_scenario.model_dump(mode="json")
    data.update(horizon_days=1, warmup_days=0, replications=1)
    sc = scenario_from_dict(data, source_file=str(REPO_ROOT / "scenarios" / "liechtenstein.yaml"))
    ctx = prepare(sc, quiet=True, city=li_city)
    assert {m: mt.oracle.backend for m, mt in ctx.travel.items()}["bike"] == backend
    assert ctx.travel["bike"].oracle.time_matrix is None        # above the full-matrix size
    return run_replication(ctx, 0)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["kernel", "bounded"])
def test_liechtenstein_day_is_the_same_on_both_backends(li_scenario, li_city, monkeypatch, backend):
    new = _day(li_scenario, li_city, backend, monkeypatch)
    old = _day(li_scenario, li_city, "per-target", monkeypatch)
    assert len(new.incidents) > 20
    assert new.incidents["first_arrival_s"].notna().all()           # every call reached
    kinds = set(new.incidents["first_unit_kind"].tolist())
    assert "car" in kinds
    pd.testing.assert_frame_equal(new.incidents, old.incidents)
    pd.testing.assert_frame_equal(new.units, old.units)
    assert 0.0 < new.metrics["response_within_line"] <= 1.0
    assert new.metrics["response_time_p50_s"] < 900
