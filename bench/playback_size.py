"""Size and time of ``patrolsim playback`` for one 8-hour shift of the default town (the issue asks < 5 MB).

Writes the page, trace.parquet and (with ``--gif``) the GIF into a temporary folder, in
this process, and prints each file's size and the wall and CPU seconds of the command.

    python bench/playback_size.py
    python bench/playback_size.py --gif
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gif", action="store_true", help="also write the GIF")
    args = ap.parse_args()
    from sim.cli import main as cli

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "playback.html"
        argv = ["playback", "--out", str(out), "--quiet"] + (["--gif", str(Path(tmp) / "shift.gif")] if args.gif else [])
        w0, c0 = time.perf_counter(), time.process_time()
        code = cli(argv)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        for f in sorted(Path(tmp).iterdir()):
            print(f"{f.name:16s} {f.stat().st_size / 1e6:6.2f} MB")
        print(f"patrolsim playback{' --gif' if args.gif else ''}: {wall:.1f} s wall, {cpu:.1f} s CPU (exit {code})")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
