"""Formatting of figures for terminal tables: by the metric's kind (``sim.metrics.METRICS``).

A share prints as a percentage (a difference of shares in percentage points), seconds
as m:ss (a difference in seconds), counts and hours as plain numbers.
"""

from __future__ import annotations

from sim import metrics


def format_table(headers: list[str], rows: list[list[str]], *, indent: str = "  ") -> str:
    """A plain text table: left-aligned text, columns separated by two spaces."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]
    lines = [indent + "  ".join(f"{h:<{w}}" for h, w in zip(headers, widths)).rstrip()]
    lines.append(indent + "  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(indent + "  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def pct_ci(m: dict | None) -> str:
    """A share's mean and 95% CI, e.g. ``91.2% [89.0, 93.1]``."""
    if not m or m.get("mean") is None:
        return "n/a"
    lo, hi = m["ci95"]
    ci = "" if lo is None else f" [{100 * lo:.1f}, {100 * hi:.1f}]"
    return f"{100 * m['mean']:.1f}%{ci}"


def mmss(x) -> str:
    if x is None:
        return "n/a"
    m, s = divmod(int(round(x)), 60)
    return f"{m}:{s:02d}"


def value(metric: str, x) -> str:
    """One value of ``metric`` as its kind is shown."""
    if x is None:
        return "n/a"
    kind = metrics.kind(metric)
    if kind == "share":
        return f"{100 * x:.1f}%"
    if kind == "seconds":
        return mmss(x)
    return f"{x:.1f}"


def with_ci(metric: str, summary: dict | None) -> str:
    """A summarised metric (``{"mean", "ci95"}``): shares with their CI, others as the mean."""
    if metrics.kind(metric) == "share":
        return pct_ci(summary)
    return value(metric, (summary or {}).get("mean"))


def difference_scale(metric: str) -> tuple[float, str, int]:
    """(scale, unit suffix, decimals) of a difference of ``metric``."""
    kind = metrics.kind(metric)
    if kind == "share":
        return 100.0, " pts", 1
    if kind == "seconds":
        return 1.0, " s", 0
    return 1.0, "", 1


def difference(metric: str, d: dict) -> str:
    """A paired difference with its 95% CI, e.g. ``+2.1 pts [+0.4, +3.8]``."""
    if d["mean"] is None:
        return "n/a"
    scale, unit, nd = difference_scale(metric)
    m = d["mean"] * scale
    lo, hi = d["ci95"]
    text = f"{m:+.{nd}f}{unit}"
    if lo is not None:
        text += f" [{lo * scale:+.{nd}f}, {hi * scale:+.{nd}f}]"
    return text
