"""Bad input to ``patrolsim calibrate``: one line naming the file or option and the fix, exit
code 2, and no output file left behind; checked before any simulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from tests.calibrate.town import write_town

GOOD_CSV = ("call_time,arrival_time,priority\n"
            + "".join(f"2026-01-05 08:{m:02d}:00,2026-01-05 08:{m + 5:02d}:30,{1 + m % 3}\n" for m in range(40)))


@pytest.fixture
def town(tmp_path) -> Path:
    return write_town(tmp_path / "town.yaml")


def _run(capsys, args) -> tuple[int, str]:
    rc = main(["calibrate", *args])
    return rc, capsys.readouterr().err


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("patrolsim: error: "), err
    return lines[0]


def _calls(tmp_path, text: str, name: str = "calls.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("text, words", [
    ("call_time,priority\n2026-01-05 08:00:00,1\n", ["'arrival_time' not found", "call_time, arrival_time, priority"]),
    ("Original Time Queued,Priority\n11/04/2023 6:08:26 PM,2\n", ["'Arrived Time' not found", "SPD"]),
    ("call_time,arrival_time,priority\n2026-01-05 08:00:00,half past eight,1\n",
     ["'arrival_time'", "line 2", "half past eight", "cannot be read as a time"]),
    ("call_time,arrival_time,priority\n2026-01-05 08:00:00,2026-01-05 08:09:00,urgent\n",
     ["'priority'", "line 2", "whole number"]),
    ("call_time,arrival_time,priority\n2026-01-05 08:00:00,,1\n2026-01-05 09:00:00,2026-01-05 08:00:00,2\n",
     ["no usable call among 2 rows", "no arrival time", "at or before the call"]),
    ("call_time,arrival_time,priority\n", ["no rows"]),
    ("", ["empty"]),
])
def test_bad_observed_file(tmp_path, town, capsys, text, words):
    calls = _calls(tmp_path, text)
    out = tmp_path / "cal.yaml"
    rc, err = _run(capsys, [str(town), "--observed", str(calls), "--fit", "demand.call_handling_mean_s",
                            "--out", str(out)])
    assert rc == 2
    line = _one_error_line(err)
    assert str(calls) in line
    for w in words:
        assert w in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.csv", "town.yaml"]


@pytest.mark.parametrize("fit, words", [
    ("force.total_officers", ["'force.total_officers' cannot be calibrated", "allowed keys:",
                              "availability.out_of_service_per_h", "demand.call_handling_mean_s",
                              "network.speeds.emergency_speed_factor"]),
    ("availability.out_of_servce_per_h", ["did you mean 'availability.out_of_service_per_h'"]),
    ("availability.interrupt_out_of_service", ["cannot be calibrated"]),
    ("demand.call_handling_mean_s,demand.call_handling_mean_s", ["names a key twice"]),
    (",", ["names no key"]),
])
def test_bad_fit_keys(tmp_path, town, capsys, fit, words):
    calls = _calls(tmp_path, GOOD_CSV)
    rc, err = _run(capsys, [str(town), "--observed", str(calls), "--fit", fit, "--out", str(tmp_path / "c.yaml")])
    assert rc == 2
    line = _one_error_line(err)
    assert "--fit" in line
    for w in words:
        assert w in line, line
    assert not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize("rng, words", [
    ("demand.call_handling_mean_s=5", ["not KEY=LOW:HIGH"]),
    ("demand.call_handling_mean_s=50:10", ["need 0 < LOW < HIGH"]),
    ("availability.out_of_service_per_h=0.1:2", ["not one of the keys in --fit"]),
    ("demand.call_handling_mean_s=10:100000", ["leaves the schema's bounds"]),
])
def test_bad_ranges(tmp_path, town, capsys, rng, words):
    calls = _calls(tmp_path, GOOD_CSV)
    rc, err = _run(capsys, [str(town), "--observed", str(calls), "--fit", "demand.call_handling_mean_s",
                            "--range", rng, "--out", str(tmp_path / "c.yaml")])
    assert rc == 2
    line = _one_error_line(err)
    for w in words:
        assert w in line, line


def test_missing_files_and_bad_out(tmp_path, town, capsys):
    calls = _calls(tmp_path, GOOD_CSV)
    fit = ["--fit", "demand.call_handling_mean_s"]
    rc, err = _run(capsys, [str(town), "--observed", str(tmp_path / "nope.csv"), *fit, "--out", str(tmp_path / "c.yaml")])
    assert rc == 2 and "not found" in _one_error_line(err)
    rc, err = _run(capsys, [str(tmp_path / "nope.yaml"), "--observed", str(calls), *fit, "--out", str(tmp_path / "c.yaml")])
    assert rc == 2 and "nope.yaml" in _one_error_line(err)
    rc, err = _run(capsys, [str(town), "--observed", str(calls), *fit, "--out", str(tmp_path / "c.txt")])
    assert rc == 2 and ".yaml" in _one_error_line(err)


def test_a_users_file_is_not_replaced_without_overwrite(tmp_path, town, capsys):
    """An existing file beside --out that calibrate did not write is refused before any work."""
    calls = _calls(tmp_path, GOOD_CSV)
    mine = tmp_path / "c.fit.json"
    mine.write_text('{"my": "notes"}\n')
    rc, err = _run(capsys, [str(town), "--observed", str(calls), "--fit", "demand.call_handling_mean_s",
                            "--out", str(tmp_path / "c.yaml")])
    assert rc == 2
    line = _one_error_line(err)
    assert "c.fit.json" in line and "--overwrite" in line
    assert json.loads(mine.read_text()) == {"my": "notes"}
    assert not (tmp_path / "c.yaml").exists()


def test_no_common_priority(tmp_path, town, capsys):
    """Observed priorities the scenario never draws: one line saying which priorities each side has."""
    text = "call_time,arrival_time,priority\n" + "".join(
        f"2026-01-05 08:{m:02d}:00,2026-01-05 08:{m + 5:02d}:00,7\n" for m in range(20))
    calls = _calls(tmp_path, text)
    rc, err = _run(capsys, [str(town), "--observed", str(calls), "--fit", "demand.call_handling_mean_s",
                            "--out", str(tmp_path / "c.yaml")])
    assert rc == 2
    line = _one_error_line(err)
    assert "P7: 20" in line and "P1, P2, P3" in line
    assert not (tmp_path / "c.yaml").exists()

