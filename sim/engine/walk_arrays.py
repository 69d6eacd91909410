"""What the large graphs' compiled walks take per mode slot, and placeholders of the same types.

The dispatch walk (``sim.engine.best_first_jit``, behind ``sim.engine.walk_handle``) and the cordon's
walk (``sim.engine.cordon_jit``) read, per travel mode of the force (a slot; unused slots repeat
the first), the mode's landmarks and hub labels or its full time matrix. ``slot_arrays`` gathers
them from the oracles as tuples of equal types, so that one compiled signature serves every
force; the other functions make tiny arrays of the types the engine passes, with which the
loops are loaded (or compiled) before a replication. Python only: no loop here is compiled.
"""

from __future__ import annotations

import numpy as np


def warm_graph_arrays(slots: int) -> tuple:
    """Tiny per-slot arrays of the types both walks take (``pairs``: the labels, ``tm``), for loading them."""
    pairs = (tuple(np.zeros(4, np.int64) for _ in range(slots)), tuple(np.zeros(0) for _ in range(slots)),
             tuple(np.zeros(0, np.int32) for _ in range(slots)))
    tm = tuple(read_only(np.zeros((1, 1))) for _ in range(slots))
    return pairs, tm


def rule_arrays(n: int) -> tuple:
    """``walk``'s rule arguments for ``n`` units whose beat no table holds (the rules asked in Python):
    ``rule_ok``, ``owner_tab`` and ``cap_u`` (``sim.engine.owners``), of the types the engine passes."""
    return np.zeros((n, 2), np.int8), np.full((1, 1), -1, np.int64), np.full(n, np.inf)


def on_demand_arrays(slots: int) -> tuple:
    """``bounds``' circuit-bound arguments when the circuits keep bound rows (placeholders of the
    types ``positions.CircuitBounds`` holds, never read): one compiled signature for both."""
    return (np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1), np.zeros(2, np.int64), np.zeros(1, np.int64),
            np.zeros(1), np.zeros(slots, np.int64))


def read_only(a: np.ndarray) -> np.ndarray:
    """A read-only, C-ordered ndarray view of ``a`` (one compiled type for every time matrix: memory maps too)."""
    v = np.ascontiguousarray(a, dtype=np.float64).view(np.ndarray)
    v.flags.writeable = False
    return v


def slot_arrays(oracles: list, slots: int = 4) -> dict:
    """Per mode slot (``oracles`` in slot order, padded to ``slots`` with the first), what the compiled walks read.

    A mode on the kernel backend brings its ``SearchColumns``' landmarks and hub labels and a dummy
    matrix; a mode with a full time matrix brings the matrix (read only) and dummy landmarks and
    labels. Tuples of equal types, so that one compiled signature serves every force.
    """
    pad = [oracles[i] for i in list(range(len(oracles))) + [0] * (slots - len(oracles))]
    out = {k: [] for k in ("lm_from", "lm_to", "lab_ptr", "lab_sec", "lab_hub", "tm")}
    exact, has_tm, sym = [], [], []
    for o in pad:
        k = o._kernel
        if k is not None:
            parts = (k._lm_from_rows, k._lm_to_rows, *k.walk_labels, read_only(np.zeros((1, 1))))
            exact.append(k._lm_exact)
            has_tm.append(False)
            sym.append(k.symmetric)
        else:
            parts = (np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(4, np.int64), np.zeros(0), np.zeros(0, np.int32),
                     read_only(o.time_matrix))
            exact.append(False)
            has_tm.append(True)
            sym.append(False)
        for key, a in zip(out, parts):
            out[key].append(a)
    res = {key: tuple(v) for key, v in out.items()}
    # the labels' metres (``lab_met``: a chosen unit's metres, ``walk_handle.search``); none with a matrix
    res["lab_met"] = tuple(o._kernel.labels.metres_ if o._kernel is not None else np.zeros(0) for o in pad)
    res["lm_exact"] = np.array(exact, np.bool_)
    res["has_tm"] = np.array(has_tm, np.bool_)
    res["sym"] = np.array(sym, np.bool_)
    return res
