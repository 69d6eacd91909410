"""The patrol circuits' named streams: ``sim.streams.stream`` against ``StreamPrefix``, in one process.

    python bench/stream_cost.py --units 279 --rounds 7

The names of one replication of the default town at 1,920 officers (279 units, one level,
three periods: ``patrol-unit-{uid}-{level}-{period}``, and ``patrol-start-{uid}``) are made
both ways, the two ways alternating ``--rounds`` times; per way the least thread CPU time of
a round is kept (other work on a shared machine only ever adds to it). Each way draws what
``choose_stops`` draws (ten of 30 nodes without replacement) so the generator is used as the
circuits use it, and the draws are checked equal.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def main(argv=None) -> int:
    from sim.engine.stream_prefix import StreamPrefix
    from sim.streams import replication_seed, stream

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=279, help="units (default 279: 1,920 officers in the default town)")
    ap.add_argument("--rounds", type=int, default=7, help="rounds, the two ways alternating (default 7)")
    args = ap.parse_args(argv)
    rep = replication_seed(20261130, 0)
    names = [f"patrol-unit-{u}-green-{p}" for u in range(args.units) for p in range(3)]
    names += [f"patrol-start-{u}" for u in range(args.units)]
    clock = time.thread_time_ns

    def slow():
        return [stream(rep, n).choice(30, size=10, replace=False) for n in names]

    def fast():
        prefix = StreamPrefix(rep)
        return [prefix.generator(n).choice(30, size=10, replace=False) for n in names]

    least = {"stream": float("inf"), "prefix": float("inf")}
    for _ in range(max(1, args.rounds)):
        for way, fn in (("stream", slow), ("prefix", fast)):
            c0 = clock()
            out = fn()
            least[way] = min(least[way], clock() - c0)
            if way == "stream":
                want = out
            elif not all(np.array_equal(a, b) for a, b in zip(out, want)):
                sys.exit("error: the two ways drew differently")
    n = len(names)
    print(f"# {n} named streams, each drawing 10 of 30; least thread CPU of {args.rounds} rounds; "
          f"python bench/stream_cost.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    for way, ns in least.items():
        print(f"{way:>7}: {ns / 1e6:7.1f} ms, {ns / n / 1e3:5.1f} us per stream")
    print(f"stream/prefix: {least['stream'] / least['prefix']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
