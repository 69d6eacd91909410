"""The files a scenario's demand may name: a fitted-demand file or call data to replay.

Kept apart from ``sim.demand`` because reading them needs yaml and pandas, which the core
sampling code does not.
"""

from __future__ import annotations


def load_demand_inputs(scenario, city, *, quiet: bool = False):
    """(fitted dict or None, replayed IncidentTable or None) for a scenario.

    Both are checked against the scenario's network: a fitted file whose places
    lie farther than ``network.max_snap_m`` from it, or a replay file most of whose
    calls do, was made for another area and is an error (``DemandError``), not a
    run with every call piled on the network's edge.
    """
    spec = scenario.demand
    fitted = replay = None
    if spec.fitted:
        from sim.fitted_file import read_fitted

        import numpy as np

        from sim.calls.places import check_fitted_points

        path = scenario.resolve_path(spec.fitted)
        if not path.exists():  # the scenario file holds the key; the message names the missing file
            from sim.errors import DemandError

            raise DemandError(f"fitted-demand file not found: {path}", file=scenario.source_file or str(path),
                              key="demand.fitted",
                              fix="create it with patrolsim fit CALLS.csv --network ... --out " + path.name)
        fitted = read_fitted(path)
        check_fitted_points(city, np.asarray(fitted["spatial"]["points"], float),
                            max_snap_m=float(scenario.network.max_snap_m), file=str(path))
    if spec.replay:
        from sim.replay import read_replay

        replay = read_replay(scenario.resolve_path(spec.replay), city=city, scenario=scenario, quiet=quiet)
    return fitted, replay
