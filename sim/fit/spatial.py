"""Where calls happen: a smoothed intensity over places.

Calls come snapped to the nearest place (drive-graph node) by
``sim.calls.places``, the same rule the simulator uses for a fitted file's
points. Raw counts per node are too rough
(a node with no call in six months is not a node where calls cannot happen) and a
uniform spread over the streets ignores hot spots, so the intensity is a kernel
smoothing in between: each call's weight is spread over nearby nodes with a
Gaussian kernel of bandwidth ``h`` (metres), in proportion to the street length
each node stands for, and a share ``eps`` of the total is spread uniformly over
the street network. As ``h`` grows the smoothing tends to that uniform baseline;
as it shrinks, to the raw counts. ``h`` and ``eps`` are chosen by the
likelihood of held-out calls (k-fold cross-validation over whole weeks, since
calls at one address cluster in time).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from sim.network.graph import RoadGraph

BANDWIDTHS_M = (10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0, 600.0, 800.0, 1200.0)
UNIFORM_SHARES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
KERNEL_CUTOFF_SD = 4.0


def street_weight(g: RoadGraph) -> np.ndarray:
    """Half the length of the streets meeting at each node (a two-way street counted once)."""
    a = np.minimum(g.edge_u, g.edge_v).astype(np.int64)
    b = np.maximum(g.edge_u, g.edge_v).astype(np.int64)
    _, first = np.unique(a * g.n_nodes + b, return_index=True)
    w = np.zeros(g.n_nodes)
    np.add.at(w, a[first], g.edge_length_m[first] / 2)
    np.add.at(w, b[first], g.edge_length_m[first] / 2)
    if w.sum() <= 0:
        w = np.ones(g.n_nodes)
    return w


def baseline_prob(g: RoadGraph) -> np.ndarray:
    """The homogeneous baseline: uniform over the street network."""
    w = street_weight(g)
    return w / w.sum()


def spread_matrix(g: RoadGraph, bandwidth_m: float) -> sparse.csr_matrix:
    """Row-stochastic matrix: row i spreads one call at node i over nearby nodes.

    Weight of node j is ``exp(-d_ij^2 / 2 h^2)`` times the street length node j
    stands for, cut off beyond ``KERNEL_CUTOFF_SD`` bandwidths.
    """
    pts = np.column_stack([g.x_m, g.y_m])
    tree = cKDTree(pts)
    d = tree.sparse_distance_matrix(tree, KERNEL_CUTOFF_SD * bandwidth_m, output_type="coo_matrix")
    rows = np.concatenate([d.row, np.arange(g.n_nodes)])
    cols = np.concatenate([d.col, np.arange(g.n_nodes)])
    dist = np.concatenate([d.data, np.zeros(g.n_nodes)])
    keep = (rows != cols) | (dist == 0)
    rows, cols, dist = rows[keep], cols[keep], dist[keep]
    # the diagonal may appear twice (an explicit zero distance and the added one): dedupe
    key = rows.astype(np.int64) * g.n_nodes + cols
    _, first = np.unique(key, return_index=True)
    rows, cols, dist = rows[first], cols[first], dist[first]
    sw = street_weight(g)
    w = np.exp(-0.5 * (dist / bandwidth_m) ** 2) * sw[cols]
    m = sparse.csr_matrix((w, (rows, cols)), shape=(g.n_nodes, g.n_nodes))
    rs = np.asarray(m.sum(axis=1)).ravel()
    rs[rs <= 0] = 1.0
    return sparse.diags(1.0 / rs) @ m


def intensity(counts: np.ndarray, spread: sparse.csr_matrix, base: np.ndarray, eps: float) -> np.ndarray:
    """Probability per node: the smoothed counts, mixed with a share ``eps`` of the baseline."""
    total = counts.sum()
    smooth = spread.T @ counts / total if total > 0 else base
    return (1 - eps) * np.asarray(smooth).ravel() + eps * base


def select_bandwidth(g: RoadGraph, place: np.ndarray, fold: np.ndarray, *,
                     bandwidths_m=BANDWIDTHS_M, shares=UNIFORM_SHARES) -> dict:
    """Choose (bandwidth, uniform share) by the held-out log-likelihood of calls, k-fold.

    ``fold`` gives each call's fold (whole weeks). Returns the choice, the
    held-out log-likelihood per call of every candidate, and the baseline's.
    """
    base = baseline_prob(g)
    folds = np.unique(fold)
    n = g.n_nodes
    counts_by_fold = np.stack([np.bincount(place[fold == f], minlength=n) for f in folds]).astype(float)
    total = counts_by_fold.sum(0)
    grid = []
    for h in bandwidths_m:
        spread = spread_matrix(g, h)
        for eps in shares:
            ll = 0.0
            for k in range(len(folds)):
                test = counts_by_fold[k]
                p = intensity(total - test, spread, base, eps)
                ll += float((test * np.log(np.maximum(p, 1e-300))).sum())
            grid.append({"bandwidth_m": h, "uniform_share": eps, "cv_loglik_per_call": ll / max(1, place.size)})
    best = max(grid, key=lambda r: r["cv_loglik_per_call"])
    base_ll = float(np.log(base[place]).sum() / max(1, place.size))
    return {"bandwidth_m": best["bandwidth_m"], "uniform_share": best["uniform_share"],
            "cv_loglik_per_call": best["cv_loglik_per_call"], "cv_baseline_loglik_per_call": base_ll,
            "folds": int(len(folds)), "grid": grid}


def hot_spots(g: RoadGraph, prob: np.ndarray, place: np.ndarray, address: np.ndarray, *, top: int = 10) -> list[dict]:
    """The nodes of highest intensity, with their lift over the baseline and a label.

    A node's label is the most common address among the calls snapped to it
    (empty when the file has no address column).
    """
    base = baseline_prob(g)
    order = np.argsort(-prob, kind="stable")[:top]
    out = []
    for rank, j in enumerate(order, 1):
        here = place == j
        labels = [a for a in address[here] if a]
        label = max(set(labels), key=lambda a: (labels.count(a), a)) if labels else ""
        out.append({"rank": rank, "lon": round(float(g.lon[j]), 6), "lat": round(float(g.lat[j]), 6),
                    "share": round(float(prob[j]), 5), "lift_over_uniform": round(float(prob[j] / base[j]), 2),
                    "calls_snapped": int(here.sum()), "label": label})
    return out
