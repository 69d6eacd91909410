"""Analytic models that the simulator is validated against (issue 5).

Pure functions of numbers, numpy and scipy only (no SimPy, no road network):

* :mod:`sim.analytic.erlang` - Erlang B and C, M/M/c waiting times.
* :mod:`sim.analytic.sqrt_law` - expected distance to the nearest free unit.
* :mod:`sim.analytic.problem` - a hypercube problem and its YAML file format.
* :mod:`sim.analytic.hypercube` - Larson's hypercube model, exact (2^N states)
  and approximate (Larson 1975).

See docs/analytic.md for the ``patrolsim analytic`` command and
docs/validation.md for the textbook checks.
"""

from sim.analytic.erlang import (busy_servers_distribution, erlang_b, erlang_c, mmc_mean_wait,
                                 mmc_p_wait_exceeds, mmc_wait_quantile)
from sim.analytic.hypercube import (MAX_EXACT_UNITS, HypercubeResult, approx_workload_iterates, correction_factors,
                                    solve_approx, solve_exact, solve_hypercube)
from sim.analytic.problem import HypercubeProblem, load_problem, problem_from_dict
from sim.analytic.sqrt_law import expected_nearest_distance, free_units

__all__ = [
    "erlang_b", "erlang_c", "mmc_mean_wait", "mmc_p_wait_exceeds", "mmc_wait_quantile",
    "busy_servers_distribution",
    "expected_nearest_distance", "free_units",
    "HypercubeProblem", "load_problem", "problem_from_dict",
    "HypercubeResult", "MAX_EXACT_UNITS", "correction_factors", "solve_hypercube", "solve_exact",
    "solve_approx", "approx_workload_iterates",
]
