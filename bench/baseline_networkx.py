"""The baseline: patrolsim's simple model written straightforwardly with SimPy and networkx.

    python bench/baseline_networkx.py --days 30

Same work as ``bench/run_patrolsim.py``: the same drive graph (built from
patrolsim's cached arrays, same speeds), the same 40 cars and beats, the same
incidents (``sim.demand.sample_incidents`` with the same replication seed).
What is written the plain way:

* the road graph is a ``networkx.DiGraph``; each edge carries its response
  time (``length_m / (speed_kph * emergency_factor / 3.6)``) and its patrol
  time (the same street at patrol speed);
* each car is a SimPy process that drives a closed circuit through ten random
  nodes of its beat, node to node, one timeout per street segment;
* each incident is a SimPy process: call handling timeout, then a dispatch,
  then per unit a travel timeout and an on-scene timeout;
* dispatch runs one ``networkx.single_source_dijkstra_path_length`` from the
  incident's node on the reversed graph and sends the available car(s) with the
  smallest arrival time (a car mid-street first finishes that street);
  incidents needing two units get the two nearest; calls nobody can take wait
  in a queue by priority, then call time, and a car that clears takes the head
  of the queue (one ``networkx.shortest_path_length``) or drives back to the
  nearest node of its circuit (one ``networkx.multi_source_dijkstra``).

Only the inputs come from ``sim`` (network, demand, deployment); nothing of
patrolsim's engine, patrol or travel code is used.
"""

from __future__ import annotations

import argparse
import heapq
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_patrolsim as common  # noqa: E402  (shared scenario and input loading)

CIRCUIT_STOPS = 10


class Car:
    def __init__(self, uid: int, circuit: list[int], start: int) -> None:
        self.uid = uid
        self.circuit = circuit            # closed: circuit[0] == circuit[-1]
        self.pos = start                  # index in circuit of the node last reached
        self.busy = False
        self.node = circuit[start]        # node last reached
        self.next_node = circuit[start]   # node it is driving to
        self.seg_t0 = 0.0                 # when it left ``node``
        self.seg_t1 = 0.0                 # when it reaches ``next_node``
        self.seg_resp = 0.0               # response seconds of the street it is on
        self.back: list[int] = []         # path back to the circuit after a call
        self.wake = None
        self.proc = None


class Baseline:
    def __init__(self, G, circuits, incidents, node_of_place, *, horizon_s, response_line_s,
                 backup_line_s, rng) -> None:
        import networkx as nx
        import simpy

        self.nx = nx
        self.simpy = simpy
        self.G = G
        self.R = G.reverse(copy=True)
        self.inc = incidents
        self.node_of_place = node_of_place
        self.horizon_s = horizon_s
        self.response_line_s = response_line_s
        self.backup_line_s = backup_line_s
        self.env = simpy.Environment()
        n = len(incidents)
        self.arrivals = [[] for _ in range(n)]
        self.cleared = [0] * n
        self.queue: list = []
        self.seq = 0
        self.open = 0                     # incidents with units still to send or on the way
        self.dijkstras = 0
        self.cars = []
        for uid, circ in enumerate(circuits):
            car = Car(uid, circ, int(rng.integers(len(circ) - 1)))
            self.cars.append(car)
            car.proc = self.env.process(self.patrol(car))

    # --------------------------------------------------------------- patrol
    def patrol(self, car: Car):
        env, G = self.env, self.G
        while True:
            try:
                if car.busy:
                    car.wake = env.event()
                    yield car.wake
                    continue
                if car.back:
                    nxt = car.back.pop(0)
                    if not car.back:      # back on the circuit
                        car.pos = car.circuit.index(nxt)
                else:
                    car.pos = (car.pos + 1) % (len(car.circuit) - 1)
                    nxt = car.circuit[car.pos]
                if nxt == car.node:         # a one-node circuit: stand at the post a minute
                    car.seg_t0 = car.seg_t1 = env.now
                    yield env.timeout(60.0)
                    continue
                edge = G[car.node][nxt]
                car.next_node = nxt
                car.seg_t0 = env.now
                car.seg_t1 = env.now + edge["patrol_s"]
                car.seg_resp = edge["resp_s"]
                yield env.timeout(edge["patrol_s"])
                car.node = nxt
            except self.simpy.Interrupt:
                pass                      # dispatched: loop round and wait while busy

    def remaining_s(self, car: Car, t: float) -> float:
        """Response seconds to finish the street the car is on."""
        if car.seg_t1 <= car.seg_t0 or t >= car.seg_t1:
            return 0.0
        return (car.seg_t1 - t) / (car.seg_t1 - car.seg_t0) * car.seg_resp

    # --------------------------------------------------------------- incidents
    def arrivals_process(self):
        env, call = self.env, self.inc.call_s
        for i in range(len(self.inc)):
            yield env.timeout(float(call[i]) - env.now)
            env.process(self.incident(i))

    def incident(self, i: int):
        yield self.env.timeout(float(self.inc.handling_s[i]))
        self.open += 1
        self.request(i, int(self.inc.units_needed[i]))

    def request(self, i: int, count: int) -> None:
        t = self.env.now
        target = self.node_of_place[int(self.inc.place[i])]
        free = [c for c in self.cars if not c.busy]
        chosen = []
        if free:
            # one Dijkstra per dispatch: seconds from every node to the incident
            to_target = self.nx.single_source_dijkstra_path_length(self.R, target, weight="resp_s")
            self.dijkstras += 1
            etas = sorted((self.remaining_s(c, t) + to_target[c.next_node], c.uid) for c in free)
            chosen = etas[:count]
        for eta, uid in chosen:
            self.send(self.cars[uid], i, eta)
        for _ in range(count - len(chosen)):
            heapq.heappush(self.queue, (int(self.inc.priority[i]), float(self.inc.call_s[i]), self.seq, i))
            self.seq += 1

    def send(self, car: Car, i: int, eta: float) -> None:
        car.busy = True
        car.back = []
        car.proc.interrupt()              # stop patrolling (the process then waits while busy)
        self.env.process(self.respond(car, i, eta))

    def respond(self, car: Car, i: int, eta: float):
        env = self.env
        yield env.timeout(eta)
        arr = self.arrivals[i]
        arr.append(env.now)
        yield env.timeout(float(self.inc.on_scene_s[i]))
        self.cleared[i] += 1
        if self.cleared[i] == int(self.inc.units_needed[i]):
            self.open -= 1
        self.release(car, self.node_of_place[int(self.inc.place[i])])

    def release(self, car: Car, here: int) -> None:
        t = self.env.now
        car.node = car.next_node = here
        car.seg_t0 = car.seg_t1 = t
        if self.queue:
            _, _, _, j = heapq.heappop(self.queue)
            target = self.node_of_place[int(self.inc.place[j])]
            eta = self.nx.shortest_path_length(self.G, here, target, weight="resp_s")
            self.dijkstras += 1
            self.env.process(self.respond(car, j, eta))
            return
        # back to the nearest node of the circuit (search from the circuit on the reversed graph)
        _, path = self.nx.multi_source_dijkstra(self.R, set(car.circuit), target=here, weight="patrol_s")
        self.dijkstras += 1
        path.reverse()                    # here -> circuit node
        car.back = path[1:]
        if not car.back:
            car.pos = car.circuit.index(here)
        car.busy = False
        car.wake.succeed()

    # --------------------------------------------------------------- run
    def run(self) -> None:
        env = self.env
        env.process(self.arrivals_process())
        env.run(until=self.horizon_s)
        limit = self.horizon_s + common.DAY_S      # serve calls already made, for at most a day
        while env.peek() < limit and (self.open > 0 or self.queue):
            env.step()

    def compliance(self) -> dict:
        import numpy as np

        call = self.inc.call_s
        first = np.array([a[0] if a else np.inf for a in self.arrivals]) - call
        second = np.array([a[1] if len(a) > 1 else np.inf for a in self.arrivals]) - call
        needs = self.inc.units_needed >= 2
        served = np.isfinite(first)
        return {
            "response_within_line": float((first <= self.response_line_s).mean()),
            "backup_within_line": float((second[needs] <= self.backup_line_s).mean()) if needs.any() else float("nan"),
            "response_time_p50_s": float(np.percentile(first[served], 50)),
            "response_time_p90_s": float(np.percentile(first[served], 90)),
        }


def build_graph(drive, *, emergency_factor: float, patrol_factor: float):
    """networkx DiGraph of patrolsim's drive arrays (parallel edges keep the fastest)."""
    import networkx as nx

    G = nx.DiGraph()
    G.add_nodes_from(range(drive.n_nodes))
    for u, v, length, kph in zip(drive.edge_u.tolist(), drive.edge_v.tolist(),
                                 drive.edge_length_m.tolist(), drive.edge_speed_kph.tolist()):
        resp = max(length / (kph * emergency_factor / 3.6), 1e-6)
        if G.has_edge(u, v) and G[u][v]["resp_s"] <= resp:
            continue
        G.add_edge(u, v, resp_s=resp, patrol_s=max(length / (kph * patrol_factor / 3.6), 1e-6),
                   length_m=length)
    return G


def build_circuit(G, beat_nodes, rng) -> list[int]:
    """Ten random beat nodes in nearest-neighbour order, joined by shortest paths, closed."""
    import networkx as nx

    k = min(CIRCUIT_STOPS, len(beat_nodes))
    stops = [int(s) for s in rng.choice(beat_nodes, size=k, replace=False)]
    if k == 1:
        return [stops[0], stops[0]]
    dist = {s: nx.single_source_dijkstra_path_length(G, s, weight="resp_s") for s in stops}
    order, left = [stops[0]], stops[1:]
    while left:
        here = order[-1]
        nxt = min(left, key=lambda s: (dist[here][s], s))
        left.remove(nxt)
        order.append(nxt)
    circuit = [order[0]]
    for a, b in zip(order, order[1:] + order[:1]):
        circuit.extend(nx.dijkstra_path(G, a, b, weight="resp_s")[1:])
    return circuit


def main(argv=None) -> int:
    t_start = time.perf_counter()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    ap.add_argument("--osm", default=None, help=f"OSM extract (default {common.DEFAULT_OSM}, "
                    "relative to the repository root)")
    args = ap.parse_args(argv)
    osm = common.osm_path(args.osm)

    import numpy as np

    from sim.demand import build_demand, sample_incidents
    from sim.force import deploy
    from sim.network import load_city
    from sim.streams import replication_seed, stream

    t0 = time.perf_counter()
    scenario = common.bench_scenario(osm, args.days)
    city = load_city(scenario, quiet=True)
    demand = build_demand(scenario.demand, city)
    deployment = deploy(scenario, city)
    common.check_deployment(deployment)
    sp = scenario.network.speeds
    drive = city.graphs["drive"]
    G = build_graph(drive, emergency_factor=sp.emergency_speed_factor,
                    patrol_factor=sp.car_patrol_factor)
    t1 = time.perf_counter()
    c1 = time.process_time()

    rep = replication_seed(scenario.seed, 0)
    horizon_s = args.days * common.DAY_S
    incidents = sample_incidents(demand, rep, horizon_s=horizon_s)
    node_of_place = city.place_node["drive"].tolist()
    rng = stream(rep, "baseline-patrol")
    circuits = [build_circuit(G, np.unique(city.place_node["drive"][u.beat_places]), rng)
                for u in deployment.units]
    sim = Baseline(G, circuits, incidents, node_of_place, horizon_s=horizon_s,
                   response_line_s=scenario.lines.response_s, backup_line_s=scenario.lines.backup_s,
                   rng=rng)
    sim.run()
    m = sim.compliance()
    t2 = time.perf_counter()
    c2 = time.process_time()

    result = {
        "impl": "baseline",
        "days": args.days,
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "cars": len(sim.cars),
        "incidents": len(incidents),
        **m,
        "dijkstras": sim.dijkstras,
        "import_s": t0 - t_start,
        "setup_s": t1 - t0,
        "run_s": t2 - t1,
        "run_cpu_s": c2 - c1,
        "peak_rss_mb": common.peak_rss_mb(),
    }
    print(f"baseline (SimPy + networkx): {args.days:g} days, {len(incidents)} incidents, "
          f"{len(sim.cars)} cars, drive graph {result['nodes']} nodes / {result['edges']} edges")
    print(f"  imports {result['import_s']:.2f} s, load + graph {result['setup_s']:.2f} s, "
          f"replication {result['run_s']:.2f} s ({sim.dijkstras} Dijkstra searches), "
          f"peak RSS {result['peak_rss_mb']:.0f} MB")
    print(f"  response within line {m['response_within_line']:.4f}, backup within line "
          f"{m['backup_within_line']:.4f}, response p50 {m['response_time_p50_s']:.0f} s, "
          f"p90 {m['response_time_p90_s']:.0f} s")
    common.print_result(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
