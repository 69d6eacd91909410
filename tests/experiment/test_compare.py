"""Paired comparison under common random numbers: two scenarios that differ only in force."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.experiment.compare import paired_difference, same_incidents
from sim.scenario_file import load_scenario

from tests.experiment.conftest import COMPARE, TINY, set_args


def test_paired_difference_matches_a_paired_t_test():
    rng = np.random.default_rng(1)
    a = rng.normal(0.8, 0.05, 12)
    b = a + rng.normal(0.02, 0.01, 12)
    d = paired_difference(a, b)
    t = stats.ttest_rel(b, a)
    assert d["n"] == 12 and d["mean"] == pytest.approx(float(np.mean(b - a)))
    assert d["p_value"] == pytest.approx(t.pvalue)
    lo, hi = d["ci95"]
    half = stats.t.ppf(0.975, 11) * np.std(b - a, ddof=1) / math.sqrt(12)
    assert (lo, hi) == pytest.approx((d["mean"] - half, d["mean"] + half))
    assert d["significant"] is True


def test_paired_difference_skips_missing_pairs_and_handles_identical_arms():
    d = paired_difference([0.5, np.nan, 0.7], [0.5, 0.9, 0.7])
    assert d["n"] == 2 and d["mean"] == 0 and d["significant"] is False and d["p_value"] == 1.0
    assert paired_difference([np.nan], [np.nan])["mean"] is None


def test_compare_two_scenarios_that_differ_only_in_force(tmp_path, capsys):
    a, b = COMPARE / "force-200.yaml", COMPARE / "force-300.yaml"
    out = tmp_path / "cmp"
    code = main(["compare", str(a), str(b), "--replications", "4", "--workers", "1", "--out", str(out),
                 *set_args(TINY)])
    assert code == 0
    text = capsys.readouterr().out
    assert "common random numbers" in text and "force-300 - force-200" in text and "significant" in text
    assert sorted(p.name for p in out.iterdir()) == [
        ".patrolsim-results", "compare-differences.png", "compare-differences.svg", "compare-levels.png",
        "compare-levels.svg", "compare.png", "comparison.json", "differences.csv", "force-200.resolved.yaml",
        "force-300.resolved.yaml", "replications.parquet", "report.html", "run.log.json"]
    assert (out / "compare.png").stat().st_size > 5000
    comp = json.loads((out / "comparison.json").read_text())
    assert comp["common_random_numbers"] is True and comp["baseline"] == "force-200"
    diffs = {d["metric"]: d for d in comp["differences"]}
    # the same incidents in every replication: the incident count does not differ at all
    assert diffs["incidents"]["mean"] == 0 and diffs["incidents"]["significant"] is False
    # 50% more officers: units are clearly less busy and the first unit arrives sooner
    assert diffs["utilisation"]["significant"] and diffs["utilisation"]["mean"] < 0
    assert diffs["response_time_p50_s"]["mean"] < 0 and diffs["response_time_p50_s"]["verdict"] == "better"
    rows = pd.read_parquet(out / "replications.parquet")
    assert len(rows) == 8 and set(rows["scenario"]) == {"force-200", "force-300"}
    per_rep = rows.pivot(index="replication", columns="scenario", values="incidents")
    assert (per_rep["force-200"] == per_rep["force-300"]).all()
    csv = pd.read_csv(out / "differences.csv")
    assert {"metric", "difference", "ci95_low", "ci95_high", "p_value", "significant"} <= set(csv.columns)


def test_same_incidents_only_when_the_stream_inputs_agree():
    a = load_scenario(COMPARE / "force-200.yaml")
    b = load_scenario(COMPARE / "force-300.yaml")
    c = load_scenario(COMPARE / "force-300.yaml", overrides=["demand.incidents_per_day=200"])
    assert same_incidents([a, b]) and not same_incidents([a, c])


def test_compare_needs_two_scenarios(capsys):
    assert main(["compare", str(COMPARE / "force-200.yaml"), "--workers", "1"]) == 2
    assert "two or more" in capsys.readouterr().err
