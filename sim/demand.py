"""The incident stream: when, where, what kind, how urgent, how many units, how long.

Demand is resolved once per run (``build_demand``) into a ``DemandModel`` of
plain arrays, then sampled per replication (``sample_incidents``) before the
engine starts, so the engine never draws arrivals itself and every scenario with
the same demand sees the same incidents in replication ``i`` (common random
numbers). Arrivals are a Poisson process whose rate is constant within each hour
of the week (168 bins), optionally with a day-level gamma multiplier for
over-dispersed data (a negative-binomial count per day), and, for a fitted file
with a season, a factor per simulated day from its calendar date (the scenario's
``demand.start_date``): month-of-year effect times a log-linear trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.network.graph import City
from sim.streams import stream

HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class DemandModel:
    """Everything needed to sample incidents; built from the scenario and the city."""

    rate_per_hour: np.ndarray          # (168,) expected incidents in each hour of the week (Monday 00:00 first)
    place_prob: np.ndarray             # (n_places,) probability an incident is at each place
    type_name: tuple[str, ...]
    type_prob: np.ndarray
    type_priority: np.ndarray          # int
    type_units_needed: np.ndarray      # int
    type_on_scene_mean_s: np.ndarray
    type_on_scene_cv: np.ndarray
    call_handling_mean_s: float
    type_on_scene_exponential: np.ndarray | None = None   # bool per type
    day_shape: float | None = None     # gamma shape of the day multiplier (None: plain Poisson)
    multiplier: float = 1.0            # e.g. an alert level's demand multiplier
    replay: "IncidentTable | None" = None
    place_prob_by_hour: np.ndarray | None = None   # (24, n_places) where hot spots vary by hour
    day_multiplier: np.ndarray | None = None       # per simulated day (calendar alert levels)
    season: dict | None = None         # a fitted file's season and trend (None: the level is constant)
    start_date: str | None = None      # calendar date (a Monday) of simulated day 0, for the season


@dataclass(frozen=True)
class IncidentTable:
    """One replication's incidents in call-time order (arrays of equal length)."""

    call_s: np.ndarray
    place: np.ndarray
    type_idx: np.ndarray
    priority: np.ndarray
    units_needed: np.ndarray
    handling_s: np.ndarray
    on_scene_s: np.ndarray

    def __len__(self) -> int:
        return int(self.call_s.shape[0])


def hour_of_week_profile(hour_profile, day_profile) -> np.ndarray:
    """168 relative weights (mean 1) from a 24-hour and a 7-day profile."""
    h = np.asarray(hour_profile, float)
    d = np.asarray(day_profile, float)
    w = (d[:, None] / d.mean()) * (h[None, :] / h.mean())
    return (w / w.mean()).ravel()


def lognormal_params(mean: np.ndarray, cv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mu, sigma of a lognormal with the given mean and coefficient of variation."""
    sigma2 = np.log1p(np.asarray(cv, float) ** 2)
    return np.log(np.asarray(mean, float)) - sigma2 / 2, np.sqrt(sigma2)


def build_demand(spec, city: City, *, fitted: dict | None = None, replay: IncidentTable | None = None) -> DemandModel:
    """Resolve a scenario's demand section against a city.

    ``fitted`` is the parsed content of a fitted-demand file (see docs/demand.md);
    its profile, spatial points and types replace the scenario's.
    """
    types = spec.types
    day_shape = None
    season, start_date = None, None
    if fitted is not None and has_season(fitted.get("season")):
        season = fitted["season"]
        start_date = str(spec.start_date or season["default_start_date"])
    if fitted is not None:
        profile = np.asarray(fitted["hour_of_week_profile"], float)
        profile = profile / profile.mean()
        per_day = float(fitted["incidents_per_day"])
        pts = np.asarray(fitted["spatial"]["points"], float).reshape(-1, 3)
        place_w = _snap_points(city, pts)
        day_shape = (fitted.get("day_dispersion") or {}).get("shape")
        if fitted.get("types"):
            from sim.scenario import IncidentType

            types = [IncidentType(**{k: t[k] for k in IncidentType.model_fields if k in t})
                     for t in fitted["types"]]
    else:
        profile = hour_of_week_profile(spec.hour_profile, spec.day_profile)
        per_day = spec.incidents_per_day
        if spec.spatial == "population":
            place_w = np.asarray(city.place_weight, float).copy()
        else:
            place_w = np.ones(city.n_places)
    if place_w.sum() <= 0:
        place_w = np.ones(city.n_places)
    by_hour = hotspot_place_prob(place_w, city, spec.hotspots) if spec.hotspots else None
    share = np.array([t.share for t in types], float)
    return DemandModel(
        rate_per_hour=profile * per_day / 24.0,
        place_prob=place_w / place_w.sum(),
        type_name=tuple(t.name for t in types),
        type_prob=share / share.sum(),
        type_priority=np.array([t.priority for t in types], int),
        type_units_needed=np.array([t.units_needed for t in types], int),
        type_on_scene_mean_s=np.array([t.on_scene_mean_s for t in types], float),
        type_on_scene_cv=np.array([t.on_scene_cv for t in types], float),
        type_on_scene_exponential=np.array([getattr(t, "on_scene_dist", "lognormal") == "exponential"
                                            for t in types], bool),
        call_handling_mean_s=float(spec.call_handling_mean_s),
        day_shape=None if day_shape is None else float(day_shape),
        replay=replay,
        place_prob_by_hour=by_hour,
        season=season,
        start_date=start_date,
    )


def has_season(season: dict | None) -> bool:
    """Whether a fitted file's ``season`` estimated anything (a trend or month effects)."""
    return bool(season) and (season.get("trend_log_per_year") is not None or bool(season.get("month_log_effect")))


def season_day_factors(season: dict | None, *, start_date, n_days: int) -> np.ndarray:
    """The season-and-trend multiplier of ``n_days`` calendar days from ``start_date``.

    ``exp(level_log + trend_log_per_year * years from reference_date + month_log_effect[month])``,
    the trend's date held within ``trend_dates`` (see ``sim.fit.season``). Ones
    when the file has no season.
    """
    if not has_season(season):
        return np.ones(n_days)
    days = np.datetime64(str(start_date), "D") + np.arange(n_days)
    f = np.full(n_days, float(season.get("level_log") or 0.0))
    b = season.get("trend_log_per_year")
    if b is not None:
        lo, hi = (np.datetime64(str(x), "D") for x in season["trend_dates"])
        t = np.clip(days, lo, hi)
        f += float(b) * (t - np.datetime64(str(season["reference_date"]), "D")).astype(float) / 365.25
    m = season.get("month_log_effect")
    if m:
        f += np.asarray(m, float)[days.astype("datetime64[M]").astype(np.int64) % 12]
    return np.exp(f)


def hotspot_place_prob(place_w: np.ndarray, city: City, hotspots) -> np.ndarray:
    """(24, n_places) place probabilities with each hot spot's multiplier in its hours."""
    from sim.network.graph import project_lonlat

    g = city.places
    lon0, lat0 = float(np.median(g.lon)), float(np.median(g.lat))
    gx, gy = project_lonlat(g.lon, g.lat, lon0=lon0, lat0=lat0)
    out = np.tile(np.asarray(place_w, float), (24, 1))
    for h in hotspots:
        hx, hy = project_lonlat(np.array([h.lon]), np.array([h.lat]), lon0=lon0, lat0=lat0)
        near = np.hypot(gx - hx[0], gy - hy[0]) <= h.radius_m
        start, end = h.hours
        hours = [x % 24 for x in (range(start, end) if start < end else range(start, end + 24))]
        for hr in hours:
            out[hr, near] *= h.multiplier
    return out / out.sum(axis=1, keepdims=True)


def expected_by_hour(model: DemandModel) -> np.ndarray:
    """(24, n_places) expected incidents per day at each place in each hour of the day."""
    per_hour = model.rate_per_hour.reshape(7, 24).mean(axis=0) * model.multiplier
    prob = model.place_prob_by_hour if model.place_prob_by_hour is not None else \
        np.tile(model.place_prob, (24, 1))
    return per_hour[:, None] * prob


def expected_per_place(model: DemandModel) -> np.ndarray:
    """Expected incidents per day at each place."""
    return expected_by_hour(model).sum(axis=0)


def expected_by_period(model: DemandModel, *, period_h: float) -> np.ndarray:
    """(periods per day, n_places) expected incidents in each period of the day (e.g. 8-hour shifts)."""
    by_hour = expected_by_hour(model)
    n = max(1, int(round(24 / period_h)))
    edges = np.linspace(0, 24, n + 1)
    return np.vstack([by_hour[int(edges[i]):int(edges[i + 1])].sum(axis=0) for i in range(n)])


def mean_on_scene_s(model: DemandModel) -> float:
    return float((model.type_prob * model.type_on_scene_mean_s).sum())


def _snap_points(city: City, pts: np.ndarray) -> np.ndarray:
    """Weights per place from (lon, lat, weight) points: each point goes to its nearest place."""
    from sim.network.graph import project_lonlat

    g = city.places
    lon0, lat0 = float(np.median(g.lon)), float(np.median(g.lat))
    gx, gy = project_lonlat(g.lon, g.lat, lon0=lon0, lat0=lat0)
    px, py = project_lonlat(pts[:, 0], pts[:, 1], lon0=lon0, lat0=lat0)
    from scipy.spatial import cKDTree

    _, idx = cKDTree(np.column_stack([gx, gy])).query(np.column_stack([px, py]))
    w = np.zeros(g.n_nodes)
    np.add.at(w, idx, pts[:, 2])
    return w


def sample_incidents(model: DemandModel, rep: np.random.SeedSequence, *, horizon_s: float) -> IncidentTable:
    """Draw one replication's incidents over ``[0, horizon_s)``; time 0 is Monday 00:00."""
    if model.replay is not None:
        keep = model.replay.call_s < horizon_s
        return IncidentTable(**{k: getattr(model.replay, k)[keep] for k in IncidentTable.__dataclass_fields__})
    n_hours = int(np.ceil(horizon_s / 3600.0))
    hours = np.arange(n_hours)
    rate = model.rate_per_hour[hours % HOURS_PER_WEEK] * model.multiplier
    days = hours // 24
    if model.day_shape:
        n_days = int(days.max()) + 1
        g = stream(rep, "day-intensity").gamma(model.day_shape, 1.0 / model.day_shape, n_days)
        rate = rate * g[days]
    if model.season is not None:
        season = season_day_factors(model.season, start_date=model.start_date, n_days=int(days.max()) + 1)
        rate = rate * season[days]
    if model.day_multiplier is not None:
        rate = rate * np.asarray(model.day_multiplier)[np.minimum(days, len(model.day_multiplier) - 1)]
    counts = stream(rep, "arrival-counts").poisson(rate)
    start = np.repeat(hours * 3600.0, counts)
    call = start + stream(rep, "arrival-offsets").random(start.size) * 3600.0
    call = np.sort(call)
    call = call[call < horizon_s]
    n = call.size
    places_rng = stream(rep, "places")
    if model.place_prob_by_hour is None:
        place = places_rng.choice(model.place_prob.size, size=n, p=model.place_prob)
    else:
        place = np.empty(n, np.int64)
        hour = (call // 3600).astype(int) % 24
        for h in range(24):
            m = hour == h
            place[m] = places_rng.choice(model.place_prob.size, size=int(m.sum()), p=model.place_prob_by_hour[h])
    tix = stream(rep, "types").choice(model.type_prob.size, size=n, p=model.type_prob)
    mu, sigma = lognormal_params(model.type_on_scene_mean_s, model.type_on_scene_cv)
    z = stream(rep, "on-scene").standard_normal(n)
    on_scene = np.where(sigma[tix] > 0, np.exp(mu[tix] + sigma[tix] * z), model.type_on_scene_mean_s[tix])
    if model.type_on_scene_exponential is not None and model.type_on_scene_exponential.any():
        expo = model.type_on_scene_exponential[tix]
        e = stream(rep, "on-scene-exponential").exponential(1.0, n)
        on_scene = np.where(expo, e * model.type_on_scene_mean_s[tix], on_scene)
    handling = stream(rep, "call-handling").exponential(1.0, n) * model.call_handling_mean_s
    return IncidentTable(call_s=call, place=place.astype(np.int64), type_idx=tix.astype(np.int64),
                         priority=model.type_priority[tix], units_needed=model.type_units_needed[tix],
                         handling_s=handling, on_scene_s=on_scene)
