"""Call stacking (``dispatch.keep_free_for_priority``): low-priority calls held to keep units free.

A call of priority p with a rule K is sent only while at least K+1 units are free (counting
the one that would go); else it waits in the queue and is released when a unit comes free.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import main
from sim.demand import sample_incidents
from sim.experiment import prepare
from sim.experiment.replicate import make_engine
from sim.scenario import scenario_from_dict
from sim.streams import replication_seed

BUSY_TOWN = {"demand": {"incidents_per_day": 100}, "horizon_days": 1.0}
STACKING = {2: 1, 3: 2}


def _runs(small_town_dict, keep: dict | None, reps: int = 3):
    """(incidents, log, ctx) per replication of the busy small town, with the rule ``keep``."""
    extra = {} if keep is None else {"dispatch": {"keep_free_for_priority": keep}}
    ctx = prepare(scenario_from_dict(small_town_dict(**BUSY_TOWN, **extra)), quiet=True)
    out = []
    for r in range(reps):
        rep = replication_seed(ctx.scenario.seed, r)
        inc = sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
        out.append((inc, make_engine(ctx, inc, rep).run(), ctx))
    return out


def _medians_min(runs) -> dict[int, float]:
    """Median first-arrival response by priority (minutes), calls after the warm-up."""
    by = {1: [], 2: [], 3: []}
    for inc, log, ctx in runs:
        first = np.array([a[0] if a else np.nan for a in log.arrivals_s])
        resp = first - inc.call_s
        after = inc.call_s >= ctx.warmup_s
        for p in by:
            by[p].extend(resp[after & (inc.priority == p)].tolist())
    assert all(not np.isnan(v).any() for v in by.values()), "every call is served"
    return {p: float(np.median(v)) / 60 for p, v in by.items()}


def test_stacking_delays_priority_3_and_keeps_priority_1(small_town_dict):
    """Measured (3 replications, 100 calls a day): P3 median 4.5 -> 48.6 min, P1 3.5 -> 3.0 min."""
    base = _medians_min(_runs(small_town_dict, None))
    held = _medians_min(_runs(small_town_dict, STACKING))
    assert held[3] > base[3] + 10.0, (base, held)
    assert held[1] <= base[1] + 0.5, (base, held)       # tolerance: half a minute


def test_an_empty_rule_changes_nothing(small_town_dict):
    for (_, a, _), (_, b, _) in zip(_runs(small_town_dict, None, 1), _runs(small_town_dict, {}, 1)):
        np.testing.assert_array_equal(a.dispatch_s, b.dispatch_s)
        assert a.units_sent == b.units_sent and a.arrivals_s == b.arrivals_s


def test_the_threshold_counts_the_unit_that_would_go(small_town_dict):
    """K = 2: sent with three units free, held with two; a priority without a rule is never held."""
    (inc, _, ctx), = _runs(small_town_dict, {3: 2}, 1)
    rep = replication_seed(ctx.scenario.seed, 0)
    engine = make_engine(ctx, inc, rep)
    p3 = int(np.flatnonzero(inc.priority == 3)[0])
    p1 = int(np.flatnonzero(inc.priority == 1)[0])
    assert engine._held(p3, 2) and not engine._held(p3, 3)
    assert not engine._held(p1, 0)


def test_held_calls_are_released_when_a_unit_comes_free(small_town_dict):
    """Every call sent later than its request was sent when a unit cleared (that unit went) or at a shift change.

    So nothing else releases a held call, and a release does not wait for a later event.
    """
    released_at_clearance = 0
    for inc, log, ctx in _runs(small_town_dict, STACKING):
        request_s = inc.call_s + inc.handling_s
        shift_s = ctx.deployment.shift_s
        cleared = {}                       # time -> units that cleared then
        for st in log.units:
            for (_, _, _, t2) in st.trips:
                cleared.setdefault(t2, set()).add(st.uid)
        late = np.flatnonzero(log.dispatch_s > request_s + 1e-9)
        assert len(late) > 10
        for i in late:
            t = float(log.dispatch_s[i])
            first = log.units_sent[i][0]
            if first in cleared.get(t, ()):
                released_at_clearance += 1
            else:
                assert t % shift_s == pytest.approx(0.0, abs=1e-6), (i, t)
    assert released_at_clearance > 0


@pytest.mark.parametrize("value, words", [
    ("{0: 1}", "keep_free_for_priority[0]"),
    ("{3: -1}", "keep_free_for_priority[3]"),
    ("{3: 1.5}", "keep_free_for_priority[3]"),
])
def test_bad_rules_are_one_line_errors(tmp_path, capsys, value, words):
    out = tmp_path / "out"
    rc = main(["run", "--quiet", "--replications", "1", "--set", "horizon_days=0.2", "--set", "warmup_days=0",
               "--set", f"dispatch.keep_free_for_priority={value}", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and words in err and "(fix: " in err, err
    assert not out.exists()


def test_holding_needs_a_queue(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["run", "--quiet", "--replications", "1", "--set", "horizon_days=0.2",
               "--set", "dispatch.keep_free_for_priority={3: 1}", "--set", "dispatch.when_all_busy=lost",
               "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "when_all_busy: queue" in err and len(err.splitlines()) == 1, err
