"""Shared parts of the compare, sweep and hold reports: memo figures and the atomic page write.

Each experiment report is one offline ``report.html`` (``sim.report.html_page``) plus every
figure as a PNG (for a memo or slides) and an SVG (for print), written beside it in the
results folder. Figures are saved once and the page inlines the same SVG, so what a memo
shows is exactly what the page shows.
"""

from __future__ import annotations

from pathlib import Path

from sim.report import html_page
from sim.report.figure_io import png_bytes, svg_text

REPORT_NAME = "report.html"


class Written:
    """The files a report wrote into its folder (names relative to it), in order."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.names: list[str] = []

    def figure(self, fig, stem: str, caption: str) -> str:
        """Save ``fig`` as ``stem.png`` and ``stem.svg`` in the folder; return its HTML figure (inline SVG)."""
        from sim.outputs import atomic_write

        png = png_bytes(fig, dpi=120)
        atomic_write(self.folder / f"{stem}.png", lambda tmp: Path(tmp).write_bytes(png))
        svg = svg_text(fig, stem)
        atomic_write(self.folder / f"{stem}.svg",
                     lambda tmp: Path(tmp).write_text('<?xml version="1.0" encoding="utf-8"?>\n' + svg,
                                                      encoding="utf-8"))
        self.names += [f"{stem}.png", f"{stem}.svg"]
        files = (f'<p class="note">Also saved for a memo as {html_page.esc(stem)}.png and '
                 f'{html_page.esc(stem)}.svg in this folder.</p>')
        return html_page.figure(svg=svg, caption=caption, id_=f"fig-{stem}") + files

    def text(self, name: str, text: str) -> None:
        from sim.outputs import atomic_write_text

        atomic_write_text(self.folder / name, text)
        self.names.append(name)

    def page(self, text: str) -> Path:
        """Write report.html last and record every written file in the folder's marker."""
        from sim.outputs import adopt, atomic_write_text

        path = atomic_write_text(self.folder / REPORT_NAME, text)
        self.names.append(REPORT_NAME)
        adopt(self.folder, *self.names)  # a folder without a marker yet (inside a temporary folder) is left alone
        return path


def version() -> str:
    from sim import __version__

    return __version__


def footer(command: str) -> str:
    return (f"Written by patrolsim {html_page.esc(version())} from the files of this `patrolsim {command}` "
            "folder. Numbers are means over replications with 95% Student-t confidence intervals.")


def ci_errors(means: list, cis: list, scale: float = 1.0):
    """Lower and upper error-bar lengths (0 where a CI is missing) for matplotlib's ``yerr``/``xerr``."""
    lo, hi = [], []
    for m, ci in zip(means, cis):
        if m is None or not ci or ci[0] is None:
            lo.append(0.0)
            hi.append(0.0)
        else:
            lo.append(max(0.0, (m - ci[0]) * scale))
            hi.append(max(0.0, (ci[1] - m) * scale))
    return [lo, hi]
