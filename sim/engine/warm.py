"""Load every compiled loop a replication calls, before the replication (``load_loops``).

numba compiles a loop, or loads it from its cache (5-20 ms each), at its first call with
new argument types. ``kernels.compile_once`` (which the dispatch search calls as a run
starts) loads the search's loops and the network's (metres rows, circuits' tours, rejoin
tables), ``compile_cordon_once`` the encirclement's; the shift change's loop
(``shift_kernels.switch_circuits``) sits in a module above ``kernels`` and is loaded here,
with the circuits' builds (``sim.circuit_jit``), the named streams' seeds (``sim.seed_jit``) and the
drives back to a circuit on graphs with hub labels (``sim.engine.join_drive``).
``sim.experiment.replicate.load_loops`` calls it and loads the tables' loop too;
``bench/run_patrolsim.py`` calls that while preparing, so that the timed replication
compiles and loads nothing (``tests/test_no_compile_in_replication.py``).
"""

from __future__ import annotations

import numpy as np

from sim.engine import cordon_kernels as CK
from sim.engine import kernels as K
from sim.engine import shift_kernels as SK


def load_loops() -> None:
    """``compile_once``, ``compile_cordon_once``, the best-first cordon and the shift change's loop (no-ops once loaded)."""
    K.compile_once()
    CK.compile_cordon_once()
    load_lazy_cordon()
    from sim import circuit_jit as CJ                # circuits' builds (sim.patrol) on full time matrices
    if not CJ.bound_from_nodes.signatures:
        one, node = np.zeros((1, 1)), np.zeros(1, np.int64)
        K._held(lambda: (CJ.nearest_neighbour_order(one, np.zeros(2, np.int64)),
                         CJ.bound_from_nodes(one, node, node, np.zeros(1))))
    from sim import seed_jit                          # the named streams' seeds (sim.streams)
    if not seed_jit.named_state.signatures:
        u32 = np.zeros(4, np.uint32)
        K._held(lambda: seed_jit.named_state(u32, np.zeros((4, 2), np.uint32), np.zeros((8, 2), np.uint32), 0))
    from sim.engine import join_drive                 # drives back to a circuit on graphs with hub labels
    if not join_drive.join.signatures:
        K._held(join_drive.warm)
    if not SK.common_units.signatures:
        K._held(lambda: SK.common_units(0.0, np.zeros(1, np.int8), np.zeros((1, K.UI_COLUMNS), np.int64),
                                        np.zeros((1, K.UF_COLUMNS)), np.zeros(1, bool), np.zeros(1, np.int64),
                                        np.zeros(1), np.zeros((1, SK.U_COLUMNS)), np.zeros(1, np.int64),
                                        np.zeros(1, np.int64)))
    if not SK.legs_started.signatures:
        K._held(lambda: SK.legs_started(np.zeros((0, 10)), np.zeros(1, np.int8), np.zeros(1),
                                        np.zeros((1, K.UI_COLUMNS), np.int64), np.zeros((1, K.UF_COLUMNS))))
    if SK.switch_circuits.signatures:
        return
    z, t = np.zeros(1), np.zeros((1, 1))
    # no unit switches (zero rows): the call only loads the loop for these argument types
    from sim.engine.join_tables import _no_labels
    K._held(lambda: SK.switch_circuits(
        0.0, 0.0, 0.0, np.zeros((0, SK.U_COLUMNS)), z, np.zeros((3, 2)), np.zeros((1, 3)),
        np.zeros((1, 1), np.int32), np.zeros((1, 3), np.int64), np.zeros((1, 1)), t, t, t, t, t, t, t, t, True,
        *_no_labels(), np.zeros(1, np.int64), np.zeros((0, SK.O_I_COLUMNS), np.int64),
        np.zeros((0, SK.O_F_COLUMNS))))


def load_lazy_cordon() -> None:
    """Load ``sim.engine.cordon_lazy.lazy_cordon`` for the argument types ``Encirclement`` passes (no free unit)."""
    from sim.engine.cordon_lazy import lazy_cordon, sort_circuits
    if lazy_cordon.signatures and sort_circuits.signatures:
        return
    i1, f1, t = np.zeros(1, np.int64), np.zeros(1), np.zeros((1, 1))
    K._held(lambda: sort_circuits(np.zeros((1, 1), np.int64), np.zeros((1, 2), np.int64), i1, t, 0))
    K._held(lambda: lazy_cordon(0.0, np.zeros(1, np.int8), np.zeros((1, K.UI_COLUMNS), np.int64),
                                np.zeros((1, K.UF_COLUMNS)), np.zeros((3, 2)), np.zeros((1, 3)), np.zeros((3, 1)),
                                i1, i1, np.zeros((1, 1), np.int64), t, t, 0, np.zeros((1, 1), np.int64),
                                np.zeros((1, 2), np.int64), i1,
                                t, t, t, t))
