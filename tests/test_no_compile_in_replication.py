"""No numba loop is compiled (or loaded from numba's cache) inside a replication once ``load_loops`` ran.

The speed benchmark times the first replication in a process; a loop met there for the
first time costs 5-20 ms to load and far more to compile. ``sim.experiment.replicate.load_loops``
(which ``bench/run_patrolsim.py`` calls while preparing: the engine's loops through
``sim.engine.warm.load_loops``, the tables' through ``sim.visibility_kernel.load``) loads every
loop a replication calls, for the argument types it passes. Checked in a fresh
process (loops loaded by other tests in this one would hide a miss): the signatures of
every compiled function of ``sim`` after a replication of the default town (a day, every
unit kind, the cordon measure) are those it had before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys
from sim.experiment.replicate import load_loops
from sim.experiment import prepare, run_replication
from sim.scenario_file import load_scenario

from tests.loaded_loops import signatures

sc = load_scenario(sys.argv[1], overrides=["horizon_days=1", "replications=1", "warmup_days=0"])
ctx = prepare(sc, quiet=True)
load_loops()
before = signatures()
out = run_replication(ctx, 0)
after = signatures()
print("RESULT " + json.dumps({"before": before, "after": after, "incidents": int(len(out.incidents))}))
"""


def test_a_replication_compiles_nothing_after_load_loops():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(REPO / "scenarios" / "default.yaml")],
                          capture_output=True, text=True, env=env, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    assert res["incidents"] > 100
    before, after = res["before"], res["after"]
    added = {name: sorted(set(sigs) - set(before.get(name, []))) for name, sigs in after.items()}
    added = {name: sigs for name, sigs in added.items() if sigs}
    assert not added, f"compiled or loaded inside the replication: {added}"
    # the loops the replication calls were among those loaded (the check looked at something)
    for name in ("sim.engine.kernels.nearest_unit", "sim.engine.shift_kernels.switch_circuits",
                 "sim.network.metres_jit.metres_row_in_edges", "sim.network.paths_jit.tour_from_pred",
                 "sim.network.nearest_jit.nearest_of_set", "sim.engine.cordon_kernels.cordon_from_matrix",
                 "sim.engine.cordon_kernels.cordon_of_free_units", "sim.engine.cordon_lazy.lazy_cordon",
                 "sim.visibility_kernel._both"):
        assert before.get(name), name
