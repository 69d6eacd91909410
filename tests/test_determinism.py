"""Determinism: same seed, same files; sequential equals parallel; common random numbers across scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal

from sim.cli import main
from sim.experiment import prepare, run_replication, run_replications
from sim.scenario import scenario_from_dict

#: columns that describe the incident stream itself (not what the force did about it)
STREAM_COLUMNS = ["replication", "incident", "call_s", "place", "type", "priority", "units_needed", "handling_s"]


def _run_cli(tmp_path, name: str, small_town_dict, *extra: str):
    scenario = tmp_path / "town.yaml"
    if not scenario.exists():
        scenario.write_text(yaml.safe_dump(small_town_dict()), encoding="utf-8")
    out = tmp_path / name
    assert main(["run", str(scenario), "--quiet", "--out", str(out), *extra]) == 0
    return out


def test_same_seed_gives_identical_files(tmp_path, small_town_dict):
    a = _run_cli(tmp_path, "a", small_town_dict, "--seed", "5")
    b = _run_cli(tmp_path, "b", small_town_dict, "--seed", "5")
    for name in ("incidents.parquet", "units.parquet"):
        fa, fb = pd.read_parquet(a / name), pd.read_parquet(b / name)
        assert len(fa) > 0
        assert_frame_equal(fa, fb)


def test_different_seeds_give_different_incidents(tmp_path, small_town_dict):
    a = pd.read_parquet(_run_cli(tmp_path, "a", small_town_dict, "--seed", "5") / "incidents.parquet")
    b = pd.read_parquet(_run_cli(tmp_path, "b", small_town_dict, "--seed", "6") / "incidents.parquet")
    assert not (len(a) == len(b) and np.allclose(a["call_s"], b["call_s"]))


@pytest.fixture(scope="module")
def ctx3(small_town_dict):
    return prepare(scenario_from_dict(small_town_dict(replications=3)), quiet=True)


@pytest.mark.slow
def test_parallel_workers_give_the_same_results(ctx3):
    """Two worker processes (each preparing the scenario itself) equal one process, replication by replication."""
    seq = run_replications(ctx3, [0, 1, 2], workers=1)
    par = run_replications(ctx3, [0, 1, 2], workers=2)
    assert [o.replication for o in par] == [0, 1, 2]
    for s, p in zip(seq, par):
        assert_frame_equal(s.incidents, p.incidents)
        assert_frame_equal(s.units, p.units)
        assert_frame_equal(pd.DataFrame([s.metrics]), pd.DataFrame([p.metrics]))    # NaN-aware


def test_replications_do_not_depend_on_order(ctx3):
    forward = run_replications(ctx3, [0, 1, 2])
    backward = run_replications(ctx3, [2, 1, 0])
    assert [o.replication for o in backward] == [2, 1, 0]
    for f, b in zip(forward, reversed(backward)):
        assert_frame_equal(f.incidents, b.incidents)
    # and a replication run on its own is the same again
    assert_frame_equal(run_replication(ctx3, 1).incidents, forward[1].incidents)


def test_replications_differ_from_each_other(ctx3):
    a, b = run_replication(ctx3, 0), run_replication(ctx3, 1)
    assert not (len(a.incidents) == len(b.incidents)
                and np.allclose(a.incidents["call_s"], b.incidents["call_s"]))


@pytest.mark.parametrize("change", [
    {"force": {"total_officers": 40, "teams": 2}},
    {"force": {"total_officers": 16, "teams": 2, "mix": {"car": 1.0}}},
    {"alert": {"level": "red"}},
    {"dispatch": {"policy": "own_beat_first"}},
])
def test_common_random_numbers_across_deployments(small_town_dict, change):
    """Two scenarios that differ only in how the force is deployed see the same incidents in replication i."""
    base = prepare(scenario_from_dict(small_town_dict()), quiet=True)
    other = prepare(scenario_from_dict(small_town_dict(**change)), quiet=True)
    for r in range(2):
        a, b = run_replication(base, r).incidents, run_replication(other, r).incidents
        assert_frame_equal(a[STREAM_COLUMNS], b[STREAM_COLUMNS])

