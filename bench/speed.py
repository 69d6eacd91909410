"""Speed benchmark: patrolsim against a straightforward SimPy + networkx baseline, side by side.

    python bench/speed.py                      # 5 pairs of 30-day runs, then 3 one-year runs
    python bench/speed.py --pairs 3 --year-reps 0

Every run is a separate Python process (``bench/baseline_networkx.py`` and
``bench/run_patrolsim.py``), started in alternation (baseline, patrolsim,
baseline, patrolsim, ...) so that load from other work on the machine falls on
both sides alike. For each run it records

* ``replication``: the replication inside the process (sampling the incidents,
  simulating, computing the metrics), wall and CPU time, timed by the child;
* ``process``: the whole process's wall time (interpreter start, imports,
  loading the cached network, the replication), timed here;
* ``cpu``: user + system CPU seconds of the process, and its peak RSS
  (both from ``os.wait4``).

It prints median / min / max of each, the baseline/patrolsim ratio of each pair
and its median, then the same figures for one simulated year of patrolsim.
Numerical libraries are limited to one thread, so every run uses one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run_patrolsim as common  # noqa: E402

SCRIPTS = {"baseline": HERE / "baseline_networkx.py", "patrolsim": HERE / "run_patrolsim.py"}
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


def run_child(impl: str, days: float, osm: Path) -> dict:
    """Run one benchmark process; its RESULT line plus wall time, CPU time and peak RSS."""
    env = {**os.environ, **ONE_THREAD}
    cmd = [sys.executable, str(SCRIPTS[impl]), "--days", f"{days:g}", "--osm", str(osm)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd[1:])} failed (exit {proc.returncode}):\n{err}{out}")
    line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    res["process_s"] = wall
    res["cpu_s"] = usage.ru_utime + usage.ru_stime
    res["peak_rss_mb"] = usage.ru_maxrss / 1024.0
    return res


def spread(values) -> str:
    return f"{statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}"


def describe(runs: list[dict], label: str) -> None:
    print(f"  {label:<24} {'median':>8} {'min':>8} {'max':>8}")
    for key, name in (("run_s", "replication wall (s)"), ("run_cpu_s", "replication CPU (s)"),
                      ("process_s", "process wall (s)"), ("cpu_s", "process CPU (s)"),
                      ("peak_rss_mb", "peak RSS (MB)")):
        print(f"    {name:<22} {spread([r[key] for r in runs])}")


def machine() -> str:
    import networkx
    import numpy
    import scipy
    import simpy

    return (f"{platform.machine()} {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, "
            f"simpy {simpy.__version__}, networkx {networkx.__version__}")


def revision() -> str:
    """The repository's commit, and whether sim/ differs from it (read-only git queries)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim"], cwd=HERE.parent, text=True,
                               capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return f"commit {head}" + (" with uncommitted changes in sim/" if dirty else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0, help="simulated days of each paired run (30)")
    ap.add_argument("--pairs", type=int, default=5, help="baseline/patrolsim pairs (5)")
    ap.add_argument("--year-reps", type=int, default=3, help="one-year patrolsim runs (3; 0 skips)")
    ap.add_argument("--year-days", type=float, default=365.0, help="length of the 'year' runs (365)")
    ap.add_argument("--osm", default=None, help=f"OSM extract (default {common.DEFAULT_OSM}, "
                    "relative to the repository root)")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write every run's figures here")
    args = ap.parse_args(argv)
    osm = common.osm_path(args.osm)

    print(f"speed benchmark, {dt.date.today().isoformat()}, {revision()}")
    print(f"machine: {machine()}")
    print(f"work: {common.CARS} cars, {common.INCIDENTS_PER_DAY} incidents/day, {args.days:g} days, "
          f"{osm.name}")
    print("warm-up (fills the network cache if needed; not timed) ...", flush=True)
    run_child("patrolsim", 1, osm)

    pairs = []
    for k in range(args.pairs):
        pair = {impl: run_child(impl, args.days, osm) for impl in ("baseline", "patrolsim")}
        b, p = pair["baseline"], pair["patrolsim"]
        print(f"  pair {k + 1}: replication baseline {b['run_s']:.2f} s, patrolsim {p['run_s']:.2f} s, "
              f"ratio {b['run_s'] / p['run_s']:.1f}x (CPU {b['run_cpu_s'] / p['run_cpu_s']:.1f}x); "
              f"process {b['process_s']:.2f} s / {p['process_s']:.2f} s = "
              f"{b['process_s'] / p['process_s']:.1f}x", flush=True)
        pairs.append(pair)

    year = []
    for k in range(args.year_reps):
        r = run_child("patrolsim", args.year_days, osm)
        print(f"  year run {k + 1}: replication {r['run_s']:.2f} s (CPU {r['run_cpu_s']:.2f} s), "
              f"process {r['process_s']:.2f} s, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
        year.append(r)

    print()
    if pairs:
        base = [p["baseline"] for p in pairs]
        pats = [p["patrolsim"] for p in pairs]
        print(f"{args.days:g} simulated days, {base[0]['incidents']} incidents, {len(pairs)} pairs")
        describe(base, "baseline (SimPy+networkx)")
        describe(pats, "patrolsim")
        for key, name in (("run_s", "replication wall"), ("run_cpu_s", "replication CPU"),
                          ("process_s", "process wall"), ("cpu_s", "process CPU")):
            ratios = [p["baseline"][key] / p["patrolsim"][key] for p in pairs]
            print(f"  speed-up, {name:<16} median {statistics.median(ratios):5.1f}x  "
                  f"(pairs: {', '.join(f'{x:.1f}' for x in ratios)})")
        rb, rp = base[0]["response_within_line"], pats[0]["response_within_line"]
        print(f"  response within line: baseline {rb:.4f}, patrolsim {rp:.4f} "
              f"(difference {100 * (rb - rp):+.2f} points); backup within line: baseline "
              f"{base[0]['backup_within_line']:.4f}, patrolsim {pats[0]['backup_within_line']:.4f}")
        print(f"  response p50 / p90: baseline {base[0]['response_time_p50_s']:.0f} / "
              f"{base[0]['response_time_p90_s']:.0f} s, patrolsim {pats[0]['response_time_p50_s']:.0f} / "
              f"{pats[0]['response_time_p90_s']:.0f} s")
    if year:
        print(f"patrolsim, {args.year_days:g} simulated days, {year[0]['incidents']} incidents, "
              f"{len(year)} runs")
        describe(year, "patrolsim")
    if args.json:
        record = {"date": dt.date.today().isoformat(), "revision": revision(), "machine": machine(),
                  "pairs": pairs, "year": year}
        Path(args.json).write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
