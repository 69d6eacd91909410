"""Erlang B / C and M/M/c waiting times against closed forms and published values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from sim.analytic.erlang import (busy_servers_distribution, erlang_b, erlang_c, mmc_mean_wait,
                                 mmc_p_wait_exceeds, mmc_wait_quantile)
from sim.errors import InputError


def erlang_b_by_sum(c: int, a: float) -> float:
    """The textbook formula (a^c/c!) / sum_k a^k/k!, fine for small c."""
    terms = [a ** k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


# --- closed forms (tolerance 1e-12: the recursion is exact up to round-off) --------------------

def test_erlang_b_one_server_is_a_over_one_plus_a():
    for a in (0.0, 0.1, 1.0, 7.5):
        assert erlang_b(servers=1, offered_load=a) == pytest.approx(a / (1 + a), abs=1e-12)


def test_erlang_b_two_servers_one_erlang_is_one_fifth():
    assert erlang_b(servers=2, offered_load=1.0) == pytest.approx(0.2, abs=1e-12)


def test_erlang_b_table_value():
    # Standard traffic table: 10 trunks, 5 Erlangs -> blocking 0.01838 (to 4 significant digits).
    assert erlang_b(servers=10, offered_load=5.0) == pytest.approx(0.018385, abs=5e-6)


def test_erlang_c_matches_larson_odoni_three_server_example():
    # Larson & Odoni (1981) section 5.4.4: N = 3, lambda = 1.5, mu = 1 gives P'_Q = 0.23684 (5 decimals).
    assert erlang_c(servers=3, offered_load=1.5) == pytest.approx(0.23684, abs=5e-6)
    assert erlang_c(servers=3, offered_load=1.5) == pytest.approx(9 / 38, abs=1e-12)  # exact fraction


def test_mm1_and_mm2_closed_forms():
    # M/M/1: P(wait) = rho, Wq = rho / (mu - lambda).
    assert erlang_c(servers=1, offered_load=0.7) == pytest.approx(0.7, abs=1e-12)
    assert mmc_mean_wait(servers=1, arrival_rate=0.7, service_rate=1.0) == pytest.approx(0.7 / 0.3, abs=1e-12)
    # M/M/2 with lambda = mu = 1: P(wait) = 1/3, Wq = (1/3) / (2 - 1).
    assert erlang_c(servers=2, offered_load=1.0) == pytest.approx(1 / 3, abs=1e-12)
    assert mmc_mean_wait(servers=2, arrival_rate=1.0, service_rate=1.0) == pytest.approx(1 / 3, abs=1e-12)


def test_rates_in_any_time_unit_give_waits_in_that_unit():
    per_hour = mmc_mean_wait(servers=4, arrival_rate=6.0, service_rate=2.0)  # hours
    per_second = mmc_mean_wait(servers=4, arrival_rate=6.0 / 3600, service_rate=2.0 / 3600)  # seconds
    assert per_second == pytest.approx(per_hour * 3600, rel=1e-12)


def test_wait_tail_and_quantile_are_consistent():
    kw = dict(servers=5, arrival_rate=4.0, service_rate=1.0)
    c = erlang_c(servers=5, offered_load=4.0)
    assert mmc_p_wait_exceeds(t=0.0, **kw) == pytest.approx(c, abs=1e-12)
    assert mmc_p_wait_exceeds(t=2.0, **kw) == pytest.approx(c * math.exp(-2.0), abs=1e-12)  # c mu - lambda = 1
    q = mmc_wait_quantile(probability=0.95, **kw)
    assert q > 0
    assert mmc_p_wait_exceeds(t=q, **kw) == pytest.approx(0.05, abs=1e-12)
    # Below 1 - C the quantile sits on the atom at zero.
    assert mmc_wait_quantile(probability=0.9 * (1 - c), **kw) == 0.0


def test_large_systems_do_not_overflow():
    # 2000 units: a^c / c! overflows a float; the recursion must agree with scipy's Poisson ratio.
    c, a = 2000, 1900.0
    expected = poisson.pmf(c, a) / poisson.cdf(c, a)
    assert erlang_b(servers=c, offered_load=a) == pytest.approx(expected, rel=1e-9)
    assert 0 < erlang_c(servers=c, offered_load=a) < 1


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("load", [3.0, 3.5])
def test_erlang_c_refuses_unstable_load(load):
    with pytest.raises(InputError, match="unstable"):
        erlang_c(servers=3, offered_load=load)
    with pytest.raises(InputError, match="unstable"):
        mmc_mean_wait(servers=3, arrival_rate=load, service_rate=1.0)


@pytest.mark.parametrize("servers", [0, -1, 2.5, True, "3"])
def test_bad_server_counts(servers):
    with pytest.raises(InputError, match="servers"):
        erlang_b(servers=servers, offered_load=1.0)


@pytest.mark.parametrize("load", [-0.1, float("nan"), float("inf")])
def test_bad_offered_load(load):
    with pytest.raises(InputError, match="offered_load"):
        erlang_b(servers=2, offered_load=load)


def test_bad_rates_and_quantile_levels():
    with pytest.raises(InputError, match="service_rate"):
        mmc_mean_wait(servers=2, arrival_rate=1.0, service_rate=0.0)
    with pytest.raises(InputError, match="probability"):
        mmc_wait_quantile(servers=2, arrival_rate=1.0, service_rate=1.0, probability=1.0)
    with pytest.raises(InputError, match="t must"):
        mmc_p_wait_exceeds(servers=2, arrival_rate=1.0, service_rate=1.0, t=-1.0)


def test_error_message_is_one_line_with_a_fix():
    with pytest.raises(InputError) as info:
        erlang_c(servers=2, offered_load=5.0)
    text = str(info.value)
    assert "\n" not in text and "fix:" in text and "offered_load" in text


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        erlang_b(3, 1.0)  # noqa: the positional call must fail


# --- busy-servers distribution --------------------------------------------------------------

def test_busy_distribution_matches_erlang_values_and_means():
    # Identities (exact up to round-off, tolerance 1e-12): the last entry is Erlang B / C and the
    # mean number busy is the carried load.
    n, a = 6, 4.2
    loss = busy_servers_distribution(servers=n, offered_load=a, queue="loss")
    inf = busy_servers_distribution(servers=n, offered_load=a, queue="infinite")
    assert loss.sum() == pytest.approx(1, abs=1e-12) and inf.sum() == pytest.approx(1, abs=1e-12)
    b = erlang_b(servers=n, offered_load=a)
    assert loss[-1] == pytest.approx(b, abs=1e-12)
    assert inf[-1] == pytest.approx(erlang_c(servers=n, offered_load=a), abs=1e-12)
    assert np.dot(np.arange(n + 1), loss) == pytest.approx(a * (1 - b), abs=1e-12)
    assert np.dot(np.arange(n + 1), inf) == pytest.approx(a, abs=1e-12)


def test_busy_distribution_refuses_unstable_infinite_queue():
    with pytest.raises(InputError, match="unstable"):
        busy_servers_distribution(servers=2, offered_load=2.0, queue="infinite")
    assert busy_servers_distribution(servers=2, offered_load=2.0, queue="loss")[-1] == pytest.approx(0.4)


# --- properties -----------------------------------------------------------------------------

loads = st.floats(min_value=0.0, max_value=60.0, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(c=st.integers(min_value=1, max_value=40), a=loads)
def test_recursion_equals_the_textbook_sum(c, a):
    # Relative tolerance 1e-9: both are exact formulas; only round-off separates them.
    assert erlang_b(servers=c, offered_load=a) == pytest.approx(erlang_b_by_sum(c, a), rel=1e-9, abs=1e-300)


@settings(max_examples=80, deadline=None)
@given(c=st.integers(min_value=1, max_value=60), a=st.floats(min_value=0.01, max_value=50.0))
def test_blocking_falls_with_more_servers_and_waiting_exceeds_blocking(c, a):
    b = erlang_b(servers=c, offered_load=a)
    assert 0 <= b < 1
    assert erlang_b(servers=c + 1, offered_load=a) < b
    if a < c:
        assert erlang_c(servers=c, offered_load=a) >= b
