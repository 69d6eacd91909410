"""Road graphs as flat arrays.

A ``RoadGraph`` is one travel mode's network (drive, bike or walk): nodes with
coordinates, directed edges with length and speed. It is plain numpy so it can
be cached to disk, shipped to Dask workers and fed to scipy.sparse.csgraph.
A ``City`` bundles the three mode graphs with the places incidents happen at
(the drive graph's nodes), their population weight, stations, exits and the
mapping from a place to the nearest node of each mode's graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, cKDTree

from sim import kinds

EARTH_RADIUS_M = 6_371_008.8
MODES = kinds.GRAPHS
#: travel key of each unit kind (from the registry, sim.kinds)
MODE_OF_KIND = {k.name: k.travel for k in kinds.UNIT_KINDS}


def project_lonlat(lon: np.ndarray, lat: np.ndarray, *, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Local equirectangular projection to metres around (lon0, lat0).

    For a city-sized extract (tens of km) the distortion is well under 1%, which is
    below the error of block-centroid incident locations; it avoids a pyproj dependency.
    """
    k = np.pi / 180.0 * EARTH_RADIUS_M
    x = (np.asarray(lon, float) - lon0) * k * np.cos(np.radians(lat0))
    y = (np.asarray(lat, float) - lat0) * k
    return x, y


@dataclass(frozen=True)
class RoadGraph:
    """One mode's directed road graph; node ``i`` is row ``i`` of every node array."""

    mode: str
    node_id: np.ndarray          # int64, OSM id or synthetic id
    x_m: np.ndarray              # float64, projected metres
    y_m: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray           # int32 node index
    edge_v: np.ndarray
    edge_length_m: np.ndarray    # float64
    edge_speed_kph: np.ndarray   # float64, road speed for this mode (before emergency factors)
    edge_class: np.ndarray       # str highway class, for reports
    dropped_nodes: int = 0
    dropped_edges: int = 0

    @property
    def n_nodes(self) -> int:
        return int(self.node_id.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    def edge_time_s(self, *, speed_factor: float = 1.0) -> np.ndarray:
        return self.edge_length_m / (self.edge_speed_kph * speed_factor / 3.6)

    def matrix(self, weights: np.ndarray) -> sparse.csr_matrix:
        """CSR adjacency with the given edge weights (parallel edges keep the smallest)."""
        order = np.lexsort((weights, self.edge_v, self.edge_u))
        u, v, w = self.edge_u[order], self.edge_v[order], weights[order]
        keep = np.ones(len(u), bool)
        keep[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        # csgraph treats explicit zeros as "no edge": keep a tiny positive weight.
        w = np.maximum(w[keep], 1e-6)
        return sparse.csr_matrix((w, (u[keep], v[keep])), shape=(self.n_nodes, self.n_nodes))

    def street_km(self) -> float:
        """Street length counting a two-way street once."""
        a = np.minimum(self.edge_u, self.edge_v).astype(np.int64)
        b = np.maximum(self.edge_u, self.edge_v).astype(np.int64)
        key = a * self.n_nodes + b
        _, first = np.unique(key, return_index=True)
        return float(self.edge_length_m[first].sum() / 1000.0)

    def area_km2(self) -> float:
        """Area of the convex hull of the nodes."""
        if self.n_nodes < 3:
            return 0.0
        pts = np.column_stack([self.x_m, self.y_m])
        try:
            return float(ConvexHull(pts).volume / 1e6)
        except Exception:  # all points on a line
            return 0.0

    def nearest_node(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of and distance to the nearest node for each point."""
        tree = cKDTree(np.column_stack([self.x_m, self.y_m]))
        dist, idx = tree.query(np.column_stack([np.atleast_1d(x_m), np.atleast_1d(y_m)]))
        return idx.astype(np.int64), dist


def largest_strong_component(graph: RoadGraph) -> RoadGraph:
    """Keep the largest strongly connected part, so every node can reach every other.

    A patrol unit must be able to reach any incident and come back; dead-end
    fragments (a one-way ramp cut by the extract's edge, an island) would make
    travel times infinite. What is dropped is counted and reported.
    """
    if graph.n_nodes == 0:
        return graph
    adj = sparse.csr_matrix((np.ones(graph.n_edges), (graph.edge_u, graph.edge_v)),
                            shape=(graph.n_nodes, graph.n_nodes))
    _, labels = connected_components(adj, directed=True, connection="strong")
    counts = np.bincount(labels)
    best = int(np.argmax(counts))
    keep = labels == best
    return subgraph(graph, keep)


def subgraph(graph: RoadGraph, keep_nodes: np.ndarray) -> RoadGraph:
    new_index = np.full(graph.n_nodes, -1, np.int64)
    new_index[keep_nodes] = np.arange(int(keep_nodes.sum()))
    ek = keep_nodes[graph.edge_u] & keep_nodes[graph.edge_v]
    return RoadGraph(
        mode=graph.mode,
        node_id=graph.node_id[keep_nodes], x_m=graph.x_m[keep_nodes], y_m=graph.y_m[keep_nodes],
        lon=graph.lon[keep_nodes], lat=graph.lat[keep_nodes],
        edge_u=new_index[graph.edge_u[ek]].astype(np.int32),
        edge_v=new_index[graph.edge_v[ek]].astype(np.int32),
        edge_length_m=graph.edge_length_m[ek], edge_speed_kph=graph.edge_speed_kph[ek],
        edge_class=graph.edge_class[ek],
        dropped_nodes=graph.dropped_nodes + int((~keep_nodes).sum()),
        dropped_edges=graph.dropped_edges + int((~ek).sum()),
    )


@dataclass(frozen=True)
class City:
    """The mode graphs plus the places where incidents happen and police are based.

    Places are the drive graph's nodes: every incident, station and exit is a
    drive node, and ``place_node[mode][p]`` is the node of ``mode``'s graph nearest
    to place ``p`` (identity for the drive graph).
    """

    name: str
    graphs: dict[str, RoadGraph]
    place_weight: np.ndarray           # population (or other) weight per place, sums to population
    station_place: np.ndarray          # int64 place index per station
    station_name: tuple[str, ...]
    bureau_place: int                  # the city bureau (mobile reserve base)
    exit_place: np.ndarray             # city exits (checkpoints)
    place_node: dict[str, np.ndarray] = field(default_factory=dict)
    place_offset_m: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def places(self) -> RoadGraph:
        return self.graphs["drive"]

    @property
    def n_places(self) -> int:
        return self.places.n_nodes

    def with_travel(self, graph_of_travel: dict[str, str]) -> "City":
        """The same city where every travel key also names its graph's arrays.

        The engine looks a unit's graph, place nodes and offsets up by the unit's travel key
        (``Unit.mode``). Kinds on their graph's own key (car: drive) need nothing; a kind that
        shares a graph at other speeds (a motorbike on the drive graph) has its own key, which
        here points at the same graph objects (no copy).
        """
        extra = {t: g for t, g in graph_of_travel.items() if t not in self.graphs and g in self.graphs}
        if not extra:
            return self
        from dataclasses import replace

        return replace(self, graphs={**self.graphs, **{t: self.graphs[g] for t, g in extra.items()}},
                       place_node={**self.place_node, **{t: self.place_node[g] for t, g in extra.items()}},
                       place_offset_m={**self.place_offset_m,
                                       **{t: self.place_offset_m[g] for t, g in extra.items()}})


def map_places(city_graphs: dict[str, RoadGraph]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Nearest node of each mode's graph for every drive node (place)."""
    drive = city_graphs["drive"]
    node, offset = {}, {}
    for mode, g in city_graphs.items():
        if g is drive:
            node[mode] = np.arange(drive.n_nodes, dtype=np.int64)
            offset[mode] = np.zeros(drive.n_nodes)
        else:
            idx, dist = g.nearest_node(drive.x_m, drive.y_m)
            node[mode], offset[mode] = idx, dist
    return node, offset
