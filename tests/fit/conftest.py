"""Fixtures for the demand-fitting and replay tests.

The real Seattle files are read in place from ``../shared/data`` (the root
conftest's ``shared_data`` fixture fails, never skips, when it is missing). Small
call files are written to pytest's temporary folders, never into the repository.
The network cache is the default one (see the root conftest): the Seattle graph
is built once, then read back in under a second.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

FIT_FROM, FIT_TO = "2015-01-01", "2015-07-01"
HOLD_FROM, HOLD_TO = "2015-07-01", "2015-10-01"


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"real data file missing: {path.resolve()} (real-data tests must not be skipped)")
    return path


@pytest.fixture(scope="session")
def seattle_2015(shared_data) -> Path:
    return _need(shared_data / "seattle_udistrict" / "spd_incident_response_2015_udistrict_jan_sep.csv")


@pytest.fixture(scope="session")
def seattle_2018(shared_data) -> Path:
    return _need(shared_data / "seattle_udistrict" / "spd_call_data_sample_2018_2023.csv")


@pytest.fixture(scope="session")
def seattle_2015_rows(seattle_2015) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the 2015 file (as strings), to build small files from."""
    with open(seattle_2015, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


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
