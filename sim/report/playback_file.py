"""Write a playback: run one traced replication, save trace.parquet, the HTML page and optionally a GIF."""

from __future__ import annotations

import os
from pathlib import Path

from sim.errors import InputError


def write_playback(scenario, *, out: Path, trace_path: Path | None = None, gif: Path | None = None,
                   start_hour: float = 8.0, hours: float = 8.0, replication: int = 0,
                   step_s: float = 10.0) -> list[Path]:
    """The files written: the HTML page, the trace table and (with ``gif``) the GIF."""
    from sim.output_checks import check_file
    from sim.outputs import write_text_atomic
    from sim.report.playback import playback_data
    from sim.report.playback_page import render_playback
    from sim.tables import write_parquet
    from sim.trace import run_traced, shift_window, trace_table
    from sim.world import prepare

    if not 1.0 <= step_s <= 600.0:
        raise InputError(f"a sample step of {step_s:g} s is out of range", key="--step-s",
                         fix="give 1 to 600 seconds (10 is smooth and small)")
    out = Path(out)
    trace_path = Path(trace_path) if trace_path is not None else out.parent / "trace.parquet"
    for path, key in ((out, "--out"), (trace_path, "--trace"), (gif, "--gif")):
        if path is not None:
            check_file(Path(path), key=key)
    world = prepare(scenario, quiet=True)
    start_s, end_s = shift_window(world, start_hour=start_hour, hours=hours)
    traced = run_traced(world, replication)
    table = trace_table(world, traced, start_s=start_s, end_s=end_s, step_s=step_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    trace_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = trace_path.with_name(f".{trace_path.name}.tmp-{os.getpid()}")
    write_parquet(table.assign(replication=replication), tmp, lines=scenario.lines.model_dump(),
                  run_level=scenario.alert.level)      # units, lines and run level in the schema, like run's
    os.replace(tmp, trace_path)
    day = int(start_s // 86_400)
    title = (f"{scenario.name}: day {day}, {start_hour:g}:00 + {hours:g} h, replication {replication} "
             f"({len(world.deployment.units)} units)")
    data = playback_data(world, table, traced.incidents, start_s=start_s, end_s=end_s, step_s=step_s,
                         title=title)
    write_text_atomic(out, render_playback(data), key="--out")
    written = [out, trace_path]
    if gif is not None:
        from sim.report.playback_gif import write_gif

        write_gif(data, Path(gif))
        written.append(Path(gif))
    return written
