"""The tables a run prints (both lines with 95% CIs, response percentiles, utilisation; the same
at every alert level) and the progress bar. Labels and order come from ``sim.metrics.METRICS``."""

from __future__ import annotations

import sys
import time

from sim import metrics
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
    by_kind = ", ".join(f"{units[k]} {k}" + (f" ({officers[k]} officers)" if k in officers else "")
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
    out.append("")
    word = "YES" if summary["lines_hold"] else "NO"
    out.append(f"  Both lines hold at {100 * lines['target_compliance']:.0f}% compliance: {word}")
    return "\n".join(out)


class Progress:
    """A one-line progress bar on stderr (silent when stderr is not a terminal, except at the end)."""

    def __init__(self, label: str, *, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.t0 = time.perf_counter()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.t0
        width = 24
        fill = int(width * done / max(total, 1))
        line = f"  {self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total}  {elapsed:5.1f} s"
        if self.tty:
            end = "\n" if done >= total else ""
            print("\r" + line, end=end, file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)


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
    """Calls a progress bar at most every ``every_s`` seconds (and always at the start and end)."""

    def __init__(self, progress, every_s: float | None = None) -> None:
        self.progress = progress
        tty = getattr(progress, "tty", True)
        self.every_s = every_s if every_s is not None else (0.25 if tty else 10.0)
        self.last = -1e9

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 0 or done >= total or now - self.last >= self.every_s:
            self.last = now
            self.progress(done, total)
