"""The real SPD call sample: read as calibrate reads it, and the shipped calibrated Seattle scenario.

Needs ``../shared/data`` (fails under CI=true when missing, skips elsewhere).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT, require_shared

SHIPPED = REPO_ROOT / "scenarios" / "seattle_calibrated.yaml"
SECTOR = REPO_ROOT / "scenarios" / "seattle_udistrict_sector.yaml"
FIT_JSON = REPO_ROOT / "docs" / "img" / "calibration_seattle.fit.json"
#: The observed P2 median's 95% bootstrap interval (51 calls; 4,000 resamples of the sample, seed 0):
#: 15.7 to 44.2 minutes around 27.2. With plausible availability the shipped scenario does NOT reach it
#: (docs/calibration.md: the model separates P2 from P3 only at saturation); the test holds that stated
#: misfit, so a model change that closes the gap fails here and the docs must be rewritten.
P2_OBSERVED_MEDIAN_BAND_MIN = (15.7, 44.2)
#: The shipped P2 median (replications 0-1 here) within this share of the fit JSON's (replications 0-2, the
#: same seeds): they differ only by the third replication. Measured: 13.0 min here against 12.6 in the fit;
#: the single replications' medians are 13.0, 12.8 and 12.1 min. 20% leaves room for that and still fails
#: when the scenario or the model moves the answer (the scenario as given answers in about 3 minutes).
P2_MEDIAN_REL_TOL = 0.2


@pytest.fixture(scope="module")
def spd_sample(shared_data) -> Path:
    p = shared_data / "seattle_udistrict" / "spd_call_data_sample_2018_2023.csv"
    if not p.is_file():
        require_shared(f"the SPD call sample {p.resolve()}")
    return p


def test_reads_the_spd_call_data_sample(spd_sample):
    """Queued-to-arrival per priority: the medians sim.calls.delay measured on the same file, the rows
    without an arrival and the on-view events left out and counted."""
    from sim.calibrate.observed import read_observed
    from sim.calls.delay import DEFAULT_DELAY_BY_PRIORITY_S

    obs = read_observed(spd_sample)
    assert obs.layout == "seattle-call-data" and obs.rows_read == 222
    assert {p: v.size for p, v in obs.times_s.items()} == {1: 28, 2: 51, 3: 71, 4: 7, 5: 16}
    for p in (1, 2, 3, 5):
        assert float(np.median(obs.times_s[p])) == DEFAULT_DELAY_BY_PRIORITY_S[p]
    assert obs.left_out == {"no arrival time (no unit arrived)": 36,
                            "arrival at or before the call (officer-initiated, on view)": 13}
    assert obs.lon is not None and np.isfinite(obs.lon).all()


def test_shipped_calibrated_scenario_runs_and_reproduces_its_stated_fit(spd_sample, seattle_osm):
    """scenarios/seattle_calibrated.yaml loads as a variant of seattle_udistrict_sector.yaml (the stated,
    unfitted sector force), its fitted availability values are inside their searched ranges, it runs, and
    its simulated P2 median (queue to first arrival) matches the fit JSON's within the tolerance above and
    lies below the observed median's interval, as docs/calibration.md states."""
    import json

    from sim import api
    from sim.scenario_file import load_scenario

    assert SHIPPED.is_file()
    text = SHIPPED.read_text(encoding="utf-8")
    assert "base: \"seattle_udistrict_sector.yaml\"" in text
    assert "spd_call_data_sample_2018_2023.csv" in text.splitlines()[1]
    sc = load_scenario(SHIPPED)
    sector = load_scenario(SECTOR)
    base = load_scenario(REPO_ROOT / "scenarios" / "seattle_udistrict.yaml")
    # the force is the sector file's assumption, not a fitted key
    assert sc.force.total_officers == sector.force.total_officers < base.force.total_officers
    assert sc.availability.interrupt_officer_initiated == [1]
    fit = json.loads(FIT_JSON.read_text(encoding="utf-8"))
    for key in ("availability.officer_initiated_per_h", "availability.officer_initiated_mean_s"):
        f = fit["fitted"][key]
        lo, hi = f["range"]
        assert lo < f["value"] < hi and not f["at_range_end"], (key, f)
    assert sc.availability.officer_initiated_per_h == fit["fitted"]["availability.officer_initiated_per_h"]["value"]
    world = api.prepare(sc)
    times = []
    for r in range(2):
        inc = api.run_one(sc, r, world=world).incidents
        inc = inc[inc["in_window"] & (inc["priority"] == 2)]
        times.append(inc["response_time_s"].to_numpy(float))
    p2_min = float(np.median(np.concatenate(times))) / 60
    fit_p2_min = float(fit["goodness_of_fit"]["2"]["simulated_quantiles_s"][2]) / 60
    assert abs(p2_min - fit_p2_min) <= P2_MEDIAN_REL_TOL * fit_p2_min, (p2_min, fit_p2_min)
    assert p2_min < P2_OBSERVED_MEDIAN_BAND_MIN[0], p2_min
