"""Dispatch decisions as pure functions, testable without SimPy.

The engine computes each available unit's estimated arrival time and asks the
policy which one goes. Ties are broken by unit id so runs are reproducible.
"""

from __future__ import annotations

import numpy as np


def choose_nearest(eta_s: np.ndarray, unit_id: np.ndarray) -> int:
    """Index of the unit with the smallest estimated arrival time (ties: smallest id)."""
    eta_s = np.asarray(eta_s, float)
    if eta_s.size == 0:
        raise ValueError("no unit to choose from")
    order = np.lexsort((np.asarray(unit_id), eta_s))
    return int(order[0])
