"""``patrolsim playback --gif``: an animated GIF whose frames differ; bad options are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import main


def test_gif_has_moving_frames(tmp_path):
    from PIL import Image, ImageSequence

    gif = tmp_path / "shift.gif"
    assert main(["playback", "--hours", "1", "--out", str(tmp_path / "p.html"), "--gif", str(gif),
                 "--quiet"]) == 0
    im = Image.open(gif)
    frames = [np.asarray(f.convert("RGB"), float) for f in ImageSequence.Iterator(im)]
    assert len(frames) >= 10                       # one hour at one frame per 4 minutes
    assert frames[0].std() > 10                    # not blank
    assert np.abs(frames[0] - frames[-1]).max() > 50   # units moved
    import pandas as pd

    from sim.tables import read_description

    trace = pd.read_parquet(tmp_path / "trace.parquet")
    assert {"unit", "uid", "time_s", "lon", "lat", "state", "run_level"} <= set(trace.columns)
    assert trace["time_s"].max() - trace["time_s"].min() == 3600.0
    assert read_description(tmp_path / "trace.parquet")["units"]["time_s"] == "s"


def _exit_code(argv) -> int:
    """main's return code, or argparse's exit code for an option it refused."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


@pytest.mark.parametrize("argv, words", [
    (["--start-hour", "25"], "hour"),
    (["--hours", "0"], "hours"),
    (["--set", "horizon_days=1", "--set", "warmup_days=0.5"], "horizon"),
])
def test_bad_options_are_one_line_errors(tmp_path, capsys, argv, words):
    assert _exit_code(["playback", *argv, "--out", str(tmp_path / "p.html"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "p.html").exists()
