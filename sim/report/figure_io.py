"""Making matplotlib figures without a display and turning them into bytes a page can hold inline.

Every report figure is built with matplotlib's object API on an Agg canvas, so no
window is opened, no global pyplot state changes, and a report can be written on a
server without a display. ``svg_text`` keeps vector charts sharp in the page;
``png_data_uri`` is for maps with thousands of streets and points, where SVG would
be megabytes.
"""

from __future__ import annotations

import base64
import io
import re

# Colours used across the report, chosen to stay apart for the common colour-vision deficiencies.
MET = "#1a9850"       # a line was met
MISSED = "#d73027"    # the response line was missed
BACKUP_MISSED = "#fc8d59"
TARGET = "#333333"
KIND_COLOUR = {"car": "#1f77b4", "bicycle": "#ff7f0e", "foot": "#2ca02c"}


def new_figure(width_in: float, height_in: float):
    """A matplotlib Figure attached to an Agg canvas (no display, no pyplot).

    Margins are set by each figure (``margins``) rather than by tight layout or a tight
    bounding box, each of which draws the figure once more: it halves the time to write a report.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    FigureCanvasAgg(fig)
    return fig


def svg_text(fig, key: str) -> str:
    """The figure as an inline <svg> element; ``key`` (unique in the page) prefixes its internal ids."""
    buf = io.StringIO()
    import matplotlib

    # a fixed salt makes matplotlib's internal ids (and so the page) the same on every run
    # text stays text (smaller, selectable, drawn in the browser's sans-serif font)
    with matplotlib.rc_context({"svg.hashsalt": key, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    start = text.find("<svg")
    text = text[start:]
    # matplotlib names its clip paths and glyphs with fixed ids; make them unique per figure
    # so several inline SVGs in one page do not steal each other's definitions.
    tag = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{tag}-{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f'url(#{tag}-{m.group(1)})', text)
    text = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{tag}-{m.group(1)}"', text)
    return text


def png_bytes(fig, *, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def png_data_uri(fig, *, dpi: int = 110) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(fig, dpi=dpi)).decode("ascii")


def margins(fig, *, left: float = 0.08, right: float = 0.98, bottom: float = 0.14, top: float = 0.9) -> None:
    """Fixed figure margins (fractions of the figure), the cheap alternative to tight layout."""
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
