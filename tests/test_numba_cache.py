"""numba's cache is kept per version of the compiled modules' sources (``sim.numba_cache``).

numba checks only a cached function's own module file, so a compiled loop calling another module's
loop kept the old callee after that module alone changed (seen while developing: a benchmark measured
a walk whose callee had been edited, unchanged). These tests check that the list of compiled modules
is complete, that the digest follows their bytes, and, in fresh interpreters, where numba is pointed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sim import numba_cache as NC

REPO = Path(__file__).resolve().parents[1]


def test_every_module_that_compiles_is_listed():
    found = {str(p.relative_to(NC.PACKAGE)) for p in NC.PACKAGE.rglob("*.py")
             if "from numba import" in p.read_text(encoding="utf-8") or "import numba\n" in p.read_text(encoding="utf-8")}
    assert found == set(NC.COMPILED_MODULES)


def test_the_digest_follows_the_sources(tmp_path):
    for rel in NC.COMPILED_MODULES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(NC.PACKAGE / rel, tmp_path / rel)
    same = NC.sources_digest(tmp_path)
    assert same == NC.sources_digest(NC.PACKAGE) and len(same) == 16
    callee = tmp_path / "network" / "hub_labels.py"
    callee.write_bytes(callee.read_bytes() + b"\n# an edit\n")
    assert NC.sources_digest(tmp_path) != same


def _cache_dir_in_child(env: dict, code: str = "import sim, numba; print(numba.core.config.CACHE_DIR)") -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")} | env
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(REPO))
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_numba_is_pointed_at_the_folder_of_these_sources(tmp_path):
    digest = NC.PREFIX + NC.sources_digest()
    assert _cache_dir_in_child({"XDG_CACHE_HOME": str(tmp_path)}) == str(tmp_path / "patrolsim" / "numba" / digest)
    # numba imported first: its settings already read, and changed all the same
    assert _cache_dir_in_child({"XDG_CACHE_HOME": str(tmp_path)},
                               "import numba, sim; print(numba.core.config.CACHE_DIR)") \
        == str(tmp_path / "patrolsim" / "numba" / digest)
    # a folder the user chose for numba holds the digest folders; a parent patrolsim's folder is replaced
    chosen = tmp_path / "mine"
    assert _cache_dir_in_child({"NUMBA_CACHE_DIR": str(chosen)}) == str(chosen / digest)
    assert _cache_dir_in_child({"NUMBA_CACHE_DIR": str(chosen / (NC.PREFIX + "0123456789abcdef"))}) \
        == str(chosen / digest)


def test_an_unwritable_folder_leaves_numbas_own_cache(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"NUMBA_CACHE_DIR": str(blocker / "below")}
    assert NC.prepare_folder(env) is None and env["NUMBA_CACHE_DIR"] == str(blocker / "below")


def test_old_digest_folders_are_pruned(tmp_path):
    base = tmp_path / "base"
    for k in range(7):
        old = base / f"{NC.PREFIX}{k:016x}"
        old.mkdir(parents=True)
        os.utime(old, (1_000_000 + k, 1_000_000 + k))
    env = {"NUMBA_CACHE_DIR": str(base)}
    folder = NC.prepare_folder(env)
    assert folder == base / (NC.PREFIX + NC.sources_digest()) and env["NUMBA_CACHE_DIR"] == str(folder)
    kept = sorted(p.name for p in base.iterdir())
    # the current folder and the KEEP - 1 most recent others
    assert kept == sorted([folder.name] + [f"{NC.PREFIX}{k:016x}" for k in range(7 - (NC.KEEP - 1), 7)])
