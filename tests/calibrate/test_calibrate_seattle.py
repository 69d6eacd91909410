"""The real SPD call sample: read as calibrate reads it, and the shipped calibrated Seattle scenario.

Needs ``../shared/data`` (fails under CI=true when missing, skips elsewhere).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO_ROOT, require_shared

SHIPPED = REPO_ROOT / "scenarios" / "seattle_calibrated.yaml"
#: The observed P2 median's 95% bootstrap interval (51 calls; 4,000 resamples of the sample, seed 0):
#: 15.7 to 44.2 minutes around 27.2. The shipped scenario's P2 median must fall inside it.
P2_MEDIAN_BAND_MIN = (15.7, 44.2)


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


def test_shipped_calibrated_scenario_runs_and_matches_the_observed_p2_median(spd_sample, seattle_osm):
    """scenarios/seattle_calibrated.yaml loads as a variant of seattle_udistrict.yaml, runs, and its
    simulated P2 median (queue to first arrival) lies in the observed median's 95% interval; the
    scenario as given is far outside it (about 2 minutes)."""
    from sim import api
    from sim.scenario_file import load_scenario

    assert SHIPPED.is_file()
    text = SHIPPED.read_text(encoding="utf-8")
    assert "base: \"seattle_udistrict.yaml\"" in text
    assert "spd_call_data_sample_2018_2023.csv" in text.splitlines()[1]
    sc = load_scenario(SHIPPED)
    base = load_scenario(REPO_ROOT / "scenarios" / "seattle_udistrict.yaml")
    assert sc.network.osm.file and sc.force.total_officers == base.force.total_officers
    assert sc.availability.officer_initiated_per_h > 0 and base.availability.officer_initiated_per_h == 0
    world = api.prepare(sc)
    times = []
    for r in range(2):
        inc = api.run_one(sc, r, world=world).incidents
        inc = inc[inc["in_window"] & (inc["priority"] == 2)]
        times.append(inc["response_time_s"].to_numpy(float))
    p2_min = float(np.median(np.concatenate(times))) / 60
    lo, hi = P2_MEDIAN_BAND_MIN
    assert lo <= p2_min <= hi, p2_min
