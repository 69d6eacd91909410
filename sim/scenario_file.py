"""Reading scenario files (YAML), applying ``--set`` overrides, writing the resolved scenario.

Kept outside the core so that the simulation modules never import yaml.
"""

from __future__ import annotations

import importlib.metadata as md
import platform
from pathlib import Path

import yaml

from sim import __version__
from sim.errors import ScenarioError
from sim.scenario import Scenario, scenario_from_dict

DEFAULT_SCENARIO = Path("scenarios") / "default.yaml"
PACKAGE_DEFAULT = Path(__file__).parent / "data" / "default.yaml"
DEPENDENCIES = ("numpy", "scipy", "networkx", "osmnx", "simpy", "pandas", "pyarrow", "pydantic",
                "pyyaml", "dask", "distributed")


def read_yaml(path: Path, *, what: str = "scenario") -> dict:
    """Parse a YAML file strictly (``sim.strict_yaml``); any problem is a one-line ScenarioError."""
    if not path.exists():
        raise ScenarioError("file not found", file=str(path),
                            fix=f"check the path of the {what} file")
    if path.is_dir():
        raise ScenarioError("is a folder, not a file", file=str(path), fix=f"name a {what} .yaml file")
    from sim.strict_yaml import loads, read_text

    # strict: duplicate keys, anchors/aliases, deep nesting and huge files are one-line errors
    data = loads(read_text(path, what=what), file=str(path))
    if data is None:
        raise ScenarioError("is empty", file=str(path), fix="start with 'name: my-scenario'")
    return data


def parse_override(text: str) -> tuple[list[str], object]:
    """'force.total_officers=300' -> (['force', 'total_officers'], 300); values parse as YAML."""
    if "=" not in text:
        raise ScenarioError(f"--set needs key.path=value, got '{text}'", key=text,
                            fix="write e.g. --set force.total_officers=300")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not p for p in key.split(".")):
        raise ScenarioError(f"--set has an empty key path in '{text}'", fix="write e.g. --set alert.level=red")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def apply_overrides(data: dict, overrides: list[str], *, file: str | None) -> dict:
    out = deep_copy(data)
    for text in overrides or []:
        path, value = parse_override(text)
        node = out
        for i, part in enumerate(path[:-1]):
            nxt = node.get(part) if isinstance(node, dict) else None
            if nxt is None:
                nxt = {}
                node[part] = nxt
            if not isinstance(nxt, dict):
                raise ScenarioError(f"--set {text}: '{'.'.join(path[:i + 1])}' is not a section",
                                    file=file, key=".".join(path), fix="set a key inside a section")
            node = nxt
        if not isinstance(node, dict):
            raise ScenarioError(f"--set {text}: cannot set a key here", file=file, key=".".join(path),
                                fix="check the key path in docs/scenarios.md")
        node[path[-1]] = value
    return out


def deep_copy(x):
    if isinstance(x, dict):
        return {k: deep_copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [deep_copy(v) for v in x]
    return x


def default_scenario_path() -> Path:
    """scenarios/default.yaml in the current folder, else the copy shipped in the package."""
    return DEFAULT_SCENARIO if DEFAULT_SCENARIO.exists() else PACKAGE_DEFAULT


def load_scenario(path: str | Path | None = None, *, overrides: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario file (the default scenario when ``path`` is None)."""
    p = Path(path) if path else default_scenario_path()
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a mapping of keys to values", file=str(p),
                            fix="start the file with 'name: my-scenario'")
    data = apply_overrides(data, overrides or [], file=str(p))
    return scenario_from_dict(data, source_file=str(p))


def versions() -> dict[str, str]:
    out = {"patrolsim": __version__, "python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def resolved_yaml(scenario: Scenario, *, seed: int, replications: int, extra: dict | None = None) -> str:
    """The exact scenario used, with seed, replication count and versions, as YAML text."""
    data = scenario.to_dict()
    # paths become absolute so the resolved file runs from wherever it is kept
    osm = (data.get("network") or {}).get("osm") or {}
    if osm.get("file"):
        osm["file"] = str(scenario.resolve_path(osm["file"]).resolve())
    for key in ("fitted", "replay"):
        if data["demand"].get(key):
            data["demand"][key] = str(scenario.resolve_path(data["demand"][key]).resolve())
    data["seed"] = seed
    data["replications"] = replications
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    meta = {"source_file": scenario.source_file, "versions": versions(), **(extra or {})}
    head = "# patrolsim resolved scenario: every key with the value used in this run.\n"
    return head + body + "\n# provenance\n" + "\n".join(
        "# " + line for line in yaml.safe_dump({"provenance": meta}, sort_keys=False).splitlines()) + "\n"
