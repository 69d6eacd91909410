"""No numba loop is loaded inside a replication on the kernel backend (graphs without a time matrix).

``tests/test_no_compile_in_replication.py`` checks the default town (full time matrices); here the
same check on a town whose graphs are all on the kernel backend (the all-pairs limit set to 0 in
the child), every unit kind, the compiled walks of large graphs loaded as ``bench/scale.py`` loads
them: a loop met for the first time inside the replication costs 5-20 ms there (the read-only paths
the dispatch walk once handed over were such a loop).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys
from sim.network import travel as travel_mod
travel_mod.FULL_MATRIX_MAX_NODES = 0
from sim.experiment.replicate import load_loops
from sim.experiment import prepare, run_replication
from sim.scenario import scenario_from_dict
from sim.engine import best_first_jit, cordon_jit, walk_handle

from tests.loaded_loops import signatures

sc = scenario_from_dict({
    "name": "kernel-town", "seed": 5, "horizon_days": 1.5, "warmup_days": 0, "replications": 1,
    "network": {"synthetic": {"seed": 7, "area_km2": 6.0, "population": 60000, "block_m": 150,
                              "arterial_every": 6, "stations": 2, "exits": 4}},
    "demand": {"incidents_per_day": 250, "spatial": "population"},
    "force": {"total_officers": 80, "crew": {"car": 2, "bicycle": 1, "foot": 2, "motorbike": 1},
              "mix": {"car": 0.4, "bicycle": 0.2, "foot": 0.2, "motorbike": 0.2}},
    "alert": {"level": "orange"}})
ctx = prepare(sc, quiet=True)
load_loops()
best_first_jit.warm()
walk_handle.warm()
cordon_jit.warm()
kernels = [mt.oracle._kernel for mt in ctx.travel.values()]
before = signatures()
out = run_replication(ctx, 0)
after = signatures()
print("RESULT " + json.dumps({"before": before, "after": after, "incidents": int(len(out.incidents)),
                              "kernel": all(k is not None for k in kernels),
                              "walk_searches": sum(k.paths_read for k in kernels if k is not None)}))
"""


def test_a_kernel_backend_replication_loads_nothing_after_the_warm_ups():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    res = json.loads(line[len("RESULT "):])
    assert res["kernel"] and res["incidents"] > 100 and res["walk_searches"] > 100
    before, after = res["before"], res["after"]
    added = {name: sorted(set(sigs) - set(before.get(name, []))) for name, sigs in after.items()}
    added = {name: sigs for name, sigs in added.items() if sigs}
    assert not added, f"compiled or loaded inside the replication: {added}"
    for name in ("sim.engine.walk_handle.search", "sim.engine.cordon_jit.cordon_walk",
                 "sim.engine.cordon_jit.cordon_prep_walk",
                 "sim.network.hub_labels.seconds_metres", "sim.network.hub_labels.seconds_of_pairs",
                 "sim.network.nearest_jit.nearest_one", "sim.network.label_paths.label_path",
                 "sim.network.label_paths.tour_by_labels", "sim.engine.join_drive.join",
                 "sim.engine.join_drive._make"):
        assert before.get(name), name
