"""Record the back-test expectations: ``python tests/backtest/record.py [CASE ...]``.

Run it only when a change is meant to alter results, and say in the commit why the
numbers moved. Writes ``tests/backtest/expected/<case>/{headline.json,incidents.csv,units.csv}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, EXPECTED, SEATTLE_OSM, run_case  # noqa: E402


def _json_safe(x):
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, float) and x != x:
        return None
    return x


def main(names: list[str]) -> int:
    for case in CASES:
        if names and case.name not in names:
            continue
        if case.needs_shared_data and not SEATTLE_OSM.is_file():
            print(f"skip {case.name}: {SEATTLE_OSM} is missing")
            continue
        headline, inc, units = run_case(case)
        folder = EXPECTED / case.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "headline.json").write_text(json.dumps(_json_safe(headline), indent=1, sort_keys=True) + "\n")
        inc.to_csv(folder / "incidents.csv", index=False, float_format="%.17g")
        units.to_csv(folder / "units.csv", index=False, float_format="%.17g")
        print(f"{case.name}: {len(inc)} incidents, {len(units)} unit rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
