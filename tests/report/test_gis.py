"""GIS export: a real run of the small town, exported as GeoJSON and GeoPackage, read back with a GIS
reader (pyogrio, which is GDAL): layer names, feature counts, CRS, geometry types, known attributes,
and the geometry in the right place (every incident inside the grid cell the run gave it)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.cli import main

pyogrio = pytest.importorskip("pyogrio")
gpd = pytest.importorskip("geopandas")

LAYERS = ["beats", "grid_cells", "stations", "exits", "incidents"]
GEOMETRY = {"beats": "MultiLineString", "grid_cells": "Polygon", "stations": "Point", "exits": "Point",
            "incidents": "Point"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, small_town_dict):
    """A run of the small town with stations as patrol areas, so that beats have areas and owners."""
    d = tmp_path_factory.mktemp("gis")
    data = small_town_dict(beats={"areas": "stations"}, force={"checkpoints": {"at": ["exits"], "officers_each": 2}})
    src = d / "town.yaml"
    src.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = d / "run"
    assert main(["run", str(src), "--quiet", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def geojson_dir(run_dir):
    assert main(["export", str(run_dir), "--format", "geojson", "--quiet"]) == 0
    return run_dir / "gis"


@pytest.fixture(scope="module")
def gpkg(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("gpkg") / "layers"
    assert main(["export", str(run_dir), "--format", "gpkg", "--out", str(out), "--quiet"]) == 0
    return out / "patrolsim.gpkg"


def _expected_counts(run_dir) -> dict:
    inc = pd.read_parquet(run_dir / "incidents.parquet")
    beats = pd.read_parquet(run_dir / "beats.parquet")
    sc = yaml.safe_load((run_dir / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    syn = sc["network"]["synthetic"]
    return {"beats": len(beats), "stations": syn["stations"] + 1, "exits": syn["exits"], "incidents": len(inc),
            "grid_cells": None}


def test_geojson_layers_read_back(run_dir, geojson_dir):
    assert sorted(p.name for p in geojson_dir.iterdir() if not p.name.startswith(".")) == \
        sorted(f"{n}.geojson" for n in LAYERS)
    assert (geojson_dir / ".patrolsim-results").is_file()  # a folder patrolsim wrote (sim.outputs)
    expected = _expected_counts(run_dir)
    for name in LAYERS:
        info = pyogrio.read_info(geojson_dir / f"{name}.geojson")
        assert info["crs"] == "EPSG:4326", name
        assert info["geometry_type"] == GEOMETRY[name], name
        if expected[name] is not None:
            assert info["features"] == expected[name], name
        doc = json.loads((geojson_dir / f"{name}.geojson").read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection" and "crs" not in doc   # RFC 7946: WGS84 implied
    # longitude first: the synthetic town lies near 104.28 E, 30.98 N
    stations = gpd.read_file(geojson_dir / "stations.geojson")
    assert stations.geometry.x.between(104, 105).all() and stations.geometry.y.between(30, 32).all()
    assert "city bureau" in set(stations["name"])


def test_gpkg_layers_read_back(run_dir, gpkg):
    layers = {name: geom for name, geom in pyogrio.list_layers(gpkg)}
    assert layers == GEOMETRY
    expected = _expected_counts(run_dir)
    for name in LAYERS:
        info = pyogrio.read_info(gpkg, layer=name)
        assert info["crs"] == "EPSG:4326"
        if expected[name] is not None:
            assert info["features"] == expected[name], name


def test_incidents_keep_their_outcome(run_dir, gpkg):
    inc = pd.read_parquet(run_dir / "incidents.parquet")
    layer = pyogrio.read_dataframe(gpkg, layer="incidents")
    merged = layer.merge(inc, on=["replication", "incident"], suffixes=("", "_run"))
    assert len(merged) == len(inc)
    np.testing.assert_allclose(merged["response_time_s"], merged["response_time_s_run"], equal_nan=True)
    assert (merged["response_within_line"].astype(bool) == merged["response_within_line_run"]).all()
    np.testing.assert_allclose(merged.geometry.x, merged["lon"], atol=1e-6)
    np.testing.assert_allclose(merged.geometry.y, merged["lat"], atol=1e-6)


def test_grid_cells_hold_their_incidents_and_the_run_compliance(run_dir, gpkg):
    cells = pyogrio.read_dataframe(gpkg, layer="grid_cells")
    inc = pyogrio.read_dataframe(gpkg, layer="incidents")
    joined = gpd.sjoin(inc, cells[["grid_cell", "geometry"]], predicate="within", how="left")
    assert (joined["grid_cell_left"] == joined["grid_cell_right"]).all()
    by_cell = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["by_grid_cell"]
    assert by_cell
    got = cells.set_index("grid_cell")
    for cell, stats in by_cell.items():
        assert got.loc[cell, "response_within_line"] == pytest.approx(stats["response_within_line"]["mean"])
    level = pd.read_parquet(run_dir / "incidents.parquet")["alert_level"].iloc[0]
    assert got[f"response_within_line_{level}"].notna().any()
    for column in ("backup_within_line", "response_within_line_ci_lo", "lines_hold",
                   "backup_within_line_red", "incidents_per_replication_green"):
        assert column in got.columns


def test_beats_have_owners_and_lie_on_their_streets(run_dir, geojson_dir):
    beats = gpd.read_file(geojson_dir / "beats.geojson")
    table = pd.read_parquet(run_dir / "beats.parquet")
    assert sorted(beats["beat"]) == sorted(table["beat"])
    patrol = beats[beats["kind"].isin(["car", "bicycle", "foot"])]
    assert patrol["owner_unit"].notna().all() and (patrol["owner_kind"] == patrol["kind"]).all()
    assert not beats.geometry.is_empty.any()
    # street length drawn matches the beat table (a few per cent: lines are straight between nodes)
    lengths_km = beats.to_crs(3857).geometry.length / 1000 * np.cos(np.radians(30.98))
    ratio = lengths_km.sum() / table["street_km"].sum()
    assert 0.8 < ratio < 1.2


def test_exits_say_their_checkpoints(geojson_dir):
    exits = gpd.read_file(geojson_dir / "exits.geojson")
    assert (exits["checkpoint_officers"] == 2).all() and set(exits["checkpoint_levels"]) == {"orange red"}


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_not_a_run_folder_is_one_line_and_exit_2(tmp_path, capsys, make):
    target = tmp_path / "nothing"
    if make == "empty":
        target.mkdir()
    assert main(["export", str(target), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("patrolsim: error: ") and "\n" not in err and "patrolsim run" in err
    assert not (target / "gis").exists() and (make == "empty" or not target.exists())


def test_export_never_replaces_the_run_or_a_folder_of_other_files(run_dir, tmp_path, capsys):
    assert main(["export", str(run_dir), "--out", str(run_dir), "--quiet"]) == 2
    assert "--out" in capsys.readouterr().err and (run_dir / "incidents.parquet").is_file()
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["export", str(run_dir), "--out", str(other), "--quiet"]) == 2
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"
