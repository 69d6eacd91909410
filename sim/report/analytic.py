"""Terminal tables of the analytic models (Larson's hypercube)."""

from __future__ import annotations

#: Larger problems print their dispatch fractions only in the JSON file.
MAX_TABLE_ATOMS = 30
MAX_TABLE_UNITS = 12


def hypercube_table(result, *, problem_file: str) -> str:
    """A readable summary of a :class:`~sim.analytic.hypercube.HypercubeResult`."""
    n, j = len(result.units), len(result.atoms)
    what = "calls wait" if result.queue == "infinite" else "calls are lost"
    lines = [f"Hypercube model ({result.method}, {result.queue} queue): {problem_file}",
             f"  {n} units, {j} atoms, mean workload {float(result.workloads.mean()):.4f}", ""]
    width = max(len("unit"), *(len(u) for u in result.units))
    lines.append(f"  {'unit':<{width}}  workload")
    for u, w in zip(result.units, result.workloads):
        lines.append(f"  {u:<{width}}  {w:8.4f}")
    lines += ["",
              f"  P(all units busy at a call) = {result.p_queue:.4f}  ({what})",
              f"  cross-area dispatch fraction = {result.cross_area_fraction:.4f}"]
    if result.mean_travel_time is not None:
        lines.append(f"  mean travel time = {result.mean_travel_time:.4f}")
    lines.append("")
    if j <= MAX_TABLE_ATOMS and n <= MAX_TABLE_UNITS:
        aw = max(len("atom"), *(len(a) for a in result.atoms))
        cw = max(7, *(len(u) for u in result.units))
        lines.append("  dispatch fractions (share of all dispatches: atom row, unit column)")
        lines.append(f"  {'atom':<{aw}}  " + "  ".join(f"{u:>{cw}}" for u in result.units))
        for a, row in zip(result.atoms, result.dispatch_fractions):
            lines.append(f"  {a:<{aw}}  " + "  ".join(f"{x:>{cw}.4f}" for x in row))
    else:
        lines.append(f"  dispatch fractions: {j} atoms x {n} units, see the JSON file")
    return "\n".join(lines)
