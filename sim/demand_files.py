"""The files a scenario's demand may name: a fitted-demand file or call data to replay.

Kept apart from ``sim.demand`` because reading them needs yaml and pandas, which the core
sampling code does not.
"""

from __future__ import annotations


def load_demand_inputs(scenario, city, *, quiet: bool = False):
    """(fitted dict or None, replayed IncidentTable or None) for a scenario."""
    spec = scenario.demand
    fitted = replay = None
    if spec.fitted:
        from sim.fitted_file import read_fitted

        fitted = read_fitted(scenario.resolve_path(spec.fitted))
    if spec.replay:
        from sim.replay import read_replay

        replay = read_replay(scenario.resolve_path(spec.replay), city=city, scenario=scenario, quiet=quiet)
    return fitted, replay
