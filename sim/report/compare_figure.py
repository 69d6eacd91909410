"""The figure of a paired comparison: each metric's difference from the baseline with its 95% CI.

One panel per headline metric (``sim.metrics.METRICS``), one row per compared scenario; a filled marker is a
significant difference (its interval excludes zero). Uses matplotlib's object API on
the Agg canvas, so it needs no display and changes no global matplotlib state.
"""

from __future__ import annotations

from pathlib import Path

from sim import metrics

#: How a difference of each kind of figure is drawn: scale and axis unit.
DIFFERENCE_AXES = {"share": (100.0, "percentage points"), "seconds": (1.0, "seconds"),
                   "count": (1.0, "incidents"), "hours": (1.0, "hours")}


def panels() -> list[tuple[str, str, float, str]]:
    """(metric, title, scale, unit) of each panel: the headline metrics of ``sim.metrics.METRICS``."""
    return [(m, metrics.label(m), *DIFFERENCE_AXES[metrics.kind(m)]) for m in metrics.names(view="headline")]


def write_compare_figure(comparison: dict, path: Path, *, dpi: int = 120) -> Path:
    """Draw the comparison (as returned by ``sim.experiment.compare.compare``) into ``path`` (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    base = comparison["baseline"]
    others = [s for s in comparison["scenarios"] if s != base]
    shown = [p for p in panels() if any(d["metric"] == p[0] for d in comparison["differences"])]
    height = 1.0 + len(shown) * (0.55 + 0.35 * len(others))
    fig = Figure(figsize=(7.5, height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
    for ax, (metric, title, scale, unit) in zip(axes, shown):
        rows = [d for d in comparison["differences"] if d["metric"] == metric]
        for y, lab in enumerate(others):
            d = next((r for r in rows if r["scenario"] == lab), None)
            if d is None or d["mean"] is None:
                ax.text(0, y, "n/a", va="center", ha="center", fontsize=8)
                continue
            m = d["mean"] * scale
            lo, hi = d["ci95"]
            color = {"better": "tab:green", "worse": "tab:red"}.get(d["verdict"] or "", "tab:blue")
            if lo is not None:
                ax.errorbar([m], [y], xerr=[[m - lo * scale], [hi * scale - m]], fmt="none", ecolor=color,
                            capsize=4, lw=1.5)
            ax.plot([m], [y], "o", color=color, mfc=color if d["significant"] else "white", ms=7)
        ax.axvline(0, color="0.4", lw=0.8, ls="--")
        ax.set_yticks(range(len(others)))
        ax.set_yticklabels([f"{lab} - {base}" for lab in others], fontsize=8)
        ax.set_ylim(-0.6, len(others) - 0.4)
        ax.set_title(f"{title} ({unit})", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", color="0.9")
    crn = "common random numbers" if comparison.get("common_random_numbers") else "shared seeds"
    fig.suptitle(f"Paired differences vs {base}: {comparison.get('replications', '?')} replications, {crn}, "
                 "95% CI\n(filled: significant; green: better, red: worse)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path
