"""The engine as an M/M/c queue agrees with Erlang C.

Construction (``sim.experiment.validation_builders.simulate_mmc``): ``c``
standby units at their posts, one atom, Poisson calls, exponential on-scene
times (mean one hour), travel at most 0.1 s, no call handling, infinite FCFS
queue. Measured over 500 mean service times per replication after a warm-up
of 20, twenty replications: P(wait), the mean wait, P(wait > t) and the
utilisation. Tolerance: the Bonferroni t-interval of ``conftest.py``.
"""

from __future__ import annotations

import pytest

from sim.analytic import erlang_b, erlang_c, mmc_mean_wait, mmc_p_wait_exceeds
from sim.experiment.validation_builders import simulate_mmc
from tests.validation.conftest import agreement, assert_all_agree

REPS = 20
HORIZON = 500.0
WARMUP = 20.0
CASES = {"M/M/1 at 0.5": (1, 0.5), "M/M/4 at 0.75": (4, 3.0)}
FAMILY = 5 * len(CASES)     # P(wait), mean wait, two tail probabilities, utilisation per case


@pytest.fixture(scope="module")
def runs():
    return {name: simulate_mmc(servers=c, offered_load=a, replications=REPS, seed=20240611 + c,
                               horizon_services=HORIZON, warmup_services=WARMUP, t=(0.25, 1.0))
            for name, (c, a) in CASES.items()}


def _checks(name, sim) -> list:
    c, a = sim.servers, sim.offered_load
    out = [agreement(f"{name} P(wait)", sim.p_wait, erlang_c(servers=c, offered_load=a), family_size=FAMILY),
           agreement(f"{name} mean wait", sim.mean_wait,
                     mmc_mean_wait(servers=c, arrival_rate=a, service_rate=1.0), family_size=FAMILY),
           agreement(f"{name} utilisation", sim.utilisation, a / c, family_size=FAMILY)]
    for k, t in enumerate(sim.t):
        out.append(agreement(f"{name} P(wait > {t:g})", sim.p_wait_exceeds[:, k],
                             mmc_p_wait_exceeds(servers=c, arrival_rate=a, service_rate=1.0, t=float(t)),
                             family_size=FAMILY))
    return out


def test_wait_matches_erlang_c(runs):
    assert_all_agree([chk for name, sim in runs.items() for chk in _checks(name, sim)])


def test_every_call_was_served(runs):
    for sim in runs.values():
        assert sim.calls.min() > 0.4 * HORIZON  # about offered_load x HORIZON calls per replication


def test_power_and_negative_control(runs):
    """The tolerance is tight enough to matter, and a plausible wrong answer is rejected."""
    sim = runs["M/M/4 at 0.75"]
    checks = {c.name: c for c in _checks("M/M/4 at 0.75", sim)}
    # P(wait) is resolved to better than +-0.06 (12 % of 0.51; we measured +-0.044):
    # a fifth unit (0.24) or a 10 % error in the load (0.64) would be caught.
    assert checks["M/M/4 at 0.75 P(wait)"].half_width < 0.06
    # A loss system's blocking (Erlang B, what an engine dropping calls would give) is rejected.
    wrong = agreement("P(wait) vs Erlang B", sim.p_wait, erlang_b(servers=4, offered_load=3.0), family_size=FAMILY)
    assert not wrong.ok, str(wrong)
    # So is the wait of a fifth server.
    wrong = agreement("mean wait vs M/M/5", sim.mean_wait, mmc_mean_wait(servers=5, arrival_rate=3.0, service_rate=1.0),
                      family_size=FAMILY)
    assert not wrong.ok, str(wrong)
