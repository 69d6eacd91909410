"""The smallest force that holds the lines: the stopping rule, the bisection, and the command."""

from __future__ import annotations

import json
import math

import pytest

from sim.cli import main
from sim.errors import InputError
from sim.experiment.bisect import HoldConfig, bisect_level, decide
from sim.experiment.hold import hold_config


def drive(cfg: HoldConfig, compliance, backup=lambda v, r: math.nan):
    """Run the bisection generator against a fake model: compliance(value, replication)."""
    gen = bisect_level("green", cfg)
    req = next(gen)
    while True:
        value, reps = req
        rows = [{"replication": r, "response_within_line": compliance(value, r),
                 "backup_within_line": backup(value, r), "error": None} for r in reps]
        try:
            req = gen.send(rows)
        except StopIteration as stop:
            return stop.value


def cfg(**kw) -> HoldConfig:
    base = dict(vary="force.total_officers", vmin=10, vmax=200, step=1, integer=True, target=0.9,
                min_replications=3, max_replications=12, batch=2)
    return HoldConfig(**{**base, **kw})


def test_decide_stops_as_soon_as_the_interval_is_clear():
    assert decide([0.95, 0.96, 0.97], [1.0, 1.0, 1.0], target=0.9, min_replications=3, max_replications=9) \
        == (True, True)
    assert decide([0.5, 0.6, 0.55], [1.0, 1.0, 1.0], target=0.9, min_replications=3, max_replications=9) \
        == (False, True)
    # a clear response line but a clearly failing backup line
    assert decide([0.95, 0.96, 0.97], [0.5, 0.6, 0.55], target=0.9, min_replications=3,
                  max_replications=9) == (False, True)
    # straddling the target: more replications, and at the cap a decision on the mean, marked unclear
    assert decide([0.85, 0.95, 0.91], [1, 1, 1], target=0.9, min_replications=3, max_replications=9) is None
    assert decide([0.85, 0.95, 0.91], [1, 1, 1], target=0.9, min_replications=2, max_replications=3) \
        == (True, False)
    # no incident needed backup: only the response line counts
    assert decide([0.95, 0.96, 0.97], [math.nan] * 3, target=0.9, min_replications=3, max_replications=9) \
        == (True, True)


def test_bisection_finds_the_exact_threshold_of_a_noiseless_model():
    res = drive(cfg(), lambda v, r: min(1.0, v / 100))
    assert res.status == "found" and res.answer == 90
    assert (res.low, res.high) == (90, 90)  # every probe was clear: the answer is exact
    assert res.replications == 3 * len(res.probes)
    assert len(res.probes) <= 2 + math.ceil(math.log2(190)) + 1


def test_noisy_probes_near_the_threshold_widen_the_interval_and_say_so():
    noise = [0.04, -0.04, 0.03, -0.03, 0.02, -0.02, 0.05, -0.05, 0.01, -0.01, 0.0, 0.0]
    res = drive(cfg(), lambda v, r: min(1.0, v / 100 + noise[r]))
    assert res.status == "found" and 88 <= res.answer <= 92
    assert res.low <= res.answer <= res.high and res.high - res.low >= 1
    assert "decided on the mean" in res.note
    assert any(p.replications == 12 for p in res.probes)


def test_step_and_edges():
    coarse = drive(cfg(step=10), lambda v, r: min(1.0, v / 100))
    assert coarse.status == "found" and 90 <= coarse.answer < 100
    assert drive(cfg(), lambda v, r: 0.5).status == "above-max"
    at_min = drive(cfg(), lambda v, r: 0.99)
    assert at_min.status == "at-min" and at_min.answer == 10
    share = drive(cfg(vary="alert.patrol_share", vmin=0.2, vmax=1.0, step=0.01, integer=False, per_level=True),
                  lambda v, r: min(1.0, 0.5 + v))
    assert share.answer == pytest.approx(0.4, abs=0.011)


def test_hold_config_checks_the_varied_key():
    base = {"force": {"total_officers": 240}, "alert": {"patrol_share": {
        "green": 0.2, "yellow": 0.4, "orange": 0.6, "red": 0.8}, "level": "green"},
        "lines": {"target_compliance": 0.9}}
    c = hold_config(base, "force.total_officers")
    assert c.integer and (c.vmin, c.vmax, c.step) == (30, 960, 1) and c.target == 0.9
    s = hold_config(base, "alert.patrol_share")
    assert s.per_level and s.monotone and not s.integer and s.path("red") == "alert.patrol_share.red"
    # varying green's share above yellow's moves yellow (and above) just enough to stay valid
    assert s.overrides(base, "green", 0.5) == {"alert.level": "green", "alert.patrol_share.green": 0.5,
                                               "alert.patrol_share.yellow": 0.5}
    with pytest.raises(InputError, match="no such scenario key"):
        hold_config(base, "force.total_oficers")
    with pytest.raises(InputError, match="not a number"):
        hold_config(base, "alert.level")
    with pytest.raises(InputError, match="below"):
        hold_config(base, "force.total_officers", vmin=50, vmax=10)


def test_hold_command_prints_the_planners_table(town_file, tmp_path, capsys):
    out = tmp_path / "hold"
    code = main(["hold", str(town_file), "--levels", "green,red", "--min", "8", "--max", "80", "--step", "8",
                 "--max-replications", "6", "--workers", "1", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "level" in text and "smallest value that holds" in text and "replications" in text
    assert "green" in text and "red" in text
    report = json.loads((out / "hold.json").read_text())
    for lv in report["levels"]:  # the bracket of every level, in words, from the probes in hold.json
        if lv["status"] == "found":
            fails = max(p["value"] for p in lv["probes"] if not p["holds"])
            v = lv["smallest_value"]
            assert f"between {fails} and {v} officers ({v} holds, {fails} fails)" in text
    assert [lv["level"] for lv in report["levels"]] == ["green", "red"]
    for lv in report["levels"]:
        assert lv["status"] in ("found", "at-min", "above-max")
        assert lv["replications"] >= 3 and lv["probes"]
        if lv["status"] == "found":
            assert 8 < lv["smallest_value"] <= 80


def test_hold_rejects_bad_options_before_running(town_file, capsys):
    assert main(["hold", str(town_file), "--levels", "green,purple", "--workers", "1"]) == 2
    assert "purple" in capsys.readouterr().err
    assert main(["hold", str(town_file), "--vary", "alert.patrol_share", "--min", "0.05", "--workers", "1"]) == 2
    assert "--vary" in capsys.readouterr().err


def test_the_bracket_reads_as_the_two_probes_around_the_answer():
    from sim.report.experiments import hold_bracket, hold_interval

    c = cfg()
    r = drive(c, lambda v, rep: 0.95 + 0.001 * rep if v >= 57 else 0.5 + 0.001 * rep)
    assert (r.status, r.answer, r.largest_failing) == ("found", 57, 56)
    assert hold_bracket(r, c) == "between 56 and 57 officers (57 holds, 56 fails)"
    assert hold_interval(r, c) == ""      # every probe was clear: the 95% interval is the bracket
    # the lines hold everywhere / nowhere in the range
    low = drive(c, lambda v, rep: 0.95 + 0.001 * rep)
    assert hold_bracket(low, c) == "10 officers or fewer (10 holds)"
    high = drive(c, lambda v, rep: 0.5 + 0.001 * rep)
    assert hold_bracket(high, c) == "more than 200 officers (200 fails)"
    # a share: no noun, the step's decimals
    s = cfg(vary="alert.patrol_share", vmin=0.2, vmax=1.0, step=0.01, integer=False, per_level=True)
    r = drive(s, lambda v, rep: 0.95 + 0.001 * rep if v >= 0.455 else 0.5 + 0.001 * rep)
    assert hold_bracket(r, s).startswith("between 0.4") and hold_bracket(r, s).endswith(" fails)")
    assert "officers" not in hold_bracket(r, s)
