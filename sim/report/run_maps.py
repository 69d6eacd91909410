"""The maps of a run report: beats, incidents by line met, compliance per grid cell, patrol presence.

Each function takes what the results folder holds (plus the rebuilt city and
deployment) and returns a matplotlib Figure. All four share the base map of
``sim.report.basemap`` (streets, stations, scale bar, north arrow, OSM attribution),
so they line up when shown side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.metrics import GRID_CELL_M
from sim.report import basemap
from sim.report.figure_io import BACKUP_MISSED, MET, MISSED, new_figure

MAP_WIDTH_IN = 6.4
TITLE_IN, LEGEND_IN = 0.4, 0.75   # room above the map for its title, below it for the legend
JITTER_M = 45.0   # display only: spreads incidents that share a street node


def _base(city, title: str, *, colorbar: bool = False, cells: bool = False):
    """A figure sized to the map's shape (no empty bands), the map axes, extent and title."""
    g = city.places
    fig = new_figure(MAP_WIDTH_IN, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    basemap.fit_extent(ax, g)
    if cells:
        _extend_to_cells(ax, g)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    right = 0.84 if colorbar else 0.99
    map_h_in = (right - 0.01) * MAP_WIDTH_IN * min(max((y1 - y0) / (x1 - x0), 0.35), 1.6)
    height_in = map_h_in + TITLE_IN + LEGEND_IN
    fig.set_size_inches(MAP_WIDTH_IN, height_in)
    fig.subplots_adjust(left=0.01, right=right, bottom=LEGEND_IN / height_in, top=1 - TITLE_IN / height_in)
    basemap.hide_ticks(ax)
    ax.set_title(title, fontsize=11, loc="left")
    return fig, ax


def _finish(ax, city, handles) -> None:
    """Scale bar, north arrow, attribution; the legend below the map so it hides no street."""
    basemap.add_scale_bar(ax)
    basemap.add_north_arrow(ax)
    basemap.add_attribution(ax, city)
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, fontsize=7,
                  frameon=False, borderaxespad=0.2)


def beats_map(city, deployment, *, kind: str = "car"):
    """Streets coloured by the beat (of ``kind`` units at the nominal alert level) they belong to."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    g = city.places
    beat = None if deployment is None else deployment.beat_index.get((deployment.alert_level, kind))
    n_beats = 0 if beat is None else int(np.unique(beat[beat >= 0]).size)
    title = f"Patrol beats of {kind} units ({n_beats})" if n_beats else "Streets and stations"
    fig, ax = _base(city, title)
    basemap.draw_streets(ax, g, alpha=0.5)
    handles = []
    if n_beats:
        from matplotlib import colormaps

        seg, _, first = basemap.street_segments(g)
        u, v = g.edge_u[first], g.edge_v[first]
        same = (beat[u] == beat[v]) & (beat[u] >= 0)
        ids = [int(b) for b in np.unique(beat[beat >= 0])]
        rank = {b: i for i, b in enumerate(ids)}
        cmap = colormaps["tab20"]
        rank_of = np.full(int(beat.max()) + 1, 0, np.int64)
        rank_of[np.array(ids)] = np.arange(len(ids))
        cols = cmap(rank_of[beat[u][same]] % 20)
        ax.add_collection(LineCollection(seg[same], colors=cols, linewidths=1.8, zorder=2, capstyle="round"))
        # beat numbers at the centre of each beat's streets
        for b in ids:
            pts = np.flatnonzero(beat == b)
            cx, cy = float(np.median(g.x_m[pts])), float(np.median(g.y_m[pts]))
            ax.text(cx, cy, str(rank[b] + 1), fontsize=7, ha="center", va="center", zorder=5,
                    bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec=cmap(rank[b] % 20), lw=1.2))
        handles.append(Line2D([], [], color=cmap(0), lw=2, label=f"Streets of one beat ({kind} units)"))
        handles.append(Line2D([], [], color="0.6", lw=1, label="Streets between beats"))
    handles += basemap.draw_places(ax, city)
    _finish(ax, city, handles)
    return fig


def _extend_to_cells(ax, g) -> None:
    """Widen the map so the grid cells (anchored at the south-west node) show whole."""
    x0, y0 = float(g.x_m.min()), float(g.y_m.min())
    nx = np.ceil((float(g.x_m.max()) - x0) / GRID_CELL_M + 1e-9)
    ny = np.ceil((float(g.y_m.max()) - y0) / GRID_CELL_M + 1e-9)
    pad = 0.03 * GRID_CELL_M * max(nx, ny)
    ax.set_xlim(x0 - pad, x0 + nx * GRID_CELL_M + pad)
    ax.set_ylim(y0 - pad, y0 + ny * GRID_CELL_M + pad)


def _colorbar(fig, mappable, label: str, **kw):
    """A colour bar in its own axes on the right, so it never squeezes or overlaps the map."""
    pos = fig.axes[0].get_position()
    cax = fig.add_axes((0.87, pos.y0, 0.03, pos.height))
    cb = fig.colorbar(mappable, cax=cax, **kw)
    cb.set_label(label, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return cb


def incident_classes(inc: pd.DataFrame) -> pd.Series:
    """'met' (every line that applies was met), 'response' (first unit late or never), 'backup' (backup late)."""
    needs_backup = inc["units_needed"] >= 2
    late_first = ~inc["response_within_line"].fillna(False).astype(bool)
    late_backup = needs_backup & ~inc["backup_within_line"].fillna(False).astype(bool)
    out = pd.Series("met", index=inc.index)
    out[late_backup] = "backup"
    out[late_first] = "response"
    return out


def incidents_map(city, inc: pd.DataFrame, lines: dict):
    """Every counted incident, coloured by whether the response and backup lines were met."""
    r_min, b_min = lines["response_s"] / 60, lines["backup_s"] / 60
    d = inc[inc["in_window"]] if "in_window" in inc else inc
    reps = d["replication"].nunique() if "replication" in d else 1
    fig, ax = _base(city, f"Incidents by line met ({len(d):,} incidents, {reps} replication(s))")
    basemap.draw_streets(ax, city.places, alpha=0.45)
    cls = incident_classes(d)
    # incidents happen at street nodes, so many share a point: a small fixed jitter lets them show
    jit = np.random.default_rng(0).uniform(-1.0, 1.0, size=(len(d), 2)) * JITTER_M
    d = d.assign(x_m=d["x_m"].to_numpy(float) + jit[:, 0], y_m=d["y_m"].to_numpy(float) + jit[:, 1])
    handles = []
    for name, colour, size, alpha, z, label in (
            ("met", MET, 4, 0.35, 3, f"Both lines met (first unit ≤ {r_min:g} min, backup ≤ {b_min:g} min)"),
            ("backup", BACKUP_MISSED, 10, 0.85, 4, f"Backup later than {b_min:g} min"),
            ("response", MISSED, 10, 0.85, 4.5, f"First unit later than {r_min:g} min")):
        sel = d[cls == name]
        h = ax.scatter(sel["x_m"], sel["y_m"], s=size, c=colour, alpha=alpha, linewidths=0, zorder=z,
                       label=f"{label}: {len(sel):,}")
        handles.append(h)
    handles += basemap.draw_places(ax, city, label_stations=False, exits=False)
    _finish(ax, city, handles)
    return fig


def _cell_rect(label: str, x0: float, y0: float):
    r, c = label[1:].split("c")
    return x0 + int(c) * GRID_CELL_M, y0 + int(r) * GRID_CELL_M


def compliance_bins(target: float) -> list[float]:
    """Class edges around the target, so the map separates 'just short' from 'far short'."""
    edges = [0.0, target - 0.2, target - 0.1, target - 0.05, target, target + (1 - target) / 2, 1.0]
    return sorted({round(min(max(e, 0.0), 1.0), 6) for e in edges})


def compliance_map(city, by_cell: dict, lines: dict, *, metric: str = "response_within_line",
                   few_incidents: float = 5.0):
    """Choropleth of a line's compliance per grid cell (mean over replications), with each cell's %."""
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm
    from matplotlib.patches import Patch, Rectangle

    target = lines["target_compliance"]
    line_min = (lines["response_s"] if metric == "response_within_line" else lines["backup_s"]) / 60
    what = "First unit" if metric == "response_within_line" else "Backup"
    fig, ax = _base(city, f"{what} within {line_min:g} min, per {GRID_CELL_M / 1000:g} km grid cell",
                    colorbar=True, cells=True)
    g = city.places
    x0, y0 = float(g.x_m.min()), float(g.y_m.min())
    edges = compliance_bins(target)
    cmap = colormaps["RdYlGn"]
    norm = BoundaryNorm(edges, cmap.N)
    shown = 0
    for label, s in sorted(by_cell.items()):
        v = (s.get(metric) or {}).get("mean")
        if v is None:
            continue
        n = (s.get("incidents") or {}).get("mean") or 0.0
        cx, cy = _cell_rect(label, x0, y0)
        few = n < few_incidents
        ax.add_patch(Rectangle((cx, cy), GRID_CELL_M, GRID_CELL_M, fc=cmap(norm(v)), ec="white", lw=0.8,
                               alpha=0.45 if few else 0.75, hatch="///" if few else None, zorder=1.5))
        ax.text(cx + GRID_CELL_M / 2, cy + GRID_CELL_M / 2, f"{100 * v:.1f}%", ha="center", va="center",
                fontsize=7, zorder=5, color="black", fontweight="bold" if v < target else "normal")
        shown += 1
    basemap.draw_streets(ax, g, colour_by_class=False, alpha=0.35, zorder=2)
    handles = basemap.draw_places(ax, city, label_stations=False, exits=False)
    handles.append(Patch(fc="white", ec="0.4", hatch="///", label=f"Fewer than {few_incidents:g} incidents "
                                                                      "per replication"))
    from matplotlib.cm import ScalarMappable

    cb = _colorbar(fig, ScalarMappable(norm=norm, cmap=cmap),
                   f"{what} within {line_min:g} min (% of incidents; black line: target {100 * target:.0f}%)",
                   ticks=edges)
    cb.ax.set_yticklabels([f"{100 * e:.0f}%" for e in edges])
    cb.ax.axhline(target, color="black", lw=2.5)
    _finish(ax, city, handles)
    return fig if shown else None


def presence_map(city, visibility: pd.DataFrame, *, window_s: float):
    """Average number of patrol units present in each grid cell (unit-seconds over the counted window)."""
    from matplotlib import colormaps
    from matplotlib.patches import Rectangle

    if visibility is None or visibility.empty or window_s <= 0:
        return None
    per_rep = visibility.groupby(["replication", "grid_cell"])["patrol_unit_s"].sum() / window_s
    mean = per_rep.groupby("grid_cell").mean()
    fig, ax = _base(city, f"Patrol presence per {GRID_CELL_M / 1000:g} km grid cell", colorbar=True, cells=True)
    g = city.places
    x0, y0 = float(g.x_m.min()), float(g.y_m.min())
    cmap = colormaps["Blues"]
    vmax = float(mean.max()) if len(mean) else 1.0
    from matplotlib.colors import Normalize

    norm = Normalize(0.0, max(vmax, 1e-9))
    for label, v in mean.items():
        cx, cy = _cell_rect(str(label), x0, y0)
        ax.add_patch(Rectangle((cx, cy), GRID_CELL_M, GRID_CELL_M, fc=cmap(norm(v)), ec="white", lw=0.8,
                               alpha=0.8, zorder=1.5))
        ax.text(cx + GRID_CELL_M / 2, cy + GRID_CELL_M / 2, f"{v:.1f}", ha="center", va="center", fontsize=7,
                zorder=5, color="white" if norm(v) > 0.6 else "black")
    basemap.draw_streets(ax, g, colour_by_class=False, alpha=0.3, zorder=2)
    handles = basemap.draw_places(ax, city, label_stations=False, exits=False)
    from matplotlib.cm import ScalarMappable

    _colorbar(fig, ScalarMappable(norm=norm, cmap=cmap), "Patrol units in the cell at any moment (average)")
    _finish(ax, city, handles)
    return fig
