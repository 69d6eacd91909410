"""The patrol intervals kept as tuples and blocks (``sim.engine.intervals``) read as the list of their records.

A shift change's batched switch hands its closed records over as one block of arrays, with
placeholders where they go; ``sim.visibility`` reads the columns straight from the blocks.
These tests check that the records, their order and the columns are those of the plain
list of tuples, by hand and on a run of the default town.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim import visibility
from sim.engine.intervals import PatrolIntervals

KEYS = {0: (3, "green", 0), 1: (4, "green", 0), 2: (6, "green", 1)}


def made_by_hand() -> tuple[PatrolIntervals, list]:
    """Tuples and two blocks interleaved; and the list of tuples they stand for."""
    ivs, want = PatrolIntervals(), []
    k5 = (5, "red", 2)
    for rec in [(5, 0.0, 10.0, k5, 0.0, 1.5), (5, 12.0, 20.0, k5, 12.0, 3.0)]:
        ivs.append(rec)
        want.append(rec)
    # a batch at t=30 of three units: the second's anchor is at 30 (no record), the first's and third's close
    ivs.append(None)
    ivs.append((7, 25.0, 30.0, (7, "green", 0), 25.0, 0.25))       # a unit through Duty.apply between them
    ivs.append(None)
    ivs.add_block(np.array([[3.0, 11.0, 0.0], [4.0, 30.0, 1.0], [6.0, 14.0, 2.0]]), np.array([2.0, 9.0, 4.0]), 30.0,
                  KEYS)
    want += [(3, 11.0, 30.0, KEYS[0], 11.0, 2.0), (7, 25.0, 30.0, (7, "green", 0), 25.0, 0.25),
             (6, 14.0, 30.0, KEYS[2], 14.0, 4.0)]
    ivs.append((5, 31.0, 40.0, k5, 31.0, 0.5))
    want.append((5, 31.0, 40.0, k5, 31.0, 0.5))
    ivs.append(None)
    ivs.add_block(np.array([[4.0, 33.0, 1.0]]), np.array([7.0]), 60.0, KEYS)
    want.append((4, 33.0, 60.0, KEYS[1], 33.0, 7.0))
    return ivs, want


def test_records_are_the_tuples_in_order():
    ivs, want = made_by_hand()
    got = ivs.tuples()
    assert got == want and [type(r[0]) for r in got] == [int] * len(want)
    assert len(ivs) == len(want) and list(ivs) == want and ivs == want and ivs[2] == want[2]
    assert repr(ivs) == repr(want)


def test_columns_are_the_list_path_columns():
    ivs, want = made_by_hand()
    log = type("Log", (), {"patrol_intervals": ivs})()
    got = visibility.interval_columns(log)
    ref = visibility.interval_columns(type("Log", (), {"patrol_intervals": ivs.tuples()})())
    assert got.keys == ref.keys
    for name in ("key_id", "t0", "t1", "anchor_t", "anchor_tau"):
        assert np.array_equal(getattr(got, name), getattr(ref, name)), name


def test_without_blocks_the_columns_are_read_from_the_tuples():
    ivs = PatrolIntervals()
    for rec in [(1, 0.0, 5.0, KEYS[0], 0.0, 0.0), (2, 1.0, 6.0, KEYS[1], 1.0, 2.0)]:
        ivs.append(rec)
    got = visibility.interval_columns(type("Log", (), {"patrol_intervals": ivs})())
    assert got.keys == [KEYS[0], KEYS[1]] and got.key_id.tolist() == [0, 1] and got.t1.tolist() == [5.0, 6.0]


@pytest.mark.parametrize("officers", [240, 1920])
def test_a_run_reads_the_same_columns_from_its_blocks(officers):
    from sim.demand import sample_incidents
    from sim.experiment import prepare
    from sim.experiment.replicate import make_engine
    from sim.scenario_file import load_scenario
    from sim.streams import replication_seed

    sc = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "default.yaml",
                       overrides=["horizon_days=4", "replications=1", f"force.total_officers={officers}"])
    ctx = prepare(sc, quiet=True)
    rep = replication_seed(sc.seed, 0)
    log = make_engine(ctx, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s), rep).run()
    ivs = log.patrol_intervals
    assert ivs._blocks and any(r is None for r in ivs.rows)        # the shift changes gave blocks
    as_list = list(ivs)
    assert None not in as_list
    got = visibility.interval_columns(log)
    ref = visibility.interval_columns(type("Log", (), {"patrol_intervals": as_list})())
    assert got.keys == ref.keys
    for name in ("key_id", "t0", "t1", "anchor_t", "anchor_tau"):
        assert np.array_equal(getattr(got, name), getattr(ref, name)), name
