"""Fixtures for the demand-fitting tests.

The real Seattle call files and ``write_csv`` are the call-reading tests' (imported
from ``tests/calls/conftest.py``). Small call files are written to pytest's
temporary folders, never into the repository.
The network cache is the default one (see the root conftest): the Seattle graph
is built once, then read back in under a second.
"""

from __future__ import annotations

import json

import pytest

from tests.calls.conftest import seattle_2015, seattle_2015_rows, seattle_2018, write_csv  # noqa: F401 (fixtures)

FIT_FROM, FIT_TO = "2015-01-01", "2015-07-01"
HOLD_FROM, HOLD_TO = "2015-07-01", "2015-10-01"


@pytest.fixture(scope="session")
def real_fit(tmp_path_factory, seattle_2015, seattle_osm):
    """The evidence run: fit January-June 2015, hold out July-September (through the CLI)."""
    from sim.cli import main

    out = tmp_path_factory.mktemp("real-fit") / "seattle_2015_h1.yaml"
    rc = main(["fit", str(seattle_2015), "--network", str(seattle_osm), "--out", str(out),
               "--from", FIT_FROM, "--to", FIT_TO, "--holdout", str(seattle_2015),
               "--holdout-from", HOLD_FROM, "--holdout-to", HOLD_TO, "--quiet"])
    assert rc == 0
    from sim.fitted_file import read_fitted

    return {"out": out, "fitted": read_fitted(out),
            "holdout": json.loads((out.parent / "seattle_2015_h1.holdout.json").read_text()),
            "diagnostics": out.parent / "seattle_2015_h1.diagnostics"}
