"""The tables a run prints (both lines with 95% CIs, response percentiles, utilisation; the same
at every alert level) and the progress bar. Labels and order come from ``sim.metrics.METRICS``."""

from __future__ import annotations

import sys
import time

from sim import interrupts, metrics
from sim.kinds import KIND_NAMES


def _pct(x) -> str:
    return "   n/a" if x is None else f"{100 * x:5.1f}%"


def _ci_pct(ci) -> str:
    lo, hi = ci
    return "" if lo is None else f"[{100 * lo:5.1f}%, {100 * hi:5.1f}%]"


def _mmss(x) -> str:
    if x is None:
        return "  n/a"
    m, s = divmod(int(round(x)), 60)
    return f"{m:2d}:{s:02d}"


def _ci_mmss(ci) -> str:
    lo, hi = ci
    return "" if lo is None else f"[{_mmss(lo).strip()}, {_mmss(hi).strip()}]"


def run_label(metric: str, lines: dict, *, first_time: bool = False) -> str:
    """The run table's label of a headline metric: a line names its threshold ("within 300 s
    (5 min)"); the first time metric says its format."""
    spec = metrics.BY_NAME[metric]
    text = spec.label
    if spec.line:
        s = lines[f"{spec.line}_s"]
        text = text.replace(f"{spec.line} line", f"{s:.0f} s ({s / 60:g} min)")
    if first_time:
        text += " (m:ss)"
    return text


def metrics_rows(m: dict, lines: dict) -> list[tuple[str, str, str, str]]:
    """(label, mean, 95% CI, verdict) of every headline metric, in the metric table's order."""
    target = lines["target_compliance"]

    def verdict(key):
        v = m.get(key, {}).get("mean")
        if v is None:
            return "no such incidents"
        lo, hi = m[key]["ci95"]
        word = "holds" if v >= target else "FAILS"
        if lo is not None and lo < target <= hi:
            word += " (CI crosses target)"
        return word

    rows, seen_time = [], False
    for name in metrics.names(view="headline"):
        spec = metrics.BY_NAME[name]
        first_time = spec.kind == "seconds" and not seen_time
        seen_time = seen_time or spec.kind == "seconds"
        mean, ci = m[name]["mean"], m[name]["ci95"]
        if spec.kind == "seconds":
            shown, interval = _mmss(mean), _ci_mmss(ci)
        else:
            shown, interval = _pct(mean), _ci_pct(ci)
        rows.append((run_label(name, lines, first_time=first_time), shown, interval,
                     verdict(name) if spec.line else ""))
    return rows


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def force_lines(dep: dict) -> list[str]:
    """The header's force lines from summary.json's ``force`` block: officers on duty, then where
    they are, each with the units that hold them (every kind the registry knows and the run has;
    the units' officers add up to the officers on duty)."""
    units = dep["patrol_units"]
    officers = dep.get("patrol_unit_officers", {})
    kinds = [k for k in units if units[k]]
    by_kind = ", ".join(f"{units[k]} {k}" + (f" ({_plural(officers[k], 'officer')})" if k in officers else "")
                        for k in kinds)
    n_units = sum(units[k] for k in kinds)
    out = [f"  force: {dep['on_duty_officers']} of {dep['total_officers']} officers on duty this shift"]
    out.append(f"    on patrol:   {dep['patrol_officers']:>4} officers in {_plural(n_units, 'unit')}"
               + (f": {by_kind}" if by_kind else ""))
    out.append(f"    on standby:  {dep['standby_officers']:>4} officers in {_plural(dep['standby_units'], 'unit')} "
               f"at stations")
    if dep.get("checkpoint_officers"):
        out.append(f"    checkpoints: {dep['checkpoint_officers']:>4} officers at "
                   f"{_plural(dep.get('checkpoint_units', 0), 'post')}")
    return out


def summary_table(summary: dict) -> str:
    lines = summary["lines"]
    out = []
    dep = summary["force"]
    out.append(f"{summary['scenario']}: {summary['replications']} replication(s) x "
               f"{summary['horizon_days']:g} days (warm-up {summary['warmup_days']:g}), seed {summary['seed']}, "
               f"alert level {summary['alert_level']}")
    net = summary["network"]
    out.append(f"  network: {net['name']}, {net['places']} places, {net['street_km']:.0f} km of streets, "
               f"{net['stations']} stations")
    out.extend(force_lines(dep))
    out.append(f"  incidents: {summary['incidents_per_replication']:.0f} per replication after warm-up")
    out.append("")
    rows = metrics_rows(summary["metrics"], lines)
    w = max(len(r[0]) for r in rows)
    out.append(f"  {'':{w}}  {'mean':>7}  {'95% CI':<18}")
    for name, mean, ci, verdict in rows:
        out.append(f"  {name:<{w}}  {mean:>7}  {ci:<18}  {verdict}".rstrip())
    block = priorities_block(summary)
    if block:
        out.append("")
        out.extend(block)
    out.append("")
    word = "YES" if summary["lines_hold"] else "NO"
    only = lines.get("priorities")
    which = "" if only is None else f" (priorities {', '.join(str(p) for p in only)})"
    out.append(f"  Both lines hold at {100 * lines['target_compliance']:.0f}% compliance{which}: {word}")
    return "\n".join(out)


def priorities_block(summary: dict) -> list[str]:
    """Per priority: incidents, both lines, median and p90 response; shown when there are several.

    Priorities the lines do not apply to (``lines.priorities``) are marked: reported, not counted.
    """
    by = summary.get("by_priority") or {}
    if len(by) < 2:
        return []
    lines = summary["lines"]
    r_min, b_min = lines["response_s"] / 60, lines["backup_s"] / 60
    out = ["  By priority:",
           f"    {'priority':<8} {'incidents':>9}  {f'{r_min:g}-min line':>12}  {f'{b_min:g}-min line':>12}  "
           f"{'p50':>6}  {'p90':>6}"]
    for p, m in by.items():
        r, b = m[metrics.RESPONSE_LINE]["mean"], m[metrics.BACKUP_LINE]["mean"]
        note = "" if m.get("counted_in_lines", True) else "  (not counted in the lines)"
        out.append(f"    {p:<8} {m['incidents']['mean']:>9.0f}  {_pct(r):>12}  {_pct(b):>12}  "
                   f"{_mmss(m['response_time_p50_s']['mean']):>6}  {_mmss(m['response_time_p90_s']['mean']):>6}{note}")
    return out


def clock(seconds: float) -> str:
    """A duration as m:ss (h:mm:ss from an hour)."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def progress_line(label: str, done: float, total: int, elapsed_s: float, *, at_most: bool = False) -> str:
    """``replications 3/10  0:42 elapsed, about 1:38 left``: items done of total, elapsed and the time
    left at the pace so far. ``at_most``: the total is an upper bound (``hold`` stops probing early),
    so the time left is one too ("up to about"). ``done`` may count the item under way by the share
    of it done (2.4: two replications and 40% of the simulated time of the third): the count shows
    the whole items, the bar and the time left use the share, so a long single replication shows
    its time left too."""
    width = 20
    fill = min(width, int(width * done / max(total, 1)))
    of = f"{int(done)}/{'at most ' if at_most else ''}{total}"
    if done >= total:
        left = "done"
    elif done <= 0:
        left = "time left not known yet"
    else:
        word = "up to about" if at_most else "about"
        left = f"{word} {clock(elapsed_s / done * (total - done))} left"
    return f"  {label} [{'#' * fill}{'.' * (width - fill)}] {of}  {clock(elapsed_s)} elapsed, {left}"


class Progress:
    """One progress line on stderr, redrawn in place: items done of total, elapsed, time left.

    Every long command shows one (run, compare, sweep, hold, fit, the network build, analytic
    hypercube --simulate); the code doing the work only calls it back with ``(done, total)`` and never
    prints. Silent with ``quiet`` and whenever the stream is not a terminal (a log file or a pipe
    gets no progress lines). Redrawn at most every ``every_s`` seconds, always at the start and end.
    ``at_most``: the total is an upper bound (see ``progress_line``); call ``finish()`` when the work
    ends early, to close the line.
    """

    def __init__(self, label: str, *, stream=None, quiet: bool = False, at_most: bool = False,
                 every_s: float = 0.25) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", None) and self.stream.isatty())
        self.enabled = self.tty and not quiet
        self.at_most = at_most
        self.every_s = every_s
        self.last = -1e9
        self.state = (0, 0)
        self.open = False

    def __call__(self, done: float, total: int) -> None:
        interrupts.raise_if_asked()  # a Ctrl-C or SIGTERM whose exception was lost on the way
        self.state = (done, total)
        if not self.enabled:
            return
        now = time.perf_counter()
        final = done >= total
        if not (done == 0 or final or now - self.last >= self.every_s):
            return
        self.last = now
        line = progress_line(self.label, done, total, now - self.t0, at_most=self.at_most and not final)
        # \r back to the line's start, \x1b[K clears what a longer previous line left
        print("\r" + line + "\x1b[K", end="\n" if final else "", file=self.stream, flush=True)
        self.open = not final

    def finish(self) -> None:
        """Close the line when the work ended before ``total`` (an upper bound)."""
        if self.enabled and self.open:
            done = int(self.state[0])
            line = progress_line(self.label, done, done, time.perf_counter() - self.t0)
            print("\r" + line + "\x1b[K", file=self.stream, flush=True)
            self.open = False


def levels_table(summary: dict) -> str:
    """At each alert level: officers on patrol, units, both lines with CIs, p90, and whether they hold."""
    lines = summary["lines"]
    r_min, b_min = lines["response_s"] / 60, lines["backup_s"] / 60
    levels = summary["by_alert_level"]
    # the kinds any level has units of, in registry order (sim.kinds via the force block)
    kinds = [k for k in KIND_NAMES if any(m.get("force", {}).get("patrol_units", {}).get(k) for m in levels.values())]
    kinds = kinds or ["car"]
    title = "/".join(kinds) + " units"
    uw = max(len(title), 13)
    head = (f"  {'level':<7} {'on patrol':>9}  {title:>{uw}}  {f'{r_min:g}-min line':>22}  "
            f"{f'{b_min:g}-min line':>22}  {'p90':>5}  holds")
    out = [f"At each alert level (target {100 * lines['target_compliance']:.0f}% of incidents):", head]
    for level, m in levels.items():
        f = m.get("force", {})
        pu = f.get("patrol_units", {})
        units = "/".join(str(pu.get(k, 0)) for k in kinds)
        r, b = m[metrics.RESPONSE_LINE], m[metrics.BACKUP_LINE]
        rtxt = f"{_pct(r['mean'])} {_ci_pct(r['ci95'])}"
        btxt = f"{_pct(b['mean'])} {_ci_pct(b['ci95'])}"
        out.append(f"  {level:<7} {f.get('patrol_officers', ''):>9}  {units:>{uw}}  {rtxt:>22}  {btxt:>22}  "
                   f"{_mmss(m['response_time_p90_s']['mean']):>5}  {'YES' if m['lines_hold'] else 'no'}")
    return "\n".join(out)


class Throttled:
    """A progress callback called at most every ``every_s`` seconds (and always at the start and
    end). ``Progress`` throttles itself; this wraps any other callback the same way."""

    def __init__(self, progress, every_s: float | None = None) -> None:
        self.progress = progress
        self.every_s = every_s if every_s is not None else 0.25
        self.last = -1e9

    def __call__(self, done: float, total: int) -> None:
        interrupts.raise_if_asked()  # as in Progress: a stop asked for is acted on here
        now = time.perf_counter()
        if done == 0 or done >= total or now - self.last >= self.every_s:
            self.last = now
            self.progress(done, total)
