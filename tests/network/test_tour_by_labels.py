"""A circuit's tour on a graph without a time matrix, in one compiled call (``label_paths.tour_by_labels``).

``TravelOracle.tour`` on the kernel backend must give what joining ``route`` leg by leg gives
(``join_legs``): the same nodes and the same cumulative seconds and metres, bit for bit, for
closed and open tours, repeated and neighbouring stops, on the drive graph and at another speed;
and a stop nobody can reach must raise the same one-line error as ``route``.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import NetworkError
from sim.network import TravelOracle
from sim.network.graph import RoadGraph
from sim.network.travel import join_legs


def _bits(values) -> list:
    return np.asarray(values, np.float64).view(np.int64).tolist()


@pytest.mark.parametrize("speed", [None, 15.0])
def test_the_compiled_tour_is_the_legs_joined(big_town, speed):
    kw = {} if speed is None else {"speed_kph_override": speed}
    compiled, plain = TravelOracle(big_town, backend="kernel", **kw), TravelOracle(big_town, backend="kernel", **kw)
    assert compiled.time_matrix is None
    rng = np.random.default_rng(11)
    n = big_town.n_nodes
    cases = [[int(x) for x in rng.choice(n, size=int(rng.integers(2, 12)), replace=False)] for _ in range(20)]
    cases += [[3, 3, 9, 9, 3], [7, 8], [7, 7], [5, 6, 5]]       # equal neighbours, a stop repeated, two stops
    for stops in cases:
        for close in (True, False):
            before = compiled._kernel.paths_read
            got = compiled.tour(stops, close=close)
            want = join_legs(plain.route, stops, close=close)
            assert got[0] == want[0]
            assert all(type(v) is int for v in got[0])
            assert _bits(got[1]) == _bits(want[1]) and _bits(got[2]) == _bits(want[2])
            legs = list(zip(stops, stops[1:] + stops[:1] if close else stops[1:]))
            assert compiled._kernel.paths_read - before == sum(a != b for a, b in legs)


def test_a_leg_with_no_path_raises_the_routes_error():
    """A two-way street of 4,300 nodes and one dead end off it: no tour comes back from the dead end,
    and the error is the one ``route`` gives for that leg."""
    n = 4301                                       # above the full matrix's limit: the kernel backend
    line = np.arange(n - 2)
    u = np.concatenate([line, line + 1, [0]]).astype(np.int32)
    v = np.concatenate([line + 1, line, [n - 1]]).astype(np.int32)       # 0 -> 4300, one way
    x = np.arange(n) * 50.0
    graph = RoadGraph(mode="drive", node_id=np.arange(n, dtype=np.int64), x_m=x, y_m=np.zeros(n), lon=x / 1e5,
                      lat=np.zeros(n), edge_u=u, edge_v=v, edge_length_m=np.full(u.size, 50.0),
                      edge_speed_kph=np.full(u.size, 36.0), edge_class=np.array(["residential"] * u.size))
    o = TravelOracle(graph, backend="kernel", cache_tables=False)
    assert o.time_matrix is None
    assert o.tour([5, 0, 9], close=True)[0][:3] == [5, 4, 3]       # the line itself tours
    with pytest.raises(NetworkError) as err:
        o.tour([0, n - 1, 7], close=True)
    with pytest.raises(NetworkError) as want:
        o.route(n - 1, 7)
    assert str(err.value) == str(want.value) and str(n - 1) in str(err.value)
