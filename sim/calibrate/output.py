"""What ``calibrate`` writes: the calibrated scenario, the fit JSON and the quantile figure.

For ``--out NAME.yaml`` the files are ``NAME.yaml`` (a scenario variant: ``base:`` the input
scenario, relative to the output's folder, plus the fitted keys; a header comment says what
was fitted on which file, the goodness of fit per priority and the intervals),
``NAME.fit.json`` (everything: observed and simulated quantiles per trial, the search, the
intervals) and ``NAME.quantiles.png`` / ``.svg`` (``sim.report.calibration_figure``).

Safety (docs/guide.md, "Output folders are safe"): every path is checked before any
simulation; an existing file is replaced only when the fit JSON beside it says patrolsim
calibrate wrote it (it lists its files) or with ``--overwrite``; each file is written to a
temporary file and renamed into place, all files only once the fit is complete, so an error
or Ctrl-C leaves nothing half-written. The YAML is written as text (numbers and quoted
strings), so this module needs no yaml library.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sim.output_checks import OutputError, check_file

MARK = "patrolsim_calibrate"


def output_paths(out: Path) -> dict[str, Path]:
    out = Path(out)
    stem = out.name[:-len(out.suffix)] if out.suffix else out.name
    return {"scenario": out, "fit": out.with_name(stem + ".fit.json"),
            "png": out.with_name(stem + ".quantiles.png"), "svg": out.with_name(stem + ".quantiles.svg")}


def _ours(paths: dict[str, Path]) -> set[str]:
    """Names of the files an earlier calibrate wrote here (listed in its fit JSON)."""
    try:
        data = json.loads(paths["fit"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict) or MARK not in data:
        return set()
    return {str(n) for n in data.get("files") or []}


def check_outputs(out: Path, *, overwrite: bool) -> dict[str, Path]:
    """The output paths, after refusing any that would destroy a file patrolsim did not write."""
    out = Path(out)
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise OutputError("the calibrated scenario must be a .yaml file", file=str(out), key="--out",
                          fix="give a name ending in .yaml, e.g. --out scenarios/my_calibrated.yaml")
    paths = output_paths(out)
    ours = _ours(paths)
    for p in paths.values():
        check_file(p)
        if p.exists() and not overwrite and p.name not in ours:
            raise OutputError("exists and patrolsim calibrate did not write it", file=str(p), key="--out",
                              fix="give another --out name, move the file away, or add --overwrite to replace it")
    return paths


def _scalar(v) -> str:
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, int) else f"{v:.6g}"
    return json.dumps(str(v), ensure_ascii=False)


def _nested(values: dict[str, float]) -> dict:
    out: dict = {}
    for key, v in values.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return out


def _yaml_lines(d: dict, indent: int = 0) -> list[str]:
    lines = []
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(" " * indent + f"{k}:")
            lines += _yaml_lines(v, indent + 2)
        else:
            lines.append(" " * indent + f"{k}: {_scalar(v)}")
    return lines


def round_sig(x: float, digits: int = 4) -> float:
    """``x`` to ``digits`` significant digits (the values written into the scenario)."""
    return float(f"{x:.{digits}g}")


def scenario_text(*, base: Path, out: Path, name: str, description: str, values: dict[str, float],
                  header: list[str]) -> str:
    """The calibrated scenario: a variant of ``base`` that sets ``values``."""
    rel = os.path.relpath(os.path.abspath(base), os.path.abspath(Path(out).parent))
    body = {"base": rel.replace(os.sep, "/"), "name": name, "description": description, **_nested(values)}
    return "\n".join(["# " + h if h else "#" for h in header] + _yaml_lines(body)) + "\n"


def header_lines(result) -> list[str]:
    """The header comment: what was fitted on which file, the fit per priority, the intervals."""
    obs = result.observed
    lines = [f"Written by patrolsim calibrate from {Path(result.scenario_file).name}: do not edit the fitted keys "
             "by hand, calibrate again.",
             f"Observed: {Path(obs.file).name} ({obs.layout}), {obs.calls} calls used of {obs.rows_read} rows; "
             f"start point: {obs.summary()['start_point']}.",
             f"Simulated: {result.replications} replications x {result.days:g} days, seed {result.seed}, "
             f"{len(result.trials)} trial points (same seeds at every point).",
             "Fitted (95% interval, bootstrap of observed calls and replications on a quadratic surrogate):"]
    for key, v in result.values.items():
        iv = result.intervals["keys"][key]
        edge = "; reaches the searched range's end" if iv["at_range_end"] else ""
        lines.append(f"  {key} = {v:.4g} [{iv['low']:.4g}, {iv['high']:.4g}]{edge}")
    lines.append("Goodness of fit per priority (median simulated vs observed; mean |log quantile difference|; KS):")
    for p, g in result.gof.items():
        sim_med = g.get("simulated_quantiles_s", [float("nan")] * 5)[2]
        lines.append(f"  P{p}: {sim_med / 60:.1f} vs {g['observed_quantiles_s'][2] / 60:.1f} min; "
                     f"distance {g['log_quantile_distance']:.3f}; KS {g.get('ks_statistic', float('nan')):.3f} "
                     f"(p {g.get('ks_pvalue', float('nan')):.2g}); {g['observed_calls']} observed calls")
    for p, why in result.skipped.items():
        lines.append(f"  P{p}: not fitted ({why})")
    lines.append("See docs/calibration.md for the method and its caveats.")
    return lines
