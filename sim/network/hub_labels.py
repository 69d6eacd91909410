"""Exact travel times between any two nodes of a large graph from hub labels, in about a microsecond.

Why: on graphs too large for an all-pairs matrix (above ``FULL_MATRIX_MAX_NODES``) each
pair the engine asks ("how long from this unit to that incident, to that cordon exit?")
cost an A* search: 35 µs a pair on the 13,002-node scale town, most of the first
replication's time there (``bench/hub_labels.py``). Hub labels answer the same question
by reading two short sorted lists.

How (pruned landmark labelling: Akiba, Iwata and Yoshida, SIGMOD 2013, for directed graphs):
every node gets an *out* label, pairs (hub, seconds from the node to the hub), and an
*in* label, pairs (hub, seconds from the hub to the node), such that every pair of nodes
(u, v) joined by a path shares a hub h on one of its fastest paths; the time from u to v is
then the least ``out(u)[h] + in(v)[h]`` over the hubs both labels hold. The nodes are taken
in order of importance (here: how many nodes lie below each in fastest-path trees from a
few sampled sources; a node many fastest paths cross first), and from each a forward and a
backward Dijkstra search adds it to the labels of the nodes it reaches, pruned at a node
whose distance the labels made so far already give. On the scale town's drive graph this
gives 77 hubs per label on average and builds in about 1.3 s.

Exactness: the answer is the fastest path's time. Its float sum is formed as two partial
sums (node to hub, hub to node) where a search adds the edges one after another, so it
can differ from a Dijkstra search's sum in the last bits: within 1e-9 s, tested against
scipy on random pairs (tests/network/test_hub_labels.py). Each label entry also keeps the
metres along the same fastest path, so a pair's metres come with its time (the path of
the first hub, by rank, that gives the least time).

Labels are built once per graph and speed, and kept on disk beside the all-pairs tables
(``sim.network.travel_tables``: the same key, the same atomic writes).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from numba import njit

#: Bump when the labels' layout or how they are computed changes, so old files are not reused.
LABELS_VERSION = 1
ORDER_SAMPLES = 32          # fastest-path trees sampled to rank the nodes
ORDER_SEED = 20261130       # their sources: drawn from a fixed seed (the same labels on any machine)
_START_CAP = 64             # label entries per node before the first growth of the build arrays


@njit(cache=True, nogil=True, inline="always")
def _push(hk, hn, size, key, node):
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hn[i] = hn[p]
        i = p
    hk[i] = key
    hn[i] = node
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def _pop(hk, hn, size):
    k0, n0 = hk[0], hn[0]
    size -= 1
    if size > 0:
        key, node = hk[size], hn[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and hk[c + 1] < hk[c]:
                c += 1
            if hk[c] >= key:
                break
            hk[i] = hk[c]
            hn[i] = hn[c]
            i = c
        hk[i] = key
        hn[i] = node
    return k0, n0, size


@njit(cache=True, nogil=True)
def _subtree_sizes(ptr, idx, w, source):
    """Per node, the nodes at or below it in the fastest-path tree from ``source`` (its importance there)."""
    n = ptr.size - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, np.int64)
    hk = np.empty(idx.size + 1)
    hn = np.empty(idx.size + 1, np.int64)
    seq = np.empty(n, np.int64)
    ns = 0
    dist[source] = 0.0
    size = _push(hk, hn, 0, 0.0, source)
    while size > 0:
        d, v, size = _pop(hk, hn, size)
        if d > dist[v]:
            continue
        seq[ns] = v
        ns += 1
        for e in range(ptr[v], ptr[v + 1]):
            u = idx[e]
            nd = d + w[e]
            if nd < dist[u]:
                dist[u] = nd
                pred[u] = v
                size = _push(hk, hn, size, nd, u)
    size_below = np.ones(n)
    for k in range(ns - 1, 0, -1):
        v = seq[k]
        size_below[pred[v]] += size_below[v]
    return size_below


def rank_order(ptr: np.ndarray, idx: np.ndarray, w: np.ndarray, *, samples: int = ORDER_SAMPLES) -> np.ndarray:
    """Nodes from the most important to the least: summed subtree sizes over sampled fastest-path trees.

    A node that many fastest paths cross (an arterial crossing) then becomes a hub early and
    prunes the later searches; ties keep node order (a stable sort), so the order is the same on
    any machine.
    """
    n = ptr.size - 1
    rng = np.random.default_rng(ORDER_SEED)
    score = np.zeros(n)
    for s in rng.choice(n, size=min(samples, n), replace=False):
        score += _subtree_sizes(ptr, idx, w, np.int64(s))
    return np.argsort(-score, kind="stable").astype(np.int64)


@njit(cache=True, nogil=True)
def _build(order, start, f_ptr, f_idx, f_s, f_m, r_ptr, r_idx, r_s, r_m,
           in_h, in_s, in_m, in_n, out_h, out_s, out_m, out_n):
    """Labels for the hubs ``order[start:]``, into the per-node rows ``*_h/_s/_m`` (counts ``*_n``).

    Returns the rank reached: ``order.size`` when done, else the rank whose search found a
    row full (the caller grows the rows, removes that rank's entries and calls again from it).
    """
    n = f_ptr.size - 1
    cap = in_h.shape[1]
    dense = np.full(n, np.inf)           # the hub's own label, by hub rank (the pruning test)
    dist = np.full(n, np.inf)
    metres = np.zeros(n)
    touched = np.empty(n, np.int64)
    hk = np.empty(max(f_idx.size, r_idx.size) + 1)
    hn = np.empty(max(f_idx.size, r_idx.size) + 1, np.int64)
    for rank in range(start, order.size):
        h = order[rank]
        for side in range(2):
            if side == 0:     # forward from h: seconds from h to v, into in(v); pruned by out(h) x in(v)
                ptr, idx, ws, wm = f_ptr, f_idx, f_s, f_m
                own_h, own_s, own_n = out_h, out_s, out_n[h]
                lab_h, lab_s, lab_m, lab_n = in_h, in_s, in_m, in_n
            else:             # backward: seconds from v to h, into out(v); pruned by out(v) x in(h)
                ptr, idx, ws, wm = r_ptr, r_idx, r_s, r_m
                own_h, own_s, own_n = in_h, in_s, in_n[h]
                lab_h, lab_s, lab_m, lab_n = out_h, out_s, out_m, out_n
            for k in range(own_n):
                dense[own_h[h, k]] = own_s[h, k]
            nt = 1
            touched[0] = h
            dist[h] = 0.0
            metres[h] = 0.0
            size = _push(hk, hn, 0, 0.0, h)
            full = False
            while size > 0:
                d, v, size = _pop(hk, hn, size)
                if d > dist[v]:
                    continue
                best = np.inf
                for k in range(lab_n[v]):
                    x = dense[lab_h[v, k]] + lab_s[v, k]
                    if x < best:
                        best = x
                if best <= d:
                    continue
                c = lab_n[v]
                if c == cap:
                    full = True
                    break
                lab_h[v, c] = rank
                lab_s[v, c] = d
                lab_m[v, c] = metres[v]
                lab_n[v] = c + 1
                for e in range(ptr[v], ptr[v + 1]):
                    u = idx[e]
                    nd = d + ws[e]
                    if nd < dist[u]:
                        if dist[u] == np.inf:
                            touched[nt] = u
                            nt += 1
                        dist[u] = nd
                        metres[u] = metres[v] + wm[e]
                        size = _push(hk, hn, size, nd, u)
            for k in range(nt):
                dist[touched[k]] = np.inf
            for k in range(own_n):
                dense[own_h[h, k]] = np.inf
            if full:
                return rank
    return order.size


@njit(cache=True, nogil=True)
def _drop_rank(rank, lab_h, lab_n):
    """Remove the entries of hub ``rank`` (the last of each row: hubs are added in rank order)."""
    for v in range(lab_n.size):
        c = lab_n[v]
        if c > 0 and lab_h[v, c - 1] == rank:
            lab_n[v] = c - 1


def _grown(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty((a.shape[0], cap), a.dtype)
    out[:, :a.shape[1]] = a
    return out


def _packed(lab_h, lab_s, lab_m, lab_n):
    """Per-node rows into one array each: ``ptr`` (n + 1), ``hub`` (int32 ranks), ``seconds``, ``metres``."""
    ptr = np.zeros(lab_n.size + 1, np.int64)
    np.cumsum(lab_n, out=ptr[1:])
    keep = np.arange(lab_h.shape[1])[None, :] < lab_n[:, None]
    return ptr, lab_h[keep].astype(np.int32), lab_s[keep], lab_m[keep]


class HubLabels:
    """The labels of one graph at one set of speeds: ``time``/``metres`` of any pair, and the arrays compiled code reads.

    ``out_*``: per node, the hubs it reaches and the seconds and metres to each; ``in_*``:
    per node, the hubs that reach it. ``arrays`` gives the eight the query reads.
    """

    def __init__(self, out_ptr, out_hub, out_s, out_m, in_ptr, in_hub, in_s, in_m) -> None:
        self.out_ptr, self.out_hub, self.out_s, self.out_m = out_ptr, out_hub, out_s, out_m
        self.in_ptr, self.in_hub, self.in_s, self.in_m = in_ptr, in_hub, in_s, in_m

    @classmethod
    def build(cls, w, wt, metres_of) -> "HubLabels":
        """Labels of the graph whose forward CSR matrix of seconds is ``w`` (``wt``: its transpose, CSR).

        ``metres_of(u, v)``: the metres of the edges u->v the seconds are of (arrays).
        """
        f_ptr, f_idx, f_s = (np.ascontiguousarray(a, t) for a, t in
                             ((w.indptr, np.int64), (w.indices, np.int64), (w.data, np.float64)))
        r_ptr, r_idx, r_s = (np.ascontiguousarray(a, t) for a, t in
                             ((wt.indptr, np.int64), (wt.indices, np.int64), (wt.data, np.float64)))
        n = f_ptr.size - 1
        f_u = np.repeat(np.arange(n, dtype=np.int64), np.diff(f_ptr))
        f_m = np.ascontiguousarray(metres_of(f_u, f_idx), np.float64)
        r_v = np.repeat(np.arange(n, dtype=np.int64), np.diff(r_ptr))
        r_m = np.ascontiguousarray(metres_of(r_idx, r_v), np.float64)     # the reverse edge r_v <- r_idx
        order = rank_order(f_ptr, f_idx, f_s)
        cap = _START_CAP
        rows = [np.empty((n, cap), np.int32), np.empty((n, cap)), np.empty((n, cap)), np.zeros(n, np.int64),
                np.empty((n, cap), np.int32), np.empty((n, cap)), np.empty((n, cap)), np.zeros(n, np.int64)]
        start = 0
        while True:
            start = _build(order, start, f_ptr, f_idx, f_s, f_m, r_ptr, r_idx, r_s, r_m, *rows)
            if start == n:
                break
            _drop_rank(start, rows[0], rows[3])        # that hub again, from the start, with room
            _drop_rank(start, rows[4], rows[7])
            cap *= 2
            rows = [r if r.ndim == 1 else _grown(r, cap) for r in rows]
        in_packed = _packed(*rows[:4])
        out_packed = _packed(*rows[4:])
        return cls(*out_packed, *in_packed)

    @property
    def arrays(self) -> tuple:
        """What the compiled query reads: out ptr, hub, seconds, metres, then the same of in."""
        return (self.out_ptr, self.out_hub, self.out_s, self.out_m, self.in_ptr, self.in_hub, self.in_s, self.in_m)

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self.arrays))

    @property
    def mean_hubs(self) -> float:
        """Entries per label, averaged over both kinds (the query reads two labels)."""
        return float((self.out_hub.size + self.in_hub.size) / (2 * (self.out_ptr.size - 1)))

    def time(self, source: int, target: int) -> float:
        """Seconds of the fastest path from ``source`` to ``target`` (inf: none)."""
        return seconds_metres(*self.arrays, np.int64(source), np.int64(target))[0]

    def metres(self, source: int, target: int) -> float:
        """Metres along that fastest path (nan: none)."""
        return seconds_metres(*self.arrays, np.int64(source), np.int64(target))[1]

    # ---------------------------------------------------------------- on disk
    def save(self, path: Path) -> None:
        """Store the labels atomically (a temporary file, then a rename); a full disk only costs the cache."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, *self.arrays)
            os.replace(tmp, path)
        except OSError:
            return
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path, n_nodes: int) -> "HubLabels | None":
        """Labels stored by ``save`` for a graph of ``n_nodes`` nodes, or None (missing or unreadable)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = [z[f"arr_{k}"] for k in range(8)]
        except (OSError, ValueError, KeyError, EOFError):
            return None
        ptr_ok = all(a.shape == (n_nodes + 1,) and a.dtype == np.int64 for a in (arrays[0], arrays[4]))
        if not ptr_ok or arrays[1].dtype != np.int32 or arrays[5].dtype != np.int32:
            return None
        if not (arrays[1].size == arrays[2].size == arrays[3].size == arrays[0][-1]
                and arrays[5].size == arrays[6].size == arrays[7].size == arrays[4][-1]):
            return None
        return cls(*arrays)


def cached_labels(w, wt, metres_of, *, cached: bool = True, quiet: bool = True) -> HubLabels:
    """``HubLabels.build``, read from and kept in the travel tables' folder when ``cached``.

    The key is the all-pairs tables' key of ``w`` (its seconds, bit for bit) with the
    labels' version; the metres come from the same graph, whose edges' seconds are in the key.
    """
    from sim.network import travel_tables as TT
    folder = TT._folder(quiet) if cached else None
    path = None
    if folder is not None:
        path = folder / f"{TT.table_key(w)}.labels-v{LABELS_VERSION}.npz"
        found = HubLabels.load(path, w.shape[0]) if path.is_file() else None
        if found is not None:
            return found
    labels = HubLabels.build(w, wt, metres_of)
    if path is not None:
        labels.save(path)
    return labels


@njit(cache=True, nogil=True, inline="always")
def seconds_metres(out_ptr, out_hub, out_s, out_m, in_ptr, in_hub, in_s, in_m, u, v):
    """(seconds, metres) from ``u`` to ``v``: the least out(u)[h] + in(v)[h] over common hubs (inf, nan: none).

    Both labels are sorted by hub rank, so one merge of the two finds every common hub; a
    tie keeps the first hub (the lowest rank), whose path's metres are returned.
    """
    i, a = out_ptr[u], out_ptr[u + 1]
    j, b = in_ptr[v], in_ptr[v + 1]
    best, best_m = np.inf, np.nan
    while i < a and j < b:
        x, y = out_hub[i], in_hub[j]
        if x == y:
            s = out_s[i] + in_s[j]
            if s < best:
                best = s
                best_m = out_m[i] + in_m[j]
            i += 1
            j += 1
        elif x < y:
            i += 1
        else:
            j += 1
    return best, best_m


@njit(cache=True, nogil=True, inline="always")
def seconds_only(out_ptr, out_hub, out_s, in_ptr, in_hub, in_s, u, v):
    """The seconds of ``seconds_metres`` alone (the walks' question: no metres read)."""
    i, a = out_ptr[u], out_ptr[u + 1]
    j, b = in_ptr[v], in_ptr[v + 1]
    best = np.inf
    while i < a and j < b:
        x, y = out_hub[i], in_hub[j]
        if x == y:
            s = out_s[i] + in_s[j]
            if s < best:
                best = s
            i += 1
            j += 1
        elif x < y:
            i += 1
        else:
            j += 1
    return best


@njit(cache=True, nogil=True)
def seconds_of_pairs(out_ptr, out_hub, out_s, in_ptr, in_hub, in_s, sources, targets, out):
    """``seconds_only`` of each (sources[k], targets[k]) into ``out`` (benchmarks, bulk questions)."""
    for k in range(sources.size):
        out[k] = seconds_only(out_ptr, out_hub, out_s, in_ptr, in_hub, in_s, sources[k], targets[k])
