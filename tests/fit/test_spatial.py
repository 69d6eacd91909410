"""The smoothed spatial intensity, with the bandwidth chosen by held-out calls."""

from __future__ import annotations

import numpy as np
import pytest

from sim.fit import spatial


@pytest.fixture(scope="module")
def town(small_scenario):
    from sim.network import load_city

    return load_city(small_scenario, quiet=True)


def test_spread_rows_sum_to_one_and_wide_kernels_tend_to_uniform(town):
    g = town.places
    m = spatial.spread_matrix(g, 100.0)
    assert np.allclose(np.asarray(m.sum(axis=1)).ravel(), 1.0)
    counts = np.zeros(g.n_nodes)
    counts[0] = 10
    wide = spatial.intensity(counts, spatial.spread_matrix(g, 1e5), spatial.baseline_prob(g), 0.0)
    assert np.allclose(wide, spatial.baseline_prob(g), rtol=1e-3, atol=1e-9)
    narrow = spatial.intensity(counts, spatial.spread_matrix(g, 1.0), spatial.baseline_prob(g), 0.0)
    assert narrow[0] == pytest.approx(1.0)


def _calls(g, rng, n, hot_share):
    base = spatial.baseline_prob(g)
    hot = np.array([5, 40, 80])
    k = rng.random(n) < hot_share
    place = np.where(k, rng.choice(hot, n), rng.choice(g.n_nodes, n, p=base))
    return place, rng.integers(0, 5, n), hot


def test_hot_spots_are_found_and_beat_the_uniform_baseline(town):
    g = town.places
    rng = np.random.default_rng(7)
    place, fold, hot = _calls(g, rng, 1500, 0.5)
    sel = spatial.select_bandwidth(g, place, fold)
    assert sel["cv_loglik_per_call"] > sel["cv_baseline_loglik_per_call"] + 0.5
    prob = spatial.intensity(np.bincount(place, minlength=g.n_nodes).astype(float),
                             spatial.spread_matrix(g, sel["bandwidth_m"]), spatial.baseline_prob(g),
                             sel["uniform_share"])
    top = spatial.hot_spots(g, prob, place, np.array([""] * place.size, dtype=object), top=3)
    assert {int(np.argmin(np.hypot(g.lon - t["lon"], g.lat - t["lat"]))) for t in top} == set(hot)


def test_uniform_calls_choose_heavy_smoothing(town):
    g = town.places
    rng = np.random.default_rng(8)
    place, fold, _ = _calls(g, rng, 1500, 0.0)
    sel = spatial.select_bandwidth(g, place, fold)
    # on calls spread like the baseline, the choice is (almost) the baseline itself
    assert sel["bandwidth_m"] >= 300 or sel["uniform_share"] >= 0.3
    assert sel["cv_loglik_per_call"] > sel["cv_baseline_loglik_per_call"] - 0.05


def test_seattle_hot_spots_and_snap_distances(real_fit):
    f = real_fit["fitted"]
    snap = f["source"]["snap_distance_m"]
    # block centroids: the data README says median 62 m from the nearest drivable node, 98% within 150 m
    assert 40 < snap["median_m"] < 80 and snap["p98_m"] < 160
    hot = f["spatial"]["hot_spots"]
    assert hot[0]["label"].endswith("UNIVERSITY WY NE") and hot[0]["lift_over_uniform"] > 10
    assert f["spatial"]["cv_loglik_per_call"] > f["spatial"]["cv_uniform_loglik_per_call"]
