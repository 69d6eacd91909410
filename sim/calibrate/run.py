"""``calibrate``: observed calls in, fitted keys with intervals and goodness of fit out.

The steps: read the observed times (``observed``), prepare the scenario once (``simulated``),
check that observed and simulated share priorities (``objective.target``), simulate the
scenario as given (for the figure and the report), search the keys (``search``), simulate
once more at the fitted values as written (rounded to four significant digits) for the
goodness of fit, and bootstrap the intervals (``uncertainty``). ``write_calibration`` then
writes the scenario, the fit JSON and the figure (``output``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.calibrate import keys as keyspace
from sim.calibrate.objective import goodness_of_fit, objective, target
from sim.calibrate.observed import Observed, ObservedError
from sim.calibrate.output import round_sig
from sim.calibrate.search import best_trial, run_search
from sim.calibrate.simulated import Simulator
from sim.calibrate.uncertainty import bootstrap


@dataclass
class CalibrationResult:
    scenario_file: str
    scenario_name: str
    keys: list[str]
    spaces: list
    observed: Observed
    target: object
    skipped: dict
    trials: list
    values: dict[str, float]                 # the fitted values as written (rounded)
    as_given: dict[str, float]
    gof: dict                                # at the values as written
    gof_as_given: dict
    objective: float
    objective_as_given: float
    intervals: dict
    replications: int
    days: float
    seed: int
    inside_network: int | None = None              # observed calls inside the network's bounding box
    samples: dict = field(default_factory=dict)   # "as_given", "calibrated" -> {priority: times}


def _inside_network(observed: Observed, city) -> int | None:
    """How many observed calls with coordinates lie inside the network's lon/lat bounding box (None:
    the file has no coordinates). Calls from elsewhere are still used: the fit is of a distribution."""
    if observed.lon is None or observed.lat is None:
        return None
    lon, lat = np.asarray(city.places.lon, float), np.asarray(city.places.lat, float)
    ok = ((observed.lon >= lon.min()) & (observed.lon <= lon.max()) & (observed.lat >= lat.min())
          & (observed.lat <= lat.max()))
    return int(ok.sum())


def _pooled(sample, priorities) -> dict[int, np.ndarray]:
    return {p: sample.pooled(p) for p in priorities}


def calibrate(scenario, observed: Observed, keys: list[str], *, trials: int = 40, replications: int = 4,
              days: float = 7.0, draws: int = 200, ranges: dict | None = None, quiet: bool = True,
              say=lambda text: None, progress=None) -> CalibrationResult:
    """Fit ``keys`` of ``scenario`` to ``observed`` (see the module docstring)."""
    spaces = keyspace.key_spaces(keys, ranges)
    sim = Simulator(scenario, replications=replications, days=days, quiet=quiet, progress=progress)
    tgt, skipped = target(observed.times_s, sim.priorities)
    if not tgt.priorities:
        have = ", ".join(f"P{p}: {v.size}" for p, v in sorted(observed.times_s.items()))
        raise ObservedError(f"no priority has at least 10 observed calls that the scenario also draws "
                            f"(observed {have}; the scenario draws {', '.join(f'P{p}' for p in sim.priorities)})",
                            file=observed.file, key="--observed",
                            fix="give more calls, or a scenario whose incident types carry the observed priorities")
    say(f"patrolsim calibrate: {scenario.name} ({scenario.source_file}) on {observed.file}: "
        f"{observed.calls} calls used of {observed.rows_read} rows"
        + "".join(f"; {n} left out: {why}" for why, n in observed.left_out.items()))
    for p, why in skipped.items():
        say(f"  priority {p} not fitted: {why}")
    inside = _inside_network(observed, sim.city)
    if inside is not None:
        say(f"  {inside} of {observed.calls} observed calls with a location lie inside the network's bounding box"
            + ("" if inside == observed.calls else "; the rest are still used (a distribution is fitted, not places)"))
    say(f"  fitting {', '.join(keys)}: {trials} trials x {replications} replications x {days:g} days")
    from sim.keypath import get_key, parse_key

    data = sim.scenario.to_dict()
    as_given = {k: float(get_key(data, parse_key(k))) for k in keys}
    prios = tgt.priorities

    def evaluate(values):
        sample = sim.run(values)
        obj, per = objective(_pooled(sample, prios), tgt)
        return obj, per, sample

    def show(name, values, obj, per):
        vals = ", ".join(f"{k.split('.')[-1]}={v:.4g}" for k, v in values.items())
        dist = " ".join(f"P{p} {d:.3f}" for p, d in per.items())
        say(f"  {name}: {vals} -> objective {obj:.4f} ({dist})")

    given_obj, given_per, given_sample = evaluate(as_given)
    show("as given", as_given, given_obj, given_per)
    start = {s.key: min(max(as_given[s.key], s.low), s.high) for s in spaces}
    found = run_search(evaluate, spaces, trials=trials, start=start,
                       on_trial=lambda t, n: show(f"trial {t.index + 1}/{n} ({t.phase})", t.values, t.objective,
                                                  t.per_priority))
    best = best_trial(found)
    values = {k: round_sig(v) for k, v in best.values.items()}
    final_obj, final_per, final_sample = evaluate(values)
    show("fitted, as written", values, final_obj, final_per)
    intervals = bootstrap(found, spaces, tgt, replications=replications, draws=draws, seed=int(sim.scenario.seed))
    return CalibrationResult(
        scenario_file=str(scenario.source_file), scenario_name=scenario.name, keys=list(keys), spaces=spaces,
        observed=observed, target=tgt, skipped=skipped, trials=found, values=values, as_given=as_given,
        gof=goodness_of_fit(_pooled(final_sample, prios), tgt),
        gof_as_given=goodness_of_fit(_pooled(given_sample, prios), tgt),
        objective=final_obj, objective_as_given=given_obj, intervals=intervals, replications=replications,
        inside_network=inside,
        days=days, seed=int(sim.scenario.seed),
        samples={"as_given": _pooled(given_sample, prios), "calibrated": _pooled(final_sample, prios)})


def fit_record(result: CalibrationResult, files: list[str]) -> dict:
    """The fit JSON (documented in docs/calibration.md)."""
    from sim import __version__
    from sim.calibrate.objective import MIN_CALLS, QUANTILES
    from sim.calibrate.observed import START_POINT
    from sim.calibrate.output import MARK

    return {
        MARK: 1, "patrolsim_version": __version__, "files": files,
        "scenario": result.scenario_file,
        "observed": {**result.observed.summary(), "calls_inside_network_bbox": result.inside_network}, "start_point": START_POINT,
        "simulation": {"replications": result.replications, "days": result.days, "seed": result.seed,
                       "measure": "response_time_s of incidents after the warm-up: call to first arrival, "
                                  "including call handling"},
        "objective": {"definition": "mean over priorities (equal weights) of mean |ln Q_sim(q) - "
                                    "ln Q_obs(q)| over q in " + ", ".join(f"{q:g}" for q in QUANTILES),
                      "min_calls_per_priority": MIN_CALLS, "weights": {str(p): w for p, w in
                                                                         result.target.weights.items()},
                      "as_given": result.objective_as_given, "fitted": result.objective},
        "fitted": {k: {"value": v, "as_given": result.as_given[k], **result.intervals["keys"][k]}
                   for k, v in result.values.items()},
        "uncertainty_method": result.intervals["method"],
        "goodness_of_fit": result.gof, "goodness_of_fit_as_given": result.gof_as_given,
        "priorities_not_fitted": {str(p): why for p, why in result.skipped.items()},
        "search": [{"trial": t.index + 1, "phase": t.phase, "values": t.values, "objective": t.objective,
                    "distance_by_priority": {str(p): d for p, d in t.per_priority.items()}} for t in result.trials],
    }


def write_calibration(result: CalibrationResult, paths: dict[str, Path], *, figure: bool = True) -> list[Path]:
    """Write the scenario, the fit JSON and (``figure``) the quantile figure; returns the paths written."""
    from sim.calibrate.output import header_lines, scenario_text
    from sim.outputs import atomic_write_text, write_json_atomic

    written = [paths["scenario"], paths["fit"]] + ([paths["png"], paths["svg"]] if figure else [])
    if figure:
        from sim.report.calibration_figure import quantile_figure, write_quantile_figure

        fig = quantile_figure(result.target.times_s, result.samples["as_given"], result.samples["calibrated"],
                              title=f"{result.scenario_name}: response times (queue to first arrival), "
                                    f"simulated vs observed ({Path(result.observed.file).name})")
        write_quantile_figure(fig, paths["png"], paths["svg"])
    write_json_atomic(paths["fit"], fit_record(result, [p.name for p in written]))
    name = f"{result.scenario_name}_calibrated"[:200]
    desc = (f"{result.scenario_name} with {', '.join(result.keys)} calibrated to {Path(result.observed.file).name}")
    atomic_write_text(paths["scenario"], scenario_text(base=Path(result.scenario_file), out=paths["scenario"],
                                                       name=name, description=desc, values=result.values,
                                                       header=header_lines(result)))
    return written
