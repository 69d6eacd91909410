"""What making a named random stream costs: numpy's own ``SeedSequence`` against ``sim.streams.stream``.

    python bench/stream_cost.py
    python bench/stream_cost.py --streams 924 --rounds 20

A replication makes a stream per patrol circuit and per unit starting on patrol (924 at 1,920
officers in the default town). Both ways run in this process, alternating, on the names a
replication of that force makes; the least of the rounds is printed per stream, with a check
that both give the same draws.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402,F401  (loaded, as in a run: sim.streams takes its compiled path)
import numpy as np  # noqa: E402

from sim.streams import replication_seed, stream  # noqa: E402


def numpy_stream(rep: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The stream as made from numpy's sequence itself."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.Generator(np.random.PCG64(
        np.random.SeedSequence(rep.entropy, spawn_key=tuple(rep.spawn_key) + (key,))))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=924, help="streams a round makes (default 924)")
    ap.add_argument("--rounds", type=int, default=10, help="rounds of each way, alternating (default 10)")
    args = ap.parse_args(argv)
    names = [f"patrol-unit-{u}-green-{p}" for u in range(args.streams) for p in range(3)][:args.streams]
    best = {"numpy SeedSequence": np.inf, "sim.streams.stream": np.inf}
    ways = {"numpy SeedSequence": numpy_stream, "sim.streams.stream": stream}
    for r in range(args.rounds):
        rep = replication_seed(20261201, r)
        stream(rep, "warm")                      # the replication's first stream (its check against numpy)
        for label, make in (ways.items() if r % 2 == 0 else reversed(ways.items())):
            t0 = time.perf_counter()
            for name in names:
                make(rep, name)
            best[label] = min(best[label], (time.perf_counter() - t0) / len(names))
        same = all(np.array_equal(stream(rep, n).random(2), numpy_stream(rep, n).random(2)) for n in names[:50])
        if not same:
            print("the two ways differ")
            return 1
    print(f"# {args.streams} streams a round, least of {args.rounds} rounds, µs per stream")
    for label, s in best.items():
        print(f"{label:<20} {s * 1e6:7.2f}")
    print(f"ratio {best['numpy SeedSequence'] / best['sim.streams.stream']:.2f}x; the same draws")
    return 0


if __name__ == "__main__":
    sys.exit(main())
