"""One small run with its report, shared by the report tests (so they stay fast).

The embedded default scenario (the synthetic county town) with 2 replications of two
days: the same town, force and figures a user's first report has, in about two seconds.
"""

from __future__ import annotations

import pytest

from sim.cli import main

SHORT_RUN = ["--replications", "2", "--set", "horizon_days=2", "--set", "warmup_days=0.5"]


@pytest.fixture(scope="session")
def reported_run(tmp_path_factory):
    """A results folder written by ``patrolsim run --report`` (report.html included)."""
    out = tmp_path_factory.mktemp("report") / "default-run"
    assert main(["run", *SHORT_RUN, "--out", str(out), "--report", "--quiet"]) == 0
    return out
