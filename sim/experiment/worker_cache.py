"""The per-process cache of loaded networks, their travel tables and prepared points.

Why a cache: building a network's travel tables and preparing a point (demand, deployment) cost
far more than a replication, and a worker (a Dask worker, a local worker process of
``run --workers``, or this process) gets many tasks on the same network and the same few points.
:data:`WORKER_CACHE` is the one module-level mutable object of the experiment package. Tables are
shared by every point on a network (one per graph and speed), so a worker builds them once per
sweep. It holds at most a few of each (least recently used go first) and counts what it did
(:func:`worker_stats`), which the task log (``sim.experiment.tasks.run_task_logged``), tests and
``bench/sweep_scaling.py`` read.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter, OrderedDict

from sim.experiment.points import scenario_key


def network_key(scenario_data: dict, source_file: str | None) -> str:
    """What the City depends on: the network section without its speeds, the name and the file.

    Speeds change travel times, not the graphs: a sweep over ``network.speeds.*`` shares one
    loaded network and builds one set of travel tables per speed.
    """
    net = {k: v for k, v in (scenario_data.get("network") or {}).items() if k != "speeds"}
    return scenario_key({"network": net, "name": scenario_data.get("name")}, source_file)


class _Network:
    """A loaded network and the travel oracles built on it, by (graph, speed)."""

    def __init__(self, city) -> None:
        self.city = city
        self.oracles: dict = {}


class WorkerCache:
    """Prepared worlds (by point key), loaded networks and their travel tables, of this process.

    A sweep's points on one network share the network and its travel oracles (the all-pairs
    tables, or the columns and routes filled as replications ask for them): each process
    loads a network and builds each travel table once, however many points and tasks it runs.
    What a point adds (demand, deployment) is prepared once per point and kept for the next
    tasks of that point.
    """

    def __init__(self, *, max_contexts: int = 8, max_cities: int = 2) -> None:
        self.max_contexts = max_contexts
        self.max_cities = max_cities
        self._contexts: OrderedDict = OrderedDict()
        self._cities: OrderedDict = OrderedDict()
        #: networks_loaded, travel_tables_built, points_prepared, replications, errors
        self.stats: Counter = Counter()
        #: held while a task runs: a process runs one replication at a time, even with worker threads
        self.lock = threading.RLock()

    def clear(self) -> None:
        with self.lock:
            self._contexts.clear()
            self._cities.clear()
            self.stats.clear()

    def context(self, scenario_data: dict, source_file: str | None, key: str | None = None):
        """The prepared context of a scenario, from the cache when this process prepared it before."""
        from sim.experiment.replicate import prepare
        from sim.scenario import scenario_from_dict

        key = key or scenario_key(scenario_data, source_file)
        with self.lock:
            ctx = self._contexts.get(key)
            if ctx is not None:
                self._contexts.move_to_end(key)
                return ctx
            scenario = scenario_from_dict(scenario_data, source_file=source_file)
            net = self._network(scenario, network_key(scenario_data, source_file))
            ctx = prepare(scenario, quiet=True, city=net.city,
                          oracle_for=lambda sc, city, kind: self._oracle(net, sc, city, kind))
            self.stats["points_prepared"] += 1
            self._put(self._contexts, key, ctx, self.max_contexts)
            return ctx

    def _network(self, scenario, net_key: str) -> _Network:
        from sim.network import load_city

        net = self._cities.get(net_key)
        if net is None:
            net = _Network(load_city(scenario, quiet=True))
            self.stats["networks_loaded"] += 1
            self._put(self._cities, net_key, net, self.max_cities)
        else:
            self._cities.move_to_end(net_key)
        return net

    def _oracle(self, net: _Network, scenario, city, kind):
        """The kind's travel oracle on ``net``, built the first time its graph and speed are asked for."""
        from sim.world import response_oracle

        spec = kind.response
        key = (kind.graph, spec.per, float(getattr(scenario.network.speeds, spec.key)))
        oracle = net.oracles.get(key)
        if oracle is None or oracle.graph is not city.graphs[kind.graph]:
            oracle = net.oracles[key] = response_oracle(scenario, city, kind)
            self.stats["travel_tables_built"] += 1
        return oracle

    @staticmethod
    def _put(store: OrderedDict, key, value, limit: int) -> None:
        store[key] = value
        while len(store) > limit:
            store.popitem(last=False)


#: This process's cache (see the module docstring).
WORKER_CACHE = WorkerCache()


def worker_name() -> str:
    """This process, as a task's log names it: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_stats() -> dict:
    """This process's cache counters; ``client.run(worker_stats)`` asks every Dask worker."""
    return {**WORKER_CACHE.stats, "pid": os.getpid(), "worker": worker_name()}


def clear_worker_cache() -> None:
    WORKER_CACHE.clear()
