"""``patrolsim schema``: the JSON Schema of scenario files (for editors and validators)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("schema", help="print or write the JSON Schema of scenario files")
    p.add_argument("--out", type=Path, default=None, help="write to this file instead of printing")
    p.add_argument("--markdown", action="store_true", help="the key reference table of docs/scenarios.md instead")
    p.set_defaults(func=run)


def scenario_schema() -> dict:
    from sim.scenario import Scenario

    schema = Scenario.model_json_schema()
    schema.get("properties", {}).pop("source_file", None)
    schema["title"] = "patrolsim scenario"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        from sim.scenario_docs import markdown_table

        text = markdown_table() + "\n"
    else:
        text = json.dumps(scenario_schema(), indent=2) + "\n"
    if args.out:
        from sim.outputs import write_text_atomic

        write_text_atomic(args.out, text)
    else:
        print(text, end="")
    return 0
