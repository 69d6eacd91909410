"""Progress on every long command: items done of total, elapsed and time left on stderr, redrawn in
place on a terminal; nothing with --quiet or when stderr is not a terminal.

The commands run as real subprocesses, their stderr on a pseudo-terminal (``pty``) or on a pipe.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.experiment.bisect import HoldConfig, bisect_level, max_probes, max_replications_total
from sim.report.terminal import Progress, clock, progress_line

REPO = Path(__file__).resolve().parents[1]
LINE = re.compile(r"(\d+)/(at most )?(\d+)  (\d+:\d\d) elapsed, (about \d+:\d\d left|up to about \d+:\d\d left|"
                  r"done|time left not known yet)")


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("CI", None)
    return env


def run_on_pty(args: list[str], cwd: Path, *, timeout_s: float = 300) -> tuple[int, str, str]:
    """Run ``python -m sim ARGS`` with stderr on a pseudo-terminal: (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, env=_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode()
    proc.wait(timeout=timeout_s)
    os.close(master)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def run_on_pipe(args: list[str], cwd: Path) -> tuple[int, str, str]:
    p = subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=_env(), capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(scope="module")
def town_file(tmp_path_factory):
    from tests.conftest import small_town

    d = tmp_path_factory.mktemp("progress")
    data = small_town()
    data["name"] = "progress-town"
    path = d / "town.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _progress_lines(text: str, label: str) -> list[re.Match]:
    # redrawn in place: each drawing starts with a carriage return
    return [m for part in re.split(r"[\r\n]", text) if label in part for m in [LINE.search(part)] if m]


def test_run_shows_replications_done_of_total_with_time_left(town_file, tmp_path):
    code, out, term = run_on_pty(["run", str(town_file), "--replications", "3", "--out", str(tmp_path / "r")],
                                 tmp_path)
    assert code == 0, term
    lines = _progress_lines(term, "replications")
    assert lines, term
    assert all(int(m.group(3)) == 3 for m in lines)
    assert lines[-1].group(1) == "3" and lines[-1].group(5) == "done"
    assert "\r" in term and "\x1b[K" in term          # redrawn in place, not one line per update
    assert "Both lines hold" in out                     # the table still goes to stdout


def test_run_is_silent_when_stderr_is_not_a_terminal_or_quiet(town_file, tmp_path):
    code, _, err = run_on_pipe(["run", str(town_file), "--replications", "2", "--out", str(tmp_path / "a")],
                               tmp_path)
    assert code == 0
    assert "elapsed" not in err and "\r" not in err
    code, out, term = run_on_pty(["run", str(town_file), "--replications", "2", "--out", str(tmp_path / "b"),
                                  "--quiet"], tmp_path)
    assert code == 0 and term == "" and out == ""


def test_hold_gives_its_total_as_an_upper_bound(town_file, tmp_path):
    args = ["hold", str(town_file), "--levels", "green", "--min", "4", "--max", "40", "--step", "4",
            "--min-replications", "2", "--max-replications", "3", "--workers", "1", "--out", str(tmp_path / "h")]
    code, out, term = run_on_pty(args, tmp_path)
    assert code == 0, term
    report = json.loads((tmp_path / "h" / "hold.json").read_text())
    cfg = HoldConfig(vary="force.total_officers", vmin=4, vmax=40, step=4, integer=True, target=0.9,
                     min_replications=2, max_replications=3, levels=("green",))
    bound = max_replications_total(cfg)
    assert f"at most {bound} replications: {max_probes(cfg)} values probed at most x 3 replications" in term
    lines = _progress_lines(term, "replications")
    assert lines and all(int(m.group(3)) in (bound, int(m.group(1))) for m in lines), term
    assert any(m.group(2) == "at most " for m in lines)
    ran = sum(lv["replications"] for lv in report["levels"])
    assert ran <= bound and lines[-1].group(1) == str(ran) and lines[-1].group(5) == "done"
    assert run_on_pipe(args[:-1] + [str(tmp_path / "h2")], tmp_path)[2].count("elapsed") == 0


def test_compare_sweep_and_hypercube_simulation_show_progress(town_file, tmp_path):
    code, _, term = run_on_pty(["compare", str(town_file), str(town_file), "--replications", "2", "--workers", "1",
                                "--out", str(tmp_path / "c")], tmp_path)
    assert code == 0, term
    lines = _progress_lines(term, "replications")
    assert lines and lines[-1].group(5) == "done" and lines[-1].group(1) == lines[-1].group(3)
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"scenario: {town_file}\nname: progress\nreplications: 2\ngrid:\n"
                     "  force.total_officers: [12, 24]\n", encoding="utf-8")
    code, _, term = run_on_pty(["sweep", str(sweep), "--workers", "1", "--out", str(tmp_path / "s")], tmp_path)
    assert code == 0, term
    lines = _progress_lines(term, "replications")
    assert lines and lines[-1].group(1) == lines[-1].group(3) == "4" and lines[-1].group(5) == "done"
    problem = REPO / "scenarios" / "hypercube" / "larson_3units.yaml"
    code, _, term = run_on_pty(["analytic", "hypercube", str(problem), "--simulate", "--replications", "3",
                                "--out", str(tmp_path / "hc.json")], tmp_path)
    assert code == 0, term
    lines = _progress_lines(term, "replications")
    assert lines and lines[-1].group(1) == "3" and lines[-1].group(3) == "3"


class _Terminal(io.StringIO):
    """A text stream that says it is a terminal (what Progress checks before drawing)."""

    def isatty(self) -> bool:
        return True


def test_progress_line_says_done_of_total_elapsed_and_time_left():
    assert progress_line("replications", 3, 10, 42.0).endswith("3/10  0:42 elapsed, about 1:38 left")
    assert progress_line("replications", 0, 10, 1.0).endswith("0/10  0:01 elapsed, time left not known yet")
    assert progress_line("replications", 10, 10, 3725.0).endswith("10/10  1:02:05 elapsed, done")
    assert "3/at most 12" in progress_line("replications", 3, 12, 30.0, at_most=True)
    assert progress_line("replications", 3, 12, 30.0, at_most=True).endswith("up to about 1:30 left")
    assert clock(59.6) == "1:00"


def test_progress_draws_only_on_a_terminal_and_closes_its_line():
    tty = _Terminal()
    p = Progress("replications", stream=tty, every_s=0.0)
    for i in range(4):
        p(i, 3) if i <= 3 else None
    text = tty.getvalue()
    assert text.count("\r") == 4 and text.endswith("done\x1b[K\n")
    quiet, pipe = _Terminal(), io.StringIO()
    for stream, kw in ((quiet, {"quiet": True}), (pipe, {})):
        q = Progress("replications", stream=stream, every_s=0.0, **kw)
        q(0, 2), q(2, 2)
        assert stream.getvalue() == ""
    early = _Terminal()
    e = Progress("replications", stream=early, every_s=0.0, at_most=True)
    e(0, 90), e(7, 90)
    e.finish()
    assert early.getvalue().endswith("7/7  0:00 elapsed, done\x1b[K\n")


@pytest.mark.parametrize("vmin,vmax,step,integer", [(4, 40, 4, True), (1, 1000, 1, True), (8, 80, 8, True),
                                                    (0.2, 0.8, 0.01, False), (10, 11, 1, True)])
def test_the_hold_bound_covers_every_path_of_the_bisection(vmin, vmax, step, integer):
    """Drive the pure bisection through every sequence of answers: it never probes more values
    than ``max_probes`` says."""
    cfg = HoldConfig(vary="x", vmin=vmin, vmax=vmax, step=step, integer=integer, target=0.9,
                     min_replications=1, max_replications=1, levels=("green",))
    bound = max_probes(cfg)
    worst = 0
    for answers in itertools.islice(itertools.product([True, False], repeat=min(bound + 1, 12)), 4096):
        gen, probes = bisect_level("green", cfg), 0
        try:
            value, reps = next(gen)
            while True:
                ok = answers[min(probes, len(answers) - 1)]
                probes += 1
                rows = [{"replication": r, "response_within_line": 1.0 if ok else 0.0,
                         "backup_within_line": 1.0 if ok else 0.0} for r in reps]
                value, reps = gen.send(rows)
        except StopIteration:
            pass
        worst = max(worst, probes)
    assert worst <= bound
    assert bound <= 2 + (vmax - vmin) / step


def test_network_build_counts_its_graphs(tmp_path, monkeypatch):
    """Building the graphs of an OpenStreetMap file (not read back from the cache) shows the graphs
    built of the modes; the second load reads the cache and draws nothing; --quiet draws nothing."""
    osm = REPO / "tests" / "data" / "tiny_town.osm"
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path / "cache"))
    code, out, term = run_on_pty(["network", "info", str(osm)], tmp_path)
    assert code == 0, term
    lines = _progress_lines(term, "network graphs")
    assert lines and lines[-1].group(1) == lines[-1].group(3) == "3" and lines[-1].group(5) == "done", term
    code, _, term = run_on_pty(["network", "info", str(osm)], tmp_path)
    assert code == 0 and not _progress_lines(term, "network graphs")
    monkeypatch.setenv("PATROLSIM_CACHE_DIR", str(tmp_path / "fresh-cache"))   # built again, quietly
    code, _, term = run_on_pty(["network", "info", str(osm), "--quiet"], tmp_path)
    assert code == 0 and "elapsed" not in term and (tmp_path / "fresh-cache").is_dir()


def test_one_long_replication_shows_its_time_left_as_simulated_time_passes(tmp_path):
    """A single replication (a county week) is one item: the line counts it by the share of its
    simulated time done, so the time left is known long before it ends."""
    from tests.conftest import small_town

    data = small_town(horizon_days=21.0, warmup_days=1.0, replications=1, demand={"incidents_per_day": 120})
    data["name"] = "long-replication"
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _, term = run_on_pty(["run", str(path), "--out", str(tmp_path / "r")], tmp_path)
    assert code == 0, term
    lines = _progress_lines(term, "replications")
    during = [m for m in lines if m.group(1) == "0" and m.group(5).startswith("about")]
    assert during, term                                   # time left shown while the one replication runs
    assert lines[-1].group(1) == "1" and lines[-1].group(5) == "done"


def test_progress_during_a_replication_changes_no_number(small_scenario):
    """The simulated-time reports ride on the engine's clock but change none of its events."""
    from sim.experiment import prepare, run_replication

    ctx = prepare(small_scenario, quiet=True)
    shares: list[float] = []
    with_progress = run_replication(ctx, 1, progress=shares.append)
    without = run_replication(ctx, 1)
    pd.testing.assert_frame_equal(with_progress.incidents, without.incidents)
    pd.testing.assert_frame_equal(with_progress.units, without.units)
    assert with_progress.metrics == without.metrics
    assert len(shares) >= 100 and shares == sorted(shares) and 0 < shares[0] and shares[-1] < 1.0
    assert shares[-1] > 0.98


def test_progress_line_counts_the_replication_under_way_by_its_share():
    assert progress_line("replications", 0.5, 1, 30.0).endswith("0/1  0:30 elapsed, about 0:30 left")
    line = progress_line("replications", 2.25, 3, 45.0)
    assert line.endswith("2/3  0:45 elapsed, about 0:15 left") and "[###############.....]" in line
