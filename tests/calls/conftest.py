"""Fixtures for the call-reading tests (and the fit tests, which import them).

The real Seattle files are read in place from ``../shared/data`` (the root
conftest's ``shared_data`` fixture fails under CI and skips elsewhere when the
folder is missing; a missing file inside it fails). Small call files are written
to pytest's temporary folders, never into the repository.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest


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
