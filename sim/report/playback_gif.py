"""The playback as an animated GIF for slides (matplotlib's animation with the Pillow writer).

It draws the same data as the HTML page (``sim.report.playback.playback_data``): the
streets coloured by beat, stations, waiting calls (red once past the response line),
backup rings and the units coloured by state, one frame every ``frame_s`` seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sim.report.figure_io import new_figure

BEAT_COLOURS = ["#a6cee3", "#b2df8a", "#fb9a99", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada",
                "#80b1d3", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#fdb462", "#b3de69"]


def _octree_writer(fps: int):
    """Matplotlib's Pillow writer, but each frame quantised by octree: Pillow's default median cut
    gives the few small red and yellow markers' colours away to the pale streets (they came out orange)."""
    from matplotlib.animation import PillowWriter
    from PIL import Image

    class OctreeWriter(PillowWriter):
        def finish(self):
            frames = [f.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                dither=Image.Dither.NONE) for f in self._frames]
            frames[0].save(self.outfile, save_all=True, append_images=frames[1:],
                           duration=int(1000 / self.fps), loop=0, optimize=True)

    return OctreeWriter(fps=fps)


def _undelta(text: str) -> np.ndarray:
    return np.cumsum(np.array(text.split(","), np.int64))


def write_gif(data: dict, path: Path, *, frame_s: float = 240.0, fps: int = 6, width_in: float = 6.0,
              dpi: int = 72) -> Path:
    """Write ``path``; returns it. 8 hours at one frame per 4 minutes is 120 frames (20 s at 6 fps)."""
    from matplotlib.animation import FuncAnimation
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    q = data["quant_m"]
    s = np.array(data["streets"], float).reshape(-1, 5)
    seg = np.stack([s[:, 0:2], s[:, 2:4]], axis=1) * q
    beat = s[:, 4].astype(int)
    cols = [BEAT_COLOURS[b % len(BEAT_COLOURS)] if b >= 0 else "#c8c8c8" for b in beat]
    widths = np.where(beat >= 0, 1.8, 0.7)
    w, h = data["width"] * q, data["height"] * q
    fig = new_figure(width_in, width_in * min(max(h / w, 0.5), 1.4) + 1.0)   # Agg canvas, no pyplot
    fig.set_dpi(dpi)
    ax = fig.add_axes([0.01, 0.16, 0.98, 0.76])
    ax.add_collection(LineCollection(seg, colors=cols, linewidths=widths, alpha=0.6, zorder=1))
    ax.set_xlim(-0.02 * w, 1.02 * w)
    ax.set_ylim(-0.02 * h, 1.02 * h)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    st = np.array([[x, y] for x, y, _ in data["stations"]], float) * q
    if len(st):
        ax.scatter(st[:, 0], st[:, 1], marker="s", s=60, c="#08306b", edgecolors="white", zorder=3)
    colour = {code: c for _, code, c in data["states"]}
    units = [(_undelta(u["x"]) * q, _undelta(u["y"]) * q, u["s"]) for u in data["units"]]
    inc = data["incidents"]
    line_s = data["line_s"]
    calls = ax.scatter([], [], s=70, marker="D", zorder=4, edgecolors="#333", linewidths=1)
    backup = ax.scatter([], [], s=180, facecolors="none", edgecolors="#6a3d9a", linewidths=2, zorder=4)
    dots = ax.scatter([], [], s=40, zorder=5, edgecolors="#111", linewidths=0.8)
    title = ax.set_title("", fontsize=11, loc="left")
    handles = [Line2D([], [], marker="o", ls="", color=c, markeredgecolor="#111", label=n)
               for n, _, c in data["states"]]
    handles += [Line2D([], [], marker="D", ls="", color="#ffd92f", markeredgecolor="#333", label="call waiting"),
                Line2D([], [], marker="D", ls="", color="#e31a1c", markeredgecolor="#333",
                       label=f"waiting > {line_s / 60:g} min"),
                Line2D([], [], marker="o", ls="", markerfacecolor="none", markeredgecolor="#6a3d9a",
                       markersize=10, label="backup arrived")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    n = len(units[0][2]) if units else 1
    step = data["step_s"]
    times = np.arange(0.0, data["end_s"] - data["start_s"] + 1e-9, frame_s)

    def frame(t):
        pts, cs = [], []
        for x, y, states in units:
            i = min(int(t // step), n - 1)
            if states[i] == "o":
                continue
            pts.append((x[i], y[i]))
            cs.append(colour[states[i]])
        dots.set_offsets(np.array(pts).reshape(-1, 2))
        dots.set_facecolors(cs)
        cp, cc, bp = [], [], []
        for x, y, call, first, second, clear, need, _ in inc:
            if call > t or (clear is not None and clear <= t):
                continue
            arrived = first is not None and first <= t
            late = (first if arrived else t) - call > line_s
            cp.append((x * q, y * q))
            cc.append("#ffb366" if arrived else ("#e31a1c" if late else "#ffd92f"))
            if need > 1 and second is not None and second <= t:
                bp.append((x * q, y * q))
        calls.set_offsets(np.array(cp).reshape(-1, 2))
        calls.set_facecolors(cc)
        backup.set_offsets(np.array(bp).reshape(-1, 2))
        clock = data["start_s"] + t
        title.set_text(f"day {int(clock // 86400)}  {int(clock % 86400 // 3600):02d}:"
                       f"{int(clock % 3600 // 60):02d}   {data['title'].split(':')[0]}")
        return dots, calls, backup, title

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.gif")
    anim = FuncAnimation(fig, frame, frames=times, blit=False)
    try:
        anim.save(tmp, writer=_octree_writer(fps), dpi=dpi)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
