"""How long ``report.html`` takes beyond the run: the default scenario, run then reported.

Runs ``patrolsim run`` on the embedded default scenario (as a user would, in this
process), then ``write_run_report`` on its folder, several times, and prints the wall
and CPU seconds of each step (median, min, max). The report step is what ``patrolsim
run --report`` adds to a run; the issue asks for under 5 s.

    python bench/report_speed.py              # 3 rounds
    python bench/report_speed.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from sim.cli import main as cli
    from sim.report.run_report import write_run_report

    rows = {"run": [], "report": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            out = Path(tmp) / f"default-{i}"
            _, w, c = timed(lambda: cli(["run", "--out", str(out), "--quiet"]))
            rows["run"].append((w, c))
            path, w, c = timed(lambda: write_run_report(out))
            rows["report"].append((w, c))
            print(f"round {i + 1}: run {rows['run'][-1][0]:.2f} s wall; report {w:.2f} s wall, {c:.2f} s CPU, "
                  f"{path.stat().st_size / 1e6:.2f} MB", flush=True)
    print("\nstep     wall median (min-max)      CPU median (min-max)")
    for step, vals in rows.items():
        wall, cpu = [v[0] for v in vals], [v[1] for v in vals]
        print(f"{step:<8} {statistics.median(wall):6.2f} s ({min(wall):.2f}-{max(wall):.2f})   "
              f"{statistics.median(cpu):6.2f} s ({min(cpu):.2f}-{max(cpu):.2f})")
    print("(the first round's report includes importing matplotlib; later rounds show the steady cost)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
