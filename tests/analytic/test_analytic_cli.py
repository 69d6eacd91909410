"""``patrolsim analytic``: exit codes, JSON output, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.cli import main

REPO = Path(__file__).resolve().parents[2]
LARSON = REPO / "scenarios" / "hypercube" / "larson_3units.yaml"
GRID9 = REPO / "scenarios" / "hypercube" / "grid_9units.yaml"
DATA = Path(__file__).resolve().parent / "data"


def run_ok(argv, capsys) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_exact_json_and_table(tmp_path, capsys):
    out = tmp_path / "larson.json"
    text = run_ok(["analytic", "hypercube", str(LARSON), "--out", str(out)], capsys)
    data = json.loads(out.read_text())
    assert data["method"] == "exact"
    # Larson & Odoni (1981) 5.5.3 exact workloads, to their 4 decimals.
    assert data["workloads"] == pytest.approx({"u1": 0.5574, "u2": 0.4734, "u3": 0.4693}, abs=5e-5)
    assert data["p_queue"] == pytest.approx(0.23684, abs=5e-6)
    assert set(data["dispatch_fractions"]) == {f"a{i}" for i in range(1, 11)}
    total = sum(sum(row.values()) for row in data["dispatch_fractions"].values())
    assert total == pytest.approx(1.0, abs=1e-9)
    assert 0 < data["cross_area_fraction"] < 1
    assert "mean_travel_time" not in data  # no travel times in this problem
    assert "0.5574" in text and "cross-area" in text and "a10" in text
    assert [p.name for p in tmp_path.iterdir()] == ["larson.json"]  # no temporary file left behind


def test_approx_method_and_travel_times(tmp_path, capsys):
    out = tmp_path / "grid.json"
    run_ok(["analytic", "hypercube", str(GRID9), "--method", "approx", "--out", str(out)], capsys)
    data = json.loads(out.read_text())
    assert data["method"] == "approx"
    assert len(data["workloads"]) == 9
    assert data["mean_travel_time"] > 0
    assert set(data["mean_travel_time_by_atom"]) == set(data["dispatch_fractions"])


def test_default_output_path(tmp_path, monkeypatch, capsys):
    shutil.copy(DATA / "two_units_loss.yaml", tmp_path / "small.yaml")
    monkeypatch.chdir(tmp_path)
    text = run_ok(["analytic", "hypercube", "small.yaml"], capsys)
    out = tmp_path / "results" / "analytic" / "small.json"
    data = json.loads(out.read_text())
    assert data["queue"] == "loss" and data["method"] == "exact"
    assert "mean_travel_time" in data and "calls are lost" in text


def test_rerun_replaces_the_output(tmp_path, capsys):
    out = tmp_path / "x.json"
    out.write_text("old")
    run_ok(["analytic", "hypercube", str(DATA / "two_units_loss.yaml"), "--out", str(out)], capsys)
    assert json.loads(out.read_text())["method"] == "exact"


def too_large_file(folder: Path) -> Path:
    units = [f"u{i}" for i in range(17)]
    lines = ["service_rate: 1.0", "queue: loss", f"units: [{', '.join(units)}]", "atoms:"]
    for i in range(17):
        pref = units[i:] + units[:i]
        lines.append(f"  - {{id: a{i}, rate: 0.5, preference: [{', '.join(pref)}]}}")
    path = folder / "seventeen.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("case, expect", [
    ("bad_unknown_unit.yaml", ["bad_unknown_unit.yaml", "atoms[2].preference", "unknown unit 'u4'"]),
    ("bad_negative_rate.yaml", ["bad_negative_rate.yaml", "atoms[1].rate"]),
    ("bad_unknown_key.yaml", ["bad_unknown_key.yaml", "atoms[0].priority", "unknown key"]),
    ("bad_yaml_syntax.yaml", ["bad_yaml_syntax.yaml", "YAML syntax error"]),
    ("missing.yaml", ["missing.yaml", "file not found"]),
    ("TOO_LARGE", ["seventeen.yaml", "state space too large for the exact method; use --method approx"]),
])
def test_bad_inputs_exit_2_with_one_line(case, expect, tmp_path, capsys):
    path = too_large_file(tmp_path) if case == "TOO_LARGE" else DATA / case
    out = tmp_path / "out.json"
    code = main(["analytic", "hypercube", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("patrolsim: error: ") and "fix:" in err
    for piece in expect:
        assert piece in err
    assert not out.exists()


def test_too_large_works_with_approx(tmp_path, capsys):
    out = tmp_path / "big.json"
    run_ok(["analytic", "hypercube", str(too_large_file(tmp_path)), "--method", "approx", "--out", str(out)],
           capsys)
    assert len(json.loads(out.read_text())["workloads"]) == 17


def test_hypercube_without_file(capsys):
    assert main(["analytic", "hypercube"]) == 2
    assert "needs a problem file" in capsys.readouterr().err


def test_replications_without_simulate(capsys):
    assert main(["analytic", "hypercube", str(LARSON), "--replications", "5"]) == 2
    assert "--simulate" in capsys.readouterr().err


def test_scenario_form_rejects_a_second_file(capsys):
    assert main(["analytic", "city.yaml", "other.yaml"]) == 2
    assert "unexpected extra argument" in capsys.readouterr().err
