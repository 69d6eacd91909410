"""Reading scenario files (YAML), applying ``--set`` overrides, writing the resolved scenario.

Kept outside the core so that the simulation modules never import yaml.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
from pathlib import Path

import yaml

from sim import __version__
from sim.errors import ScenarioError
from sim.keypath import parse_key, set_key
from sim.scenario import Scenario, scenario_from_dict
from sim.scenario_variants import annotated_yaml, merge_chain, origin_of, read_chain

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


def parse_override(text: str) -> tuple[list, object]:
    """'force.total_officers=300' -> (['force', 'total_officers'], 300); values parse as YAML.

    The key path may name list items: 'demand.types[2].share=0.1' -> (['demand', 'types', 2, 'share'], 0.1).
    """
    if "=" not in text:
        raise ScenarioError(f"--set needs key.path=value, got '{text}'", key=text,
                            fix="write e.g. --set force.total_officers=300")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise ScenarioError(f"--set has an empty key path in '{text}'", fix="write e.g. --set alert.level=red")
    try:
        path = parse_key(key)
    except ScenarioError as exc:
        raise ScenarioError(f"--set {text}: {exc.detail}", key=exc.key, fix=exc.fix) from None
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return path, value


def _default_list(parts: list):
    """The built-in default of a list key that a scenario file leaves out (e.g. demand.types), so
    that ``--set demand.types[2].share=0.1`` works on a file that keeps the default types."""
    from pydantic import BaseModel

    from sim.scenario import Scenario

    cls, value = Scenario, None
    for i, part in enumerate(parts):
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return None
            value = value[part]
            cls = type(value) if isinstance(value, BaseModel) else None
            continue
        field = cls.model_fields.get(part) if cls is not None else None
        if field is None:
            return None
        value = field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            cls = type(value)
        else:
            inner = [a for a in getattr(field.annotation, "__args__", (field.annotation,))
                     if isinstance(a, type) and issubclass(a, BaseModel)]
            cls = inner[0] if inner else None
    if not isinstance(value, list):
        return None
    return [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]


def apply_overrides(data: dict, overrides: list[str], *, file: str | None) -> dict:
    """A copy of ``data`` with every ``--set key.path=value`` applied in order (sections are created;
    list items are named by index, ``stations[0]``, and must exist)."""
    out = deep_copy(data)
    for text in overrides or []:
        path, value = parse_override(text)
        try:
            set_key(out, path, value, missing=_default_list)
        except ScenarioError as exc:
            raise ScenarioError(exc.detail, file=file, key=exc.key, fix=exc.fix) from None
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


def read_scenario_data(path: str | Path) -> tuple[dict, dict]:
    """(data, origins) of a scenario file, its chain of ``base`` files merged (see
    ``sim.scenario_variants``); ``origins`` maps key paths (tuples) to the file that set them."""
    chain = read_chain(Path(path), read_yaml)
    return merge_chain(chain)


def load_scenario(path: str | Path | None = None, *, overrides: list[str] | None = None) -> Scenario:
    """Read (with its bases), override and validate a scenario file (the default scenario when
    ``path`` is None). An invalid key that a base file set is blamed on that base file."""
    p = Path(path) if path else default_scenario_path()
    data, origins = read_scenario_data(p)
    data = apply_overrides(data, overrides or [], file=str(p))
    try:
        return scenario_from_dict(data, source_file=str(p))
    except ScenarioError as exc:
        origin = origin_of(exc.key, origins)
        overridden = any(_overlaps(exc.key or "", o.partition("=")[0].strip()) for o in overrides or [])
        if origin is None or overridden or os.path.abspath(p.parent / origin) == os.path.abspath(p):
            raise
        raise ScenarioError(exc.detail, file=os.path.normpath(p.parent / origin), key=exc.key,
                            fix=exc.fix) from None


def _overlaps(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a == b or a.startswith(b + ".") or a.startswith(b + "[")
                                    or b.startswith(a + ".") or b.startswith(a + "["))


def versions() -> dict[str, str]:
    out = {"patrolsim": __version__, "python": platform.python_version()}
    for name in DEPENDENCIES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def _run_changes(scenario: Scenario, data: dict) -> tuple[dict | None, set]:
    """(origins, keys changed for this run) of a scenario loaded from a file: a key whose value
    differs from what its files give was changed by --set, a sweep, hold or a command option.
    Origins are None when they cannot be known (no file, or the file no longer loads)."""
    if not scenario.source_file:
        return None, set()
    try:
        merged, origins = read_scenario_data(scenario.source_file)
        from_files = scenario_from_dict(merged, source_file=scenario.source_file).to_dict()
    except ScenarioError:  # the file changed or went away since the run started: origins unknown
        return None, set()
    changed: set = set()

    def walk(ours, theirs, here: tuple) -> None:
        if isinstance(ours, dict) and ours and isinstance(theirs, dict):
            for k, v in ours.items():
                walk(v, theirs.get(k, _MISSING), here + (k,))
        elif ours != theirs:
            changed.add(here)

    walk(data, from_files, ())
    return origins, changed


_MISSING = object()


def resolved_yaml(scenario: Scenario, *, seed: int, replications: int, extra: dict | None = None) -> str:
    """The exact scenario used, with seed, replication count and versions, as YAML text.

    Each key carries a comment saying where its value came from: ``# from default.yaml`` (the
    file, or base file, that set it), ``# default`` (the built-in default) or ``# set for this run``
    (--set, a sweep point's fixed keys, hold, --seed ...). Comments do not change the data, so
    the file runs again as a scenario.
    """
    data = scenario.to_dict()
    data["seed"] = seed
    data["replications"] = replications
    origins, changed = _run_changes(scenario, data)
    # paths become absolute so the resolved file runs from wherever it is kept
    osm = (data.get("network") or {}).get("osm") or {}
    if osm.get("file"):
        osm["file"] = str(scenario.resolve_path(osm["file"]).resolve())
    for key in ("fitted", "replay"):
        if data["demand"].get(key):
            data["demand"][key] = str(scenario.resolve_path(data["demand"][key]).resolve())
    if data.get("beats", {}).get("geojson"):
        data["beats"]["geojson"] = str(scenario.resolve_path(data["beats"]["geojson"]).resolve())

    def note(key: tuple) -> str | None:
        if origins is None or (isinstance(_get(data, key), dict) and _get(data, key)):
            return None  # origins unknown; or a section, whose keys say where they came from
        if key in changed:
            return "set for this run"
        if key in origins:
            return f"from {origins[key]}"
        return "default"

    body = annotated_yaml(data, note)
    meta = {"source_file": scenario.source_file, "versions": versions(), **(extra or {})}
    head = ("# patrolsim resolved scenario: every key with the value used in this run.\n"
            "# After each key: the file that set it ('from FILE', a base file when the scenario is a\n"
            "# variant), 'default' (the built-in default) or 'set for this run' (--set, sweep, hold, --seed).\n")
    return head + body + "\n# provenance\n" + "\n".join(
        "# " + line for line in yaml.safe_dump({"provenance": meta}, sort_keys=False).splitlines()) + "\n"


def _get(data: dict, key: tuple):
    node = data
    for k in key:
        node = node.get(k) if isinstance(node, dict) else None
    return node
