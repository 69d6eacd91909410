"""The network map of ``patrolsim network plot``: streets, stations, exits and a lat/lon grid.

For placing stations on a new map: a planner reads coordinates off the grid and puts
them in a scenario. It also reports the bounding box and centre printed by
``patrolsim network info``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.errors import InputError
from sim.report import basemap
from sim.report.figure_io import new_figure

FORMATS = (".png", ".svg")


def bounds(city) -> dict:
    """Bounding box (degrees) and centre of the drive graph: the places incidents happen at."""
    g = city.places
    west, east = float(np.min(g.lon)), float(np.max(g.lon))
    south, north = float(np.min(g.lat)), float(np.max(g.lat))
    return {"west": west, "south": south, "east": east, "north": north,
            "centre_lat": (south + north) / 2, "centre_lon": (west + east) / 2,
            "width_km": float(np.ptp(g.x_m)) / 1000, "height_km": float(np.ptp(g.y_m)) / 1000}


def network_figure(city):
    """Streets by road class, stations (named), bureau, exits, lat/lon grid, scale bar, north arrow."""
    g = city.places
    w, h = float(np.ptp(g.x_m)) or 1.0, float(np.ptp(g.y_m)) or 1.0
    width_in = 8.0
    fig = new_figure(width_in, max(4.0, min(12.0, width_in * h / w + 1.0)))
    ax = fig.add_subplot(1, 1, 1)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.08, top=0.93)
    basemap.fit_extent(ax, g)
    basemap.draw_streets(ax, g)
    handles = basemap.draw_places(ax, city)
    b = bounds(city)
    ax.set_title(f"{city.name}: {g.n_nodes:,} junctions, {g.street_km():.0f} km of drivable streets, centre "
                 f"{b['centre_lat']:.5f}, {b['centre_lon']:.5f}", fontsize=10, loc="left")
    basemap.add_lonlat_grid(ax, g, lines=8)
    basemap.add_scale_bar(ax)
    basemap.add_north_arrow(ax)
    basemap.add_attribution(ax, city)
    from matplotlib.lines import Line2D

    handles.insert(0, Line2D([], [], color="0.35", lw=1.4, label="Main road (primary and above)"))
    handles.insert(1, Line2D([], [], color="0.62", lw=0.6, label="Other street"))
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
    return fig


def write_network_plot(city, path: Path) -> Path:
    """Write the network map to ``path`` (.png or .svg, from the suffix)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"cannot write a '{suffix or 'no suffix'}' picture", file=str(path), key="--out",
                         fix="end the file name in .png or .svg")
    if path.parent and not path.parent.exists():
        raise InputError("the folder does not exist", file=str(path.parent), key="--out",
                         fix="create the folder first or choose another --out")
    fig = network_figure(city)
    import matplotlib

    # SVG text stays text, so the station names and coordinates can be searched and edited
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": city.name}):
        meta = {"Date": None} if suffix == ".svg" else {"Software": None}
        fig.savefig(path, dpi=150, bbox_inches="tight", metadata=meta)
    return path
