"""The calibration figure: simulated against observed response-time quantiles, one panel per priority.

Each panel is a quantile-quantile plot on log axes (minutes): the observed quantile on x, the
simulated one on y, at the 5th, 10th, ..., 95th percentiles, for the scenario as given and as
calibrated. Points on the diagonal mean the two distributions agree; a curve below it means the
simulation answers faster than observed. Written as PNG and SVG (matplotlib's object API on the
Agg canvas, ``sim.report.figure_io``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.report.figure_io import margins, new_figure

PROBS = np.round(np.arange(0.05, 0.951, 0.05), 2)
AS_GIVEN = "#d73027"
CALIBRATED = "#1a9850"


def quantile_figure(observed: dict[int, np.ndarray], as_given: dict[int, np.ndarray],
                    calibrated: dict[int, np.ndarray], *, title: str):
    """The figure (one panel per priority in ``observed``)."""
    prios = sorted(observed)
    n = max(len(prios), 1)
    fig = new_figure(3.4 * n + 0.4, 3.9)
    margins(fig, left=0.08 if n > 1 else 0.2, right=0.98, bottom=0.2, top=0.8)
    fig.suptitle(title, fontsize=10)
    for i, p in enumerate(prios):
        ax = fig.add_subplot(1, n, i + 1)
        obs = np.quantile(observed[p], PROBS) / 60.0
        lo, hi = obs.min(), obs.max()
        for label, data, colour, marker in (("as given", as_given, AS_GIVEN, "s"),
                                            ("calibrated", calibrated, CALIBRATED, "o")):
            v = np.asarray(data.get(p, []), float)
            if v.size:
                q = np.quantile(v, PROBS) / 60.0
                ax.plot(obs, q, marker=marker, ms=3.5, lw=1, color=colour, label=label)
                lo, hi = min(lo, q.min()), max(hi, q.max())
        lo, hi = max(lo * 0.8, 0.05), hi * 1.25
        ax.plot([lo, hi], [lo, hi], color="#777777", lw=0.8, ls="--", label="simulated = observed")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_title(f"priority {p} ({observed[p].size} observed calls)", fontsize=9)
        ax.set_xlabel("observed quantile (min)", fontsize=8)
        if i == 0:
            ax.set_ylabel("simulated quantile (min)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", lw=0.3, alpha=0.6)
    if prios:
        handles, labels = fig.axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.93), ncol=3, fontsize=8,
                   frameon=False)
    return fig


def write_quantile_figure(fig, png: Path, svg: Path) -> None:
    """Write the figure as PNG and SVG, each atomically (same bytes for the same fit)."""
    import matplotlib

    from sim.outputs import atomic_write

    atomic_write(png, lambda tmp: fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None}))
    with matplotlib.rc_context({"svg.hashsalt": "calibration", "svg.fonttype": "none"}):
        atomic_write(svg, lambda tmp: fig.savefig(tmp, format="svg", metadata={"Date": None}))
