"""Fuzz every input file against the contract: exit 0 with complete outputs, or exit 2 with one line.

Derandomized, so CI sees the same few hundred cases each run; ``bench/fuzz.py --cases 10000``
draws many more from the same strategies and prints the counts. A failure prints the case
(files and command line) so it can be replayed by hand.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings

from contract import run_case
from strategies import STRATEGIES, describe

# examples per input kind: 400 in all, about 20 s on one idle core here
EXAMPLES = {"scenario": 120, "osm": 40, "sweep": 60, "hypercube": 150, "calls": 30}
_counter = itertools.count()


@pytest.mark.parametrize("kind", list(EXAMPLES))
def test_every_input_meets_the_contract(kind, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"fuzz-{kind}")

    @settings(max_examples=EXAMPLES[kind], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=STRATEGIES[kind])
    def check(case):
        outcome = run_case(case, base / f"case-{next(_counter)}", timeout_s=120)
        assert outcome.kind in ("ok", "error"), f"{outcome.kind}: {outcome.detail}\n{describe(case)}"

    check()
