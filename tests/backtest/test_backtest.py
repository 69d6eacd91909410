"""Back tests: the six check scenarios reproduce the stored results exactly (up to float rounding).

Tolerance: floats agree to a relative 1e-9 (and 1 µs absolute for times), which admits only
re-ordered arithmetic; every dispatch, unit and count must be identical. Re-record with
``python tests/backtest/record.py`` only for a change meant to alter results.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from tests.backtest.cases import CASES, EXPECTED, SEATTLE_OSM, frames_equal, run_case, values_close


def _read(name: str, table: str) -> pd.DataFrame:
    return pd.read_csv(EXPECTED / name / f"{table}.csv", keep_default_na=True)


def _as_read_back(df: pd.DataFrame) -> pd.DataFrame:
    """The table as it would read back from CSV (same dtypes as the stored one)."""
    import io

    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.17g")
    buf.seek(0)
    return pd.read_csv(buf, keep_default_na=True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_backtest(case):
    if case.needs_shared_data and not SEATTLE_OSM.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{SEATTLE_OSM} is missing; real-data back tests must run in CI")
        pytest.skip(f"needs {SEATTLE_OSM.name} from the shared data folder beside the repository")
    headline, inc, units = run_case(case)
    want = json.loads((EXPECTED / case.name / "headline.json").read_text())
    problems = values_close(want, json.loads(json.dumps(headline).replace("NaN", "null")))
    problems += [f"incidents: {p}" for p in frames_equal(_read(case.name, "incidents"), _as_read_back(inc))]
    problems += [f"units: {p}" for p in frames_equal(_read(case.name, "units"), _as_read_back(units))]
    assert not problems, f"{case.name} moved:\n" + "\n".join(problems[:20])
