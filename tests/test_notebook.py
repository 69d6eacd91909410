"""docs/teaching.ipynb is executed cell by cell in a real Jupyter kernel (nbclient), as a class would run it.

The notebook reads its run length from PATROLSIM_TEACHING_DAYS and PATROLSIM_TEACHING_REPLICATIONS,
so the test runs the same cells on short runs. It must finish without an error, show the maps and the
compliance-by-level figure as PNGs, and print a verdict for every alert level.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "docs" / "teaching.ipynb"


@pytest.fixture(scope="module")
def executed():
    import nbformat  # the dev extra (pip install -e .[dev])
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_before = {k: os.environ.get(k) for k in ("PATROLSIM_TEACHING_DAYS", "PATROLSIM_TEACHING_REPLICATIONS",
                                                  "PYTHONPATH")}
    os.environ["PATROLSIM_TEACHING_DAYS"] = "0.5"
    os.environ["PATROLSIM_TEACHING_REPLICATIONS"] = "2"
    os.environ["PYTHONPATH"] = str(REPO) + (os.pathsep + env_before["PYTHONPATH"] if env_before["PYTHONPATH"] else "")
    try:  # the kernel inherits this environment; it runs in docs/, as when a student opens the notebook there
        NotebookClient(nb, timeout=240, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        for k, v in env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def _text(nb) -> str:
    parts = []
    for out in _outputs(nb):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts.append(data.get("text/plain", ""))
        parts.append(data.get("text/html", ""))
    return "\n".join(parts)


def test_every_cell_ran_without_an_error(executed):
    assert not [o for o in _outputs(executed) if o.get("output_type") == "error"]
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)


def test_the_class_sees_the_summary_maps_and_a_verdict_per_level(executed):
    text = _text(executed)
    assert "0.5 simulated day(s) per run, 2 replication(s) per alert level" in text
    assert "First unit within response line" in text and "Backup within backup line" in text
    for level in ("green", "yellow", "orange", "red"):
        assert f"at the {level} level (" in text and "both lines" in text
    pngs = [o for o in _outputs(executed) if "image/png" in o.get("data", {})]
    assert len(pngs) >= 3  # the beats map, the incidents map, compliance by level
    assert all(len(o["data"]["image/png"]) > 10_000 for o in pngs)
