"""Options and helpers shared by the sub-commands."""

from __future__ import annotations

import argparse


def add_scenario_options(p: argparse.ArgumentParser, *, optional_scenario: bool = True) -> None:
    if optional_scenario:
        p.add_argument("scenario", nargs="?", default=None,
                       help="scenario YAML file (default: scenarios/default.yaml)")
    else:
        p.add_argument("scenario", help="scenario YAML file")
    add_set_option(p)


def add_set_option(p: argparse.ArgumentParser, *,
                   help: str = "override any scenario key, e.g. --set force.total_officers=300 (repeatable)") -> None:
    """--set KEY.PATH=VALUE (repeatable), collected in ``args.overrides`` for ``sim.scenario_file``:
    one definition, so every command that takes it spells and collects it the same way."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help=help)


def add_overwrite_option(p: argparse.ArgumentParser) -> None:
    """--overwrite for a command that writes one results folder (run, compare, hold; see sim.outputs)."""
    p.add_argument("--overwrite", action="store_true",
                   help="replace a results folder patrolsim wrote even when it holds other files too "
                        "(a folder patrolsim did not write is never replaced)")


def _int_at_least(minimum: int):
    """An argparse type: a whole number no smaller than ``minimum``, with a readable error."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected {minimum} or more, got {v}")
        return v
    return parse


positive_int = _int_at_least(1)
non_negative_int = _int_at_least(0)


def add_cluster_options(p: argparse.ArgumentParser, *, default_workers: str) -> None:
    """--scheduler / --cluster / --workers, shared by sweep, compare and hold."""
    g = p.add_argument_group("where replications run")
    ex = g.add_mutually_exclusive_group()
    ex.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="use a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    ex.add_argument("--cluster", choices=("slurm", "pbs"), default=None,
                    help="start Dask workers as batch jobs (dask-jobqueue; see docs/scaling.md)")
    g.add_argument("--workers", type=positive_int, default=None,
                   help=f"worker processes (default: {default_workers}); 1 runs in this process without Dask; "
                        "with --cluster, the number of Dask workers to ask for")
