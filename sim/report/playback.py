"""The data of a playback: streets, beats, stations, incidents and every unit's track, made small.

Why small: a teacher mails the file or opens it from a USB stick, so one 8-hour shift of the
default town must stay well under 5 MB. Positions are projected to metres, quantised to
``QUANT_M``, sampled every ``step_s`` and delta-encoded per unit (a parked unit costs one
character per sample); states are one letter per sample. Everything comes from the trace
table (``sim.trace``), i.e. from the engine's own movements.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from sim.report.basemap import is_osm, street_segments
from sim.trace import STATES

QUANT_M = 2.0                 # position grid of the playback (metres)
STATE_CODE = {"patrolling": "p", "to incident": "t", "on scene": "s", "returning": "r", "standby": "b",
              "at post": "c", "off duty": "o"}
STATE_COLOUR = {"patrolling": "#1f78b4", "to incident": "#e31a1c", "on scene": "#ff7f00",
                "returning": "#6a3d9a", "standby": "#33a02c", "at post": "#b15928"}


class Projection:
    """Lon/lat to a metre grid (equirectangular about the town's south-west corner), as integers."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray) -> None:
        self.lon0, self.lat0 = float(np.nanmin(lon)), float(np.nanmin(lat))
        self.kx = math.cos(math.radians(float(np.nanmean(lat)))) * 111_320.0
        self.ky = 110_574.0

    def __call__(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        x = np.round((np.asarray(lon, float) - self.lon0) * self.kx / QUANT_M)
        y = np.round((np.asarray(lat, float) - self.lat0) * self.ky / QUANT_M)
        return np.nan_to_num(x).astype(np.int64), np.nan_to_num(y).astype(np.int64)


def _deltas(v: np.ndarray) -> str:
    """'a,b,c' of the first value and the steps after it (small numbers: short text)."""
    d = np.diff(v, prepend=0)
    return ",".join(map(str, d.tolist()))


def _beat_of_place(deployment) -> np.ndarray | None:
    bi = getattr(deployment, "beat_index", {}) or {}
    return bi.get((deployment.alert_level, "car"))


def playback_data(world, trace: pd.DataFrame, incidents: pd.DataFrame, *, start_s: float, end_s: float,
                  step_s: float, title: str) -> dict:
    """Everything the page draws, as plain JSON-able values."""
    city = world.city
    g = city.places
    proj = Projection(g.lon, g.lat)
    gx, gy = proj(g.lon, g.lat)
    _, _, first = street_segments(g)
    u, v = g.edge_u[first], g.edge_v[first]
    beat = _beat_of_place(world.deployment)
    street_beat = (np.where((beat[u] == beat[v]) & (beat[u] >= 0), beat[u], -1) if beat is not None
                   else np.full(len(u), -1))
    ids = sorted(int(b) for b in np.unique(street_beat[street_beat >= 0]))
    rank = {b: i for i, b in enumerate(ids)}
    streets = np.column_stack([gx[u], gy[u], gx[v], gy[v],
                               [rank.get(int(b), -1) for b in street_beat]]).ravel().tolist()
    sp = np.asarray(city.station_place, int)
    stations = [[int(gx[p]), int(gy[p]), str(n)] for p, n in zip(sp, city.station_name)]

    grid = np.arange(start_s, end_s + 1e-9, step_s)
    units = []
    for name, t in trace.groupby("unit", sort=False, observed=True):
        t = t.set_index("time_s").reindex(grid)  # the fixed-step rows (exact change rows stay in the table)
        x, y = proj(t["lon"].to_numpy(), t["lat"].to_numpy())
        states = "".join(STATE_CODE.get(str(s), "o") for s in t["state"].astype(object).fillna("off duty"))
        units.append({"name": str(name), "x": _deltas(x), "y": _deltas(y), "s": states})

    inc = incidents[(incidents["call_s"] < end_s)
                    & (incidents["clear_s"].fillna(np.inf) > start_s)
                    & (incidents["call_s"] >= start_s - 3 * 3600)]
    ix, iy = proj(inc["lon"].to_numpy(), inc["lat"].to_numpy())
    rows = []
    for k, r in enumerate(inc.itertuples(index=False)):
        def rel(val):
            return None if val is None or not np.isfinite(val) else round(float(val) - start_s, 1)
        rows.append([int(ix[k]), int(iy[k]), rel(r.call_s), rel(r.first_arrival_s),
                     rel(r.second_arrival_s) if int(r.units_needed) > 1 else None, rel(r.clear_s),
                     int(r.units_needed), str(r.type)])
    return {
        "title": title, "start_s": float(start_s), "end_s": float(end_s), "step_s": float(step_s),
        "quant_m": QUANT_M, "width": int(gx.max()) + 1, "height": int(gy.max()) + 1,
        "streets": streets, "n_beats": len(ids), "stations": stations, "units": units, "incidents": rows,
        "line_s": float(world.scenario.lines.response_s),
        "backup_line_s": float(world.scenario.lines.backup_s),
        "states": [[s, STATE_CODE[s], STATE_COLOUR[s]] for s in STATES if s in STATE_COLOUR],
        "osm": bool(is_osm(city)),
    }


def playback_json(data: dict) -> str:
    """Compact JSON, safe inside a <script> element."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
