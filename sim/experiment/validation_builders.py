"""Hand-built cities, stationed forces and incident streams for validating the engine.

The analytic models (Erlang C, Larson's hypercube, the square-root law) describe
simpler worlds than a scenario: units wait at fixed posts, calls come from a few
atoms, service times are exponential, travel is negligible or follows a grid.
These helpers build exactly those worlds out of the engine's own inputs
(``RoadGraph``, ``City``, ``Deployment``, ``IncidentTable``) so that the real
engine, not a copy of it, is what gets compared with the formulas:

* :func:`preference_city` - a "star" of posts and atoms whose travel times
  encode fixed dispatch preference lists (the hypercube and Erlang C checks);
* :func:`grid_city` - a square grid of two-way right-angle streets, optionally
  wrapped into a torus so that it has no edges (the square-root law check);
* :func:`stationed_deployment` - standby units at given posts, turnout 0;
* :func:`poisson_incidents` - Poisson calls at given places with exponential
  service and no call handling, drawn from named streams;
* :func:`run_stationed` - one replication of the engine on these inputs;
* :func:`simulate_mmc`, :func:`simulate_nearest_distance` - the Erlang C and
  square-root-law experiments, and :func:`lattice_nearest_distance`, the exact
  expectation of the latter on a finite lattice.

Nothing here is used by a scenario run; it is shared by
``sim.experiment.hypercube_sim``, ``tests/validation`` and ``bench/validation_tables.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.demand import IncidentTable
from sim.dispatch import DispatchRules
from sim.engine import Engine, EngineLog, ModeTravel
from sim.force import Deployment, Unit
from sim.network.graph import City, RoadGraph, map_places
from sim.network.travel import TravelOracle
from sim.streams import replication_seed, stream

__all__ = [
    "HOUR_S", "PREFERENCE_BASE_S", "PREFERENCE_STEP_S", "RETURN_S",
    "preference_city", "grid_city", "stationed_deployment", "make_travel", "poisson_incidents",
    "run_stationed", "busy_shares", "MMcSimulation", "simulate_mmc", "NearestSimulation",
    "simulate_nearest_distance", "lattice_nearest_distance",
]

HOUR_S = 3600.0
#: Star city: travel from a post to an atom takes ``PREFERENCE_BASE_S + rank x step`` seconds
#: (rank 0 = the atom's first choice; step ``PREFERENCE_STEP_S``, smaller beyond 50 units), and
#: the drive back from an atom to any post ``RETURN_S``. Any route through another node costs at
#: least ``2 x PREFERENCE_BASE_S``, more than the slowest direct edge as long as
#: ``units x step < PREFERENCE_BASE_S``, so the nearest unit by travel time is always the first
#: free one of the list.
PREFERENCE_BASE_S = 0.1
PREFERENCE_STEP_S = 1e-3
RETURN_S = 1e-6


def _graph(*, x_m, y_m, edge_u, edge_v, edge_length_m, speed_kph: float, mode: str = "drive") -> RoadGraph:
    n = len(x_m)
    x_m = np.asarray(x_m, float)
    y_m = np.asarray(y_m, float)
    e = len(edge_u)
    return RoadGraph(mode=mode, node_id=np.arange(n, dtype=np.int64), x_m=x_m, y_m=y_m,
                     lon=x_m / 111_000.0, lat=y_m / 111_000.0,
                     edge_u=np.asarray(edge_u, np.int32), edge_v=np.asarray(edge_v, np.int32),
                     edge_length_m=np.asarray(edge_length_m, float),
                     edge_speed_kph=np.full(e, float(speed_kph)),
                     edge_class=np.full(e, "residential", dtype=object))


def _city(name: str, graph: RoadGraph, *, stations: np.ndarray, notes: tuple[str, ...] = ()) -> City:
    graphs = {"drive": graph}
    node, offset = map_places(graphs)
    stations = np.asarray(stations, np.int64)
    return City(name=name, graphs=graphs, place_weight=np.ones(graph.n_nodes),
                station_place=stations, station_name=tuple(f"post-{i}" for i in range(stations.size)),
                bureau_place=int(stations[0]), exit_place=np.empty(0, np.int64),
                place_node=node, place_offset_m=offset, notes=notes)


def preference_city(preferences, *, base_s: float = PREFERENCE_BASE_S, step_s: float | None = None,
                    return_s: float = RETURN_S) -> tuple[City, np.ndarray, np.ndarray]:
    """A city whose travel times reproduce fixed dispatch preference lists.

    Node ``n`` (``n < N``) is unit ``n``'s post, node ``N + j`` is atom ``j``.
    Each post has an edge to each atom taking ``base_s + rank x step_s`` seconds,
    where ``rank`` is the unit's position in the atom's preference list, and
    each atom has an edge back to each post taking ``return_s``. The graph is
    strongly connected, and with ``N x step_s < base_s`` the fastest route from
    a post to an atom is the direct edge, so "nearest free unit" (the engine's
    rule) and "first free unit of the list" (the hypercube's) are the same.

    Edges have speed 3.6 km/h (1 m/s), so lengths in metres equal seconds.
    ``step_s`` defaults to ``PREFERENCE_STEP_S``, or ``base_s / (2 N)`` when there
    are too many units for it.

    Parameters
    ----------
    preferences : array_like of int, shape (J, N)
        Row ``j`` ranks every unit for atom ``j``.

    Returns
    -------
    (City, post_place, atom_place)
        The city and the place index of each post (N,) and atom (J,).
    """
    pref = np.asarray(preferences, np.int64)
    if pref.ndim != 2 or sorted(pref[0].tolist()) != list(range(pref.shape[1])):
        raise ValueError("preferences must be a (J, N) array whose rows rank every unit")
    n_atoms, n_units = pref.shape
    if step_s is None:
        step_s = min(PREFERENCE_STEP_S, base_s / (2.0 * n_units))
    if n_units * step_s >= base_s:
        raise ValueError(f"{n_units} units x step {step_s} s must stay below the base {base_s} s")
    posts = np.arange(n_units)
    atoms = n_units + np.arange(n_atoms)
    rank = np.empty_like(pref)
    rows = np.arange(n_atoms)[:, None]
    rank[rows, pref] = np.arange(n_units)[None, :]           # rank[j, n]: position of unit n in list j
    uu, aa = np.meshgrid(posts, np.arange(n_atoms), indexing="ij")  # (N, J)
    out_u = uu.ravel()
    out_v = atoms[aa.ravel()]
    out_s = base_s + step_s * rank[aa.ravel(), uu.ravel()]
    back_u = atoms[aa.ravel()]
    back_v = uu.ravel()
    back_s = np.full(back_u.size, return_s)
    # posts on a circle, atoms on an inner circle: coordinates are only for display
    ang_p = 2 * np.pi * posts / max(n_units, 1)
    ang_a = 2 * np.pi * np.arange(n_atoms) / max(n_atoms, 1)
    x = np.concatenate([1000 * np.cos(ang_p), 500 * np.cos(ang_a)])
    y = np.concatenate([1000 * np.sin(ang_p), 500 * np.sin(ang_a)])
    g = _graph(x_m=x, y_m=y, edge_u=np.concatenate([out_u, back_u]), edge_v=np.concatenate([out_v, back_v]),
               edge_length_m=np.concatenate([out_s, back_s]), speed_kph=3.6)
    city = _city("preference-star", g, stations=posts,
                 notes=("validation city: travel times encode preference lists",))
    return city, posts.astype(np.int64), atoms.astype(np.int64)


def grid_city(*, side: int, spacing_m: float = 100.0, speed_kph: float = 36.0,
              torus: bool = False) -> City:
    """A ``side x side`` grid of two-way streets ``spacing_m`` apart (right-angle travel).

    With ``torus=True`` the last row and column are joined to the first by
    streets of the same length, so travel distance is the right-angle distance
    on a torus of ``side x side`` cells, ``area = (side x spacing_m)^2``, and
    every node sees the same surroundings: no edge effects. Without it the grid
    is a square of ``(side - 1) x spacing_m`` on a side and nodes near the edge
    are farther from everything. Node ``r x side + c`` is row ``r``, column ``c``.
    """
    if side < 2:
        raise ValueError("side must be 2 or more")
    last = side if torus else side - 1          # steps per row / column that have a street
    r, c = np.meshgrid(np.arange(side), np.arange(last), indexing="ij")
    horiz_u, horiz_v = r * side + c, r * side + (c + 1) % side
    vert_u, vert_v = c * side + r, ((c + 1) % side) * side + r
    u = np.concatenate([horiz_u.ravel(), vert_u.ravel()])
    v = np.concatenate([horiz_v.ravel(), vert_v.ravel()])
    eu, ev = np.concatenate([u, v]), np.concatenate([v, u])
    r, c = np.divmod(np.arange(side * side), side)
    g = _graph(x_m=c * spacing_m, y_m=r * spacing_m, edge_u=eu, edge_v=ev,
               edge_length_m=np.full(eu.size, float(spacing_m)), speed_kph=speed_kph)
    return _city("grid-torus" if torus else "grid", g, stations=np.array([0]),
                 notes=(f"validation city: {side} x {side} grid{' (torus)' if torus else ''}",))


def stationed_deployment(posts) -> Deployment:
    """Standby units, unit ``n`` waiting at place ``posts[n]`` and answering from there.

    Staffing and the alert plan are left at their defaults (one fixed level, every
    unit always on duty); the engine's turnout delay is set by the caller (0 here).
    """
    posts = np.asarray(posts, np.int64)
    units = tuple(Unit(uid=i, name=f"unit-{i + 1}", kind="car", role="standby", crew=1, station=i, beat=-1,
                       beat_places=np.empty(0, np.int64), home_place=int(p)) for i, p in enumerate(posts))
    return Deployment(units=units, alert_level="green", patrol_officers=0, standby_officers=len(units),
                      on_duty_officers=len(units))


def make_travel(city: City, oracle: TravelOracle | None = None) -> dict[str, ModeTravel]:
    """Drive travel on the city's graph at road speed; returns are at the same speed (patrol_scale 1)."""
    oracle = oracle or TravelOracle(city.graphs["drive"])
    return {"drive": ModeTravel(oracle, patrol_scale=1.0, offset_speed_mps=1.0)}


def poisson_incidents(rep: np.random.SeedSequence, *, rates_per_s, places, mean_service_s: float,
                      horizon_s: float, name: str) -> IncidentTable:
    """Poisson calls from each place at its rate, exponential service, no call handling.

    One priority, one unit per call. Arrival times, places and service times each
    come from their own named stream (``name`` + ``-arrivals`` / ``-places`` /
    ``-service``), so the same replication seed gives the same calls whatever
    is simulated with them.

    Parameters
    ----------
    rates_per_s : array_like
        Call rate of each place, per second.
    places : array_like of int
        The place index of each rate.
    mean_service_s : float
        Mean on-scene time (exponential).
    horizon_s : float
        Calls are drawn over ``[0, horizon_s)``.
    """
    rates = np.asarray(rates_per_s, float)
    places = np.asarray(places, np.int64)
    total = float(rates.sum())
    count = int(stream(rep, f"{name}-count").poisson(total * horizon_s))
    call = np.sort(stream(rep, f"{name}-arrivals").random(count) * horizon_s)
    which = stream(rep, f"{name}-places").choice(rates.size, size=count, p=rates / total)
    service = stream(rep, f"{name}-service").exponential(mean_service_s, count)
    return IncidentTable(call_s=call, place=places[which], type_idx=np.zeros(count, np.int64),
                         priority=np.ones(count, np.int64), units_needed=np.ones(count, np.int64),
                         handling_s=np.zeros(count), on_scene_s=service)


def run_stationed(*, city: City, deployment: Deployment, travel: dict[str, ModeTravel],
                  incidents: IncidentTable, rep: np.random.SeedSequence, warmup_s: float, horizon_s: float,
                  lost_when_all_busy: bool = False) -> EngineLog:
    """One engine replication with stationed units: turnout 0, nearest-unit dispatch."""
    engine = Engine(city=city, deployment=deployment, travel=travel, incidents=incidents, rep=rep,
                    warmup_s=warmup_s, horizon_s=horizon_s, turnout_s=0.0,
                    rules=DispatchRules(lost_when_all_busy=lost_when_all_busy))
    return engine.run()


def busy_shares(log: EngineLog) -> np.ndarray:
    """Fraction of the window ``[warmup, horizon)`` each unit was busy (travelling or on scene)."""
    window = log.horizon_s - log.warmup_s
    return np.array([(st.travel_s + st.scene_s) / window for st in log.units])


# --------------------------------------------------------------------------- Erlang C (M/M/c)
@dataclass(frozen=True)
class MMcSimulation:
    """Per-replication results of :func:`simulate_mmc` (times in mean service times)."""

    servers: int
    offered_load: float
    p_wait: np.ndarray            # (R,) share of calls that waited
    mean_wait: np.ndarray         # (R,) mean wait over all calls (0 for those that did not wait)
    p_wait_exceeds: np.ndarray    # (R, len(t)) share of calls that waited longer than t
    t: np.ndarray                 # the thresholds of p_wait_exceeds, in mean service times
    utilisation: np.ndarray       # (R,) mean share of time a unit is busy
    calls: np.ndarray             # (R,)


def simulate_mmc(*, servers: int, offered_load: float, replications: int, seed: int,
                 horizon_services: float, warmup_services: float, t=(0.25, 0.5, 1.0),
                 service_s: float = HOUR_S) -> MMcSimulation:
    """The engine as an M/M/c queue: ``servers`` identical units at their posts, one atom.

    Calls arrive as a Poisson process at rate ``offered_load`` per mean service
    time; on-scene times are exponential with mean ``service_s``; travel is at
    most ``PREFERENCE_BASE_S + servers x PREFERENCE_STEP_S`` (0.1 s against a
    service time of an hour); calls that find every unit busy wait first come
    first served. A call waited when it was dispatched more than 1 ms after
    it was made.
    """
    city, posts, atoms = preference_city([list(range(servers))])
    dep = stationed_deployment(posts)
    travel = make_travel(city)
    warmup_s = warmup_services * service_s
    horizon_s = warmup_s + horizon_services * service_s
    t = np.asarray(t, float)
    R = int(replications)
    pw, mw, pex, util, calls = np.zeros(R), np.zeros(R), np.zeros((R, t.size)), np.zeros(R), np.zeros(R)
    for r in range(R):
        rep = replication_seed(seed, r)
        inc = poisson_incidents(rep, rates_per_s=[offered_load / service_s], places=atoms,
                                mean_service_s=service_s, horizon_s=horizon_s, name="mmc")
        log = run_stationed(city=city, deployment=dep, travel=travel, incidents=inc, rep=rep,
                            warmup_s=warmup_s, horizon_s=horizon_s)
        m = (inc.call_s >= warmup_s) & (inc.call_s < horizon_s)
        wait_s = log.dispatch_s[m] - inc.call_s[m]
        wait_s = np.where(np.isnan(wait_s), np.inf, wait_s)     # never dispatched: waited "forever"
        waited = wait_s > 1e-3
        calls[r] = float(m.sum())
        pw[r] = float(waited.mean())
        mw[r] = float(np.where(waited, wait_s, 0.0).mean() / service_s)
        pex[r] = (wait_s[:, None] / service_s > t[None, :]).mean(axis=0)
        util[r] = float(busy_shares(log).mean())
    return MMcSimulation(servers=servers, offered_load=float(offered_load), p_wait=pw, mean_wait=mw,
                         p_wait_exceeds=pex, t=t, utilisation=util, calls=calls)


# --------------------------------------------------------------------------- square-root law
@dataclass(frozen=True)
class NearestSimulation:
    """Per-replication (one layout of units each) mean distance to the responding unit."""

    side: int
    torus: bool
    n_units: int
    spacing_m: float
    area_m2: float                # side^2 cells of spacing^2 (one cell per node)
    mean_distance_m: np.ndarray   # (R,)
    calls: int                    # calls per replication


def simulate_nearest_distance(*, side: int, n_units: int, replications: int, seed: int,
                              calls_per_replication: int, torus: bool, spacing_m: float = 100.0,
                              speed_kph: float = 360.0, gap_s: float = 600.0,
                              city: City | None = None, travel: dict | None = None) -> NearestSimulation:
    """Mean distance from a call to the unit the engine sends, units spread uniformly at random.

    Each replication places ``n_units`` standby units at independent uniformly
    random nodes of a grid (:func:`grid_city`; several may share a node) and
    makes ``calls_per_replication`` calls at uniformly random nodes, ``gap_s``
    seconds apart: with on-scene time 1 s and the default speed (a block in
    1 s) every unit is back at its post before the next call, so every call
    sees all ``n_units`` free. The distance is the engine's travel time
    (arrival minus dispatch) times the speed.
    """
    city = city or grid_city(side=side, spacing_m=spacing_m, speed_kph=speed_kph, torus=torus)
    travel = travel or make_travel(city)
    n_nodes = city.n_places
    speed_mps = speed_kph / 3.6
    horizon_s = (calls_per_replication + 1) * gap_s
    out = np.zeros(int(replications))
    for r in range(int(replications)):
        rep = replication_seed(seed, r)
        posts = stream(rep, "sqrt-law-posts").integers(0, n_nodes, n_units)
        k = int(calls_per_replication)
        place = stream(rep, "sqrt-law-places").integers(0, n_nodes, k)
        inc = IncidentTable(call_s=(np.arange(k) + 0.5) * gap_s, place=place.astype(np.int64),
                            type_idx=np.zeros(k, np.int64), priority=np.ones(k, np.int64),
                            units_needed=np.ones(k, np.int64), handling_s=np.zeros(k), on_scene_s=np.ones(k))
        log = run_stationed(city=city, deployment=stationed_deployment(posts), travel=travel, incidents=inc,
                            rep=rep, warmup_s=0.0, horizon_s=horizon_s)
        first = np.array([a[0] for a in log.arrivals_s])
        out[r] = float(((first - log.dispatch_s) * speed_mps).mean())
    return NearestSimulation(side=side, torus=torus, n_units=n_units, spacing_m=spacing_m,
                             area_m2=float(side * side * spacing_m ** 2), mean_distance_m=out,
                             calls=int(calls_per_replication))


def lattice_nearest_distance(*, side: int, n_units: int, torus: bool) -> float:
    """Exact mean right-angle distance (in blocks) from a random node to the nearest of
    ``n_units`` independent uniformly random nodes of a ``side x side`` grid.

    ``P(D > r) = (1 - B_x(r) / M)^n`` for a call at node ``x``, where ``B_x(r)``
    counts the ``M = side^2`` nodes within distance ``r`` of ``x``;
    ``E[D] = mean over x of sum_r P(D > r)``. This is what the simulation of
    :func:`simulate_nearest_distance` estimates, without the square-root law's
    approximations (a continuum, a Poisson number of units, no edges).
    """
    m = side * side
    if torus:
        d1 = np.minimum(np.arange(side), side - np.arange(side))
        dist = (d1[:, None] + d1[None, :]).ravel()
        b = np.cumsum(np.bincount(dist))
        return float(((1.0 - b / m) ** n_units).sum())
    r, c = np.divmod(np.arange(m), side)
    total = 0.0
    width = 2 * side - 1
    for x in range(m):
        dist = np.abs(r - r[x]) + np.abs(c - c[x])
        b = np.cumsum(np.bincount(dist, minlength=width))
        total += float(((1.0 - b / m) ** n_units).sum())
    return total / m
