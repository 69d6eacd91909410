"""Memory and time a run will need, estimated before it starts, against what the machine has.

Without this, ``demand.incidents_per_day: 1e7`` simulated for minutes and took gigabytes
before failing. The estimate is linear in what drives the cost, with coefficients measured
on the default town (see docs/robustness.md for the commands):

* every incident of every replication is kept until the tables are written:
  about 3 kB each measured, ``BYTES_PER_INCIDENT`` allows 8 kB (copies while writing parquet);
* the engine spends about 0.5 ms of one core per incident (``SECONDS_PER_INCIDENT``);
* a street node costs ``BYTES_PER_NODE`` across the three mode graphs and travel caches.

A run is refused (one ``ScenarioError`` line with the fix) when the estimate exceeds
``MEMORY_SHARE`` of the memory available now, or ``MAX_RUN_HOURS`` of computing. The
environment variables ``PATROLSIM_MAX_MEMORY_GB`` and ``PATROLSIM_MAX_RUN_HOURS`` replace
the two limits for a machine (or a cluster) that knows better.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from sim.errors import ScenarioError

BASE_BYTES = 300e6            # interpreter, numpy, pandas, simpy and the default town (measured ~200 MB)
BYTES_PER_INCIDENT = 8e3
BYTES_PER_NODE = 20e3           # measured ~3 kB (9,031 nodes: +21 MB); travel caches grow with use
SECONDS_PER_INCIDENT = 0.5e-3
SECONDS_PER_NODE = 2e-3       # building graphs, beats and travel caches per street node
MEMORY_SHARE = 0.8            # of MemAvailable; the rest is left to the system and other processes
MAX_RUN_HOURS = 48.0


@dataclass(frozen=True)
class Estimate:
    incidents: float          # all replications
    nodes: float
    bytes: float
    seconds: float


def synthetic_nodes(spec) -> float:
    """Street nodes of a synthetic town: an n x n grid (before dropped segments), plus a county's townships and rural roads."""
    from sim.county_checks import county_nodes

    n = max(3.0, round(math.sqrt(spec.area_km2) * 1000.0 / spec.block_m) + 1)
    return n * n + county_nodes(spec)


def estimate(sc, *, nodes: float | None = None, replications: int | None = None) -> Estimate:
    """Memory and time of running ``sc`` (all replications, or ``replications``, in one process)."""
    if nodes is None:
        nodes = synthetic_nodes(sc.network.synthetic) if sc.network.synthetic is not None else 0.0
    a = sc.alert
    mult = a.demand_multiplier[a.level] if a.mode == "fixed" else max(a.demand_multiplier.values())
    hot = max([1.0] + [h.multiplier for h in sc.demand.hotspots])
    incidents = sc.demand.incidents_per_day * mult * hot * sc.horizon_days * (replications or sc.replications)
    return Estimate(incidents=incidents, nodes=nodes,
                    bytes=BASE_BYTES + incidents * BYTES_PER_INCIDENT + nodes * BYTES_PER_NODE,
                    seconds=incidents * SECONDS_PER_INCIDENT + nodes * SECONDS_PER_NODE)


def available_bytes() -> float:
    """Memory available now: PATROLSIM_MAX_MEMORY_GB, else MemAvailable from /proc/meminfo, else physical pages."""
    env = os.environ.get("PATROLSIM_MAX_MEMORY_GB")
    if env:
        return float(env) * 1e9 / MEMORY_SHARE
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def max_run_s() -> float:
    env = os.environ.get("PATROLSIM_MAX_RUN_HOURS")
    return (float(env) if env else MAX_RUN_HOURS) * 3600.0


def check(sc, *, nodes: float | None = None, replications: int | None = None) -> Estimate:
    """Refuse a run that would need more memory or time than allowed, before it starts."""
    est = estimate(sc, nodes=nodes, replications=replications)
    fix = ("fewer horizon_days or replications, a lower demand.incidents_per_day, or a smaller network "
           "(e.g. --set horizon_days=7 --replications 5)")
    limit = available_bytes() * MEMORY_SHARE
    if est.bytes > limit:
        raise ScenarioError(
            f"this run needs about {est.bytes / 1e9:.3g} GB ({est.incidents:.3g} incidents over all replications, "
            f"{est.nodes:.3g} street nodes), more than the {limit / 1e9:.3g} GB this machine has free",
            file=sc.source_file, key=_main_key(sc), fix=fix + "; or set PATROLSIM_MAX_MEMORY_GB")
    if est.seconds > max_run_s():
        raise ScenarioError(
            f"this run needs about {est.seconds / 3600:.3g} hours of computing ({est.incidents:.3g} incidents), "
            f"more than the {max_run_s() / 3600:.3g} allowed", file=sc.source_file, key=_main_key(sc),
            fix=fix + "; or set PATROLSIM_MAX_RUN_HOURS")
    return est


def _main_key(sc) -> str:
    """The key that contributes most: demand, horizon or replications (or the network)."""
    if sc.network.synthetic is not None and synthetic_nodes(sc.network.synthetic) * BYTES_PER_NODE > 4e9:
        return "network.synthetic.area_km2"
    parts = {"demand.incidents_per_day": sc.demand.incidents_per_day / 260.0,
             "horizon_days": sc.horizon_days / 7.0, "replications": sc.replications / 5.0}
    return max(parts, key=parts.get)
