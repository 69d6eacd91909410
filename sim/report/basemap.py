"""The parts every map shares: streets, stations, exits, scale bar, north arrow, attribution, lat/lon ticks.

Maps are drawn in the network's projected metres (x east, y north, equal aspect), so
a scale bar is exact and north is up. The projection is linear in longitude and
latitude (``sim.network.graph.project_lonlat``), so lat/lon tick labels come from a
straight-line fit of the node coordinates, with no projection library.
"""

from __future__ import annotations

import math

import numpy as np

# (line width, grey) per road class: arterials bolder, so a planner sees the main roads first.
ROAD_STYLE = {
    "motorway": (1.6, 0.35), "trunk": (1.5, 0.35), "primary": (1.3, 0.4), "secondary": (1.1, 0.45),
    "tertiary": (0.9, 0.5),
}
MINOR_STYLE = (0.5, 0.62)
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


def is_osm(city) -> bool:
    """True when the streets come from OpenStreetMap (the map then carries the ODbL attribution)."""
    return not str(getattr(city, "source", "")).startswith("synthetic")


def street_segments(graph) -> tuple[np.ndarray, np.ndarray]:
    """One (2, 2) segment per street (a two-way street once), its road class and its edge index."""
    a = np.minimum(graph.edge_u, graph.edge_v).astype(np.int64)
    b = np.maximum(graph.edge_u, graph.edge_v).astype(np.int64)
    _, first = np.unique(a * graph.n_nodes + b, return_index=True)
    u, v = graph.edge_u[first], graph.edge_v[first]
    seg = np.stack([np.column_stack([graph.x_m[u], graph.y_m[u]]),
                    np.column_stack([graph.x_m[v], graph.y_m[v]])], axis=1)
    return seg, np.asarray(graph.edge_class)[first], first


def draw_streets(ax, graph, *, colour_by_class: bool = True, alpha: float = 1.0, zorder: float = 1) -> None:
    """Streets in greys, wider for main roads."""
    from matplotlib.collections import LineCollection

    seg, cls, _ = street_segments(graph)
    widths = np.array([ROAD_STYLE.get(str(c), MINOR_STYLE)[0] for c in cls]) if colour_by_class else 0.5
    greys = [str(ROAD_STYLE.get(str(c), MINOR_STYLE)[1]) for c in cls] if colour_by_class else "0.6"
    ax.add_collection(LineCollection(seg, linewidths=widths, colors=greys, alpha=alpha, zorder=zorder,
                                     capstyle="round"))


def draw_places(ax, city, *, label_stations: bool = True, exits: bool = True) -> list:
    """Stations (blue squares, named), the bureau (star) and exits (triangles); returns legend handles."""
    g = city.places
    handles = []
    sp = np.asarray(city.station_place, int)
    if sp.size:
        handles.append(ax.scatter(g.x_m[sp], g.y_m[sp], marker="s", s=70, c="#08306b", edgecolors="white",
                                  linewidths=1.2, zorder=6, label="Police station"))
        if label_stations:
            for p, name in zip(sp, city.station_name):
                ax.annotate(name, (g.x_m[p], g.y_m[p]), xytext=(6, 5), textcoords="offset points", fontsize=7,
                            color="#08306b", zorder=7,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))
    bp = int(city.bureau_place)
    handles.append(ax.scatter([g.x_m[bp]], [g.y_m[bp]], marker="*", s=150, c="#6a51a3", edgecolors="white",
                              linewidths=0.8, zorder=6, label="City bureau (reserve)"))
    ep = np.asarray(city.exit_place, int)
    if exits and ep.size:
        handles.append(ax.scatter(g.x_m[ep], g.y_m[ep], marker="^", s=55, c="#b15928", edgecolors="white",
                                  linewidths=0.8, zorder=6, label="City exit (checkpoint)"))
    return handles


def nice_length_m(span_m: float) -> float:
    """A round scale-bar length near a fifth of the map's width (100 m, 200 m, 500 m, 1 km, ...)."""
    target = max(span_m / 5.0, 1.0)
    base = 10 ** math.floor(math.log10(target))
    for step in (1, 2, 5, 10):
        if base * step >= target:
            return float(base * step)
    return float(base * 10)


def add_scale_bar(ax) -> None:
    """A black-and-white scale bar in the lower left corner, in metres or kilometres."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length_m(x1 - x0)
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.045 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    ax.add_patch(_rect(bx - 0.01 * (x1 - x0), by - 0.6 * h, length + 0.02 * (x1 - x0), 4.6 * h,
                       fc="white", ec="none", alpha=0.8))
    ax.add_patch(_rect(bx, by, length / 2, h, fc="black", ec="black"))
    ax.add_patch(_rect(bx + length / 2, by, length / 2, h, fc="white", ec="black"))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 1.6 * h, label, ha="center", va="bottom", fontsize=8, zorder=9)


def _rect(x, y, w, h, **kw):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, zorder=8, **kw)


def add_north_arrow(ax) -> None:
    """An arrow pointing up (the projection keeps north up) with an N, top right."""
    ax.annotate("N", xy=(0.95, 0.96), xytext=(0.95, 0.85), xycoords="axes fraction", ha="center", va="center",
                fontsize=10, fontweight="bold", zorder=9,
                arrowprops=dict(arrowstyle="-|>", lw=1.8, color="black"),
                bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="none", alpha=0.8))


def add_attribution(ax, city) -> None:
    """"© OpenStreetMap contributors" in the lower right corner when the streets are from OSM."""
    if is_osm(city):
        ax.text(0.995, 0.005, OSM_ATTRIBUTION, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                zorder=9, bbox=dict(boxstyle="square,pad=0.15", fc="white", ec="none", alpha=0.8))


def fit_extent(ax, graph, *, pad_share: float = 0.04) -> None:
    """Axes limits around the streets, equal aspect, no frame ticks."""
    x0, x1 = float(graph.x_m.min()), float(graph.x_m.max())
    y0, y1 = float(graph.y_m.min()), float(graph.y_m.max())
    pad = pad_share * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")


def hide_ticks(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def lonlat_of_metres(graph) -> tuple[tuple[float, float], tuple[float, float]]:
    """(a, b) with lon = a + b * x_m, and (c, d) with lat = c + d * y_m, fitted on the nodes."""
    def fit(m, deg):
        m, deg = np.asarray(m, float), np.asarray(deg, float)
        if m.size < 2 or np.ptp(m) == 0:
            return float(deg.mean()) if deg.size else 0.0, 0.0
        slope, icept = np.polyfit(m, deg, 1)
        return float(icept), float(slope)
    return fit(graph.x_m, graph.lon), fit(graph.y_m, graph.lat)


def add_lonlat_grid(ax, graph, *, lines: int = 5) -> None:
    """Grid lines at round longitudes and latitudes, labelled in degrees, on a metre-based map."""
    from matplotlib.ticker import FixedLocator

    (a, b), (c, d) = lonlat_of_metres(graph)
    if b == 0 or d == 0:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for axis, lo_m, hi_m, icept, slope, hemi in (("x", x0, x1, a, b, "EW"), ("y", y0, y1, c, d, "NS")):
        lo, hi = sorted((icept + slope * lo_m, icept + slope * hi_m))
        step = _round_step((hi - lo) / lines)
        ticks_deg = np.arange(math.ceil(lo / step) * step, hi, step)
        ticks_m = (ticks_deg - icept) / slope
        decimals = next(d for d in range(10) if abs(round(step, d) - step) < 1e-12 * max(1.0, step))
        labels = [f"{abs(t):.{decimals}f}°{hemi[0] if t >= 0 else hemi[1]}" for t in ticks_deg]
        target = ax.xaxis if axis == "x" else ax.yaxis
        target.set_major_locator(FixedLocator(ticks_m))
        (ax.set_xticklabels if axis == "x" else ax.set_yticklabels)(labels, fontsize=7)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.grid(True, color="#9ecae1", lw=0.6, ls="--", zorder=0.5)
    ax.set_xlabel("Longitude (degrees)")
    ax.set_ylabel("Latitude (degrees)")


def _round_step(raw: float) -> float:
    base = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if base * step >= raw:
            return base * step
    return base * 10
