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
gives about 75 hubs per label on average (``bench/hub_labels.py``).

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

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
from numba import njit

from sim.jit_entry import direct
from sim.network.dijkstra_jit import _pop_root, _push

#: Bump when the labels' layout or how they are computed changes, so old files are not reused.
LABELS_VERSION = 4          # 4: each step's entry too (3: each entry's step along its path; 2: hubs stored as
                            # int32; 1: int64)
ORDER_SAMPLES = 96          # fastest-path trees sampled to rank the nodes (32: 192 hubs a label on the
                            # 13,002-node bike graph; 96: 174, and a faster build)
ORDER_SEED = 20261130       # their sources: drawn from a fixed seed (the same labels on any machine)
_START_CAP = 64             # label entries per node and kind the build's pool holds before it first grows


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
    _push(hk, hn, 0, 0.0, source)
    size = 1
    while size > 0:
        d, v = hk[0], hn[0]
        size -= 1
        _pop_root(hk, hn, size)
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
                _push(hk, hn, size, nd, u)
                size += 1
    size_below = np.ones(n)
    for k in range(ns - 1, 0, -1):
        v = seq[k]
        size_below[pred[v]] += size_below[v]
    return size_below


def rank_order(ptr: np.ndarray, idx: np.ndarray, w: np.ndarray, *, samples: int | None = None) -> np.ndarray:
    """Nodes from the most important to the least: summed subtree sizes over sampled fastest-path trees.

    A node that many fastest paths cross (an arterial crossing) then becomes a hub early and
    prunes the later searches; ties keep node order (a stable sort), so the order is the same on
    any machine.
    """
    n = ptr.size - 1
    samples = ORDER_SAMPLES if samples is None else samples
    rng = np.random.default_rng(ORDER_SEED)
    score = np.zeros(n)
    for s in rng.choice(n, size=min(samples, n), replace=False):
        score += _subtree_sizes(ptr, idx, w, np.int64(s))
    return np.argsort(-score, kind="stable").astype(np.int64)


BLOCK = 64                  # label entries per block of the build's pool (a node's label is a chain of blocks)


@njit(cache=True, nogil=True)
def _build(order, start, f_ptr, f_idx, f_s, f_m, r_ptr, r_idx, r_s, r_m, pool_h, pool_s, pool_m, pool_p, nxt,
           state):
    """Labels for the hubs ``order[start:]``, into the pool; returns the rank reached.

    ``pool_p``: each entry's step, the node before v on the hub's search tree (forward: the node
    v is reached from, coming from the hub; backward: the node v goes on to, towards the hub; -1 at
    the hub itself). A node is given an entry only if it is not pruned, and only nodes not pruned
    are expanded, so the node a step names holds an entry of the same hub: following steps walks
    a fastest path between a node and its hub (``sim.network.label_paths``).

    Each node's in and out labels are chains of ``BLOCK``-entry blocks taken from one pool
    (``pool_*`` entries, ``nxt`` the next block of each; ``state[v]`` columns 0-5: the first block, the
    last and the count of node v's in label, then of its out label; ``state[0, 6]`` the blocks
    used), so memory follows the entries, not the longest label times the nodes. Before each hub
    there must be room for one new block per node and side; else the rank is returned
    (``order.size`` when done) and the caller grows the pool and calls again from it.
    """
    n = f_ptr.size - 1
    n_blocks = nxt.size
    dense = np.full(n, np.inf)           # the hub's own label, by hub rank (the pruning test)
    dist = np.full(n, np.inf)
    metres = np.zeros(n)
    pred = np.full(n, -1, np.int64)
    touched = np.empty(n, np.int64)
    hk = np.empty(max(f_idx.size, r_idx.size) + 1)
    hn = np.empty(max(f_idx.size, r_idx.size) + 1, np.int64)
    for rank in range(start, order.size):
        if state[0, 6] + 2 * n > n_blocks:
            return rank
        h = order[rank]
        for side in range(2):
            if side == 0:     # forward from h: seconds from h to v, into in(v); pruned by out(h) x in(v)
                ptr, idx, ws, wm = f_ptr, f_idx, f_s, f_m
                own, lab = 3, 0
            else:             # backward: seconds from v to h, into out(v); pruned by out(v) x in(h)
                ptr, idx, ws, wm = r_ptr, r_idx, r_s, r_m
                own, lab = 0, 3
            b, left = state[h, own], state[h, own + 2]
            while left > 0:
                for k in range(b * BLOCK, b * BLOCK + min(left, BLOCK)):
                    dense[pool_h[k]] = pool_s[k]
                left -= BLOCK
                b = nxt[b]
            nt = 1
            touched[0] = h
            dist[h] = 0.0
            metres[h] = 0.0
            pred[h] = -1
            _push(hk, hn, 0, 0.0, h)
            size = 1
            while size > 0:
                d, v = hk[0], hn[0]
                size -= 1
                _pop_root(hk, hn, size)
                if d > dist[v]:
                    continue
                best = np.inf
                b, left = state[v, lab], state[v, lab + 2]
                while left > 0:
                    for k in range(b * BLOCK, b * BLOCK + min(left, BLOCK)):
                        x = dense[pool_h[k]] + pool_s[k]
                        if x < best:
                            best = x
                    left -= BLOCK
                    b = nxt[b]
                if best <= d:
                    continue
                c = state[v, lab + 2]
                if c % BLOCK == 0:             # a new block at the chain's end
                    nb = state[0, 6]
                    state[0, 6] = nb + 1
                    nxt[nb] = -1
                    if c == 0:
                        state[v, lab] = nb
                    else:
                        nxt[state[v, lab + 1]] = nb
                    state[v, lab + 1] = nb
                k = state[v, lab + 1] * BLOCK + c % BLOCK
                pool_h[k] = rank
                pool_s[k] = d
                pool_m[k] = metres[v]
                pool_p[k] = pred[v]
                state[v, lab + 2] = c + 1
                for e in range(ptr[v], ptr[v + 1]):
                    u = idx[e]
                    nd = d + ws[e]
                    if nd < dist[u]:
                        if dist[u] == np.inf:
                            touched[nt] = u
                            nt += 1
                        dist[u] = nd
                        metres[u] = metres[v] + wm[e]
                        pred[u] = v
                        _push(hk, hn, size, nd, u)
                        size += 1
            for k in range(nt):
                dist[touched[k]] = np.inf
            b, left = state[h, own], state[h, own + 2]
            while left > 0:
                for k in range(b * BLOCK, b * BLOCK + min(left, BLOCK)):
                    dense[pool_h[k]] = np.inf
                left -= BLOCK
                b = nxt[b]
    return order.size


@njit(cache=True, nogil=True)
def _packed(pool_h, pool_s, pool_m, pool_p, nxt, state):
    """Both labels out of the pool, every out label then every in label (the layout of ``HubLabels``)."""
    n = state.shape[0]
    ptr = np.zeros(2 * n + 2, np.int64)
    for part, lab in ((0, 3), (1, 0)):
        base = part * (n + 1)
        if part:
            ptr[base] = ptr[n]
        for v in range(n):
            ptr[base + v + 1] = ptr[base + v] + state[v, lab + 2]
    hub = np.empty(ptr[2 * n + 1], np.int32)
    sec = np.empty(ptr[2 * n + 1])
    met = np.empty(ptr[2 * n + 1])
    step = np.empty(ptr[2 * n + 1], np.int32)
    for part, lab in ((0, 3), (1, 0)):
        base = part * (n + 1)
        for v in range(n):
            j = ptr[base + v]
            b, left = state[v, lab], state[v, lab + 2]
            while left > 0:
                for k in range(b * BLOCK, b * BLOCK + min(left, BLOCK)):
                    hub[j] = pool_h[k]
                    sec[j] = pool_s[k]
                    met[j] = pool_m[k]
                    step[j] = pool_p[k]
                    j += 1
                left -= BLOCK
                b = nxt[b]
    return ptr, hub, sec, met, step


@njit(cache=True, nogil=True)
def step_entries(ptr, hub, step):
    """Per entry, the entry of the same hub in the label of the node its step names (-1: no step).

    A path is read by following steps from a node to the hub (``sim.network.label_paths``); each step
    needed the next node's entry of that hub, a binary search of its label (most of a path's cost:
    random 80-node paths of the 13,002-node town's drive labels, 3.3 against 1.9 µs a path with this array,
    in a compiled loop).
    Every node a step names holds an entry of the same hub (``_build``); one is missing only in damaged
    labels, which then give -2 there (``label_paths`` raises on it)."""
    n = (ptr.size - 2) // 2
    half = ptr.size // 2
    out = np.full(hub.size, -1, np.int32)
    for part in range(2):
        base = part * half
        for v in range(n):
            for e in range(ptr[base + v], ptr[base + v + 1]):
                w = step[e]
                if w < 0:
                    continue
                lo, hi = ptr[base + w], ptr[base + w + 1]
                rank = hub[e]
                found = -2
                while lo < hi:                  # the hub in the step's label (sorted by rank)
                    mid = (lo + hi) >> 1
                    x = hub[mid]
                    if x < rank:
                        lo = mid + 1
                    elif x > rank:
                        hi = mid
                    else:
                        found = mid
                        break
                out[e] = found
    return out


def _grown(a: np.ndarray, size: int) -> np.ndarray:
    out = np.empty(size, a.dtype)
    out[:a.size] = a
    return out


class HubLabels:
    """The labels of one graph at one set of speeds: ``time``/``metres`` of any pair, and the arrays compiled code reads.

    Six arrays: ``ptr`` (2n + 2), then per entry its hub (a rank, int32: half the memory a merge
    reads), seconds, metres, step (int32: the next node on the entry's path, ``_build``) and the
    step's entry (int32: that node's entry of the same hub, ``step_entries``).
    Entries ``ptr[u]:ptr[u + 1]`` are node u's out label (the hubs it reaches, the seconds and
    metres to each); entries ``ptr[n + 1 + v]:ptr[n + 2 + v]`` node v's in label (the hubs that
    reach it). Each label is sorted by hub rank.
    """

    def __init__(self, ptr: np.ndarray, hub: np.ndarray, seconds: np.ndarray, metres: np.ndarray,
                 step: np.ndarray, step_entry: np.ndarray | None = None) -> None:
        self.ptr, self.hub, self.seconds, self.metres_, self.step = ptr, hub, seconds, metres, step
        self.step_entry = step_entries(ptr, hub, step) if step_entry is None else step_entry
        self.n_nodes = (ptr.size - 2) // 2
        self._pair = None        # seconds_metres' compiled code for these arrays (see _pair_code)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_pair": None}      # compiled code is not pickled; found again on use

    def _pair_code(self):
        """``seconds_metres``'s compiled code for these arrays, called without numba's type dispatch.

        A pair's question (a unit's drive back to its circuit, at every clearance) is about a
        microsecond of label merging on the 13,002-node town, and the dispatcher's look-up of
        six argument types about as much again (``sim.jit_entry.direct``). Found at the first
        question (the compiled code loaded for these arrays' types first, if it is not yet).
        """
        code = self._pair
        if code is None:
            args = self.arrays + (0, 0)
            seconds_metres(*args)
            code = self._pair = direct(seconds_metres, args)
        return code

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
        n_blocks = 2 * n * max(1, _START_CAP // BLOCK) + 2 * n
        pool = [np.empty(n_blocks * BLOCK, np.int32), np.empty(n_blocks * BLOCK), np.empty(n_blocks * BLOCK),
                np.empty(n_blocks * BLOCK, np.int32)]
        nxt = np.empty(n_blocks, np.int64)
        state = np.zeros((n, 7), np.int64)
        start = 0
        while True:
            start = _build(order, start, f_ptr, f_idx, f_s, f_m, r_ptr, r_idx, r_s, r_m, *pool, nxt, state)
            if start == n:
                break
            n_blocks = n_blocks * 3 // 2 + 2 * n          # room for the next hubs' blocks, and more
            pool = [_grown(a, n_blocks * BLOCK) for a in pool]
            nxt = _grown(nxt, n_blocks)
        return cls(*_packed(*pool, nxt, state))

    @property
    def arrays(self) -> tuple:
        """The four arrays a pair's seconds and metres read: ``ptr``, hub, seconds, metres."""
        return (self.ptr, self.hub, self.seconds, self.metres_)

    @property
    def path_arrays(self) -> tuple:
        """What a path's nodes read (``sim.network.label_paths``): ``ptr``, hub, seconds, step, step's entry."""
        return (self.ptr, self.hub, self.seconds, self.step, self.step_entry)

    @property
    def walk_arrays(self) -> tuple:
        """What the compiled walks read (``sim.engine.best_first_jit.pair_seconds``): ``ptr``, seconds, hub."""
        return (self.ptr, self.seconds, self.hub)

    def warm(self) -> None:
        """Load the compiled queries now, for these arrays' types (not at a first question, inside a replication)."""
        seconds_metres(*self.arrays, np.int64(0), np.int64(0))
        seconds_of_pairs(*self.walk_arrays, np.zeros(1, np.int64), np.zeros(1, np.int64), np.empty(1))

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self.arrays) + self.step.nbytes + self.step_entry.nbytes)

    @property
    def mean_hubs(self) -> float:
        """Entries per label, averaged over both kinds (the query reads two labels)."""
        return float(self.hub.size / (2 * self.n_nodes))

    def time(self, source: int, target: int) -> float:
        """Seconds of the fastest path from ``source`` to ``target`` (inf: none)."""
        return (self._pair or self._pair_code())(self.ptr, self.hub, self.seconds, self.metres_,
                                                 int(source), int(target))[0]

    def metres(self, source: int, target: int) -> float:
        """Metres along that fastest path (nan: none)."""
        return (self._pair or self._pair_code())(self.ptr, self.hub, self.seconds, self.metres_,
                                                 int(source), int(target))[1]

    def time_and_metres(self, source: int, target: int) -> tuple[float, float]:
        """``time`` and ``metres`` of the pair from one look-up."""
        return (self._pair or self._pair_code())(self.ptr, self.hub, self.seconds, self.metres_,
                                                 int(source), int(target))

    # ---------------------------------------------------------------- on disk
    def save(self, path: Path) -> None:
        """Store the labels atomically (a temporary file, then a rename); a full disk only costs the cache."""
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, *self.arrays, self.step, self.step_entry)
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
                ptr, hub, sec, met, step, step_entry = (z[f"arr_{k}"] for k in range(6))
        except (OSError, ValueError, KeyError, EOFError):
            return None
        if ptr.shape != (2 * n_nodes + 2,) or ptr.dtype != np.int64 or hub.dtype != np.int32 \
                or step.dtype != np.int32 or step_entry.dtype != np.int32 \
                or not (hub.size == sec.size == met.size == step.size == step_entry.size == ptr[-1]):
            return None
        return cls(ptr, hub, sec, met, step, step_entry)


def cached_labels(w, wt, metres_of, *, cached: bool = True, quiet: bool = True) -> HubLabels:
    """``HubLabels.build``, read from and kept in the travel tables' folder when ``cached``.

    The key is the all-pairs tables' key of ``w`` (its seconds, bit for bit), a hash of its
    edges' metres, the labels' version and the ranking's samples and seed.
    """
    from sim.network import travel_tables as TT
    folder = TT._folder(quiet) if cached else None
    path = None
    if folder is not None:
        # everything the labels depend on: the seconds (the tables' key), the metres, the layout, the ranking
        u = np.repeat(np.arange(w.shape[0], dtype=np.int64), np.diff(w.indptr))
        metres = np.ascontiguousarray(metres_of(u, np.asarray(w.indices, np.int64)), np.float64)
        m_key = hashlib.sha256(metres.tobytes()).hexdigest()[:12]
        path = folder / f"{TT.table_key(w)}.{m_key}.labels-v{LABELS_VERSION}-{ORDER_SAMPLES}-{ORDER_SEED}.npz"
        found = HubLabels.load(path, w.shape[0]) if path.is_file() else None
        if found is not None:
            return found
    labels = HubLabels.build(w, wt, metres_of)
    if path is not None:
        labels.save(path)
    return labels


@njit(cache=True, nogil=True, inline="always")
def seconds_metres(ptr, hub, sec, met, u, v):
    """(seconds, metres) from ``u`` to ``v``: the least out(u)[h] + in(v)[h] over common hubs (inf, nan: none).

    Both labels are sorted by hub rank, so one merge of the two finds every common hub
    (``seconds_at``); a tie keeps the first hub (the lowest rank), whose path's metres are returned.
    """
    best, i, j = seconds_at(ptr, sec, hub, u, v)
    return best, (met[i] + met[j] if i >= 0 else np.nan)


@njit(cache=True, nogil=True, inline="always")
def seconds_only(ptr, sec, hub, u, v):
    """The seconds of ``seconds_metres`` alone (the walks' question; arguments in ``walk_arrays``' order).

    The hubs are int32 (``LABELS_VERSION`` 2): a merge reads half the bytes, 440 against 536 ns a
    pair (median of 7 loops over 200,000 pairs at most 1,500 m apart, the 13,002-node town's drive
    labels, int64 hubs the same loop; random pairs 447 against 509). A merge that steps by adding
    the comparisons instead of branching on them measured slower (523 ns), and was not kept. Read
    from ``seconds_at``'s merge since the thirteenth session at the same cost: 0.55-0.56 against
    0.57 µs a pair (``python bench/hub_labels.py --blocks 50 --modes drive --pairs 200000``, twice each).
    """
    return seconds_at(ptr, sec, hub, u, v)[0]


@njit(cache=True, nogil=True, inline="always")
def seconds_at(ptr, sec, hub, u, v):
    """The labels' merge: ``(seconds, i, j)``, the least out(u)[h] + in(v)[h] and that hub's entries in
    out(u) and in(v) (inf, -1, -1: no common hub); a tie keeps the first hub (the lowest rank).
    ``metres[i] + metres[j]`` are that path's metres (``seconds_metres``; the dispatch walk keeps
    ``i``, ``j`` of its choice rather than merging the labels again)."""
    i, a = ptr[u], ptr[u + 1]
    m = ptr.size // 2 + v
    j, b = ptr[m], ptr[m + 1]
    best, bi, bj = np.inf, -1, -1
    while i < a and j < b:
        x, y = hub[i], hub[j]
        if x == y:
            s = sec[i] + sec[j]
            if s < best:
                best, bi, bj = s, i, j
            i += 1
            j += 1
        elif x < y:
            i += 1
        else:
            j += 1
    return best, bi, bj


@njit(cache=True, nogil=True)
def seconds_of_pairs(ptr, sec, hub, sources, targets, out):
    """``seconds_only`` of each (sources[k], targets[k]) into ``out`` (benchmarks, bulk questions)."""
    for k in range(sources.size):
        out[k] = seconds_only(ptr, sec, hub, sources[k], targets[k])
