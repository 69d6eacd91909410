"""The engine's results: flat records of one replication (``EngineLog``), read by ``sim.metrics``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.demand import IncidentTable


@dataclass
class EngineLog:
    """Flat results of one replication."""

    incidents: IncidentTable
    dispatch_s: np.ndarray           # first dispatch time (nan if never)
    arrivals_s: list                 # per incident: sorted arrival times
    units_sent: list                 # per incident: unit ids in order of dispatch
    first_unit: np.ndarray           # unit id that arrived first (-1 if none)
    cross_area: np.ndarray           # per incident: the first unit sent came from outside its beat
    clear_s: np.ndarray              # when the last unit left the scene
    encircle_s: np.ndarray           # per incident: seconds from call to a full cordon (nan: not major; -inf: no cordon to draw)
    units: list                      # UnitState per unit (sim.engine.units)
    warmup_s: float
    horizon_s: float
    end_s: float
    staffing: list                   # one dict per shift
    alert_log: list                  # one dict per decision (day, area, level, observed, expected)
    patrol_intervals: Sequence       # (uid, t0, t1, circuit_key, anchor_t, anchor_tau): sim.engine.intervals
    circuits: dict                   # circuit_key -> Circuit
    lost: np.ndarray | None = None   # per incident: a request was dropped (loss system)
