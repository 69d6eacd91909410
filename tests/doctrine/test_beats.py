"""网格化布警: patrol areas and segments cover the town, balanced beats even out workload."""

import json

import numpy as np
import pytest

from sim import beats
from sim.errors import ScenarioError
from sim.experiment import prepare


def test_split_units_largest_remainder():
    assert beats.split_units(10, np.array([1, 1, 2])).tolist() == [3, 2, 5]   # tie: the first area
    assert beats.split_units(3, np.array([5, 1, 1])).tolist() == [1, 1, 1]   # one per area when possible
    assert beats.split_units(0, np.array([1, 1])).tolist() == [0, 0]


def test_point_in_polygon():
    ring = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], float)
    inside = beats.point_in_polygon(np.array([0.5, 1.5, 0.1]), np.array([0.5, 0.5, 0.9]), ring)
    assert inside.tolist() == [True, False, True]


@pytest.mark.parametrize("areas", ["city", "grid", "stations"])
def test_beats_partition_every_place_at_every_level(make_small, areas):
    ctx = prepare(make_small(**{"beats.areas": areas, "alert.mode": "adaptive"}))
    dep = ctx.deployment
    n = ctx.city.n_places
    for (level, kind), index in dep.beat_index.items():
        if dep.count(kind=kind, role="patrol", level=level) == 0:
            continue
        assert (index >= 0).all(), (level, kind)
        # every beat at this level and kind has exactly one owner on patrol at this level
        for bid in np.unique(index):
            owners = [u for u in dep.units if u.role == "patrol" and u.on_duty(level)
                      and u.assignment(level) is not None and u.assignment(level)[0] == bid]
            assert len(owners) == 1, (level, kind, int(bid))
    assert all(b["street_km"] >= 0 and b["places"] > 0 for b in dep.beats)


def test_balanced_segments_even_out_workload():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 3000, 600), rng.uniform(0, 3000, 600)
    w = np.exp(-((x - 600) ** 2 + (y - 600) ** 2) / (2 * 500.0 ** 2)) + 0.02   # a hot corner
    spread = {}
    for name, lab in (("kmeans", beats.weighted_kmeans(x, y, w, 6)),
                      ("balanced", beats.balanced_segments(x, y, w, 6))):
        load = np.bincount(lab, weights=w, minlength=6)
        spread[name] = load.max() / load.mean()
    assert spread["balanced"] < spread["kmeans"]
    assert spread["balanced"] < 1.15   # the method stops at 10% of the mean; 15% leaves room for rounding


def test_geojson_areas(make_small, tmp_path):
    ctx = prepare(make_small())
    g = ctx.city.places
    mid = float(np.median(g.lon))
    lo, hi = float(g.lat.min()) - 0.01, float(g.lat.max()) + 0.01
    w, e = float(g.lon.min()) - 0.01, float(g.lon.max()) + 0.01
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "west"},
         "geometry": {"type": "Polygon", "coordinates": [[[w, lo], [mid, lo], [mid, hi], [w, hi], [w, lo]]]}},
        {"type": "Feature", "properties": {"name": "east"},
         "geometry": {"type": "Polygon", "coordinates": [[[mid, lo], [e, lo], [e, hi], [mid, hi], [mid, lo]]]}}]}
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(fc))
    ctx = prepare(make_small(**{"beats.areas": "geojson", "beats.geojson": str(path)}))
    assert ctx.deployment.areas.names == ("west", "east")
    west = ctx.deployment.areas.label == 0
    assert (g.lon[west] <= mid + 1e-9).all()
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(ScenarioError, match="beats.geojson"):
        prepare(make_small(**{"beats.areas": "geojson", "beats.geojson": str(bad)}))
