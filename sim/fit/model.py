"""Assembling the fitted demand model from parsed calls, and writing it.

``fit_demand`` runs the temporal, dispersion, spatial and type fits on a
``CallData``, scores the result on hold-out calls when given, checks that the
simulator reproduces the data's counts, and returns everything the outputs need.
``write_outputs`` writes the fitted file (YAML a scenario names with
``demand: {fitted: PATH}``), the diagnostics page and the hold-out JSON, all or
nothing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim import __version__
from sim.demand import DemandModel, build_demand, has_season
from sim.errors import DemandError
from sim.fit import calltypes, dispersion, holdout, season as season_fit, simcheck, spatial, temporal
from sim.calls.load import CallData
from sim.network.graph import City

FORMAT_NAME = "patrolsim-fitted-demand"
FORMAT_VERSION = 2   # 2: the season and trend (``season``); see sim/fitted_file.py
MIN_CALLS = 20
MIN_WINDOW_DAYS = 7


@dataclass
class FitResult:
    fitted: dict                         # the content of the fitted YAML
    holdout: dict | None                 # the hold-out JSON (None without --holdout)
    figures: dict = field(default_factory=dict)   # arrays the diagnostics page plots
    diagnostics: dict = field(default_factory=dict)


def _check_enough(data: CallData) -> None:
    file = data.report.file
    days = (data.end - data.start) / pd.Timedelta(days=1)
    if data.n < MIN_CALLS:
        raise DemandError(f"only {data.n} usable call(s) ({data.report.rows_read} rows read, "
                          f"{data.report.rows_dropped} left out); a fit needs at least {MIN_CALLS}",
                          file=file, fix="give more calls (months, not days) or replay them instead")
    if days < MIN_WINDOW_DAYS:
        raise DemandError(f"the calls span {days:.0f} day(s); an hour-of-week profile needs at least "
                          f"{MIN_WINDOW_DAYS}", file=file, fix="give at least a week of calls")


def _rescaled_gaps(times: pd.Series, start, rate, *, daily_scale=None, days=None, seed: int = 0) -> np.ndarray:
    """Time-rescaled inter-arrival times (Exp(1) if the model is right).

    Times recorded to the minute are spread uniformly within their minute first
    (deterministically), so that ties do not show as zero gaps.
    """
    t = pd.DatetimeIndex(times)
    if (t.second == 0).all():
        rng = np.random.default_rng(seed)
        t = t + pd.to_timedelta(rng.random(len(t)) * 60.0, unit="s")
    t = t.sort_values()
    cum = temporal.cumulative_rate(pd.Series(t), start, rate)
    if daily_scale is not None:
        # piecewise rescaling per day: inside day d the rate is multiplied by daily_scale[d]
        d_idx = np.asarray((t.normalize() - days[0]) / pd.Timedelta(days=1), float).astype(int)
        day_start = temporal.cumulative_rate(pd.Series(days), start, rate)
        day_mass = np.diff(np.concatenate([day_start, [temporal.cumulative_rate(
            pd.Series([days[-1] + pd.Timedelta(days=1)]), start, rate)[0]]]))
        offset = np.concatenate([[0.0], np.cumsum(day_mass * daily_scale)])
        cum = offset[d_idx] + (cum - day_start[d_idx]) * daily_scale[d_idx]
    return np.diff(cum)


def model_of(fitted: dict, city: City, *, start_date=None) -> DemandModel:
    """The simulator's reading of a fitted file (the same code path as a run).

    ``start_date`` is the scenario's ``demand.start_date`` (a Monday; None: the file's default).
    """
    from sim.scenario import DemandSpec

    return build_demand(DemandSpec(start_date=start_date), city, fitted=fitted)


def fit_demand(data: CallData, *, city: City, holdout_data: CallData | None = None, seed: int = 0,
               sim_replications: int = 20, network_label: str | None = None, progress=None) -> FitResult:
    """Fit the hour-of-week profile, day dispersion, spatial intensity and types of ``data``.

    ``network_label`` is how the network is recorded in the fitted file (default:
    the city's source); the CLI records the ``--network`` argument as typed.
    ``progress(done, total)`` is called after each of the fit's 6 stages (profile, dispersion,
    spatial intensity, types, simulated check, time rescaling and hold-out).
    """
    def tick(done: int) -> None:
        if progress:
            progress(done, 6)

    _check_enough(data)
    tick(0)
    calls = data.calls
    times = calls["time"]
    tz = data.fmt.time_zone
    start, end = data.start, data.end
    prof = temporal.fit_profile(times, start, end, tz)
    tick(1)
    rate = prof["rate_per_hour"]
    hours = temporal.window_hours(start, end, tz)
    disp = dispersion.check_days(times, start, end, rate, hours)
    tick(2)
    test = disp["constant_level"]
    shape = test["gamma_shape"] if test["overdispersed"] else None
    shape_constant = shape
    season = season_fit.fit_season(disp["days"], disp["counts"], disp["expected"], n_calls=data.n,
                                   start=start, end=end, dispersion_ratio=test["dispersion_ratio"])
    season_test = None
    if has_season(season):
        # the day multiplier now varies around the season, not around a constant level
        factor = season_fit.day_factor(season, disp["days"])
        n_par = 1 + (season["trend_log_per_year"] is not None) + 12 * bool(season["month_log_effect"])
        season_test = dispersion.dispersion_test(disp["counts"], disp["expected"] * factor, params=n_par)
        shape = season_test["gamma_shape"] if season_test["overdispersed"] else None
    g = city.places
    weeks = temporal.week_index(times, start)
    folds = prof["smoothing"]["folds"]
    sp = spatial.select_bandwidth(g, calls["place"].to_numpy(), np.mod(weeks, folds))
    base = spatial.baseline_prob(g)
    counts = np.bincount(calls["place"].to_numpy(), minlength=g.n_nodes).astype(float)
    prob = spatial.intensity(counts, spatial.spread_matrix(g, sp["bandwidth_m"]), base, sp["uniform_share"])
    hot = spatial.hot_spots(g, prob, calls["place"].to_numpy(), calls["address"].to_numpy(dtype=object))
    tick(3)
    types = calltypes.fitted_types(calls)
    seasonal = temporal.seasonal_levels(times, start, end, tz)
    profile = rate / rate.mean()
    record = data.record()
    fitted = {
        "kind": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created_by": f"patrolsim {__version__} fit",
        "incidents_per_day": round(prof["incidents_per_day"], 4),
        "hour_of_week_profile": [round(float(x), 5) for x in profile],
        "day_dispersion": None if shape is None else {"shape": shape},
        "spatial": {
            "points": [[round(float(g.lon[j]), 7), round(float(g.lat[j]), 7), float(f"{prob[j]:.6g}")]
                       for j in range(g.n_nodes) if prob[j] > 0],
            "bandwidth_m": sp["bandwidth_m"], "uniform_share": sp["uniform_share"],
            "cv_loglik_per_call": round(sp["cv_loglik_per_call"], 5),
            "cv_uniform_loglik_per_call": round(sp["cv_baseline_loglik_per_call"], 5),
            "hot_spots": hot,
        },
        "types": [{k: t[k] for k in ("name", "share", "priority", "units_needed", "on_scene_mean_s",
                                     "on_scene_cv", "major", "calls", "on_scene_source")} for t in types],
        "source": record,
        "network": {"source": network_label or city.source, "places": int(g.n_nodes)},
        "temporal": {
            "smoothing": {k: v for k, v in prof["smoothing"].items() if k != "grid"},
            "seasonal": seasonal,
            "note": "incidents_per_day is the mean over the fitting window; the season and trend the "
                    "simulator applies per calendar day are in season (see docs/demand.md)",
        },
        "season": season,
        "dispersion_test": {"constant_level": test, "monthly_levels": disp["monthly_levels"],
                            "season_and_trend": season_test,
                            "decision": ("over-dispersed: a gamma day multiplier of shape "
                                         f"{shape:.3g} is used" if shape is not None else
                                         "no over-dispersion detected: plain Poisson arrivals")},
        "type_mapping": calltypes.mapping_summary(calls, data.table),
    }
    tick(4)
    # the simulated-count check runs over the fitting window's own calendar (from its first Monday)
    model = model_of(fitted, city, start_date=(start - pd.Timedelta(days=int(start.day_of_week))).date())
    check = simcheck.check(model, times, start, end, replications=sim_replications, seed=seed)
    fitted["simulated_vs_observed"] = check["summary"]
    tick(5)
    gaps = _rescaled_gaps(times, start, rate, seed=seed)
    scale = np.where(disp["expected"] > 0, disp["counts"] / np.maximum(disp["expected"], 1e-12), 0.0)
    gaps_day = _rescaled_gaps(times, start, rate, daily_scale=scale, days=disp["days"], seed=seed)
    ks = {"constant_level": float(stats.kstest(gaps, "expon").statistic),
          "daily_level": float(stats.kstest(gaps_day, "expon").statistic)}
    fitted["time_rescaling_ks"] = {k: round(v, 4) for k, v in ks.items()}
    hold = None
    if holdout_data is not None:
        plain = {**fitted, "season": None,
                 "day_dispersion": None if shape_constant is None else {"shape": shape_constant}}
        hold = holdout.evaluate(holdout_data.calls, model=model, model_without_season=model_of(plain, city),
                                baseline_rate_per_hour=prof["incidents_per_day"] / 24.0,
                                baseline_place_prob=base, start=holdout_data.start, end=holdout_data.end,
                                time_zone=holdout_data.fmt.time_zone)
        hold["source"] = holdout_data.record()
        hold["fit_window"] = record["window"]
        fitted["holdout"] = {k: hold[k] for k in ("holdout_incidents", "holdout_loglik_per_incident",
                                                  "difference_per_incident", "window", "season")}
    tick(6)
    figures = {"profile": prof, "dispersion": disp, "prob": prob, "base": base, "gaps": gaps,
               "gaps_day": gaps_day, "check": check, "hot": hot, "shape": shape, "ks": ks,
               "spatial_grid": sp["grid"], "temporal_grid": prof["smoothing"]["grid"], "city": city}
    diagnostics = {"temporal_grid": prof["smoothing"]["grid"], "spatial_grid": sp["grid"],
                   "simulated_vs_observed": check["summary"], "dispersion_test": fitted["dispersion_test"],
                   "time_rescaling_ks": fitted["time_rescaling_ks"], "rows": record}
    return FitResult(fitted=fitted, holdout=hold, figures=figures, diagnostics=diagnostics)


# --------------------------------------------------------------------------- writing
def dump_yaml(data: dict) -> str:
    """YAML with lists of numbers on one line (168 profile values, spatial points)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def _list(dumper, value):
        def scalar(v):
            return not isinstance(v, (dict, list, tuple))

        flow = bool(value) and (all(scalar(v) for v in value) or all(
            isinstance(v, list) and all(scalar(x) for x in v) for v in value))
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)

    def _float(dumper, value):
        return dumper.represent_float(float(value))

    Dumper.add_representer(list, _list)
    Dumper.add_representer(np.float64, _float)
    head = ("# patrolsim fitted demand: name this file in a scenario with  demand: {fitted: PATH}\n"
            "# Required keys: incidents_per_day, hour_of_week_profile (168, Monday 00:00 first),\n"
            "# spatial.points ([lon, lat, weight]); optional: day_dispersion, types. Everything else\n"
            "# records how the fit was made. See docs/demand.md.\n")
    return head + yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=120)


def output_paths(out: Path) -> dict[str, Path]:
    """The fitted YAML, its diagnostics folder and the hold-out JSON (next to it)."""
    out = Path(out)
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return {"fitted": out, "diagnostics": out.parent / f"{stem}.diagnostics",
            "holdout": out.parent / f"{stem}.holdout.json"}


def write_outputs(result: FitResult, out: Path, *, figures: bool = True) -> dict[str, Path]:
    """Write the fitted file, the diagnostics page and the hold-out JSON: all or nothing.

    The diagnostics folder is built in a temporary folder and the files in
    temporary files beside their targets; only when all are complete are they
    renamed into place. A stale hold-out JSON from an earlier fit of the same
    name is removed when this fit has no hold-out.
    """
    from sim.fit.diagnostics import write_page
    from sim.outputs import atomic_folder, write_json

    paths = output_paths(out)
    folder = paths["fitted"].parent
    folder.mkdir(parents=True, exist_ok=True)
    temps = []
    try:
        with atomic_folder(paths["diagnostics"]) as tmp:
            write_page(result, tmp, figures=figures, names={k: p.name for k, p in paths.items()})
            for key, text in (("fitted", dump_yaml(result.fitted)),
                              ("holdout", None if result.holdout is None else result.holdout)):
                if text is None:
                    continue
                fd, name = tempfile.mkstemp(prefix=f".{paths[key].name}.", suffix=".partial", dir=folder)
                os.close(fd)
                temps.append((Path(name), paths[key]))
                if key == "holdout":
                    write_json(Path(name), text)
                else:
                    Path(name).write_text(text, encoding="utf-8")
                os.chmod(name, 0o644)
    except BaseException:
        for t, _ in temps:
            t.unlink(missing_ok=True)
        raise
    for t, target in temps:
        os.replace(t, target)
    if result.holdout is None and paths["holdout"].exists():
        paths["holdout"].unlink()
    return paths
