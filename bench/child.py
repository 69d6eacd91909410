"""What the side-by-side bench scripts share: one measurement in a fresh process, on any checkout.

A script re-runs itself with ``--child`` and its arguments, with ``PYTHONPATH`` pointing
at the checkout to measure (so ``--old`` trees run this tree's script on their own code),
one thread for the numeric libraries, and the network cache of this tree; the child
prints one ``RESULT {json}`` line, which is returned. A failing child stops the script
with its error output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


def run_child(script: str | Path, args: list[str], repo: Path) -> dict:
    """Run ``script --child *args`` with ``repo``'s code; the dict of its ``RESULT`` line."""
    return run_result(script, ["--child", *args], repo)


def run_result(script: str | Path, args: list[str], repo: Path) -> dict:
    """Run ``script *args`` in a fresh process with ``repo``'s code (one thread, this tree's
    network cache); the dict of its last ``RESULT`` line. A failing run stops the caller."""
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(repo)}
    env.setdefault("PATROLSIM_CACHE_DIR", str(REPO / "networks" / "cache"))
    cmd = [sys.executable, str(script), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd[1:])} in {repo.name} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def default_town(days: float, overrides: list[str] = ()):
    """In a child: the default town prepared for ``days`` (one replication, ``overrides`` on top)
    and replication 0's seed and incidents: ``(ctx, rep, incidents)``."""
    from sim.demand import sample_incidents
    from sim.experiment import prepare
    from sim.scenario_file import load_scenario
    from sim.streams import replication_seed

    sc = load_scenario(REPO / "scenarios" / "default.yaml",
                       overrides=[f"horizon_days={days:g}", "replications=1", *overrides])
    ctx = prepare(sc, quiet=True)
    rep = replication_seed(sc.seed, 0)
    return ctx, rep, sample_incidents(ctx.demand, rep, horizon_s=ctx.horizon_s)
