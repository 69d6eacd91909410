"""pyarrow's memory pool: the system allocator once the tables' module is imported, unless the user named one.

``sim.arrow_pool`` says why (mimalloc's first allocations in a process holding a large world). Each
case runs in a fresh interpreter: the pool is a process-wide setting.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROBE = "import sim.metrics, pyarrow as pa; print(pa.default_memory_pool().backend_name)"


def _pool_after_import(env_pool: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    env["PYTHONPATH"] = str(REPO)
    if env_pool is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_pool
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=str(REPO))
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_the_tables_module_makes_the_system_allocator_the_pool():
    assert _pool_after_import(None) == "system"


def test_a_pool_the_user_named_is_kept():
    import pyarrow as pa
    try:
        pa.mimalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no mimalloc pool to name")
    assert _pool_after_import("mimalloc") == "mimalloc"
